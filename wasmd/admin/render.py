"""How admin results read: the human tables of ``wasmd status`` and the ``--json`` form.

Pure functions from model values to text or JSON-ready dicts. The JSON keeps every field
with the dataclass field names (units in the names) and enum values as strings; the table
rounds and abbreviates (sha256 to 12 hex digits) for a terminal.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from typing import Any

from wasmd.admin import model

_SHA_SHOWN_CHARS = 12
_MISSING = "-"

_WORKER_COLUMNS = (
    "SLOT",
    "PID",
    "STATE",
    "GEN",
    "UPTIME",
    "RSS",
    "CPU",
    "REQUESTS",
    "INFLIGHT",
    "RESTARTS",
    "HEARTBEAT",
    "LAST EXIT",
)
_PLUGIN_COLUMNS = (
    "PLUGIN",
    "SHA256",
    "VMS",
    "FAILED",
    "TRAPS",
    "DEADLINE",
    "RELOADS",
    "CALLS",
    "P50",
    "P99",
)


def to_jsonable(value: Any) -> Any:
    """Dataclasses to dicts, enums to their values, tuples to lists; recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    return value


def format_duration_s(seconds: float | None) -> str:
    """``45s``, ``3m05s``, ``2h03m``, ``4d02h``; sub-10 s values keep one decimal."""
    if seconds is None:
        return _MISSING
    if seconds < 10:
        return f"{seconds:.1f}s"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def format_bytes(n: int) -> str:
    """Binary units with one decimal: ``512B``, ``1.5KiB``, ``41.2MiB``, ``2.0GiB``."""
    if n < 1024:
        return f"{n}B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f}{unit}"


def format_call_us(us: float, calls: int) -> str:
    """A call time in the unit that reads best; ``-`` when there were no calls."""
    if calls == 0:
        return _MISSING
    if us < 1000:
        return f"{us:.0f}us"
    if us < 1_000_000:
        return f"{us / 1000:.1f}ms"
    return f"{us / 1_000_000:.2f}s"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart; no trailing spaces."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def worker_row(w: model.WorkerStatus) -> tuple[str, ...]:
    alive = w.pid is not None
    return (
        str(w.slot),
        str(w.pid) if alive else _MISSING,
        w.state.value,
        str(w.generation),
        format_duration_s(w.uptime_s) if alive else _MISSING,
        format_bytes(w.rss_bytes) if alive else _MISSING,
        f"{w.cpu_s:.1f}s" if alive else _MISSING,
        str(w.requests_served),
        str(w.in_flight),
        str(w.restarts),
        format_duration_s(w.heartbeat_age_s),
        w.last_exit_reason or _MISSING,
    )


def plugin_row(p: model.PluginStatus) -> tuple[str, ...]:
    return (
        p.name,
        p.module_sha256[:_SHA_SHOWN_CHARS] or _MISSING,
        str(p.vm_count),
        str(p.failed_vms),
        str(p.traps),
        str(p.deadline_hits),
        str(p.reloads),
        str(p.calls),
        format_call_us(p.p50_call_us, p.calls),
        format_call_us(p.p99_call_us, p.calls),
    )


def format_header(s: model.DaemonStatus) -> str:
    """The first lines: daemon identity, then the rollout when it is not idle."""
    config = s.config_path or "(built-in default)"
    lines = [
        f"wasmd {s.version}  pid {s.pid}  up {format_duration_s(s.uptime_s)}  "
        f"generation {s.generation}  config {config}"
    ]
    r = s.rollout
    if r.state is not model.RolloutState.IDLE:
        line = f"rollout: {r.state.value} (generation {r.target_generation})"
        lines.append(f"{line}: {r.last_error}" if r.last_error else line)
    return "\n".join(lines)


def format_status(s: model.DaemonStatus) -> str:
    """The whole human ``wasmd status`` output (header, workers table, plugins table)."""
    ready = sum(w.state is model.SlotState.READY for w in s.workers)
    workers = f"workers: {ready}/{len(s.workers)} ready\n" + format_table(
        _WORKER_COLUMNS, [worker_row(w) for w in s.workers]
    )
    plugins = (
        format_table(_PLUGIN_COLUMNS, [plugin_row(p) for p in s.plugins])
        if s.plugins
        else "plugins: none"
    )
    sections = [format_header(s), workers, plugins]
    policies = [line for p in s.plugins if (line := format_visibility(p))]
    if policies:
        sections.append("visibility:\n" + "\n".join(policies))
    return "\n\n".join(sections)


_VISIBILITY_LABELS = (
    ("hide_headers", "hides"),
    ("redact_headers", "redacts"),
    ("read_only_headers", "read-only"),
    ("hide_properties", "hides properties"),
)


def format_visibility(p: model.PluginStatus) -> str:
    """``  NAME: hides a, b; redacts c; ...`` or "" for a plugin without a policy."""
    parts = [
        f"{label} {', '.join(getattr(p.visibility, key))}"
        for key, label in _VISIBILITY_LABELS
        if getattr(p.visibility, key)
    ]
    return f"  {p.name}: {'; '.join(parts)}" if parts else ""


def format_reload(r: model.ReloadResult) -> str:
    """One line for ``wasmd reload``."""
    text = {
        model.ReloadOutcome.STARTED: f"reload started (serving generation {r.generation})",
        model.ReloadOutcome.SUCCEEDED: f"reloaded: now serving generation {r.generation}",
        model.ReloadOutcome.UNCHANGED: f"config unchanged: still generation {r.generation}",
        model.ReloadOutcome.FAILED: f"reload failed; still serving generation {r.generation}",
    }[r.outcome]
    return f"{text}: {r.message}" if r.message else text


def format_drain(d: model.DrainResult) -> str:
    """One line for ``wasmd drain``."""
    pids = ""
    if d.old_pid is not None or d.new_pid is not None:
        old = _MISSING if d.old_pid is None else str(d.old_pid)
        new = _MISSING if d.new_pid is None else str(d.new_pid)
        pids = f" (pid {old} -> {new})"
    text = f"slot {d.slot}: {d.outcome.value.replace('_', ' ')}{pids}"
    return f"{text}: {d.message}" if d.message else text
