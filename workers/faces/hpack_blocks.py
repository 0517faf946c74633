"""HPACK header blocks beyond what the ``hpack`` library offers (RFC 7541): whether a block
leaves the dynamic table alone (so its decoding may be cached), and stateless literal
encoding for the few fixed blocks a gRPC server sends."""

from __future__ import annotations


def table_neutral(block: bytes) -> bool:
    """True if no field of the HPACK block changes the dynamic table: only indexed fields
    and literals without indexing or never indexed (RFC 7541 6.1, 6.2.2, 6.2.3). Such a
    block decodes the same for as long as the table does not change."""
    try:
        i, n = 0, len(block)
        while i < n:
            first = block[i]
            if first & 0x80:  # indexed field
                i = _skip_int(block, i, 7)
            elif first & 0xE0 == 0:  # literal without indexing / never indexed
                name_index_zero = first & 0x0F == 0
                i = _skip_int(block, i, 4)
                if name_index_zero:
                    i = _skip_string(block, i)
                i = _skip_string(block, i)
            else:  # incremental indexing or a table size update
                return False
        return i == n
    except IndexError:
        return False


def _skip_int(block: bytes, i: int, prefix_bits: int) -> int:
    """The offset after the HPACK integer at ``i``."""
    return _read_int(block, i, prefix_bits)[1]


def _read_int(block: bytes, i: int, prefix_bits: int) -> tuple[int, int]:
    limit = (1 << prefix_bits) - 1
    value = block[i] & limit
    i += 1
    if value < limit:
        return value, i
    shift = 0
    while True:
        byte = block[i]
        i += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def _skip_string(block: bytes, i: int) -> int:
    length, i = _read_int(block, i, 7)
    if i + length > len(block):
        raise IndexError("string past the block")
    return i + length


def encode_literal(headers: list[tuple[bytes, bytes]]) -> bytes:
    """A header block of literal fields without indexing and without Huffman
    (RFC 7541 6.2.2): stateless, so it can be built once and sent on any connection."""
    out = bytearray()
    for name, value in headers:
        out.append(0x00)
        out += _hpack_int(len(name), 7) + name
        out += _hpack_int(len(value), 7) + value
    return bytes(out)


def _hpack_int(value: int, prefix_bits: int) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([value])
    out = bytearray([limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
