"""Envoy -> wasmd end to end: the real daemon (``wasmd serve``, 2 worker processes) behind
a real Envoy whose config comes from ``wasmd envoy-config --bootstrap`` (patched only for
ports), in front of the Python test upstream, checked with an HTTP client.

One daemon and one Envoy serve the whole module (module-scoped fixtures); every wait is
on a condition: the admin status says every slot is READY, Envoy's /ready, and Envoy's
health checks see every slot healthy.

The stack pieces (``WasmdDaemon``, ``EnvoyFront``, ``write_config``, ``exchange``) are
also used by ``test_daemon_envoy_faults.py``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import sys
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.envoy_config import connection_manager
from tests.e2e.envoy_harness import envoy_binary, unique_base_id
from tests.helpers.callout_upstreams import AuthUpstream
from tests.helpers.daemon import Daemon, PluginEntry, render_config
from tests.helpers.procs import Spawned, run, spawn, wait_for
from tests.helpers.upstream import Answer, Upstream
from wasmd.admin.model import DaemonStatus

pytestmark = [pytest.mark.envoy, pytest.mark.timeout(180)]

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
ADD_HEADER = PLUGINS / "as" / "build" / "add_header.wasm"
LOCAL_REPLY = PLUGINS / "as" / "build" / "local_reply.wasm"
BODY_REWRITE = PLUGINS / "as" / "build" / "body_rewrite.wasm"
HTTP_CALLOUT = PLUGINS / "c" / "build" / "http_callout.wasm"
CONFORMANCE = PLUGINS / "c" / "build" / "conformance.wasm"
# The dynamic metadata namespace the stack forwards: Envoy's header_to_metadata filter
# copies the request's x-tenant header into it, in front of ext_proc.
METADATA_NAMESPACE = "wasmd.e2e"
# Worker start-up compiles every module once (cached after); a loaded CI box is slow.
DAEMON_READY_TIMEOUT_S = 60.0
ENVOY_READY_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 10.0
ADMIN_TIMEOUT_S = 2.0
LISTENER_NAME = "wasmd_ingress"
EXTPROC_CLUSTER = "wasmd_extproc"


def write_config(
    path: Path,
    runtime_dir: Path,
    cache_dir: Path,
    plugins: Sequence[PluginEntry],
    chains: Mapping[str, Sequence[str]],
    **daemon: object,
) -> Path:
    """Write a wasmd.toml with the shared fast test settings (overridden by ``daemon``)."""
    settings = {"heartbeat_timeout_s": 3.0, **daemon}
    text = render_config(
        plugins, chains, runtime_dir=str(runtime_dir), cache_dir=str(cache_dir), **settings
    )
    path.write_text(text)
    return path


def callout_plugin(name: str, module: Path, upstreams: Mapping[str, str]) -> PluginEntry:
    return PluginEntry(name, module, "", settings={"upstreams": dict(upstreams)})


class WasmdDaemon(Daemon):
    """``wasmd serve --config FILE`` in its own process group, observed over its admin socket."""

    def __init__(self, proc: Spawned, config: Path, runtime_dir: Path) -> None:
        super().__init__(proc, runtime_dir)
        self.config = config

    def all_ready(self, timeout_s: float = DAEMON_READY_TIMEOUT_S) -> DaemonStatus:
        return super().all_ready(timeout_s)

    def pid_of(self, slot: int) -> int:
        pid = self.status().workers[slot].pid
        assert pid is not None, f"slot {slot} has no worker"
        return pid


@contextlib.contextmanager
def wasmd_daemon(config: Path, runtime_dir: Path, log_path: Path) -> Iterator[WasmdDaemon]:
    """A running daemon with every slot READY; killed with its workers on exit."""
    argv = [sys.executable, "-m", "wasmd", "serve", "--config", str(config)]
    with spawn(argv, log_path=log_path, cwd=config.parent) as proc:
        daemon = WasmdDaemon(proc, config, runtime_dir)
        try:
            daemon.all_ready()
            yield daemon
        finally:
            daemon.admin.close()


def generated_bootstrap(
    config: Path,
    upstream_port: int,
    *,
    routes: Sequence[str] = (),
    failure_mode_allow: bool = False,
    forward_metadata: Sequence[str] = (),
) -> dict[str, Any]:
    """``wasmd envoy-config --bootstrap`` output with the listener and admin ports set to 0."""
    argv = [sys.executable, "-m", "wasmd", "envoy-config", "--config", str(config)]
    argv += ["--bootstrap", "--listen", "127.0.0.1:1", "--admin-port", "1"]
    argv += ["--upstream", f"127.0.0.1:{upstream_port}"]
    argv += [arg for r in routes for arg in ("--route", r)]
    argv += [arg for ns in forward_metadata for arg in ("--forward-metadata", ns)]
    if failure_mode_allow:
        argv.append("--failure-mode-allow")
    done = run(argv, timeout_s=30)
    assert done.returncode == 0, done.describe()
    doc: dict[str, Any] = json.loads(done.stdout)
    doc["admin"]["address"]["socket_address"]["port_value"] = 0
    for listener in doc["static_resources"]["listeners"]:
        listener["address"]["socket_address"]["port_value"] = 0
    return doc


class EnvoyFront:
    """A running Envoy (one worker thread) with the generated bootstrap."""

    def __init__(self, proc: Spawned, admin_file: Path) -> None:
        self.proc = proc
        self.admin_port = self._admin_port(admin_file)
        self.port = 0

    def _admin_port(self, admin_file: Path) -> int:
        def address() -> str:
            assert not self.proc.exited(), "Envoy exited"
            text = admin_file.read_text().strip() if admin_file.exists() else ""
            return text if re.fullmatch(r".+:\d+", text) else ""

        text = wait_for(address, ENVOY_READY_TIMEOUT_S, what="Envoy admin address")
        return int(str(text).rsplit(":", 1)[1])

    def admin_get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.admin_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=ADMIN_TIMEOUT_S) as resp:
                return int(resp.status), resp.read().decode()
        except (OSError, http.client.HTTPException):
            return 0, ""

    def healthy_slots(self) -> int:
        """How many ext_proc slots Envoy's health checks currently call healthy."""
        _, body = self.admin_get("/clusters")
        prefix = f"{EXTPROC_CLUSTER}::"
        return sum(
            1
            for line in body.splitlines()
            if line.startswith(prefix) and line.endswith("::health_flags::healthy")
        )

    def stat(self, name: str) -> int:
        _, body = self.admin_get("/stats?filter=" + re.escape(name) + "$")
        match = re.search(rf"^{re.escape(name)}: (\d+)$", body, re.MULTILINE)
        return int(match.group(1)) if match else 0

    def wait_ready(self, slots: int) -> None:
        """Envoy /ready and every ext_proc slot healthy; then the listener's port is known."""
        wait_for(
            lambda: self.admin_get("/ready")[0] == 200 and self.healthy_slots() == slots,
            ENVOY_READY_TIMEOUT_S,
            what=f"Envoy /ready with {slots} healthy ext_proc slots",
            diagnostics=self.proc.describe,
        )
        _, body = self.admin_get("/listeners?format=json")
        for listener in json.loads(body)["listener_statuses"]:
            if listener["name"] == LISTENER_NAME:
                self.port = int(listener["local_address"]["socket_address"]["port_value"])


