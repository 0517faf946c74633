"""workers/faces/extproc_wire.py: byte-for-byte what protobuf serializes for the same reply."""

from __future__ import annotations

import pytest
from envoy.config.core.v3 import base_pb2 as core
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
from google.protobuf import wrappers_pb2
from hypothesis import given
from hypothesis import strategies as st

from workers.faces import extproc_wire as wire
from workers.faces.mutations import HeaderMutation

_OVERWRITE = core.HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD
_APPEND = core.HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD


def library_mutation(diff: HeaderMutation) -> ep.HeaderMutation:
    """The reference: the generated classes, as the face built replies before."""
    options, seen = [], set()
    for key, value in diff.set:
        append = key in seen
        seen.add(key)
        options.append(
            core.HeaderValueOption(
                header=core.HeaderValue(key=key.decode(), raw_value=value),
                append=wrappers_pb2.BoolValue(value=append),
                append_action=_APPEND if append else _OVERWRITE,
                keep_empty_value=True,
            )
        )
    return ep.HeaderMutation(set_headers=options, remove_headers=[k.decode() for k in diff.remove])


def library_reply(phase: str, diff: HeaderMutation | None, body: bytes | None) -> bytes:
    if phase.endswith("trailers"):
        inner = ep.TrailersResponse()
        if diff is not None:
            inner.header_mutation.CopyFrom(library_mutation(diff))
        return ep.ProcessingResponse(**{phase: inner}).SerializeToString()
    common = ep.CommonResponse()
    if diff is not None:
        common.header_mutation.CopyFrom(library_mutation(diff))
    if body is not None:
        common.body_mutation.CopyFrom(ep.BodyMutation(body=body))
    kind = ep.BodyResponse if phase.endswith("body") else ep.HeadersResponse
    inner = kind(response=common) if (diff is not None or body is not None) else kind()
    return ep.ProcessingResponse(**{phase: inner}).SerializeToString()


names = st.sampled_from([b"x-a", b"x-b", b":path", b"content-length", b"x-" + b"n" * 200])
values = st.one_of(st.just(b""), st.binary(max_size=4), st.just(b"v" * 300))
diffs = st.builds(
    HeaderMutation,
    st.lists(st.tuples(names, values), max_size=5).map(tuple),
    st.lists(names, max_size=3).map(tuple),
)
phases = st.sampled_from(sorted(wire.PHASE_FIELD))
bodies = st.one_of(st.none(), st.just(b""), st.binary(max_size=300))


@given(phases, st.one_of(st.none(), diffs), bodies)
def test_replies_match_the_protobuf_serialization(
    phase: str, diff: HeaderMutation | None, body: bytes | None
) -> None:
    if not phase.endswith("body"):
        body = None  # only body phases carry a body mutation
    assert wire.phase_reply(phase, diff, body) == library_reply(phase, diff, body)


def test_the_reply_parses_back_to_the_mutation() -> None:
    diff = HeaderMutation(((b"x-a", b"1"), (b"x-a", b"2")), (b"x-gone",))
    reply = ep.ProcessingResponse.FromString(wire.phase_reply("response_headers", diff))
    mutation = reply.response_headers.response.header_mutation
    assert [(o.header.key, o.header.raw_value, o.append.value) for o in mutation.set_headers] == [
        ("x-a", b"1", False),
        ("x-a", b"2", True),
    ]
    assert list(mutation.remove_headers) == ["x-gone"]


def test_a_header_name_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(UnicodeDecodeError):
        wire.phase_reply("request_headers", HeaderMutation(((b"\xff", b"v"),)))


def test_streamed_phases_come_from_envoys_protocol_config() -> None:
    from envoy.extensions.filters.http.ext_proc.v3 import processing_mode_pb2 as pm

    from workers.faces.extproc import streamed_phases

    modes = pm.ProcessingMode.BodySendMode
    bare = ep.ProcessingRequest()
    assert streamed_phases(bare, configured=False) == frozenset()
    assert streamed_phases(bare, configured=True) == {"request_body", "response_body"}
    mixed = ep.ProcessingRequest(
        protocol_config=ep.ProtocolConfiguration(
            request_body_mode=modes.STREAMED, response_body_mode=modes.BUFFERED
        )
    )
    assert streamed_phases(mixed, configured=False) == {"request_body"}
    assert streamed_phases(mixed, configured=True) == {"request_body"}


def test_dynamic_metadata_appended_to_a_reply_parses_as_the_same_message() -> None:
    """Protobuf merges fields in any order: a reply's bytes + the dynamic_metadata field
    read back as one ProcessingResponse with both."""
    diff = HeaderMutation(((b"x-a", b"1"),), ())
    reply = wire.phase_reply("request_headers", diff)
    extra = wire.dynamic_metadata("wasmd", {"user": "alice", "tier": "gold"})
    parsed = ep.ProcessingResponse.FromString(reply + extra)
    assert parsed.WhichOneof("response") == "request_headers"
    assert parsed.request_headers == ep.ProcessingResponse.FromString(reply).request_headers
    fields = parsed.dynamic_metadata.fields["wasmd"].struct_value.fields
    assert {k: v.string_value for k, v in fields.items()} == {"user": "alice", "tier": "gold"}
