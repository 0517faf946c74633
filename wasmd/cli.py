"""The ``wasmd`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wasmd import __version__
from wasmd.admin import commands as admin_commands
from wasmd.kernel.errors import ConfigError, WasmdError
from wasmd.kernel.visibility import VisibilitySpec
from wasmd.proxies import envoy as envoy_config
from wasmd.proxies import haproxy as haproxy_config
from wasmd.proxies import nginx as nginx_config
from wasmd.registry import commands as registry_commands

LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "critical")


def _add_try(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "try",
        help="run one HTTP exchange through a plugin, without a proxy",
        description="Load PLUGIN.wasm in-process and run one full HTTP exchange through it; "
        "the upstream answers with --status/-R/--response-body.",
    )
    p.add_argument(
        "plugin", metavar="PLUGIN", help="a .wasm file, or an oci:// or https:// reference"
    )
    p.add_argument("--root-id", default="")
    p.add_argument("--vm-id", default="")
    p.add_argument("--name", default=None, help="plugin name (default: file stem)")
    cfg = p.add_mutually_exclusive_group()
    cfg.add_argument("--config", default=None, help="plugin configuration text")
    cfg.add_argument("--config-file", type=Path, default=None)
    p.add_argument("--vm-config", default="", help="VM configuration text")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="K=V",
        help="environment variable visible to the plugin through WASI (repeatable)",
    )
    p.add_argument(
        "--failure-policy", choices=("fail_open", "fail_closed", "reload"), default="fail_closed"
    )
    p.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="callout upstream the plugin names in proxy_http_call/grpc_call (repeatable); "
        "URL: http://host:port, https://..., unix:///path.sock, grpc://host:port, "
        "grpc+unix:///path.sock",
    )
    p.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="what proxy_get_log_level reports and the lowest level kept",
    )
    p.add_argument("--deadline-ms", type=int, default=None, help="CPU budget per plugin call")
    p.add_argument("--memory-limit-mib", type=int, default=None, help="linear memory limit per VM")
    p.add_argument(
        "--pause-timeout-ms",
        type=int,
        default=1000,
        help="how long a paused exchange waits for the plugin (its timer) to resume it",
    )
    p.add_argument(
        "--wait-ms",
        type=int,
        default=0,
        help="keep the event loop running this long before the exchange, so ticks and "
        "queue deliveries happen (the log says how many)",
    )
    p.add_argument(
        "--slow-path",
        action="store_true",
        help="use wasmtime-py's public API instead of the C-API fast path",
    )
    p.add_argument(
        "--compile-cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep compiled modules in DIR (as the daemon's cache_dir does), so trying the "
        "same module again skips compiling it",
    )
    p.add_argument("--method", default="GET")
    p.add_argument("--path", default="/")
    p.add_argument("--authority", default="localhost")
    p.add_argument("-H", "--header", action="append", default=[], metavar="'name: value'")
    p.add_argument("--body", default="")
    p.add_argument("--status", type=int, default=200, help="upstream status")
    p.add_argument(
        "-R",
        "--response-header",
        action="append",
        default=[],
        metavar="'name: value'",
        help="upstream response header (repeatable)",
    )
    p.add_argument("--response-body", default="", help="upstream response body")
    p.add_argument(
        "--property",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a property the proxy would supply, e.g. source.address=10.0.0.1:5000",
    )
    p.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="NAMESPACE=JSON",
        help="dynamic metadata the proxy would forward, read as "
        "metadata.filter_metadata.NAMESPACE... properties, e.g. 'envoy.lb={\"canary\": true}'",
    )
    for flag, what in _VISIBILITY_FLAGS.values():
        p.add_argument(flag, action="append", default=[], metavar="NAME", help=what)
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    registry_commands.add_registry_flags(p)
    p.set_defaults(func=_cmd_try)


# Config key -> (try flag, help): the plugin's visibility policy (docs/visibility.md).
_VISIBILITY_FLAGS = {
    "hide_headers": ("--hide-header", "a header the plugin does not see (repeatable)"),
    "redact_headers": (
        "--redact-header",
        "a header the plugin sees with a keyed-hash value (repeatable)",
    ),
    "read_only_headers": (
        "--read-only-header",
        "a header the plugin sees but cannot change (repeatable)",
    ),
    "hide_properties": (
        "--hide-property",
        "a property path (prefix) the plugin reads as NotFound, e.g. source.address (repeatable)",
    ),
}


def _visibility(args: argparse.Namespace) -> VisibilitySpec:
    """The --hide-header/... flags as a policy; ValueError naming the flag if one is bad."""
    from wasmd.kernel import visibility

    table = {key: getattr(args, flag[2:].replace("-", "_")) for key, (flag, _) in
             _VISIBILITY_FLAGS.items()}  # fmt: skip

    def fail(key: str, what: str) -> ConfigError:
        base, _, index = key.partition("[")
        values = table.get(base, [])
        i = int(index.rstrip("]")) if index else 0
        shown = f" {values[i]!r}" if i < len(values) else ""
        return ConfigError(f"{_VISIBILITY_FLAGS[base][0]}{shown}: {what}")

    try:
        return visibility.parse_default("", table, fail)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def _kv(items: Sequence[str], what: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"wasmd try: {what} {item!r} is not of the form NAME=VALUE")
        out.append((key, value))
    return out


def _metadata(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``--metadata NAMESPACE=JSON`` options as namespace -> object; ValueError if malformed."""
    from workers.contexts.metadata import parse_namespace

    out: dict[str, dict[str, Any]] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--metadata {item!r} is not of the form NAMESPACE=JSON")
        try:
            out[name] = parse_namespace(text)
        except ValueError as exc:
            raise ValueError(f"--metadata {name}: {exc}") from None
    return out