@contextlib.contextmanager
def envoy_front(doc: dict[str, Any], workdir: Path, name: str, slots: int) -> Iterator[EnvoyFront]:
    """Start Envoy on ``doc``; wait until it is ready and sees ``slots`` healthy slots."""
    config = workdir / f"{name}.json"
    config.write_text(json.dumps(doc, indent=1))
    admin_file = workdir / f"{name}.admin"
    admin_file.unlink(missing_ok=True)
    argv = [envoy_binary(), "-c", str(config), "--disable-hot-restart", "--concurrency", "1"]
    argv += ["-l", "warn", "--base-id", str(unique_base_id())]
    argv += ["--admin-address-path", str(admin_file)]
    with spawn(argv, log_path=workdir / f"{name}.log") as proc:
        front = EnvoyFront(proc, admin_file)
        front.wait_ready(slots)
        yield front


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    pairs: tuple[tuple[str, str], ...] = ()  # every header, repeats kept


def exchange(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
) -> Reply:
    """One request through Envoy on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request(method, path, body=body or None, headers=dict(headers))
        resp = conn.getresponse()
        pairs = tuple((k.lower(), v) for k, v in resp.getheaders())
        return Reply(resp.status, dict(pairs), resp.read(), pairs)
    finally:
        conn.close()


# --------------------------------------------------------------------------------------
# The module's stack: plugins, chains, routes.
# default chain (route "/"):        add-header, callout   (callout acts only on x-callout)
# route "/deny" -> chain "guard":   local-reply, add-header
# route "/upper" -> chain "bodies": body-rewrite          (BUFFERED bodies on this route only)
# route "/props" -> chain "props":  conformance           (reads properties Envoy supplies)
# route "/pair" -> chain "pair":    conformance, conformance-b (one sets a property, both read)


@dataclass(frozen=True, slots=True)
class Stack:
    daemon: WasmdDaemon
    envoy: EnvoyFront
    upstream: Upstream
    auth: AuthUpstream


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("daemon-envoy")
    with contextlib.ExitStack() as es:
        upstream = es.enter_context(Upstream())
        auth = es.enter_context(AuthUpstream())
        plugins = [
            PluginEntry("add-header", ADD_HEADER, "as_add_header", "v1"),
            PluginEntry("local-reply", LOCAL_REPLY, "as_local_reply"),
            PluginEntry("body-rewrite", BODY_REWRITE, "as_body_rewrite"),
            callout_plugin("callout", HTTP_CALLOUT, {"auth": auth.url}),
            PluginEntry("props", CONFORMANCE),
            PluginEntry("props-b", CONFORMANCE),
        ]
        chains = {
            "default": ["add-header", "callout"],
            "guard": ["local-reply", "add-header"],
            "bodies": ["body-rewrite"],
            "props": ["props"],
            "pair": ["props", "props-b"],
        }
        runtime = work / "run"
        config = write_config(work / "wasmd.toml", runtime, work / "cache", plugins, chains)
        daemon = es.enter_context(wasmd_daemon(config, runtime, work / "wasmd.log"))
        doc = generated_bootstrap(
            config,
            upstream.port,
            routes=["/deny=guard", "/upper=bodies", "/props=props", "/pair=pair"],
            forward_metadata=[METADATA_NAMESPACE],
        )
        _http_filters(doc).insert(0, _tenant_to_metadata())
        _route_for(doc, "/pair")["response_headers_to_add"] = [
            {"header": {"key": "x-chain-user", "value": "%DYNAMIC_METADATA(wasmd:chain_user)%"}}
        ]
        envoy = es.enter_context(envoy_front(doc, work, "envoy", slots=2))
        yield Stack(daemon, envoy, upstream, auth)


def _http_filters(doc: dict[str, Any]) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = connection_manager(doc)["http_filters"]
    return filters


def _route_for(doc: dict[str, Any], prefix: str) -> dict[str, Any]:
    routes = connection_manager(doc)["route_config"]["virtual_hosts"][0]["routes"]
    route: dict[str, Any] = next(r for r in routes if r["match"].get("prefix") == prefix)
    return route


def _tenant_to_metadata() -> dict[str, Any]:
    """An operator's filter in front of ext_proc: x-tenant -> dynamic metadata."""
    return {
        "name": "envoy.filters.http.header_to_metadata",
        "typed_config": {
            "@type": "type.googleapis.com/"
            "envoy.extensions.filters.http.header_to_metadata.v3.Config",
            "request_rules": [
                {
                    "header": "x-tenant",
                    "on_header_present": {
                        "metadata_namespace": METADATA_NAMESPACE,
                        "key": "tenant",
                        "type": "STRING",
                    },
                }
            ],
        },
    }


