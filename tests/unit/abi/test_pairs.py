"""Tests for workers/abi/pairs.py, the header-map ("pairs") codec (reference §1.6)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.abi.pairs import Pair, PairsError, decode, encode, encoded_size
from workers.abi.types import MAX_PAIRS_BYTES, MAX_PAIRS_COUNT

# {"a": "1", "b": "22"} as the cpp-host lays it out (the spec's own example is wrong).
EXAMPLE_PAIRS: list[Pair] = [(b"a", b"1"), (b"b", b"22")]
EXAMPLE_BYTES = bytes.fromhex(
    "02000000"  # count
    "01000000 01000000"  # len("a"), len("1")
    "01000000 02000000"  # len("b"), len("22")
    "6100 3100"  # a NUL 1 NUL
    "6200 323200"  # b NUL 22 NUL
)


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def test_reference_example_is_29_bytes() -> None:
    assert len(EXAMPLE_BYTES) == 29
    assert encode(EXAMPLE_PAIRS) == EXAMPLE_BYTES
    assert decode(EXAMPLE_BYTES) == EXAMPLE_PAIRS
    assert encoded_size(EXAMPLE_PAIRS) == 29


@pytest.mark.parametrize("buf", [b"", b"\x00", u32(0)])
def test_empty_map_forms(buf: bytes) -> None:
    assert decode(buf) == []


def test_encode_empty_is_a_zero_count() -> None:
    assert encode([]) == u32(0)
    assert encoded_size([]) == 4


@pytest.mark.parametrize(
    "pairs",
    [
        [(b"", b"")],
        [(b"k", b"")],
        [(b"", b"v")],
        [(b"dup", b"1"), (b"dup", b"2")],  # order and duplicates are kept
        [(b"nul\0key", b"nul\0\0value\0")],  # lengths, not NULs, delimit
        [(b":authority", b"example.com"), (b"x-bin", bytes(range(256)))],
    ],
)
def test_round_trip_examples(pairs: list[Pair]) -> None:
    buf = encode(pairs)
    assert decode(buf) == pairs
    assert encoded_size(pairs) == len(buf)


pair_lists = st.lists(st.tuples(st.binary(max_size=64), st.binary(max_size=64)), max_size=40)


@given(pair_lists)
def test_round_trip_property(pairs: list[Pair]) -> None:
    buf = encode(pairs)
    assert encoded_size(pairs) == len(buf)
    assert encoded_size(iter(pairs)) == len(buf)
    assert decode(buf) == pairs


def test_limits_are_inclusive() -> None:
    """Exactly MAX_PAIRS_COUNT pairs and exactly MAX_PAIRS_BYTES bytes are accepted."""
    most = [(b"k", b"v")] * MAX_PAIRS_COUNT
    assert decode(encode(most)) == most
    filler = MAX_PAIRS_BYTES - encoded_size([(b"k", b"")])
    biggest = [(b"k", b"x" * filler)]
    assert len(encode(biggest)) == MAX_PAIRS_BYTES
    assert decode(encode(biggest)) == biggest


MALFORMED: list[tuple[str, bytes]] = [
    ("one non-NUL byte", b"\x01"),
    ("truncated count (2 bytes)", b"\x00\x00"),
    ("truncated count (3 bytes)", b"\x01\x00\x00"),
    ("count without size table", u32(1)),
    ("truncated size table", u32(2) + u32(1) + u32(1) + b"a\x001\x00"),
    ("half a size entry", u32(1) + u32(1)),
    ("key runs past the end", u32(1) + u32(5) + u32(0) + b"ab\x00\x00"),
    ("value runs past the end", u32(1) + u32(1) + u32(9) + b"a\x00b\x00"),
    ("no NUL after key", u32(1) + u32(1) + u32(1) + b"ax1\x00"),
    ("no NUL after value", u32(1) + u32(1) + u32(1) + b"a\x001x"),
    ("terminators missing at the end", u32(1) + u32(1) + u32(1) + b"a1"),
    ("one trailing byte", EXAMPLE_BYTES + b"\x00"),
    ("trailing garbage", EXAMPLE_BYTES + b"junk"),
    ("zero count with trailing bytes", u32(0) + b"\x00"),
    ("count above the limit", u32(MAX_PAIRS_COUNT + 1) + u32(0) * 2 * (MAX_PAIRS_COUNT + 1)),
    ("huge count in a short buffer", u32(0xFFFF_FFFF) + u32(0) * 2),
    ("huge lengths", u32(1) + u32(0xFFFF_FFFF) + u32(0xFFFF_FFFF) + b"\x00\x00"),
    ("over 1 MiB", encode([(b"k", b"x" * MAX_PAIRS_BYTES)])),
    ("over 1 MiB of zeros", bytes(MAX_PAIRS_BYTES + 1)),
]


@pytest.mark.parametrize("buf", [b for _, b in MALFORMED], ids=[n for n, _ in MALFORMED])
def test_malformed_input_raises_pairs_error(buf: bytes) -> None:
    with pytest.raises(PairsError):
        decode(buf)


def test_pairs_error_is_a_value_error() -> None:
    assert issubclass(PairsError, ValueError)


def check_decode(buf: bytes) -> None:
    """decode either returns pairs that re-encode to ``buf`` or raises PairsError.

    Re-encoding proves decode accepted nothing the strict cpp-host parser would reject; the
    two empty-map spellings are the only non-canonical inputs allowed.
    """
    try:
        pairs = decode(buf)
    except PairsError:
        return
    assert isinstance(pairs, list)
    if buf not in (b"", b"\x00"):
        assert encode(pairs) == buf


@settings(max_examples=500)
@given(st.binary(max_size=256))
def test_fuzz_random_bytes(buf: bytes) -> None:
    check_decode(buf)


@settings(max_examples=500)
@given(pair_lists, st.data())
def test_fuzz_mutated_encodings(pairs: list[Pair], data: st.DataObject) -> None:
    """Random bytes rarely get past the count; mutating a valid encoding reaches the rest."""
    buf = bytearray(encode(pairs))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "truncate", "append", "delete"]))
        at = data.draw(st.integers(0, max(len(buf) - 1, 0)))
        if action == "flip" and buf:
            buf[at] = data.draw(st.integers(0, 255))
        elif action == "truncate":
            del buf[at:]
        elif action == "append":
            buf += data.draw(st.binary(min_size=1, max_size=8))
        elif buf:
            del buf[at]
    check_decode(bytes(buf))
