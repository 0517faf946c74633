"""Tests for workers/contexts/properties.py: Envoy attribute names and encodings (§2.10)."""

from __future__ import annotations

import struct

import pytest

from workers.abi import pairs
from workers.contexts.maps import HeaderMap
from workers.contexts.properties import PropertySource, encode_int, lookup

REQUEST = [
    (b":method", b"POST"),
    (b":scheme", b"https"),
    (b":authority", b"api.example.com"),
    (b":path", b"/v1/items?limit=5&x=y"),
    (b"referer", b"https://ref.example/"),
    (b"user-agent", b"curl/8"),
    (b"x-request-id", b"rid-1"),
    (b"X-Multi", b"first"),
    (b"x-multi", b"second"),
]
RESPONSE = [(b":status", b"404"), (b"content-type", b"text/plain")]


def source(**overrides: object) -> PropertySource:
    src = PropertySource(
        "deny",
        "root-a",
        "vm-1",
        request_headers=HeaderMap(REQUEST),
        response_headers=HeaderMap(RESPONSE),
        supplied={"source.address": b"10.0.0.1:5555", "node.id": b"n1"},
    )
    for key, value in overrides.items():
        setattr(src, key, value)
    return src


def path(dotted: str) -> list[bytes]:
    return [seg.encode() for seg in dotted.split(".")]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plugin_name", b"deny"),
        ("plugin_root_id", b"root-a"),
        ("plugin_vm_id", b"vm-1"),
        ("request.path", b"/v1/items?limit=5&x=y"),
        ("request.url_path", b"/v1/items"),
        ("request.query", b"limit=5&x=y"),
        ("request.host", b"api.example.com"),
        ("request.scheme", b"https"),
        ("request.method", b"POST"),
        ("request.referer", b"https://ref.example/"),
        ("request.useragent", b"curl/8"),
        ("request.id", b"rid-1"),
        ("response.code", struct.pack("<q", 404)),
        ("source.address", b"10.0.0.1:5555"),  # supplied by the proxy
        ("node.id", b"n1"),
    ],
)
def test_attribute(name: str, expected: bytes) -> None:
    assert lookup(path(name), source()) == expected


def test_dotted_single_segment_also_works() -> None:
    assert lookup([b"request.method"], source()) == b"POST"


def test_request_headers_is_the_pairs_encoding() -> None:
    expected = pairs.encode([(k.lower(), v) for k, v in REQUEST])
    assert lookup(path("request.headers"), source()) == expected
    assert lookup(path("response.headers"), source()) == pairs.encode(RESPONSE)


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        ([b"request", b"headers", b"user-agent"], b"curl/8"),
        ([b"request", b"headers", b"USER-AGENT"], b"curl/8"),
        ([b"request", b"headers", b"x-multi"], b"first"),  # Envoy: the first value only
        ([b"request", b"headers", b"absent"], None),
        ([b"response", b"headers", b"content-type"], b"text/plain"),
        ([b"request", b"headers", b"a", b"b"], None),  # too deep
    ],
)
def test_header_sub_path(segments: list[bytes], expected: bytes | None) -> None:
    assert lookup(segments, source()) == expected


def test_response_code_is_int64_le() -> None:
    assert encode_int(200) == b"\xc8\x00\x00\x00\x00\x00\x00\x00"
    assert lookup(path("response.code"), source()) == encode_int(404)


@pytest.mark.parametrize("status", [b"", b"abc", b" 200", b"-1"])
def test_response_code_not_numeric_is_absent(status: bytes) -> None:
    src = source(response_headers=HeaderMap([(b":status", status)]))
    assert lookup(path("response.code"), src) is None


def test_query_without_question_mark_is_empty() -> None:
    src = source(request_headers=HeaderMap([(b":path", b"/plain")]))
    assert lookup(path("request.query"), src) == b""
    assert lookup(path("request.url_path"), src) == b"/plain"


@pytest.mark.parametrize(
    "name",
    [
        "request.path",
        "request.headers",
        "request.url_path",
        "request.query",
        "response.code",
        "response.headers",
    ],
)
def test_exchange_attributes_absent_without_headers(name: str) -> None:
    src = source(request_headers=None, response_headers=None)
    assert lookup(path(name), src) is None
    assert lookup([*path(name), b"x"], src) is None


def test_assigned_values_and_precedence() -> None:
    src = source()
    src.assigned["my.value"] = b"set"
    src.assigned["source.address"] = b"shadowed"
    assert lookup(path("my.value"), src) == b"set"
    assert lookup(path("source.address"), src) == b"10.0.0.1:5555"  # supplied wins
    src.assigned["request.method"] = b"shadowed"
    assert lookup(path("request.method"), src) == b"POST"  # derived wins


@pytest.mark.parametrize(
    "segments", [[b"\xff\xfe"], [b"request", b"\xff"], [b"request", b"headers", b"\xc3"]]
)
def test_non_utf8_path_is_absent(segments: list[bytes]) -> None:
    assert lookup(segments, source()) is None


@pytest.mark.parametrize("segments", [[b""], [b"unknown"], [b"request", b"nope"], []])
def test_unknown_is_absent(segments: list[bytes]) -> None:
    assert lookup(segments, source()) is None
