"""The operator subcommands: ``wasmd status|metrics|reload|drain``.

This module must stay cheap to import (the ``wasmd`` parser imports it for every command):
grpc is loaded only when a subcommand runs.

Each one finds the admin socket (``--admin-socket``, else the config's ``admin_socket``,
else the built-in default config's), calls the daemon through ``AdminClient`` and prints.

Exit codes (sysexits where one fits): 0 success; 1 the operation ran and failed (rollout
failed, drain refused); 64 bad usage or config; 69 the daemon is not running or not
reachable; 70 the daemon answered with an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from wasmd.admin import locate, model, render
from wasmd.admin.errors import AdminError, AdminUnavailable
from wasmd.kernel.errors import ConfigError

if TYPE_CHECKING:
    from wasmd.admin.client import AdminClient

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 64
EXIT_UNAVAILABLE = 69
EXIT_SOFTWARE = 70
# Status and metrics are served from supervisor memory; seconds mean the daemon is stuck.
DEFAULT_TIMEOUT_S = 10.0
# Reload --wait and drain last as long as a rollout or a drain (drain_timeout_s = 30 by
# default, per slot); a generous default deadline keeps the CLI from giving up first.
DEFAULT_LONG_TIMEOUT_S = 600.0

# A string: argparse._SubParsersAction is not subscriptable at run time on 3.11.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_commands(sub: Subparsers) -> None:
    """Register status, metrics, reload and drain on the ``wasmd`` parser."""
    p = _add(sub, "status", "show the daemon, its worker slots and plugins", _cmd_status)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add(sub, "metrics", "print Prometheus metrics aggregated over workers", _cmd_metrics)
    p = _add(sub, "reload", "re-read the config and roll it out worker by worker", _cmd_reload)
    p.add_argument(
        "--wait",
        action="store_true",
        help="wait until the rollout finished; exit 1 and say why if it failed",
    )
    p = _add(sub, "drain", "gracefully replace the worker process of one slot", _cmd_drain)
    p.add_argument("slot", type=int, metavar="SLOT")


def _add(
    sub: Subparsers, name: str, text: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--config", type=Path, default=None, help="daemon config (to find its admin socket)"
    )
    where.add_argument("--admin-socket", type=Path, default=None, metavar="PATH")
    long = name in ("reload", "drain")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_LONG_TIMEOUT_S if long else DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help="how long to wait for the daemon's answer",
    )
    p.set_defaults(func=lambda args: _run(name, func, args))
    return p


def admin_socket_path(args: argparse.Namespace) -> Path:
    """Where to reach the daemon: --admin-socket, else the (given or default) config's."""
    return _locate(args)[0]


def _locate(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """(admin socket, the config's runtime_dir or None when --admin-socket was given)."""
    if args.admin_socket is not None:
        return Path(args.admin_socket), None
    from wasmd.kernel import config

    cfg = config.load_config(args.config) if args.config else config.default_config()
    return Path(cfg.daemon.admin_socket), cfg.daemon.runtime_dir


def _run(name: str, func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    as_json = bool(getattr(args, "json", False))
    try:
        return func(args)
    except ConfigError as exc:
        return _fail(name, str(exc), EXIT_USAGE, "config", as_json)
    except AdminUnavailable as exc:
        return _fail(name, str(exc), EXIT_UNAVAILABLE, "unavailable", as_json)
    except AdminError as exc:
        return _fail(name, str(exc), EXIT_SOFTWARE, "daemon", as_json)


def _fail(name: str, message: str, code: int, kind: str, as_json: bool) -> int:
    """Say why on stderr; with --json, also one JSON object on stdout, so that a script
    reading stdout gets an answer it can parse whatever happened."""
    print(f"wasmd {name}: {message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"error": {"kind": kind, "message": message, "exit_code": code}}))
    return code


def _client(args: argparse.Namespace) -> AdminClient:
    # Imported here: grpc is heavy and `wasmd serve` must not load it before spawning workers.
    from wasmd.admin.client import AdminClient, probe

    path, runtime_dir = _locate(args)
    try:
        probe(path)
    except AdminUnavailable:
        # The config may name a new admin_socket the running daemon does not serve yet
        # (it binds sockets at start): reach it where it recorded its own.
        live = locate.recorded(runtime_dir) if runtime_dir is not None else None
        if live is None or live == path.absolute():
            raise
        probe(live)
        print(
            f"wasmd: the config names admin socket {path}, but the running daemon listens "
            f"on {live}; using that",
            file=sys.stderr,
        )
        path = live
    return AdminClient(path, timeout_s=args.timeout)


def _cmd_status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        status = client.status()
    if args.json:
        print(json.dumps(render.to_jsonable(status)))
    else:
        print(render.format_status(status))
    return EXIT_OK


def _cmd_metrics(args: argparse.Namespace) -> int:
    with _client(args) as client:
        sys.stdout.write(client.metrics_text())
    return EXIT_OK


def _cmd_reload(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.wait:
            from wasmd.admin.client import AdminClient
            from wasmd.admin.progress import Watcher

            # A second connection: the Reload call holds the first until it is done.
            poller = AdminClient(client.path, timeout_s=DEFAULT_TIMEOUT_S)
            with poller, Watcher(poller.status, sys.stderr):
                result = client.reload(wait=True)
        else:
            result = client.reload(wait=False)
    failed = result.outcome is model.ReloadOutcome.FAILED
    print(render.format_reload(result), file=sys.stderr if failed else sys.stdout)
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_drain(args: argparse.Namespace) -> int:
    with _client(args) as client:
        result = client.drain(args.slot)
    ok = result.outcome is model.DrainOutcome.DRAINED
    print(render.format_drain(result), file=sys.stdout if ok else sys.stderr)
    return EXIT_OK if ok else EXIT_FAILED
