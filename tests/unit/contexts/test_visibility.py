"""Tests for workers/contexts/visibility.py: a plugin's view of the header maps and properties."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from wasmd.kernel.visibility import NO_POLICY, REDACTION_KEY_ENV, VisibilitySpec
from workers.abi import pairs
from workers.abi.types import WasmResult
from workers.contexts import visibility
from workers.contexts.maps import HeaderMap, Pair
from workers.contexts.properties import PropertySource, lookup
from workers.contexts.visibility import HeaderView, Visibility, compile_spec

R = WasmResult
KEY = b"k" * 32
REQUEST: list[Pair] = [
    (b":authority", b"example.com"),
    (b":path", b"/p"),
    (b"authorization", b"Bearer secret"),
    (b"cookie", b"sid=1"),
    (b"user-agent", b"curl/8"),
    (b"x-ro", b"fixed"),
    (b"x-free", b"1"),
]
SPEC = VisibilitySpec(
    hide_headers=("authorization", "user-agent"),
    redact_headers=("cookie",),
    read_only_headers=("x-ro",),
    hide_properties=("source.address", "connection"),
)


def policy(spec: VisibilitySpec = SPEC) -> Visibility:
    compiled = compile_spec(spec, KEY)
    assert compiled is not None
    return compiled


def view(items: list[Pair] = REQUEST) -> tuple[HeaderMap, HeaderView]:
    target = HeaderMap(items)
    return target, policy().view(target)


def marker(value: bytes) -> bytes:
    return b"redacted:" + hmac.new(KEY, value, hashlib.sha256).hexdigest()[:24].encode()


def test_an_empty_policy_compiles_to_none() -> None:
    assert compile_spec(NO_POLICY, KEY) is None


def test_hidden_headers_do_not_exist() -> None:
    _, v = view()
    assert v.get(b"authorization") is None
    assert v.get(b"Authorization") is None
    names = [k for k, _ in v.pairs()]
    assert b"authorization" not in names and b"user-agent" not in names
    assert len(v) == len(REQUEST) - 2
    assert v.byte_size() == sum(len(k) + len(val) for k, val in v.pairs())


def test_redacted_values_are_keyed_hashes_equal_for_equal_values() -> None:
    _, v = view()
    assert v.get(b"cookie") == marker(b"sid=1")
    assert dict(v.pairs())[b"cookie"] == marker(b"sid=1")
    other = policy().view(HeaderMap([(b"cookie", b"sid=1"), (b"cookie", b"sid=2")]))
    assert [val for _, val in other.pairs()] == [marker(b"sid=1"), marker(b"sid=2")]
    another_key = compile_spec(SPEC, b"z" * 32)
    assert another_key is not None and another_key.redact(b"sid=1") != marker(b"sid=1")


@pytest.mark.parametrize("name", [b"authorization", b"COOKIE", b"x-ro", b"user-agent"])
def test_writes_to_protected_names_are_refused_and_change_nothing(name: bytes) -> None:
    target, v = view()
    assert v.add(name, b"x") == R.BAD_ARGUMENT
    assert v.replace(name, b"x") == R.BAD_ARGUMENT
    assert v.remove(name) == R.BAD_ARGUMENT
    assert target.pairs() == REQUEST


def test_refusal_does_not_depend_on_presence() -> None:
    target, v = view([(b":path", b"/")])
    assert v.remove(b"authorization") == R.BAD_ARGUMENT
    assert target.pairs() == [(b":path", b"/")]


def test_writes_to_free_names_pass_through() -> None:
    target, v = view()
    assert v.add(b"x-new", b"1") == R.OK
    assert v.replace(b"x-free", b"2") == R.OK
    assert v.remove(b":path") == R.OK
    assert target.get(b"x-new") == b"1" and target.get(b"x-free") == b"2"
    assert target.get(b":path") is None


def test_replacing_the_whole_map_keeps_protected_headers_as_they_came() -> None:
    target, v = view()
    seen = v.pairs()
    mine = [p for p in seen if p[0] not in (b"x-free",)] + [(b"x-added", b"yes")]
    assert v.set_pairs(mine) == R.OK
    after = target.pairs()
    assert (b"authorization", b"Bearer secret") in after
    assert (b"cookie", b"sid=1") in after  # the original, not the marker
    assert (b"user-agent", b"curl/8") in after and (b"x-ro", b"fixed") in after
    assert (b"x-added", b"yes") in after and target.get(b"x-free") is None
    assert [k for k, _ in after[:2]] == [b":authority", b":path"]  # pseudo-headers first


def test_a_fresh_map_without_the_protected_names_keeps_them() -> None:
    target, v = view()
    assert v.set_pairs([(b":path", b"/new"), (b"x-only", b"1")]) == R.OK
    after = dict(target.pairs())
    assert after[b":path"] == b"/new" and after[b"x-only"] == b"1"
    assert after[b"authorization"] == b"Bearer secret" and after[b"cookie"] == b"sid=1"
    assert after[b"x-ro"] == b"fixed"


@pytest.mark.parametrize(
    "extra",
    [
        [(b"authorization", b"forged")],  # a hidden name
        [(b"x-ro", b"changed")],  # a read-only name with another value
        [(b"cookie", b"sid=2")],  # a redacted name with anything but its marker
    ],
)
def test_a_list_that_changes_a_protected_header_is_refused_whole(extra: list[Pair]) -> None:
    target, v = view()
    assert v.set_pairs([p for p in v.pairs() if p[0] not in (b"x-ro", b"cookie")] + extra) == (
        R.BAD_ARGUMENT
    )
    assert target.pairs() == REQUEST


def test_count_leaves_hidden_headers_out() -> None:
    assert policy().count(HeaderMap(REQUEST)) == len(REQUEST) - 2


@pytest.mark.parametrize(
    ("path", "hidden"),
    [
        ([b"source", b"address"], True),
        ([b"source.address"], True),
        ([b"source", b"port"], False),
        ([b"connection", b"mtls"], True),
        ([b"connection"], True),
        ([b"connections"], False),  # a prefix is a whole segment
        ([b"request", b"path"], False),
    ],
)
def test_hidden_property_prefixes(path: list[bytes], hidden: bool) -> None:
    assert policy().hides_property(path) is hidden


def test_properties_read_headers_through_the_view() -> None:
    v = policy().view(HeaderMap(REQUEST))
    src = PropertySource("p", "", "", request_headers=v)
    assert lookup([b"request", b"headers", b"authorization"], src) is None
    assert lookup([b"request", b"headers", b"cookie"], src) == marker(b"sid=1")
    assert lookup([b"request", b"useragent"], src) is None
    decoded = pairs.decode(lookup([b"request", b"headers"], src) or b"")
    assert b"authorization" not in dict(decoded)


def test_daemon_key_comes_from_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visibility, "_daemon_key", None)
    monkeypatch.setenv(REDACTION_KEY_ENV, "ab" * 32)
    assert visibility.daemon_key() == bytes.fromhex("ab" * 32)
    import os

    assert REDACTION_KEY_ENV not in os.environ  # removed: it never reaches anything else
    assert visibility.daemon_key() == bytes.fromhex("ab" * 32)


def test_without_a_key_in_the_environment_a_random_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visibility, "_daemon_key", None)
    monkeypatch.delenv(REDACTION_KEY_ENV, raising=False)
    key = visibility.daemon_key()
    assert len(key) == 32 and visibility.daemon_key() == key


def test_a_read_only_policy_shows_everything() -> None:
    only = policy(VisibilitySpec(read_only_headers=("x-ro",)))
    target = HeaderMap(REQUEST)
    assert only.view(target).pairs() == REQUEST
    assert only.count(target) == len(REQUEST) == len(only.view(target))
    assert only.view(target).remove(b"x-ro") == R.BAD_ARGUMENT