@pytest.fixture
def up(stack: Stack) -> Upstream:
    stack.upstream.set_answer(Answer(200, (("content-type", "text/plain"),), b"hello upstream"))
    return stack.upstream


def _last_request_headers(upstream: Upstream) -> dict[str, str]:
    return {k.lower(): v for k, v in upstream.requests()[-1].headers}


def test_header_changes_reach_upstream_and_client(stack: Stack, up: Upstream) -> None:
    reply = exchange(stack.envoy.port, "/hello", headers=[("x-echo", "hi there")])
    assert reply.status == 200 and reply.body == b"hello upstream"
    assert reply.headers["x-as-resp"] == "added"
    assert reply.headers["x-as-echo"] == "hi there"
    assert _last_request_headers(up)["x-as-req"] == "v1"


def test_local_reply_never_reaches_upstream(stack: Stack, up: Upstream) -> None:
    before = up.request_count()
    reply = exchange(stack.envoy.port, "/deny")
    assert reply.status == 403
    assert reply.body == b"denied by as\n"  # as Envoy in-process (expected.json)
    assert reply.headers["x-as-denied"] == "yes"
    assert up.request_count() == before


def test_route_selects_a_two_plugin_chain(stack: Stack, up: Upstream) -> None:
    """Under /deny the chain is [local-reply, add-header]: both run when nothing is denied."""
    reply = exchange(stack.envoy.port, "/deny?x=1")
    assert reply.status == 200
    assert reply.headers["x-as-seen"] == "1"  # local-reply saw the response
    assert reply.headers["x-as-resp"] == "added"  # add-header did too
    assert _last_request_headers(up)["x-as-req"] == "v1"