def _cmd_try(args: argparse.Namespace) -> int:
    from wasmd.kernel import logs
    from workers import trial

    logs.configure("warning", stream=sys.stderr)
    try:
        headers = tuple(trial.parse_header(h) for h in args.header)
        response_headers = tuple(trial.parse_header(h) for h in args.response_header)
        metadata = _metadata(args.metadata)
        policy = _visibility(args)
    except ValueError as exc:
        print(f"wasmd try: {exc}", file=sys.stderr)
        return 64
    configuration = args.config.encode() if args.config is not None else b""
    if args.config_file is not None:
        try:
            configuration = args.config_file.read_bytes()
        except OSError as exc:
            print(
                f"wasmd try: cannot read --config-file {args.config_file}: {exc.strerror}",
                file=sys.stderr,
            )
            return 64
    try:
        module = registry_commands.local_module(args, args.plugin)
    except WasmdError as exc:
        print(f"wasmd try: {exc}", file=sys.stderr)
        return 2  # like a module that does not load
    config = trial.plugin_config(
        args.name or _stem(args.plugin),
        root_id=args.root_id,
        vm_id=args.vm_id,
        configuration=configuration,
        vm_configuration=args.vm_config.encode(),
        env=_kv(args.env, "--env"),
        failure_policy=args.failure_policy,
        log_level=args.log_level,
        deadline_ms=args.deadline_ms,
        memory_limit_bytes=None if args.memory_limit_mib is None else args.memory_limit_mib << 20,
        upstreams=_kv(args.upstream, "--upstream"),
        visibility=policy,
    )
    request = trial.TrialRequest(
        method=args.method,
        path=args.path,
        authority=args.authority,
        headers=headers,
        body=args.body.encode(),
        status=args.status,
        response_headers=response_headers,
        response_body=args.response_body.encode(),
        properties={k: v.encode() for k, v in _kv(args.property, "--property")},
        metadata=metadata,
    )
    result, code = trial.run(
        module,
        config,
        request,
        fast=not args.slow_path,
        pause_timeout_ms=args.pause_timeout_ms,
        wait_ms=max(0, args.wait_ms),
        compile_cache=args.compile_cache,
    )
    if args.json:
        print(json.dumps(result))
    else:
        _print_human(result)
    return code


def _stem(plugin: str) -> str:
    """The default plugin name: the file's stem, or a reference's last path component."""
    last = plugin.rstrip("/").rsplit("/", 1)[-1]
    return Path(last.split("@")[0].split(":")[0]).stem or "plugin"


def _host_support() -> registry_commands.HostSupport:
    """What the worker's ABI linker serves (the CLI may import workers; the registry
    package may not)."""
    from workers.abi.host import UNIMPLEMENTED_IMPORTS, ProxyAbi
    from workers.abi.linking import PROXY_SIGNATURES, WASI_MODULES
    from workers.abi.types import ABI_MARKERS
    from workers.abi.wasi import WASI_SIGNATURES, Wasi

    env = {
        ("env", name)
        for name in PROXY_SIGNATURES
        if name not in UNIMPLEMENTED_IMPORTS and callable(getattr(ProxyAbi, name, None))
    }
    wasi = {
        (module, name)
        for module in WASI_MODULES
        for name in WASI_SIGNATURES
        if callable(getattr(Wasi, name, None))
    }
    return registry_commands.HostSupport(frozenset(env | wasi), frozenset(ABI_MARKERS))


def _print_human(result: dict[str, object]) -> None:
    if not result["loaded"]:
        print(f"not loaded: {result['error']}")
        return
    req = result["request"]
    resp = result["response"]
    assert isinstance(req, dict) and isinstance(resp, dict)
    if result["local_response"] is not None:
        print("local response (the upstream is not called):")
    else:
        print("upstream request:")
        for k, v in req["headers"]:
            print(f"  {k}: {v}")
        if req["body"]:
            print(f"  body: {req['body']!r}")
        print("client response:")
    print(f"  status: {resp['status']}")
    for k, v in resp["headers"]:
        print(f"  {k}: {v}")
    if resp["body"]:
        print(f"  body: {resp['body']!r}")
    logs = result["logs"]
    assert isinstance(logs, list)
    for line in logs:
        print(f"log {line['level']}: {line['message']}")
    if result["metrics"]:
        print(f"metrics: {result['metrics']}")
    if result["error"]:
        print(f"error: {result['error']}")


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the daemon: supervisor plus worker processes",
        description="Run the supervisor in the foreground until SIGTERM (graceful: drain, "
        "exit 0) or SIGINT/SIGQUIT (fast). SIGHUP reloads the config. Without --config it "
        "runs the built-in default (the bundled sample plugins).",
    )
    p.add_argument("--config", type=Path, default=None, metavar="FILE")
    p.set_defaults(func=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    from wasmd.supervisor.daemon import serve

    return serve(args.config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wasmd", description="Proxy-Wasm plugins, out of process."
    )
    parser.add_argument("--version", action="version", version=f"wasmd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_try(sub)
    _add_serve(sub)
    registry_commands.add_commands(sub, _host_support)
    admin_commands.add_commands(sub)
    envoy_config.add_command(sub)
    nginx_config.add_command(sub)
    haproxy_config.add_command(sub)
    return parser


# 128 + SIGPIPE: what a shell reports for a command whose reader went away.
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # `wasmd status | head -1`: the reader has what it wanted. Point stdout at /dev/null
        # so the interpreter's final flush does not raise again (Python's documented idiom).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":
    sys.exit(main())
