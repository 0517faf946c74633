"""Callout token allocation (proxy-wasm-cpp-host wasm.h: residues 0/1/2 mod 4, step 4)."""

from __future__ import annotations

import pytest

from workers.callouts.tokens import CalloutKind, CalloutTokens, kind_of


@pytest.mark.parametrize(
    ("kind", "first_three"),
    [
        (CalloutKind.HTTP_CALL, [4, 8, 12]),
        (CalloutKind.GRPC_CALL, [5, 9, 13]),
        (CalloutKind.GRPC_STREAM, [6, 10, 14]),
    ],
)
def test_first_tokens_match_envoy(kind: CalloutKind, first_three: list[int]) -> None:
    tokens = CalloutTokens()
    assert [tokens.next(kind) for _ in range(3)] == first_three


def test_kinds_count_independently() -> None:
    tokens = CalloutTokens()
    assert tokens.next(CalloutKind.HTTP_CALL) == 4
    assert tokens.next(CalloutKind.GRPC_CALL) == 5
    assert tokens.next(CalloutKind.HTTP_CALL) == 8


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        (4, CalloutKind.HTTP_CALL),
        (9, CalloutKind.GRPC_CALL),
        (14, CalloutKind.GRPC_STREAM),
        (7, None),
    ],
)
def test_kind_of(token: int, kind: CalloutKind | None) -> None:
    assert kind_of(token) is kind


def test_wraps_within_u32_and_never_returns_zero() -> None:
    tokens = CalloutTokens()
    tokens._last[CalloutKind.HTTP_CALL] = 0xFFFFFFFC
    token = tokens.next(CalloutKind.HTTP_CALL)
    assert token != 0 and token <= 0xFFFFFFFF and kind_of(token) is CalloutKind.HTTP_CALL