def test_default_route_does_not_run_the_route_chain(stack: Stack, up: Upstream) -> None:
    reply = exchange(stack.envoy.port, "/other")
    assert reply.status == 200
    assert "x-as-seen" not in reply.headers


def test_body_rewrite_in_both_directions(stack: Stack, up: Upstream) -> None:
    up.set_answer(Answer(200, (("content-type", "text/plain"),), b"hello response body"))
    reply = exchange(
        stack.envoy.port,
        "/upper",
        method="POST",
        headers=[("content-type", "text/plain")],
        body=b"hello request body",
    )
    assert reply.status == 200
    assert reply.body == b"HELLO RESPONSE BODY"
    assert up.requests()[-1].body == b"HELLO REQUEST BODY"


def test_http_callout_result_reaches_upstream(stack: Stack, up: Upstream) -> None:
    reply = exchange(stack.envoy.port, "/account", headers=[("x-callout", "auth")])
    assert reply.status == 200
    seen = _last_request_headers(up)
    assert seen["x-auth-status"] == "200"
    assert seen["x-auth-user"] == "user:/account"
    assert seen["x-auth-body"] == "ok:/account"
    assert ("GET", "/account") in [(m, p) for m, p, _, _ in stack.auth.requests()]


def test_plugins_read_forwarded_metadata_and_response_attributes(
    stack: Stack, up: Upstream
) -> None:
    """``--forward-metadata`` makes Envoy send the namespace in metadata_context; the plugin
    reads it as ``metadata.filter_metadata.<ns>.<key>``, per request, and reads the
    response's attributes in the response phase."""
    reads = [("x-test", "prop-read")]
    reads.append(("x-prop", f"metadata/filter_metadata/{METADATA_NAMESPACE}/tenant"))
    reads.append(("x-prop-resp", "response/code_details,response/code"))
    for tenant in ("acme", "globex"):
        reply = exchange(stack.envoy.port, "/props", headers=[("x-tenant", tenant), *reads])
        assert reply.status == 200
        assert reply.headers["x-r-prop-0"] == "0:" + tenant.encode().hex()
        assert reply.headers["x-r-resp-prop-0"] == "0:" + b"via_upstream".hex()
        assert reply.headers["x-r-resp-prop-1"] == "0:" + (200).to_bytes(8, "little").hex()
    reply = exchange(stack.envoy.port, "/props", headers=reads)  # no x-tenant: no metadata
    assert reply.headers["x-r-prop-0"] == "1:"


