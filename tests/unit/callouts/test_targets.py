"""workers/callouts/targets.py: which plugin-chosen paths and gRPC names can only name
something on the configured upstream (issue 12 §1)."""

from __future__ import annotations

import pytest

from workers.callouts.targets import grpc_names_problem, path_problem, same_origin


@pytest.mark.parametrize("path", [b"/", b"/a/b?c=d&e=%2F", b"//double", b"/~user/x.y;z", b"/@x"])
def test_ordinary_paths_pass(path: bytes) -> None:
    assert path_problem(path) is None


@pytest.mark.parametrize(
    "path",
    [b"", b"@h:1/x", b":1/x", b"?q", b"x", b"/a\rb", b"/a\nb", b"/a\x00", b"/a\\b", b"/a#f",
     b"/a b", b"/a\x7f", b"/a\tb"],
)  # fmt: skip
def test_paths_that_could_leave_the_upstream_are_refused(path: bytes) -> None:
    assert path_problem(path) is not None


@pytest.mark.parametrize(("service", "method"), [(b"a.b.Echo", b"Unary"), (b"_S", b"m_1")])
def test_grpc_identifiers_pass(service: bytes, method: bytes) -> None:
    assert grpc_names_problem(service, method) is None


@pytest.mark.parametrize(
    ("service", "method"),
    [(b"a/b", b"M"), (b"a", b"M/x"), (b"a.", b"M"), (b"1a", b"M"), (b"a", b"M\n"),
     (b"\xff", b"M"), (b"a" * 2000, b"M")],
)  # fmt: skip
def test_grpc_names_that_are_not_identifiers_are_refused(service: bytes, method: bytes) -> None:
    assert grpc_names_problem(service, method) is not None


def test_same_origin() -> None:
    assert same_origin("http://h:1", "http://h:1/x")
    assert same_origin("http://h:1", "http://h:1//x")  # still host h: the path is //x
    assert not same_origin("http://h:1", "http://h:1@evil:2/x")
    assert not same_origin("http://h:1", "http://h:12/x")
