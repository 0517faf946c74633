"""Tests for workers/contexts/metadata.py: dynamic metadata answered as Envoy's CEL does.

The expected bytes are what Envoy 1.40 (V8) returned for the same paths
(``c_props`` in plugins/c/expected.json); tests/e2e compare the whole plugin run.
"""

from __future__ import annotations

import struct

import pytest
from envoy.config.core.v3 import base_pb2
from google.protobuf import struct_pb2

from workers.abi import pairs
from workers.abi.types import NotSerializable
from workers.contexts import metadata
from workers.contexts.maps import HeaderMap
from workers.contexts.metadata import DynamicMetadata, WithMetadata, encode, path_key
from workers.contexts.properties import Layered, PropertySource, lookup

NAMESPACES = {
    "wasmd.t": {
        "str": "hello",
        "num": 42,
        "half": 2.5,
        "flag": True,
        "off": False,
        "list": ["a", "b"],
        "nested": {"inner": "deep"},
        "empty": {},
        "nothing": None,
    },
    "wasmd.one": {"k": "v"},
}


def _double(value: float) -> bytes:
    return struct.pack("<d", value)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("hello", b"hello"),
        (42, _double(42.0)),  # a Struct has no integers: Envoy answers a double
        (2.5, _double(2.5)),
        (True, b"\x01"),
        (False, b"\x00"),
        (["a", "b"], pairs.encode([(b"a", b""), (b"b", b"")])),
        ({"inner": "deep"}, pairs.encode([(b"inner", b"deep")])),
        ({}, b"\x00\x00\x00\x00"),
        ({"n": 1}, pairs.encode([(b"n", _double(1.0))])),
    ],
)
def test_values_are_encoded_like_envoy(value: object, encoded: bytes) -> None:
    assert encode(value) == encoded


@pytest.mark.parametrize("value", [None, ["a", None], {"k": None}, {"k": [{"z": None}]}])
def test_a_null_anywhere_cannot_be_serialized(value: object) -> None:
    """Envoy answers SerializationFailure (3) for these (c_props meta-null)."""
    with pytest.raises(NotSerializable):
        encode(value)


def test_envoy_recorded_bytes() -> None:
    """Spot checks against the hex Envoy returned (plugins/c/expected.json, c_props)."""
    meta = DynamicMetadata(NAMESPACES)
    assert meta.lookup(["metadata", "filter_metadata", "wasmd.t", "num"]) == bytes.fromhex(
        "0000000000004540"
    )
    assert meta.lookup(["metadata", "filter_metadata", "wasmd.t", "list"]) == bytes.fromhex(
        "0200000001000000000000000100000000000000610000620000"
    )
    assert meta.lookup(["metadata", "filter_metadata", "wasmd.one"]) == bytes.fromhex(
        "0100000001000000010000006b007600"
    )


@pytest.mark.parametrize(
    ("path", "found"),
    [
        (["metadata", "filter_metadata", "wasmd.t", "str"], b"hello"),
        (["metadata", "filter_metadata", "wasmd.t", "list", "1"], b"b"),
        (["metadata", "filter_metadata", "wasmd.t", "nested", "inner"], b"deep"),
        (["metadata", "typed_filter_metadata"], b"\x00\x00\x00\x00"),
        (["metadata", "typed_filter_metadata", "x"], None),
        (["metadata", "filter_metadata", "wasmd.t", "nope"], None),
        (["metadata", "filter_metadata", "absent.ns", "x"], None),
        (["metadata", "filter_metadata", "wasmd.t", "list", "9"], None),
        (["metadata", "filter_metadata", "wasmd.t", "list", "-1"], None),
        (["metadata", "filter_metadata", "wasmd.t", "list", "x"], None),
        (["metadata", "filter_metadata", "wasmd.t", "str", "deeper"], None),
        (["metadata", "nofield"], None),
        (["request", "path"], None),
    ],
)
def test_paths_walk_the_namespaces(path: list[str], found: bytes | None) -> None:
    meta = DynamicMetadata(NAMESPACES)
    assert meta.lookup(path) == found
    assert meta.get(path_key(path)) == found


