"""Model <-> wasmd.v1 protobuf translation: lossless round trips, loud unknown enums."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from tests.unit.admin import samples
from wasmd.admin import convert, model
from wasmd.admin._proto import admin_pb2 as pb
from wasmd.kernel.errors import ProtocolError


def _over_the_wire(message: Any) -> Any:
    """Serialize and parse, as gRPC would: catches fields that only live in memory."""
    return type(message).FromString(message.SerializeToString())


@given(samples.statuses)
def test_status_round_trip(status: model.DaemonStatus) -> None:
    wire = _over_the_wire(convert.status_to_proto(status))
    assert convert.status_from_proto(wire) == status


@given(samples.reload_results)
def test_reload_round_trip(result: model.ReloadResult) -> None:
    wire = _over_the_wire(convert.reload_to_proto(result))
    assert convert.reload_from_proto(wire) == result


@given(samples.drain_results)
def test_drain_round_trip(result: model.DrainResult) -> None:
    wire = _over_the_wire(convert.drain_to_proto(result))
    assert convert.drain_from_proto(wire) == result


@given(samples.plugin_infos)
def test_plugin_info_round_trip(info: model.PluginInfo) -> None:
    wire = _over_the_wire(convert.plugin_info_to_proto(info))
    assert convert.plugin_info_from_proto(wire) == info


def test_absent_pid_and_heartbeat_stay_absent_not_zero() -> None:
    """A slot with no process has no pid on the wire (proto3 optional), not pid 0."""
    worker = samples.STATUS.workers[1]
    msg = _over_the_wire(convert.worker_to_proto(worker))
    assert not msg.HasField("pid")
    assert not msg.HasField("heartbeat_age_s")
    alive = _over_the_wire(convert.worker_to_proto(samples.STATUS.workers[0]))
    assert alive.HasField("pid") and alive.pid == 4243


@pytest.mark.parametrize(
    ("decode", "message", "what"),
    [
        (convert.worker_from_proto, pb.WorkerStatus(state=0), "slot state"),
        (convert.worker_from_proto, pb.WorkerStatus(state=99), "slot state"),  # type: ignore[arg-type]
        (convert.reload_from_proto, pb.ReloadReply(outcome=0), "reload outcome"),
        (convert.drain_from_proto, pb.DrainReply(outcome=42), "drain outcome"),  # type: ignore[arg-type]
        (convert.status_from_proto, pb.DaemonStatus(), "rollout state"),
    ],
)
def test_unknown_enum_values_are_protocol_errors(decode: Any, message: Any, what: str) -> None:
    """An older CLI must say the daemon is newer, not print a wrong state."""
    with pytest.raises(ProtocolError, match=f"{what} .* upgrade the CLI"):
        decode(message)


def test_every_model_enum_member_has_a_wire_value() -> None:
    tables = [
        (model.SlotState, convert._SLOT_STATES),
        (model.RolloutState, convert._ROLLOUT_STATES),
        (model.ReloadOutcome, convert._RELOAD_OUTCOMES),
        (model.DrainOutcome, convert._DRAIN_OUTCOMES),
    ]
    for enum_type, table in tables:
        assert set(table) == set(enum_type)
        assert len(set(table.values())) == len(table)
        assert 0 not in table.values()
