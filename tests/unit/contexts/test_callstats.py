"""Tests for workers/contexts/callstats.py: deferred recording gives the same histogram."""

from __future__ import annotations

import pytest

from workers.contexts.callstats import _PENDING_MAX, _THRESHOLDS, CallStats, _bucket

# Integer nanoseconds around every bucket edge (and 1 us, which is bucket 0).
EDGES_NS = sorted(
    {0, 999, 1000, 1001} | {max(0, int(t * 1000) + d) for t in _THRESHOLDS for d in (-1, 0, 1)}
)


def test_each_sample_lands_in_the_bucket_of_its_microseconds() -> None:
    stats = CallStats()
    for ns in EDGES_NS:
        stats.record(ns)
    expected = [0] * len(stats.counts)
    for ns in EDGES_NS:
        expected[_bucket(ns / 1000)] += 1
    assert stats.counts == expected
    assert stats.count == len(EDGES_NS)
    assert stats.total_us == pytest.approx(sum(EDGES_NS) / 1000)


@pytest.mark.parametrize("samples", [1, _PENDING_MAX - 1, _PENDING_MAX, 3 * _PENDING_MAX + 5])
def test_reads_see_every_recorded_sample(samples: int) -> None:
    """Samples are folded in batches; a read in between must still count all of them."""
    stats = CallStats()
    for i in range(samples):
        stats.record(3_000 + i)
    assert stats.count == samples == sum(stats.counts)
    wire = stats.to_wire()
    assert wire["count"] == samples
    again = CallStats.from_wire(wire)
    again.merge(stats)
    assert again.count == 2 * samples
    assert again.quantile_us(0.5) == stats.quantile_us(0.5)
