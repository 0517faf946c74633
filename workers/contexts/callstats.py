"""Call-time statistics per plugin: a fixed log-bucket histogram, cheap to record and merge.

Buckets are powers of 2^(1/4) microseconds, so quantiles are exact to within ~19 %;
that is what `wasmd status` needs (p50/p99 call time) without keeping samples.
"""

from __future__ import annotations

import bisect
from typing import Any

_BUCKETS_PER_DOUBLING = 4
_BUCKETS = 32 * _BUCKETS_PER_DOUBLING  # up to 2^32 us, more than any deadline


# _THRESHOLDS[j] = 2^(j/4): a value's bucket is how many thresholds it reaches, i.e.
# floor(4 * log2(us)) + 1, by a bisection in C instead of a log per call.
_THRESHOLDS = tuple(2 ** (j / _BUCKETS_PER_DOUBLING) for j in range(_BUCKETS - 1))


def _bucket(us: float) -> int:
    if us <= 1.0:
        return 0
    return bisect.bisect_right(_THRESHOLDS, us)


# The same thresholds in nanoseconds, for _fold: bisect_right(_THRESHOLDS_NS, ns) ==
# _bucket(ns / 1000) for integer ns (the first threshold sits between 1000 and 1001 ns,
# since 1 us itself belongs to bucket 0).
_THRESHOLDS_NS = (1000.5,) + tuple(t * 1000 for t in _THRESHOLDS[1:])


def _upper_us(bucket: int) -> float:
    return float(2 ** (bucket / _BUCKETS_PER_DOUBLING))


_PENDING_MAX = 1024  # samples kept before they are folded into the histogram


class CallStats:
    """Count, total and histogram of call times.

    ``record`` runs on every guest call, so it only appends; samples are folded into the
    histogram when it is read (or every ``_PENDING_MAX`` samples).
    """

    __slots__ = ("_count", "_total_us", "_counts", "_pending")

    def __init__(self, count: int = 0, total_us: float = 0.0) -> None:
        self._count = count
        self._total_us = total_us
        self._counts = [0] * _BUCKETS
        self._pending: list[int] = []

    def record(self, elapsed_ns: int) -> None:
        pending = self._pending
        pending.append(elapsed_ns)
        if len(pending) >= _PENDING_MAX:
            self._fold()

    def _fold(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        # Sorted, a bucket's samples are one slice: a bisection per bucket edge instead of
        # one per sample (the sort runs in C).
        pending.sort()
        counts, below = self._counts, 0
        for bucket, edge in enumerate(_THRESHOLDS_NS):
            upto = bisect.bisect_left(pending, edge, below)  # samples below this edge
            counts[bucket] += upto - below
            below = upto
            if below == len(pending):
                break
        counts[_BUCKETS - 1] += len(pending) - below
        self._total_us += sum(pending) / 1000
        self._count += len(pending)

    @property
    def count(self) -> int:
        self._fold()
        return self._count

    @property
    def total_us(self) -> float:
        self._fold()
        return self._total_us

    @property
    def counts(self) -> list[int]:
        """Calls per bucket (bucket i: up to 2^(i/4) us)."""
        self._fold()
        return self._counts

    def quantile_us(self, q: float) -> float:
        """Upper bound of the bucket holding the q-quantile (0 when empty)."""
        if self.count == 0:
            return 0.0
        rank = q * self.count
        seen = 0
        for bucket, n in enumerate(self.counts):
            seen += n
            if seen >= rank and n:
                return _upper_us(bucket)
        return _upper_us(_BUCKETS - 1)

    def merge(self, other: CallStats) -> None:
        self._fold()
        self._count += other.count
        self._total_us += other.total_us
        self._counts = [a + b for a, b in zip(self._counts, other.counts, strict=True)]

    def to_wire(self) -> dict[str, object]:
        """Compact form for heartbeats: only non-empty buckets."""
        return {
            "count": self.count,
            "total_us": self.total_us,
            "buckets": {i: n for i, n in enumerate(self.counts) if n},
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CallStats:
        stats = cls(int(data["count"]), float(data["total_us"]))
        buckets = data.get("buckets") or {}
        for i, n in buckets.items():
            stats._counts[int(i)] = int(n)
        return stats
