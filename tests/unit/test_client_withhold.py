"""wasmd/clients/withhold.py: the headers a native client keeps to itself."""

from __future__ import annotations

from wasmd.clients import withhold

HEADERS = [(b":path", b"/"), (b"Authorization", b"x"), (b"a", b"1"), (b"authorization", b"y")]


def test_split_keeps_order_and_compares_lower_case() -> None:
    names = withhold.names(["AUTHORIZATION", b"cookie"])
    assert names == {b"authorization", b"cookie"}
    sent, kept = withhold.split(HEADERS, names)
    assert sent == ((b":path", b"/"), (b"a", b"1"))
    assert kept == ((b"Authorization", b"x"), (b"authorization", b"y"))


def test_restore_puts_the_originals_back_and_wins() -> None:
    names = withhold.names(["authorization"])
    _, kept = withhold.split(HEADERS, names)
    result = [(b":path", b"/new"), (b"authorization", b"from-a-buggy-server"), (b"b", b"2")]
    assert withhold.restore(result, kept, names) == (
        (b":path", b"/new"),
        (b"b", b"2"),
        (b"Authorization", b"x"),
        (b"authorization", b"y"),
    )
