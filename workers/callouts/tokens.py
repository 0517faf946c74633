"""Callout token ids, allocated as proxy-wasm-cpp-host does (``wasm.h``).

The low two bits say what a token is: HTTP call ids are 0 mod 4, gRPC call ids 1 mod 4,
gRPC stream ids 2 mod 4; each kind counts up by 4, starting one step above its residue
(first HTTP call 4, first gRPC call 5, first gRPC stream 6). SDKs rely on the residues to
route a callback (``proxy_grpc_close`` on a call vs a stream).
"""

from __future__ import annotations

import enum

_MASK = 0x3
_STEP = 4  # enough to cover the three kinds
_U32 = 0xFFFFFFFF


class CalloutKind(enum.IntEnum):
    HTTP_CALL = 0
    GRPC_CALL = 1
    GRPC_STREAM = 2


def kind_of(token: int) -> CalloutKind | None:
    """The kind a token encodes, or None for residue 3 (never allocated)."""
    residue = token & _MASK
    return CalloutKind(residue) if residue in CalloutKind._value2member_map_ else None


class CalloutTokens:
    """Per-VM token counters. Pure; not thread-safe (one loop owns a VM)."""

    def __init__(self) -> None:
        self._last = {kind: int(kind) for kind in CalloutKind}

    def next(self, kind: CalloutKind) -> int:
        """The next token of ``kind``; wraps within u32 and never returns 0."""
        token = (self._last[kind] + _STEP) & _U32
        if token == 0:
            token = _STEP
        self._last[kind] = token
        return token
