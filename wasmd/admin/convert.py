"""Translation between ``wasmd.admin.model`` and the ``wasmd.v1`` protobuf messages.

Pure functions in both directions; ``from_proto(to_proto(x)) == x`` for every model value
(tested with hypothesis). Enum values map by table; an UNSPECIFIED or unknown wire value
(a newer daemon talking to an older CLI) raises ``ProtocolError`` instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from wasmd.admin import model
from wasmd.admin._proto import admin_pb2 as pb
from wasmd.kernel.errors import ProtocolError
from wasmd.kernel.visibility import LIST_KEYS as VISIBILITY_LISTS
from wasmd.kernel.visibility import VisibilitySpec

E = TypeVar("E")

_SLOT_STATES: Mapping[model.SlotState, int] = {
    model.SlotState.SPAWNING: pb.SLOT_STATE_SPAWNING,
    model.SlotState.READY: pb.SLOT_STATE_READY,
    model.SlotState.DRAINING: pb.SLOT_STATE_DRAINING,
    model.SlotState.EXITED: pb.SLOT_STATE_EXITED,
    model.SlotState.BACKOFF: pb.SLOT_STATE_BACKOFF,
    model.SlotState.FAILED: pb.SLOT_STATE_FAILED,
}
_ROLLOUT_STATES: Mapping[model.RolloutState, int] = {
    model.RolloutState.IDLE: pb.ROLLOUT_STATE_IDLE,
    model.RolloutState.CANARY: pb.ROLLOUT_STATE_CANARY,
    model.RolloutState.ROLLING: pb.ROLLOUT_STATE_ROLLING,
    model.RolloutState.FAILED: pb.ROLLOUT_STATE_FAILED,
}
_RELOAD_OUTCOMES: Mapping[model.ReloadOutcome, int] = {
    model.ReloadOutcome.STARTED: pb.RELOAD_OUTCOME_STARTED,
    model.ReloadOutcome.SUCCEEDED: pb.RELOAD_OUTCOME_SUCCEEDED,
    model.ReloadOutcome.UNCHANGED: pb.RELOAD_OUTCOME_UNCHANGED,
    model.ReloadOutcome.FAILED: pb.RELOAD_OUTCOME_FAILED,
}
_DRAIN_OUTCOMES: Mapping[model.DrainOutcome, int] = {
    model.DrainOutcome.DRAINED: pb.DRAIN_OUTCOME_DRAINED,
    model.DrainOutcome.UNKNOWN_SLOT: pb.DRAIN_OUTCOME_UNKNOWN_SLOT,
    model.DrainOutcome.REFUSED: pb.DRAIN_OUTCOME_REFUSED,
    model.DrainOutcome.FAILED: pb.DRAIN_OUTCOME_FAILED,
}


def _decode_enum(table: Mapping[E, int], value: int, what: str) -> E:
    for member, wire in table.items():
        if wire == value:
            return member
    raise ProtocolError(
        f"the daemon sent {what} {value}, which this wasmd does not know; "
        "upgrade the CLI to the daemon's version"
    )


def _optional(message: Any, field: str) -> Any:
    return getattr(message, field) if message.HasField(field) else None


# --- status ------------------------------------------------------------------------------


def worker_to_proto(w: model.WorkerStatus) -> pb.WorkerStatus:
    msg = pb.WorkerStatus(
        slot=w.slot,
        state=_SLOT_STATES[w.state],  # type: ignore[arg-type]
        generation=w.generation,
        uptime_s=w.uptime_s,
        rss_bytes=w.rss_bytes,
        cpu_s=w.cpu_s,
        requests_served=w.requests_served,
        in_flight=w.in_flight,
        restarts=w.restarts,
        last_exit_reason=w.last_exit_reason,
    )
    if w.pid is not None:
        msg.pid = w.pid
    if w.heartbeat_age_s is not None:
        msg.heartbeat_age_s = w.heartbeat_age_s
    return msg


def worker_from_proto(msg: pb.WorkerStatus) -> model.WorkerStatus:
    return model.WorkerStatus(
        slot=msg.slot,
        pid=_optional(msg, "pid"),
        state=_decode_enum(_SLOT_STATES, msg.state, "slot state"),
        generation=msg.generation,
        uptime_s=msg.uptime_s,
        rss_bytes=msg.rss_bytes,
        cpu_s=msg.cpu_s,
        requests_served=msg.requests_served,
        in_flight=msg.in_flight,
        restarts=msg.restarts,
        last_exit_reason=msg.last_exit_reason,
        heartbeat_age_s=_optional(msg, "heartbeat_age_s"),
    )


_PLUGIN_STATUS_FIELDS = tuple(
    f for f in model.PluginStatus.__dataclass_fields__ if f != "visibility"
)


def plugin_status_to_proto(p: model.PluginStatus) -> pb.PluginStatus:
    v = p.visibility
    return pb.PluginStatus(
        **{f: getattr(p, f) for f in _PLUGIN_STATUS_FIELDS},
        visibility=pb.Visibility(**{k: list(getattr(v, k)) for k in VISIBILITY_LISTS}),
    )


def plugin_status_from_proto(msg: pb.PluginStatus) -> model.PluginStatus:
    v = msg.visibility
    return model.PluginStatus(
        **{f: getattr(msg, f) for f in _PLUGIN_STATUS_FIELDS},
        visibility=VisibilitySpec(**{k: tuple(getattr(v, k)) for k in VISIBILITY_LISTS}),
    )


def status_to_proto(s: model.DaemonStatus) -> pb.DaemonStatus:
    """The ``DaemonStatus`` message for ``s``."""
    return pb.DaemonStatus(
        version=s.version,
        pid=s.pid,
        uptime_s=s.uptime_s,
        generation=s.generation,
        rollout=pb.RolloutStatus(
            state=_ROLLOUT_STATES[s.rollout.state],  # type: ignore[arg-type]
            target_generation=s.rollout.target_generation,
            last_error=s.rollout.last_error,
        ),
        config_path=s.config_path,
        workers=[worker_to_proto(w) for w in s.workers],
        plugins=[plugin_status_to_proto(p) for p in s.plugins],
    )


def status_from_proto(msg: pb.DaemonStatus) -> model.DaemonStatus:
    """The model for a ``DaemonStatus`` message; ProtocolError on unknown enum values."""
    return model.DaemonStatus(
        version=msg.version,
        pid=msg.pid,
        uptime_s=msg.uptime_s,
        generation=msg.generation,
        rollout=model.RolloutStatus(
            state=_decode_enum(_ROLLOUT_STATES, msg.rollout.state, "rollout state"),
            target_generation=msg.rollout.target_generation,
            last_error=msg.rollout.last_error,
        ),
        config_path=msg.config_path,
        workers=tuple(worker_from_proto(w) for w in msg.workers),
        plugins=tuple(plugin_status_from_proto(p) for p in msg.plugins),
    )


# --- commands ----------------------------------------------------------------------------


def reload_to_proto(r: model.ReloadResult) -> pb.ReloadReply:
    return pb.ReloadReply(
        outcome=_RELOAD_OUTCOMES[r.outcome],  # type: ignore[arg-type]
        generation=r.generation,
        message=r.message,
    )


def reload_from_proto(msg: pb.ReloadReply) -> model.ReloadResult:
    return model.ReloadResult(
        outcome=_decode_enum(_RELOAD_OUTCOMES, msg.outcome, "reload outcome"),
        generation=msg.generation,
        message=msg.message,
    )


def drain_to_proto(d: model.DrainResult) -> pb.DrainReply:
    msg = pb.DrainReply(
        outcome=_DRAIN_OUTCOMES[d.outcome],  # type: ignore[arg-type]
        slot=d.slot,
        message=d.message,
    )
    if d.old_pid is not None:
        msg.old_pid = d.old_pid
    if d.new_pid is not None:
        msg.new_pid = d.new_pid
    return msg


def drain_from_proto(msg: pb.DrainReply) -> model.DrainResult:
    return model.DrainResult(
        outcome=_decode_enum(_DRAIN_OUTCOMES, msg.outcome, "drain outcome"),
        slot=msg.slot,
        old_pid=_optional(msg, "old_pid"),
        new_pid=_optional(msg, "new_pid"),
        message=msg.message,
    )


def plugin_info_to_proto(p: model.PluginInfo) -> pb.PluginInfo:
    fields = {f: getattr(p, f) for f in model.PluginInfo.__dataclass_fields__}
    fields["chains"] = list(p.chains)
    return pb.PluginInfo(**fields)


def plugin_info_from_proto(msg: pb.PluginInfo) -> model.PluginInfo:
    fields = {f: getattr(msg, f) for f in model.PluginInfo.__dataclass_fields__}
    fields["chains"] = tuple(msg.chains)
    return model.PluginInfo(**fields)
