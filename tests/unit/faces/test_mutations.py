"""workers.faces.mutations: the header diff, checked against native_protocol.apply_mutation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmd.kernel.native_protocol import apply_mutation
from workers.faces.mutations import (
    HeaderMutation,
    diff_by_name,
    diff_headers,
    forwarded_body,
    group,
)

Pairs = list[tuple[bytes, bytes]]

CASES: list[tuple[str, Pairs, Pairs, HeaderMutation]] = [
    ("unchanged", [(b"a", b"1")], [(b"a", b"1")], HeaderMutation()),
    ("added", [(b"a", b"1")], [(b"a", b"1"), (b"b", b"2")], HeaderMutation(((b"b", b"2"),))),
    ("removed", [(b"a", b"1"), (b"b", b"2")], [(b"a", b"1")], HeaderMutation((), (b"b",))),
    ("replaced", [(b"a", b"1")], [(b"a", b"9")], HeaderMutation(((b"a", b"9"),))),
    (
        "value-appended",
        [(b"a", b"1")],
        [(b"a", b"1"), (b"a", b"2")],
        HeaderMutation(((b"a", b"1"), (b"a", b"2"))),
    ),
    ("case-only", [(b"X-A", b"1")], [(b"x-a", b"1")], HeaderMutation()),
    ("reordered", [(b"a", b"1"), (b"b", b"2")], [(b"b", b"2"), (b"a", b"1")], HeaderMutation()),
]


@pytest.mark.parametrize(("case", "before", "after", "want"), CASES, ids=[c[0] for c in CASES])
def test_diff(case: str, before: Pairs, after: Pairs, want: HeaderMutation) -> None:
    assert diff_headers(before, after) == want


names = st.sampled_from([b"a", b"B", b"c", b"x-y"])
pairs = st.lists(st.tuples(names, st.binary(max_size=3)), max_size=6)


@given(pairs, pairs)
def test_applying_the_diff_gives_the_same_values_per_name(before: Pairs, after: Pairs) -> None:
    mutation = diff_headers(before, after)
    applied = apply_mutation(before, mutation.set, mutation.remove)
    assert group(applied) == group(after)


@given(pairs, pairs)
def test_the_added_headers_shortcut_gives_the_general_diff(before: Pairs, added: Pairs) -> None:
    """What a plugin that only adds headers produces takes a shortcut; same mutation."""
    after = before + added
    assert diff_headers(before, after) == diff_by_name(before, after)


def test_forwarded_body() -> None:
    assert forwarded_body(b"abc", b"abc") is None
    assert forwarded_body(b"abc", b"") == b""
    assert forwarded_body(b"abc", b"ABC") == b"ABC"
