"""``wasmd status`` shows each plugin's effective visibility policy (human and --json)."""

from __future__ import annotations

import dataclasses
import json

from tests.unit.admin import samples
from wasmd.admin import convert, model, render
from wasmd.kernel.visibility import VisibilitySpec

POLICY = VisibilitySpec(
    hide_headers=("authorization", "cookie"),
    redact_headers=("x-session",),
    read_only_headers=(":path",),
    hide_properties=("source.address",),
)


def with_policy() -> model.DaemonStatus:
    plugin = dataclasses.replace(samples.STATUS.plugins[0], visibility=POLICY)
    return dataclasses.replace(samples.STATUS, plugins=(plugin,))


def test_human_status_lists_the_policies() -> None:
    text = render.format_status(with_policy())
    assert text.endswith(
        "visibility:\n  add-header: hides authorization, cookie; redacts x-session; "
        "read-only :path; hides properties source.address"
    )


def test_no_policy_no_section() -> None:
    assert "visibility" not in render.format_status(samples.STATUS)


def test_json_carries_the_lists() -> None:
    doc = json.loads(json.dumps(render.to_jsonable(with_policy())))
    assert doc["plugins"][0]["visibility"] == {
        "hide_headers": ["authorization", "cookie"],
        "redact_headers": ["x-session"],
        "read_only_headers": [":path"],
        "hide_properties": ["source.address"],
    }


def test_the_policy_crosses_the_admin_wire() -> None:
    status = with_policy()
    assert convert.status_from_proto(convert.status_to_proto(status)) == status
