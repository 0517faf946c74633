"""Tests for workers/contexts/maps.py: HeaderMap and BodyBuffer (Envoy semantics)."""

from __future__ import annotations

import pytest

from workers.abi.types import WasmResult
from workers.contexts.maps import BodyBuffer, HeaderMap, Pair

R = WasmResult
BASE: list[Pair] = [(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]


def test_keys_are_lowercased_everywhere() -> None:
    m = HeaderMap([(b"X-Foo", b"Bar")])
    assert m.pairs() == [(b"x-foo", b"Bar")]  # values keep their case
    assert m.get(b"X-FOO") == b"Bar"
    m.add(b"X-New", b"v")
    m.replace(b"X-FOO", b"baz")
    assert m.pairs() == [(b"x-foo", b"baz"), (b"x-new", b"v")]
    m.set_pairs([(b"UP", b"1")])
    assert m.pairs() == [(b"up", b"1")]


def test_get_returns_the_first_value() -> None:
    assert HeaderMap(BASE).get(b"a") == b"1"
    assert HeaderMap(BASE).get(b"missing") is None


@pytest.mark.parametrize(
    ("key", "value", "after"),
    [
        (b"a", b"9", [(b"a", b"9"), (b"b", b"2")]),  # first kept in place, duplicates dropped
        (b"A", b"9", [(b"a", b"9"), (b"b", b"2")]),
        (b"b", b"9", [(b"a", b"1"), (b"b", b"9"), (b"a", b"3")]),
        (b"c", b"9", [*BASE, (b"c", b"9")]),  # absent: appended
    ],
)
def test_replace(key: bytes, value: bytes, after: list[Pair]) -> None:
    m = HeaderMap(BASE)
    m.replace(key, value)
    assert m.pairs() == after


def test_add_keeps_duplicates() -> None:
    m = HeaderMap(BASE)
    m.add(b"a", b"4")
    assert [v for k, v in m.pairs() if k == b"a"] == [b"1", b"3", b"4"]


@pytest.mark.parametrize(
    ("key", "after"),
    [(b"a", [(b"b", b"2")]), (b"A", [(b"b", b"2")]), (b"zz", BASE), (b"b", [BASE[0], BASE[2]])],
)
def test_remove_removes_all(key: bytes, after: list[Pair]) -> None:
    m = HeaderMap(BASE)
    m.remove(key)
    assert m.pairs() == after


@pytest.mark.parametrize(
    ("items", "size"),
    [([], 0), (BASE, 6), ([(b":authority", b"example.com")], 21), ([(b"k", b"")], 1)],
)
def test_byte_size_is_sum_of_key_and_value_lengths(items: list[Pair], size: int) -> None:
    assert HeaderMap(items).byte_size() == size


def test_pairs_is_a_copy() -> None:
    m = HeaderMap(BASE)
    m.pairs().append((b"x", b"y"))
    assert len(m) == 3


BODY = b"0123456789"


@pytest.mark.parametrize(
    ("start", "length", "data", "result", "after"),
    [
        (0, 0, b"<<", R.OK, b"<<" + BODY),  # prepend at 0
        (0, len(BODY), b"new", R.OK, b"new"),  # replace whole with start=0,size=len
        (0, 100, b"new", R.OK, b"new"),  # size beyond len also replaces all
        (0, 3, b"", R.OK, b"3456789"),  # drop a prefix
        (len(BODY), 0, b">>", R.OK, BODY + b">>"),  # append at len
        (len(BODY) + 5, 7, b">>", R.OK, BODY + b">>"),  # ... or beyond
        (1, 0, b"x", R.BAD_ARGUMENT, BODY),  # the middle
        (5, 5, b"x", R.BAD_ARGUMENT, BODY),
        (len(BODY) - 1, 1, b"x", R.BAD_ARGUMENT, BODY),
    ],
)
def test_copy_from(start: int, length: int, data: bytes, result: R, after: bytes) -> None:
    buf = BodyBuffer(BODY)
    assert buf.copy_from(start, length, data) == result
    assert bytes(buf.data) == after
    assert buf.size() == len(after)


def test_copy_from_on_empty_buffer_appends() -> None:
    buf = BodyBuffer()
    assert buf.copy_from(0, 0, b"abc") == R.OK
    assert buf.get(0, 10) == b"abc"


@pytest.mark.parametrize("start", [0, 5, 10, 20])
def test_copy_from_read_only_is_bad_argument(start: int) -> None:
    buf = BodyBuffer(BODY, writable=False)
    assert buf.copy_from(start, 0, b"x") == R.BAD_ARGUMENT
    assert bytes(buf.data) == BODY


@pytest.mark.parametrize(
    ("start", "length", "expected"), [(0, 10, BODY), (2, 3, b"234"), (8, 5, b"89"), (20, 5, b"")]
)
def test_get_slices(start: int, length: int, expected: bytes) -> None:
    assert BodyBuffer(BODY).get(start, length) == expected
