"""workers.abi.host.property_path: proxy_get_property paths as Envoy splits them."""

from __future__ import annotations

import pytest

from workers.abi.host import property_path


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        (b"request\0path", [b"request", b"path"]),  # Rust and Go SDKs: joined
        (b"request\0path\0", [b"request", b"path"]),  # C++ SDK: every part NUL-terminated
        (b"plugin_name\0", [b"plugin_name"]),
        (b"plugin_name", [b"plugin_name"]),
        (b"a\0\0b", [b"a", b"", b"b"]),  # an empty part inside is kept (finds nothing)
        (b"a\0\0", [b"a", b""]),  # only the one terminating NUL is dropped
        (b"", [b""]),
        (b"\0", [b""]),
    ],
)
def test_parts(raw: bytes, parts: list[bytes]) -> None:
    assert property_path(raw) == parts