def test_a_chain_shares_set_properties_like_two_wasm_filters_in_envoy(
    stack: Stack, up: Upstream, tmp_path: Path
) -> None:
    """proxy_set_property in the first plugin, read by the second: Envoy keeps it as the
    stream's filter state for every Wasm filter after; a wasmd chain must do the same."""
    import dataclasses

    from tests.e2e.envoy_config import bootstrap, wasm_filter
    from tests.e2e.envoy_harness import EnvoyHarness
    from tests.helpers.manifest import CaseSpec, load_all

    headers = (
        ("x-test", "prop-read"),
        ("x-prop-set-once", "chain_user=alice"),
        ("x-prop", "chain_user"),
    )
    conformance = next(s for s in load_all() if s.name == "c_conformance")
    second = dataclasses.replace(conformance, name="c_conformance_b")

    def two_filters(spec: Any, upstream_port: int) -> dict[str, Any]:
        doc = bootstrap(spec, upstream_port)
        _http_filters(doc).insert(1, wasm_filter(second))
        return doc

    case = CaseSpec(name="pair", headers=headers, response_body="hello upstream")
    with EnvoyHarness(conformance, tmp_path, two_filters) as in_process:
        want = sorted(h for h in in_process.run_case(case).response_headers if h[0][:4] == "x-r-")
    reply = exchange(stack.envoy.port, "/pair", headers=headers)
    got = sorted(h for h in reply.pairs if h[0].startswith("x-r-"))
    assert ("x-r-prop-found", "alice") in want  # what Envoy does, and so what wasmd must
    assert got == want
    # ... and what the chain set reaches Envoy as dynamic metadata (namespace "wasmd"),
    # where the route's response_headers_to_add reads it.
    assert reply.headers["x-chain-user"] == "alice"


def test_three_concurrent_callouts(stack: Stack, up: Upstream) -> None:
    reply = exchange(stack.envoy.port, "/", headers=[("x-callout", "three")])
    assert reply.status == 200
    assert _last_request_headers(up)["x-auth-bodies"] == "ok:/one,ok:/two,ok:/three"


def test_both_worker_slots_serve_envoy(stack: Stack, up: Upstream) -> None:
    for _ in range(20):
        assert exchange(stack.envoy.port, "/").status == 200
    status = stack.daemon.wait_status(
        "both slots counted Envoy streams",
        lambda s: all(w.requests_served > 0 for w in s.workers),
        timeout_s=10.0,
    )
    assert len(status.workers) == 2


def test_slot_sockets_answer_grpc_health_checks(stack: Stack) -> None:
    """Envoy's gRPC health check needs every slot to answer grpc.health.v1 Check SERVING.

    Regression: with a TCP check a SIGSTOPped worker stayed healthy (the kernel accepts
    connections for it) and kept receiving streams until its heartbeat kill.
    """
    import grpc

    for slot in (0, 1):
        path = stack.daemon.runtime_dir / f"extproc-{slot}.sock"
        with grpc.insecure_channel(f"unix:{path}") as channel:
            check = channel.unary_unary("/grpc.health.v1.Health/Check")
            assert check(b"", timeout=5) == b"\x08\x01"  # HealthCheckResponse{SERVING}
    # Envoy's own checks run every second: a slot an earlier test of this module restarted
    # is marked healthy again at its next check, not at once.
    wait_for(lambda: stack.envoy.healthy_slots() == 2, 30.0, what="Envoy sees both slots healthy")