@pytest.mark.parametrize(
    "path",
    [
        ["metadata", "filter_metadata", "wasmd.t", "nothing"],
        ["metadata", "filter_metadata", "wasmd.t"],
        ["metadata", "filter_metadata"],
    ],
)
def test_a_null_or_a_map_holding_one_is_not_serializable(path: list[str]) -> None:
    with pytest.raises(NotSerializable):
        DynamicMetadata(NAMESPACES).lookup(path)


def test_filter_metadata_is_a_map_of_namespaces() -> None:
    meta = DynamicMetadata({"a": {"k": "v"}})
    inner = pairs.encode([(b"k", b"v")])
    assert meta.lookup(["metadata", "filter_metadata"]) == pairs.encode([(b"a", inner)])


def test_the_whole_message_decodes_to_the_namespaces() -> None:
    """Envoy serializes the Metadata message; the order of map entries is protobuf's to pick,
    so the check is on the decoded message (the e2e case records it as a deviation)."""
    values = {k: v for k, v in NAMESPACES["wasmd.t"].items() if v is not None}
    meta = DynamicMetadata({"wasmd.t": values, "wasmd.one": {"k": "v"}})
    decoded = base_pb2.Metadata.FromString(meta.lookup(["metadata"]) or b"")
    assert set(decoded.filter_metadata) == {"wasmd.t", "wasmd.one"}
    assert metadata.from_struct(decoded.filter_metadata["wasmd.t"]) == values


def test_the_message_the_proxy_sent_is_answered_as_sent() -> None:
    assert DynamicMetadata({}, b"\x0a\x00").lookup(["metadata"]) == b"\x0a\x00"


def test_from_struct_keeps_struct_kinds() -> None:
    value = struct_pb2.Struct()
    value.update({"s": "x", "n": 3, "b": True, "l": [1, "y"], "m": {"z": None}})
    assert metadata.from_struct(value) == {
        "s": "x",
        "n": 3.0,
        "b": True,
        "l": [1.0, "y"],
        "m": {"z": None},
    }


def test_with_metadata_answers_paths_and_flat_names() -> None:
    supplied = WithMetadata({"source.address": b"1.2.3.4:5"}, DynamicMetadata(NAMESPACES))
    key = path_key(["metadata", "filter_metadata", "wasmd.one", "k"])
    assert supplied[key] == b"v"
    assert supplied["source.address"] == b"1.2.3.4:5"
    assert supplied.get(path_key(["metadata", "filter_metadata", "x", "y"])) is None
    with pytest.raises(KeyError):
        supplied["metadata.nothing"]
    assert list(supplied) == ["source.address"] and len(supplied) == 1


def test_lookup_sends_metadata_paths_to_the_supplied_properties() -> None:
    """proxy_get_property's lookup: the segments stay segments (namespaces have dots)."""
    supplied = WithMetadata({}, DynamicMetadata({"envoy.lb": {"canary": True}}))
    src = PropertySource("p", "", "vm", request_headers=HeaderMap([]), supplied=supplied)
    path = [b"metadata", b"filter_metadata", b"envoy.lb", b"canary"]
    assert lookup(path, src) == b"\x01"
    assert lookup([b"metadata", b"filter_metadata", b"envoy", b"lb"], src) is None


def test_plain_supplied_properties_have_no_metadata() -> None:
    src = PropertySource("p", "", "vm", supplied={"metadata": b"flat"})
    assert lookup([b"metadata", b"filter_metadata", b"ns", b"k"], src) is None


def test_layered_reads_through_without_copying() -> None:
    top: dict[str, bytes] = {"a": b"top"}
    layered = Layered(top, {"a": b"base", "b": b"base"})
    top["c"] = b"late"  # the proxy's properties may grow during the stream
    assert (layered["a"], layered["b"], layered["c"]) == (b"top", b"base", b"late")
    assert sorted(layered) == ["a", "b", "c"] and len(layered) == 3
    with pytest.raises(KeyError):
        layered["z"]
