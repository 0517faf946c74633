"""Upstream URL parsing (the plugin config's ``upstreams = {name = URL}``)."""

from __future__ import annotations

import pytest

from workers.callouts.upstreams import Protocol, Upstream, UpstreamError, parse_upstream

GOOD = [
    ("http://127.0.0.1:8080", Upstream("u", Protocol.HTTP, base_url="http://127.0.0.1:8080")),
    ("http://auth", Upstream("u", Protocol.HTTP, base_url="http://auth")),
    (
        "https://auth.example:443/",
        Upstream("u", Protocol.HTTP, base_url="https://auth.example:443"),
    ),
    ("http://[::1]:81", Upstream("u", Protocol.HTTP, base_url="http://[::1]:81")),
    (
        "unix:///run/auth.sock",
        Upstream("u", Protocol.HTTP, base_url="http://localhost", unix_path="/run/auth.sock"),
    ),
    ("grpc://127.0.0.1:9000", Upstream("u", Protocol.GRPC, grpc_target="127.0.0.1:9000")),
    (
        "grpc+unix:///run/g.sock",
        Upstream("u", Protocol.GRPC, unix_path="/run/g.sock", grpc_target="unix:/run/g.sock"),
    ),
]

BAD = [
    ("ftp://host", "scheme"),
    ("auth:8080", "scheme"),
    ("http://", "host"),
    ("http://host/path", "no path"),
    ("http://host?x=1", "query"),
    ("http://user:pw@host", "credentials"),
    ("http://host:99999", "out of range"),
    ("unix://relative.sock", "absolute"),
    ("unix:///", "absolute"),
    ("grpc://host", "explicit port"),
]


@pytest.mark.parametrize(("url", "expected"), GOOD)
def test_parses(url: str, expected: Upstream) -> None:
    assert parse_upstream("u", url) == expected


@pytest.mark.parametrize(("url", "why"), BAD)
def test_rejects_with_a_message_naming_the_entry(url: str, why: str) -> None:
    with pytest.raises(UpstreamError) as err:
        parse_upstream("auth", url)
    assert "upstream 'auth'" in str(err.value) and why in str(err.value)
