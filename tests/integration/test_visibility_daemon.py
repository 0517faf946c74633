"""The visibility policy in the real daemon (``wasmd serve``, 2 workers): the native socket,
each worker's ext_proc socket, and ``wasmd status``. The corpus plugins say what they saw
(header_echo's x-seen-* headers); the exchange's result is what the upstream gets."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from envoy.config.core.v3 import base_pb2 as core
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ep_grpc

from tests.helpers.daemon import PLUGINS, Daemon, PluginEntry, daemons, render_config
from tests.helpers.procs import run
from wasmd.clients.native import Client, ExchangeResult

pytestmark = pytest.mark.timeout(180)

ECHO = PLUGINS / "c" / "build" / "header_echo.wasm"
TAMPER = PLUGINS / "c" / "build" / "header_tamper.wasm"
SECRET = b"Bearer s3cret-token"
RPC_TIMEOUT_S = 10.0
DEFAULT_POLICY = """
[visibility]
hide_headers = ["authorization"]
redact_headers = ["cookie"]
hide_properties = ["source"]
"""
REQUEST = [
    (b":method", b"GET"),
    (b":path", b"/"),
    (b":authority", b"example.com"),
    (b":scheme", b"http"),
    (b"authorization", SECRET),
    (b"cookie", b"sid=42"),
]
PROPERTIES = {"source.address": b"10.0.0.9:1234"}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    tmp = tmp_path_factory.mktemp("visibility")
    plugins = [
        PluginEntry("echo", ECHO),
        PluginEntry("tamper", TAMPER, configuration="authorization"),
        PluginEntry("echo-open", ECHO, settings={"inherit_visibility": False}),
    ]
    chains = {"default": ["echo", "tamper"], "open": ["echo-open"]}
    text = render_config(plugins, chains, runtime_dir=str(tmp / "run"), cache_dir=str(tmp / "c"))
    config = tmp / "wasmd.toml"
    config.write_text(text + DEFAULT_POLICY)
    with daemons(tmp) as start:
        d = start(config)
        d.all_ready()
        try:
            yield d
        finally:
            d.admin.close()


def native(daemon: Daemon, chain: str, withhold: tuple[str, ...] = ()) -> ExchangeResult:
    async def go() -> ExchangeResult:
        client = await Client.connect(str(daemon.socket))
        try:
            return await client.exchange(
                chain=chain,
                properties=PROPERTIES,
                request_headers=REQUEST,
                response_headers=[(b":status", b"200"), (b"set-cookie", b"sid=43")],
                withhold=withhold,
            )
        finally:
            await client.close()

    return asyncio.run(asyncio.wait_for(go(), RPC_TIMEOUT_S * 2))


def values(pairs: tuple[tuple[bytes, bytes], ...], name: bytes) -> list[bytes]:
    return [v for k, v in pairs if k == name]


def test_native_chain_with_the_default_policy(daemon: Daemon) -> None:
    result = native(daemon, "default")
    up = result.request_headers
    # What the plugins saw:
    assert values(up, b"x-seen-get-authorization") == [b"1"]
    assert values(up, b"x-seen-prop-authorization") == [b"1"]
    assert b"authorization" not in values(up, b"x-seen-headers")[0]
    assert values(up, b"x-seen-get-cookie")[0].startswith(b"0:redacted:")
    assert values(up, b"x-seen-source-address") == [b"1"]
    assert values(up, b"x-tamper") == [b"2,2,2,2,0"]
    # What the upstream gets: the hidden and redacted headers exactly as they came.
    assert values(up, b"authorization") == [SECRET]
    assert values(up, b"cookie") == [b"sid=42"]
    assert values(up, b"x-whole") == [b"replaced"]


def test_native_chain_of_a_plugin_that_does_not_inherit(daemon: Daemon) -> None:
    up = native(daemon, "open").request_headers
    assert values(up, b"x-seen-get-authorization") == [b"0:" + SECRET]
    assert values(up, b"x-seen-get-cookie") == [b"0:sid=42"]
    assert values(up, b"x-seen-source-address") == [b"0:10.0.0.9:1234"]


def test_a_native_client_can_keep_a_header_off_the_socket(daemon: Daemon) -> None:
    """``withhold``: not sent at all (even a plugin without a policy cannot see it), and
    the result, what the client forwards, has it back unchanged."""
    result = native(daemon, "open", withhold=("authorization", "set-cookie"))
    up = result.request_headers
    assert values(up, b"x-seen-get-authorization") == [b"1"]
    assert values(up, b"authorization") == [SECRET]
    assert b"set-cookie" not in values(result.response_headers, b"x-seen-response-headers")[0]
    assert values(result.response_headers, b"set-cookie") == [b"sid=43"]


def extproc_seen(daemon: Daemon, slot: int) -> dict[str, str]:
    """One request-headers message to slot ``slot``'s ext_proc socket; what echo added."""
    path = daemon.runtime_dir / f"extproc-{slot}.sock"
    with grpc.insecure_channel(f"unix:{path}") as channel:
        stub = ep_grpc.ExternalProcessorStub(channel)
        header_map = core.HeaderMap(
            headers=[core.HeaderValue(key=k.decode(), raw_value=v) for k, v in REQUEST]
        )
        request = ep.ProcessingRequest(
            request_headers=ep.HttpHeaders(headers=header_map, end_of_stream=True)
        )
        responses = stub.Process(iter([request]), timeout=RPC_TIMEOUT_S)
        reply = next(responses)
        responses.cancel()
    mutation = reply.request_headers.response.header_mutation
    return {h.header.key: h.header.raw_value.decode() for h in mutation.set_headers}


def test_redaction_markers_are_equal_across_workers(daemon: Daemon) -> None:
    """The key is the daemon's: a plugin may compare markers whichever worker runs it."""
    first, second = extproc_seen(daemon, 0), extproc_seen(daemon, 1)
    assert first["x-seen-get-cookie"].startswith("0:redacted:")
    assert first["x-seen-get-cookie"] == second["x-seen-get-cookie"]
    assert "sid=42" not in first["x-seen-get-cookie"]


def test_status_shows_each_plugins_effective_policy(daemon: Daemon) -> None:
    doc = daemon.status_json()
    policies = {p["name"]: p["visibility"] for p in doc["plugins"]}
    inherited = {
        "hide_headers": ["authorization"],
        "redact_headers": ["cookie"],
        "read_only_headers": [],
        "hide_properties": ["source"],
    }
    assert policies["echo"] == inherited and policies["tamper"] == inherited
    assert policies["echo-open"] == {k: [] for k in inherited}
    done = daemon.cli("status")
    assert done.returncode == 0, done.describe()
    assert "  echo: hides authorization; redacts cookie; hides properties source" in done.stdout
    assert "echo-open:" not in done.stdout


def test_a_config_error_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        render_config([PluginEntry("echo", ECHO, settings={"hide_headers": ["a b"]})], None)
    )
    done = run(
        [sys.executable, "-m", "wasmd", "serve", "--config", str(config)],
        timeout_s=60,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "plugins[0].hide_headers[0]: must be an HTTP header name" in done.stderr
