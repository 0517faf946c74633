"""Human output of `wasmd status|reload|drain` and the --json form."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.unit.admin import samples
from wasmd.admin import model, render


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0.0, "0.0s"),
        (0.44, "0.4s"),
        (9.96, "10.0s"),
        (10.0, "10s"),
        (59.9, "59s"),
        (60.0, "1m00s"),
        (185.0, "3m05s"),
        (3599.0, "59m59s"),
        (3600.0, "1h00m"),
        (7385.0, "2h03m"),
        (86400.0, "1d00h"),
        (4 * 86400 + 2 * 3600 + 59, "4d02h"),
    ],
)
def test_format_duration_s(seconds: float | None, text: str) -> None:
    assert render.format_duration_s(seconds) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0B"),
        (1023, "1023B"),
        (1024, "1.0KiB"),
        (1536, "1.5KiB"),
        (43_200_000, "41.2MiB"),
        (2 << 30, "2.0GiB"),
        (5 << 40, "5120.0GiB"),
    ],
)
def test_format_bytes(n: int, text: str) -> None:
    assert render.format_bytes(n) == text


@pytest.mark.parametrize(
    ("us", "calls", "text"),
    [(0.0, 0, "-"), (11.3, 5, "11us"), (1680.0, 5, "1.7ms"), (2_500_000.0, 5, "2.50s")],
)
def test_format_call_us(us: float, calls: int, text: str) -> None:
    assert render.format_call_us(us, calls) == text


def test_format_table_aligns_columns_without_trailing_spaces() -> None:
    text = render.format_table(("A", "LONGER"), [("xyz", "1"), ("q", "")])
    assert text.splitlines() == ["A    LONGER", "xyz  1", "q"]


EXPECTED_STATUS = """\
wasmd 0.1.0  pid 4242  up 2h03m  generation 3  config /etc/wasmd/wasmd.toml
rollout: failed (generation 4): canary: plugin add-header failed to configure

workers: 1/2 ready
SLOT  PID   STATE   GEN  UPTIME  RSS      CPU    REQUESTS  INFLIGHT  RESTARTS  HEARTBEAT  LAST EXIT
0     4243  ready   3    2h03m   41.2MiB  12.3s  10234     2         0         0.4s       -
1     -     failed  3    -       -        -      17        0         5         -          exit 3

PLUGIN      STATE   SHA256        VMS  FAILED  TRAPS  DEADLINE  RELOADS  CALLS  P50   P99    QUOTA
add-header  loaded  3f2a1b9c0d1e  2    0       1      0         0        20468  11us  1.7ms  0
bad         failed  3f2a1b9c0d1e  0    0       0      0         0        0      -     -      0
bad failed: plugin bad failed to load: proxy_on_configure returned false"""


def test_status_table() -> None:
    """The whole human status, pinned: operators (and their scripts) read these columns."""
    assert render.format_status(samples.STATUS) == EXPECTED_STATUS


def test_status_header_hides_an_idle_rollout_and_names_the_builtin_config() -> None:
    idle = model.DaemonStatus(
        version="0.1.0",
        pid=1,
        uptime_s=1.0,
        generation=1,
        rollout=model.RolloutStatus(),
        config_path="",
        workers=(),
        plugins=(),
    )
    text = render.format_status(idle)
    assert "rollout" not in text
    assert "config (built-in default)" in text
    assert text.endswith("plugins: none")


def test_json_keeps_every_field_with_units_and_enum_values() -> None:
    doc = json.loads(json.dumps(render.to_jsonable(samples.STATUS)))
    assert doc["rollout"] == {
        "state": "failed",
        "target_generation": 4,
        "last_error": "canary: plugin add-header failed to configure",
    }
    assert doc["workers"][0]["state"] == "ready"
    assert doc["workers"][0]["rss_bytes"] == 43_200_000
    assert doc["workers"][1]["pid"] is None
    assert doc["plugins"][0]["module_sha256"] == samples.SHA  # full, not abbreviated
    assert set(doc["workers"][0]) == set(model.WorkerStatus.__dataclass_fields__)


@pytest.mark.parametrize(
    ("result", "text"),
    [
        (
            model.ReloadResult(model.ReloadOutcome.SUCCEEDED, 4),
            "reloaded: now serving generation 4",
        ),
        (
            model.ReloadResult(
                model.ReloadOutcome.FAILED, 3, "plugins[0].deadline_ms: must be > 0"
            ),
            "reload failed; still serving generation 3: plugins[0].deadline_ms: must be > 0",
        ),
        (
            model.ReloadResult(model.ReloadOutcome.UNCHANGED, 3),
            "config unchanged: still generation 3",
        ),
        (
            model.ReloadResult(
                model.ReloadOutcome.STARTED, 4, "generation 3 serves each slot until it is swapped"
            ),
            "reload started: generation 4 is rolling out: "
            "generation 3 serves each slot until it is swapped",
        ),
    ],
)
def test_format_reload(result: model.ReloadResult, text: str) -> None:
    assert render.format_reload(result) == text


@pytest.mark.parametrize(
    ("result", "text"),
    [
        (
            model.DrainResult(model.DrainOutcome.DRAINED, 1, 10, 11),
            "slot 1: drained (pid 10 -> 11)",
        ),
        (
            model.DrainResult(model.DrainOutcome.UNKNOWN_SLOT, 9, message="slots are 0..1"),
            "slot 9: unknown slot: slots are 0..1",
        ),
        (
            model.DrainResult(model.DrainOutcome.FAILED, 0, 10, None, "replacement not ready"),
            "slot 0: failed (pid 10 -> -): replacement not ready",
        ),
    ],
)
def test_format_drain(result: model.DrainResult, text: str) -> None:
    assert render.format_drain(result) == text


def test_status_lists_services_after_plugins() -> None:
    service = model.ServiceStatus(
        name="ticker",
        module_sha256="ab" * 32,
        state=model.ServiceState.RUNNING,
        pid=4242,
        generation=3,
        uptime_s=5.0,
        rss_bytes=64 << 20,
        restarts=1,
        last_exit_reason="SIGKILL",
        vm_count=1,
    )
    text = render.format_status(dataclasses.replace(samples.STATUS, services=(service,)))
    table = text.split("\n\n")[-1].splitlines()
    assert table[0].split()[:4] == ["SERVICE", "SHA256", "PID", "STATE"]
    assert table[1].split()[:5] == ["ticker", "abababababab", "4242", "running", "3"]
    assert table[1].endswith("SIGKILL")
    assert "SERVICE" not in render.format_status(samples.STATUS)  # no [[services]]: no table
