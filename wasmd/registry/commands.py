"""``wasmd pull`` and ``wasmd inspect``, and the module lookup ``wasmd try`` shares.

Registry settings come from ``--daemon-config FILE`` (its ``[registry]`` table and
``daemon.cache_dir``), else the defaults, then the flags. Progress of downloads over
PROGRESS_MIN_BYTES goes to stderr (a bar on a terminal, quarter steps otherwise); results
go to stdout. Exit codes: 0 done, 1 fetch failed or not a module, 78 bad config.

``inspect`` needs to know what wasmd implements; that lives in ``workers`` (the ABI
linker), which this package must not import, so the CLI passes it in (``HostSupport``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from wasmd.kernel.config import RegistrySettings, default_cache_dir, load_config
from wasmd.kernel.errors import ConfigError, PluginLoadError
from wasmd.kernel.module_info import read_module_info
from wasmd.kernel.module_ref import PULL_POLICIES, is_reference
from wasmd.registry.fetcher import Fetcher, Resolved
from wasmd.registry.generation import STORE_SUBDIR
from wasmd.registry.store import Store
from wasmd.registry.transport import FetchError

PROGRESS_MIN_BYTES = 1 << 20
EXIT_FAILED, EXIT_CONFIG = 1, 78
ABI_PREFIX = "proxy_abi_version_"
HTTP_PHASES = (
    "request_headers",
    "request_body",
    "request_trailers",
    "response_headers",
    "response_body",
    "response_trailers",
)


@dataclass(frozen=True, slots=True)
class HostSupport:
    """What wasmd provides: (module, name) of every import it serves, ABI marker exports."""

    imports: frozenset[tuple[str, str]]
    abi_markers: frozenset[str]


def add_registry_flags(p: argparse.ArgumentParser) -> None:
    """The flags pull, inspect and try share."""
    g = p.add_argument_group("module references (oci://, https://)")
    g.add_argument("--sha256", default="", help="pin: manifest digest (oci://) or module sha256")
    g.add_argument("--pull-policy", choices=PULL_POLICIES, default="")
    g.add_argument(
        "--daemon-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="take [registry] and daemon.cache_dir from this wasmd.toml",
    )
    g.add_argument("--cache-dir", type=Path, default=None, help="the store's parent folder")
    g.add_argument("--credentials", type=Path, default=None, help="Docker config.json-style file")
    g.add_argument("--ca-file", type=Path, default=None, help="extra trusted CA certificates (PEM)")
    g.add_argument("--plain-http", action="append", default=[], metavar="HOST[:PORT]",
                   help="allow plain HTTP to this host (loopback always is)")  # fmt: skip


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    host_support: Callable[[], HostSupport],
) -> None:
    p = sub.add_parser(
        "pull",
        help="fetch an oci:// or https:// module into the store",
        description="Fetch REF into the module store (daemon.cache_dir/modules), verify it, "
        "and print where it is and its digests.",
    )
    p.add_argument("ref", metavar="REF")
    p.add_argument("--json", action="store_true")
    add_registry_flags(p)
    p.set_defaults(func=_cmd_pull)
    p = sub.add_parser(
        "inspect",
        help="describe a module: digest, ABI, phases, imports, missing host functions",
        description="Describe REF (fetched like pull) or FILE: digest, size, Proxy-Wasm ABI, "
        "exports, imports, the phases it handles and the host functions it needs that "
        "wasmd does not implement.",
    )
    p.add_argument("ref", metavar="REF|FILE")
    p.add_argument("--json", action="store_true")
    add_registry_flags(p)
    p.set_defaults(func=lambda args: _cmd_inspect(args, host_support()))


def local_module(args: argparse.Namespace, text: str) -> Path:
    """A file path as is; a reference fetched into the store (FetchError/ConfigError)."""
    if not is_reference(text):
        return Path(text)
    return fetch(args, text).path


def fetch(args: argparse.Namespace, source: str) -> Resolved:
    from wasmd.kernel import logs

    logs.configure("warning", stream=sys.stderr)  # stdout carries only the result
    settings, cache_dir = _settings(args)
    progress = Progress(source, sys.stderr)
    fetcher = Fetcher(settings, Store(cache_dir / STORE_SUBDIR), progress)
    try:
        return fetcher.resolve(source, pin=args.sha256.lower(), policy=args.pull_policy)
    finally:
        progress.done()


def _settings(args: argparse.Namespace) -> tuple[RegistrySettings, Path]:
    settings, cache_dir = RegistrySettings(), default_cache_dir()
    if args.daemon_config is not None:
        config = load_config(args.daemon_config)
        settings, cache_dir = config.registry, config.daemon.cache_dir
    changes: dict[str, Any] = {}
    if args.credentials is not None:
        changes["credentials"] = args.credentials.absolute()
    if args.ca_file is not None:
        changes["ca_file"] = args.ca_file.absolute()
    if args.plain_http:
        changes["plain_http_hosts"] = (*settings.plain_http_hosts, *args.plain_http)
    return replace(settings, **changes), (args.cache_dir or cache_dir).absolute()


def _cmd_pull(args: argparse.Namespace) -> int:
    try:
        got = fetch(args, args.ref)
    except ConfigError as exc:
        print(f"wasmd pull: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except FetchError as exc:
        print(f"wasmd pull: {exc}", file=sys.stderr)
        return EXIT_FAILED
    doc = {
        "source": got.source,
        "path": str(got.path),
        "sha256": got.sha256,
        "size": got.size,
        "manifest_digest": f"sha256:{got.manifest_digest}" if got.manifest_digest else "",
        "fetched": got.fetched,
    }
    _print(doc, args.json)
    return 0


def _cmd_inspect(args: argparse.Namespace, support: HostSupport) -> int:
    doc: dict[str, Any] = {"source": args.ref}
    try:
        if is_reference(args.ref):
            got = fetch(args, args.ref)
            path = got.path
            if got.manifest_digest:
                doc["manifest_digest"] = f"sha256:{got.manifest_digest}"
        else:
            path = Path(args.ref)
        data = path.read_bytes()
        doc.update(describe(data, support))
    except ConfigError as exc:
        print(f"wasmd inspect: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (FetchError, PluginLoadError) as exc:
        print(f"wasmd inspect: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"wasmd inspect: cannot read {args.ref}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED
    doc["path"] = str(path)
    _print(doc, args.json)
    return 0


def describe(data: bytes, support: HostSupport) -> dict[str, Any]:
    """What ``inspect`` reports about module bytes; PluginLoadError if not Wasm."""
    info = read_module_info(data)
    exports = sorted(name for name, kind in info.exports if kind == "func")
    markers = [e for e in exports if e.startswith(ABI_PREFIX)]
    funcs = [(m, n) for m, n, kind in info.imports if kind == "func"]
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "abi_versions": [m[len(ABI_PREFIX) :].replace("_", ".") for m in markers],
        "abi_supported": any(m in support.abi_markers for m in markers),
        "phases": [phase for phase in HTTP_PHASES if f"proxy_on_{phase}" in exports],
        "callbacks": [e[len("proxy_on_") :] for e in exports if e.startswith("proxy_on_")],
        "exports": [name for name, _ in info.exports],
        "imports": [f"{m}.{n}" for m, n, _ in info.imports],
        "missing_host_functions": [f"{m}.{n}" for m, n in funcs if (m, n) not in support.imports],
    }


def _print(doc: dict[str, Any], as_json: bool, out: TextIO = sys.stdout) -> None:
    if as_json:
        print(json.dumps(doc), file=out)
        return
    for key, value in doc.items():
        if isinstance(value, list):
            value = ", ".join(value) if value else "(none)"
        print(f"{key}: {value}", file=out)


class Progress:
    """Download progress on ``out``: a bar on a terminal, 25 % steps otherwise; silent for
    bodies under PROGRESS_MIN_BYTES or of unknown size."""

    def __init__(self, what: str, out: TextIO) -> None:
        self.what, self.out = what, out
        self.tty = out.isatty()
        self.step = -1
        self.active = False

    def __call__(self, done: int, total: int | None) -> None:
        if total is None or total < PROGRESS_MIN_BYTES:
            return
        self.active = True
        pct = min(100, done * 100 // total)
        mib = f"{done / (1 << 20):.1f}/{total / (1 << 20):.1f} MiB"
        if self.tty:
            bar = "#" * (pct // 4)
            self.out.write(f"\r{self.what} [{bar:<25}] {pct:3d}% {mib}")
            self.out.flush()
        elif pct // 25 > self.step:
            self.step = pct // 25
            print(f"{self.what}: {pct}% {mib}", file=self.out, flush=True)

    def done(self) -> None:
        if self.active and self.tty:
            self.out.write("\n")
            self.out.flush()
