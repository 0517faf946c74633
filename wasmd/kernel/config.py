"""The daemon configuration: one TOML file (default /etc/wasmd/wasmd.toml) -> ``DaemonConfig``.

``load_config(path)`` parses and validates the whole file; ``default_config()`` is the
built-in configuration ``wasmd serve`` runs without one (the bundled sample plugins from the
repository's ``plugins/`` folder). Every problem raises ``ConfigError`` whose message names
the file, the key (``plugins[2].deadline_ms``) and what is wrong, so an operator can fix it
without reading code. The supervisor imports this module; it must never import ``workers``.

Path rules: a relative ``module`` or ``[daemon]`` directory resolves against the config
file's directory; relative socket paths resolve under ``runtime_dir``.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wasmd.kernel import visibility
from wasmd.kernel.client_limits import ClientLimits
from wasmd.kernel.errors import ConfigError
from wasmd.kernel.module_ref import PULL_POLICIES, HttpsRef, is_reference, parse_reference
from wasmd.kernel.visibility import NO_POLICY, VisibilitySpec

REPO_PLUGINS_DIR = Path(__file__).resolve().parents[2] / "plugins"
LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "critical")
FAILURE_POLICIES = ("fail_open", "fail_closed", "reload")
UPSTREAM_SCHEMES = ("http", "https", "unix", "grpc", "grpc+unix")
MAX_SOCKET_MODE = 0o777
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MIB = 1 << 20
# The ``module`` of a reference before the supervisor fetched it: a path that never exists.
UNRESOLVED_MODULE = Path("/nonexistent/wasmd-unresolved-module-reference")


_CLIENT_DEFAULTS = ClientLimits()


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    """The ``[daemon]`` table, with defaults applied and paths made absolute."""

    workers: int
    runtime_dir: Path
    native_socket: Path
    native_socket_mode: int
    admin_socket: Path
    admin_socket_mode: int
    extproc_socket_prefix: str
    cache_dir: Path
    max_frame_bytes: int
    heartbeat_interval_s: float
    heartbeat_timeout_s: float
    drain_timeout_s: float
    ready_timeout_s: float
    worker_rss_soft_limit_mib: int
    worker_data_limit_mib: int
    max_requests: int
    restart_backoff_base_s: float
    restart_backoff_cap_s: float
    crash_loop_max_restarts: int
    crash_loop_window_s: float
    pause_timeout_s: float
    log_level: str
    default_chain: str
    extproc_transport: str = "wasmd"
    extproc_body_mode: str = "buffered"
    # A module is refused at config time above this size, before any worker reads it.
    max_module_bytes: int = 64 << 20
    # What one client may cost a worker (docs/limits.md); defaults as ClientLimits'.
    client_max_connections: int = _CLIENT_DEFAULTS.max_connections
    client_max_streams: int = _CLIENT_DEFAULTS.max_streams
    client_max_header_count: int = _CLIENT_DEFAULTS.max_header_count
    client_max_header_bytes: int = _CLIENT_DEFAULTS.max_header_bytes
    client_max_body_bytes: int = _CLIENT_DEFAULTS.max_body_bytes
    client_handshake_timeout_s: float = _CLIENT_DEFAULTS.handshake_timeout_s
    client_frame_timeout_s: float = _CLIENT_DEFAULTS.frame_timeout_s
    client_idle_timeout_s: float = _CLIENT_DEFAULTS.idle_timeout_s
    client_write_buffer_bytes: int = _CLIENT_DEFAULTS.write_buffer_bytes
    # Shared data and queue quotas per vm_id, and for the whole store (docs/security.md).
    shared_data_max_mib_per_vm: int = 16
    shared_data_max_keys_per_vm: int = 65536
    shared_queues_max_per_vm: int = 256
    shared_queue_max_length: int = 10000
    shared_queues_max_mib_per_vm: int = 16
    shared_max_mib_total: int = 256
    worker_user: str = ""  # a root supervisor's workers drop to it ("": wasmd, else nobody)
    # One pre-imported worker interpreter takes over a slot whose worker died (~0.1 s
    # instead of a fresh spawn's import time); false saves its memory.
    spare_worker: bool = True

    def extproc_socket(self, slot: int) -> Path:
        """The public Envoy ext_proc socket of worker slot ``slot``."""
        return self.runtime_dir / f"{self.extproc_socket_prefix}{slot}.sock"

    def client_limits(self) -> ClientLimits:
        """The ``client_*`` keys as the faces take them."""
        return ClientLimits(
            max_connections=self.client_max_connections,
            max_streams=self.client_max_streams,
            max_header_count=self.client_max_header_count,
            max_header_bytes=self.client_max_header_bytes,
            max_body_bytes=self.client_max_body_bytes,
            handshake_timeout_s=self.client_handshake_timeout_s,
            frame_timeout_s=self.client_frame_timeout_s,
            idle_timeout_s=self.client_idle_timeout_s,
            write_buffer_bytes=self.client_write_buffer_bytes,
        )


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """The ``[registry]`` table: how ``oci://`` and ``https://`` modules are fetched."""

    credentials: Path | None = None  # Docker config.json shape; None: ~/.docker/config.json
    ca_file: Path | None = None  # extra trusted CAs (PEM), added to the system's
    plain_http_hosts: tuple[str, ...] = ()  # host[:port] reachable without TLS (+ loopback)
    pull_policy: str = ""  # "": always for the tag latest, if_not_present otherwise
    timeout_s: float = 30.0  # per connection / read
    max_module_bytes: int = 64 * MIB  # not a [registry] key: daemon.max_module_bytes
    max_manifest_bytes: int = 4 * MIB


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """One ``[[plugins]]`` entry; ``module`` is absolute, ``sha256`` lower-case or empty.

    ``source`` is the reference (``oci://...``, ``https://...``) when ``module`` named
    one: then ``module`` is UNRESOLVED_MODULE until the supervisor fetched it into the
    store, which makes it the store file and ``sha256`` that file's digest.
    """

    name: str
    module: Path
    sha256: str = ""
    source: str = ""
    pull_policy: str = ""
    root_id: str = ""
    vm_id: str = ""
    configuration: str = ""
    vm_configuration: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    failure_policy: str = "fail_closed"
    deadline_ms: int = 100
    memory_limit_mib: int = 64
    log_level: str = "info"
    upstreams: Mapping[str, str] = field(default_factory=dict)
    # The effective policy: [visibility] merged with the plugin's keys (docs/visibility.md).
    visibility: VisibilitySpec = NO_POLICY
    # Phases whose callbacks the module exports but this plugin does not need (SKIPPABLE_PHASES).
    skip_phases: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """A whole validated configuration; ``path`` is None for the built-in default."""

    path: Path | None
    daemon: DaemonSettings
    plugins: tuple[PluginSpec, ...]
    chains: Mapping[str, tuple[str, ...]]
    registry: RegistrySettings = RegistrySettings()
    visibility: VisibilitySpec = NO_POLICY  # the [visibility] default
    # [[services]]: plugins without a request path, run once per daemon (not per worker)
    # by the service host process (docs/configuration.md, "Singleton services").
    services: tuple[PluginSpec, ...] = ()

    def plugin(self, name: str) -> PluginSpec:
        """The plugin called ``name``; KeyError if none is."""
        for spec in self.plugins:
            if spec.name == name:
                return spec
        raise KeyError(name)


# -- defaults ------------------------------------------------------------------------------


def _systemd_directory(variable: str) -> Path | None:
    """The first directory systemd made for the unit (``RuntimeDirectory=wasmd`` sets
    ``$RUNTIME_DIRECTORY=/run/wasmd``; several are separated by ``:``)."""
    value = os.environ.get(variable, "").split(":")[0]
    return Path(value) if value else None


def default_runtime_dir() -> Path:
    """systemd's $RUNTIME_DIRECTORY, else /run/wasmd as root, else $XDG_RUNTIME_DIR/wasmd,
    else ./run (absolute)."""
    systemd = _systemd_directory("RUNTIME_DIRECTORY")
    if systemd is not None:
        return systemd
    if os.geteuid() == 0:
        return Path("/run/wasmd")
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "wasmd"
    return Path.cwd() / "run"


def default_cache_dir() -> Path:
    """systemd's $CACHE_DIRECTORY, else /var/cache/wasmd as root, else
    $XDG_CACHE_HOME/wasmd (~/.cache/wasmd)."""
    systemd = _systemd_directory("CACHE_DIRECTORY")
    if systemd is not None:
        return systemd
    if os.geteuid() == 0:
        return Path("/var/cache/wasmd")
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "wasmd"


# key -> default; None marks a default computed from the environment (see _daemon).
_DAEMON_DEFAULTS: dict[str, Any] = {
    "workers": None,
    "runtime_dir": None,
    "native_socket": "wasmd.sock",
    "native_socket_mode": "0660",  # the proxy's group may connect
    "admin_socket": "admin.sock",
    "admin_socket_mode": "0600",  # reload/drain are operator-only
    "extproc_socket_prefix": "extproc-",
    "cache_dir": None,
    "max_frame_bytes": 1 << 20,
    "heartbeat_interval_s": 1.0,
    "heartbeat_timeout_s": 10.0,
    "drain_timeout_s": 30.0,
    "ready_timeout_s": 30.0,
    "worker_rss_soft_limit_mib": 512,
    "worker_data_limit_mib": 2048,
    "max_requests": 0,
    "restart_backoff_base_s": 0.1,
    "restart_backoff_cap_s": 30.0,
    "crash_loop_max_restarts": 5,
    "crash_loop_window_s": 60.0,
    "pause_timeout_s": 15.0,
    "log_level": "info",
    "default_chain": "default",
    "extproc_transport": "wasmd",  # wasmd's own HTTP/2 layer; "grpcio" is the fallback
    "extproc_body_mode": "buffered",  # how Envoy sends bodies: whole (buffered) or streamed
    "max_module_bytes": 64 << 20,  # Go modules are a few MiB; 64 MiB is far past any plugin
    "client_max_connections": _CLIENT_DEFAULTS.max_connections,
    "client_max_streams": _CLIENT_DEFAULTS.max_streams,
    "client_max_header_count": _CLIENT_DEFAULTS.max_header_count,
    "client_max_header_bytes": _CLIENT_DEFAULTS.max_header_bytes,
    "client_max_body_bytes": _CLIENT_DEFAULTS.max_body_bytes,
    "client_handshake_timeout_s": _CLIENT_DEFAULTS.handshake_timeout_s,
    "client_frame_timeout_s": _CLIENT_DEFAULTS.frame_timeout_s,
    "client_idle_timeout_s": _CLIENT_DEFAULTS.idle_timeout_s,
    "client_write_buffer_bytes": _CLIENT_DEFAULTS.write_buffer_bytes,
    "shared_data_max_mib_per_vm": 16,
    "shared_data_max_keys_per_vm": 65536,
    "shared_queues_max_per_vm": 256,
    "shared_queue_max_length": 10000,
    "shared_queues_max_mib_per_vm": 16,
    "shared_max_mib_total": 256,  # bounds the supervisor's store whatever the vm_ids
    "worker_user": "",  # root supervisor: workers drop to wasmd if it exists, else nobody
    "spare_worker": True,  # a pre-imported interpreter adopts a dead slot (slot restart ~0.1 s)
}

EXTPROC_TRANSPORTS = ("wasmd", "grpcio")
EXTPROC_BODY_MODES = ("buffered", "streamed")

_PLUGIN_KEYS = (
    "name",
    "module",
    "sha256",
    "root_id",
    "vm_id",
    "configuration",
    "vm_configuration",
    "env",
    "failure_policy",
    "deadline_ms",
    "memory_limit_mib",
    "log_level",
    "upstreams",
    "pull_policy",
    *visibility.PLUGIN_KEYS,
    "skip_phases",
)
# One module size limit for files and fetched modules: daemon.max_module_bytes.
_REGISTRY_KEYS = tuple(f.name for f in fields(RegistrySettings) if f.name != "max_module_bytes")
# The optional phases (headers always run). SDKs such as AssemblyScript's and Rust's export
# every callback whether the plugin implements it or not, so the exports alone would make
# `wasmd envoy-config` ask Envoy for a plugin's bodies; skip_phases says it need not.
SKIPPABLE_PHASES = ("request_body", "response_body", "request_trailers", "response_trailers")


def default_config() -> DaemonConfig:
    """The built-in configuration: the bundled AssemblyScript sample plugins.

    Chains: ``default`` = add-header; ``local-reply`` and ``body-rewrite`` one plugin each.
    """
    build = REPO_PLUGINS_DIR / "as" / "build"
    samples = (
        ("add-header", "add_header.wasm", "as_add_header", "wasmd"),
        ("local-reply", "local_reply.wasm", "as_local_reply", ""),
        ("body-rewrite", "body_rewrite.wasm", "as_body_rewrite", ""),
    )
    plugins = tuple(
        PluginSpec(name=name, module=build / wasm, root_id=root, configuration=conf)
        for name, wasm, root, conf in samples
    )
    chains = {"default": ("add-header",), "local-reply": ("local-reply",)}
    chains["body-rewrite"] = ("body-rewrite",)
    return DaemonConfig(None, _Reader(None, Path.cwd()).daemon({}), plugins, chains)


def load_config(path: Path | str) -> DaemonConfig:
    """Read and validate the TOML file at ``path``; raises ConfigError naming file and key."""
    file = Path(path).absolute()
    try:
        with file.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from None
    return parse_config(doc, file)


def parse_config(doc: Mapping[str, Any], file: Path | None) -> DaemonConfig:
    """Validate an already-parsed TOML document (``file`` is used in messages and paths)."""
    reader = _Reader(file, file.parent if file is not None else Path.cwd())
    reader.known_keys(
        "", doc, ("daemon", "plugins", "chains", "registry", "visibility", "services")
    )
    daemon = reader.daemon(reader.table("daemon", doc.get("daemon", {})))
    default = visibility.parse_default(
        "visibility.", reader.table("visibility", doc.get("visibility", {})), reader.fail
    )
    plugins = reader.plugins(doc.get("plugins", []), default)
    reader.check_module_sizes(plugins, daemon.max_module_bytes)
    chains = reader.chains(doc.get("chains"), plugins, daemon.default_chain)
    registry = reader.registry(
        reader.table("registry", doc.get("registry", {})), daemon.max_module_bytes
    )
    services = reader.services(doc.get("services", []), plugins)
    reader.check_module_sizes(services, daemon.max_module_bytes, "services")
    return DaemonConfig(file, daemon, plugins, chains, registry, default, services)


# -- validation ----------------------------------------------------------------------------


class _Reader:
    """Turns TOML values into typed settings; every failure names ``file`` and the key."""

    def __init__(self, file: Path | None, base: Path) -> None:
        self.file = file
        self.base = base

    def fail(self, key: str, what: str) -> ConfigError:
        where = str(self.file) if self.file is not None else "built-in config"
        return ConfigError(f"{where}: {key}: {what}")

    def known_keys(self, prefix: str, table: Mapping[str, Any], known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(f"{prefix}{key}", f"unknown key{hint}")

    def table(self, key: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {_kind(value)}")
        return value

    # -- scalars
    def string(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {_kind(value)}")
        return value

    def integer(self, key: str, value: Any, minimum: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, f"must be an integer, got {_kind(value)}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def seconds(self, key: str, value: Any) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.fail(key, f"must be a number of seconds, got {_kind(value)}")
        if not value > 0 or value == float("inf"):
            raise self.fail(key, f"must be a positive finite number of seconds, got {value}")
        return float(value)

    def choice(self, key: str, value: Any, choices: tuple[str, ...]) -> str:
        text = self.string(key, value)
        if text not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}; got {text!r}")
        return text

    def choices(self, key: str, value: Any, choices: tuple[str, ...]) -> frozenset[str]:
        """An array of strings, each one of ``choices``."""
        if not isinstance(value, list):
            raise self.fail(key, f"must be an array of strings, got {_kind(value)}")
        return frozenset(self.choice(f"{key}[{i}]", v, choices) for i, v in enumerate(value))

    def mode(self, key: str, value: Any) -> int:
        """File mode as an octal string ("0660") or a TOML octal integer (0o660)."""
        if isinstance(value, str):
            if not re.fullmatch(r"0?[0-7]{3}", value):
                raise self.fail(key, f'must be an octal file mode like "0660", got {value!r}')
            return int(value, 8)
        mode = self.integer(key, value, 0)
        if mode > MAX_SOCKET_MODE:
            raise self.fail(key, f"must be a file mode between 0o000 and 0o777, got {oct(mode)}")
        return mode

    def path(self, key: str, value: Any, base: Path) -> Path:
        text = self.string(key, value)
        if not text:
            raise self.fail(key, "must not be empty")
        return base / Path(text).expanduser()

    def str_map(self, key: str, value: Any) -> dict[str, str]:
        table = self.table(key, value)
        return {k: self.string(f"{key}.{k}", v) for k, v in table.items()}

    # -- tables
    def daemon(self, table: Mapping[str, Any]) -> DaemonSettings:
        self.known_keys("daemon.", table, tuple(_DAEMON_DEFAULTS))
        raw = {k: table.get(k, d) for k, d in _DAEMON_DEFAULTS.items()}
        values = {
            key: _DAEMON_PARSERS[key](self, f"daemon.{key}", value)
            for key, value in raw.items()
            if value is not None
        }
        values.setdefault("workers", os.cpu_count() or 1)
        values.setdefault("runtime_dir", default_runtime_dir())
        values.setdefault("cache_dir", default_cache_dir())
        for key in ("native_socket", "admin_socket"):
            values[key] = values["runtime_dir"] / values[key]
        settings = DaemonSettings(**values)
        self._check_daemon(settings)
        return settings

    def _check_daemon(self, d: DaemonSettings) -> None:
        if d.heartbeat_timeout_s <= d.heartbeat_interval_s:
            raise self.fail(
                "daemon.heartbeat_timeout_s",
                f"must exceed daemon.heartbeat_interval_s ({d.heartbeat_interval_s}), "
                f"got {d.heartbeat_timeout_s}",
            )
        if d.restart_backoff_cap_s < d.restart_backoff_base_s:
            raise self.fail(
                "daemon.restart_backoff_cap_s",
                f"must be at least daemon.restart_backoff_base_s ({d.restart_backoff_base_s}), "
                f"got {d.restart_backoff_cap_s}",
            )
        if "/" in d.extproc_socket_prefix:
            raise self.fail(
                "daemon.extproc_socket_prefix", "must be a file name prefix, not a path"
            )

    def plugins(self, value: Any, default: VisibilitySpec = NO_POLICY) -> tuple[PluginSpec, ...]:
        if not isinstance(value, list):
            raise self.fail(
                "plugins", f"must be an array of tables ([[plugins]]), got {_kind(value)}"
            )
        specs: list[PluginSpec] = []
        for index, entry in enumerate(value):
            spec = self.plugin(f"plugins[{index}]", entry, default)
            if any(s.name == spec.name for s in specs):
                raise self.fail(f"plugins[{index}].name", f"duplicate plugin name {spec.name!r}")
            specs.append(spec)
        return tuple(specs)

    def services(self, value: Any, plugins: tuple[PluginSpec, ...]) -> tuple[PluginSpec, ...]:
        """``[[services]]``: the ``[[plugins]]`` keys, names unique across both tables (status
        and reload name them side by side), modules local files (not fetched from registries)."""
        if not isinstance(value, list):
            raise self.fail(
                "services", f"must be an array of tables ([[services]]), got {_kind(value)}"
            )
        taken = {p.name for p in plugins}
        specs: list[PluginSpec] = []
        for index, entry in enumerate(value):
            key = f"services[{index}]"
            spec = self.plugin(key, entry)
            if spec.name in taken:
                raise self.fail(f"{key}.name", f"duplicate plugin or service name {spec.name!r}")
            if spec.source:
                raise self.fail(
                    f"{key}.module",
                    "a service's module must be a local file (oci:// and https:// are for "
                    "[[plugins]]); download it and name the file",
                )
            taken.add(spec.name)
            specs.append(spec)
        return tuple(specs)

    def check_module_sizes(
        self, plugins: tuple[PluginSpec, ...], limit_bytes: int, table: str = "plugins"
    ) -> None:
        """Refuse a module over ``daemon.max_module_bytes`` by its size on disk, so that no
        worker reads it into memory first."""
        for index, spec in enumerate(plugins):
            if spec.source:  # a reference: the fetch enforces the same limit while downloading
                continue
            size = spec.module.stat().st_size
            if size > limit_bytes:
                raise self.fail(
                    f"{table}[{index}].module",
                    f"{spec.module} is {size} bytes, over daemon.max_module_bytes "
                    f"({limit_bytes}); raise that limit if the module is expected to be this big",
                )

    def plugin(self, key: str, value: Any, default: VisibilitySpec = NO_POLICY) -> PluginSpec:
        table = self.table(key, value)
        self.known_keys(f"{key}.", table, _PLUGIN_KEYS)
        for required in ("name", "module"):
            if required not in table:
                raise self.fail(f"{key}.{required}", "is required")
        name = self.string(f"{key}.name", table["name"])
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise self.fail(f"{key}.name", f"must be letters, digits, '_', '.', '-'; got {name!r}")
        sha = self.string(f"{key}.sha256", table.get("sha256", "")).lower()
        if sha and not _SHA256.match(sha):
            raise self.fail(f"{key}.sha256", "must be 64 hex digits (sha256sum of the module)")
        module, source = self.module(key, table["module"], sha)
        text = {
            k: self.string(f"{key}.{k}", table.get(k, ""))
            for k in ("root_id", "vm_id", "configuration", "vm_configuration")
        }
        return PluginSpec(
            name=name,
            module=module,
            sha256=sha,
            source=source,
            pull_policy=self.policy(f"{key}.pull_policy", table.get("pull_policy", "")),
            env=self.str_map(f"{key}.env", table.get("env", {})),
            failure_policy=self.choice(
                f"{key}.failure_policy",
                table.get("failure_policy", "fail_closed"),
                FAILURE_POLICIES,
            ),
            deadline_ms=self.integer(f"{key}.deadline_ms", table.get("deadline_ms", 100), 1),
            memory_limit_mib=self.integer(
                f"{key}.memory_limit_mib", table.get("memory_limit_mib", 64), 1
            ),
            log_level=self.choice(f"{key}.log_level", table.get("log_level", "info"), LOG_LEVELS),
            upstreams=self.upstreams(f"{key}.upstreams", table.get("upstreams", {})),
            visibility=visibility.parse_plugin(f"{key}.", table, default, self.fail),
            skip_phases=self.choices(
                f"{key}.skip_phases", table.get("skip_phases", []), SKIPPABLE_PHASES
            ),
            **text,
        )

    def module(self, key: str, value: Any, sha: str) -> tuple[Path, str]:
        """(file, '') for a path; (UNRESOLVED_MODULE, reference) for oci:// or https://."""
        text = self.string(f"{key}.module", value)
        if not is_reference(text):
            module = self.path(f"{key}.module", text, self.base)
            if not module.is_file():
                raise self.fail(f"{key}.module", f"no such file: {module}")
            return module, ""
        try:
            ref = parse_reference(text)
        except ConfigError as exc:
            raise self.fail(f"{key}.module", str(exc)) from None
        if isinstance(ref, HttpsRef) and not sha:
            raise self.fail(
                f"{key}.sha256",
                "is required for an https:// module: set it to the module's sha256sum",
            )
        digest = getattr(ref, "digest", "")
        if digest and sha and digest != sha:
            raise self.fail(
                f"{key}.sha256",
                f"pins sha256:{sha}, but the module reference pins sha256:{digest}",
            )
        return UNRESOLVED_MODULE, text

    def policy(self, key: str, value: Any) -> str:
        """A pull policy, or '' (unset: the reference's default)."""
        return "" if value == "" else self.choice(key, value, PULL_POLICIES)

    def registry(self, table: Mapping[str, Any], max_module_bytes: int) -> RegistrySettings:
        self.known_keys("registry.", table, _REGISTRY_KEYS)
        d = RegistrySettings()
        k = "registry."

        def opt_path(name: str) -> Path | None:
            value = table.get(name)
            return None if value is None else self.path(k + name, value, self.base)

        hosts = table.get("plain_http_hosts", [])
        if not isinstance(hosts, list):
            raise self.fail(
                k + "plain_http_hosts", f"must be an array of host[:port], got {_kind(hosts)}"
            )
        return RegistrySettings(
            credentials=opt_path("credentials"),
            ca_file=opt_path("ca_file"),
            plain_http_hosts=tuple(
                self.string(f"{k}plain_http_hosts[{i}]", h).lower() for i, h in enumerate(hosts)
            ),
            pull_policy=self.policy(k + "pull_policy", table.get("pull_policy", "")),
            timeout_s=self.seconds(k + "timeout_s", table.get("timeout_s", d.timeout_s)),
            max_module_bytes=max_module_bytes,
            max_manifest_bytes=self.integer(
                k + "max_manifest_bytes", table.get("max_manifest_bytes", d.max_manifest_bytes), 64
            ),
        )

    def upstreams(self, key: str, value: Any) -> dict[str, str]:
        urls = self.str_map(key, value)
        for name, url in urls.items():
            parts = urlsplit(url)
            if parts.scheme not in UPSTREAM_SCHEMES:
                raise self.fail(
                    f"{key}.{name}",
                    f"URL scheme must be one of {', '.join(UPSTREAM_SCHEMES)}; got {url!r}",
                )
            unix = parts.scheme.endswith("unix")
            if (unix and not parts.path) or (not unix and not parts.netloc):
                what = "a socket path (unix:///path)" if unix else "a host (scheme://host[:port])"
                raise self.fail(f"{key}.{name}", f"URL needs {what}; got {url!r}")
        return urls

    def chains(
        self, value: Any, plugins: tuple[PluginSpec, ...], default: str
    ) -> dict[str, tuple[str, ...]]:
        if value is None:  # no [chains]: the default chain runs every plugin in file order
            return {default: tuple(p.name for p in plugins)}
        table = self.table("chains", value)
        names = {p.name for p in plugins}
        chains: dict[str, tuple[str, ...]] = {}
        for chain, members in table.items():
            key = f"chains.{chain}"
            if not isinstance(members, list):
                raise self.fail(key, f"must be an array of plugin names, got {_kind(members)}")
            for i, member in enumerate(members):
                if self.string(f"{key}[{i}]", member) not in names:
                    known = ", ".join(sorted(names)) or "none"
                    raise self.fail(f"{key}[{i}]", f"unknown plugin {member!r} (plugins: {known})")
            chains[chain] = tuple(members)
        if default not in chains:
            raise self.fail(
                "daemon.default_chain",
                f"names chain {default!r}, which [chains] does not define "
                f"(chains: {', '.join(sorted(chains)) or 'none'})",
            )
        return chains


def _kind(value: Any) -> str:
    """A TOML-ish name for the type of ``value``, for error messages."""
    kinds = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    kinds.update({list: "an array", dict: "a table"})
    return kinds.get(type(value), type(value).__name__)


_Parser = Callable[[_Reader, str, Any], Any]


def _int_at_least(minimum: int) -> _Parser:
    return lambda r, key, value: r.integer(key, value, minimum)


def _under_runtime(r: _Reader, key: str, value: Any) -> Path:
    """A socket path; relative ones are joined to runtime_dir later (absolute ones stay)."""
    return r.path(key, value, Path())


def _non_empty(r: _Reader, key: str, value: Any) -> str:
    text = r.string(key, value)
    if not text:
        raise r.fail(key, "must not be empty")
    return text


def _known_user(r: _Reader, key: str, value: Any) -> str:
    """'' (automatic), 'root' (no drop) or an existing user name."""
    name = r.string(key, value)
    if name in ("", "root"):
        return name
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        raise r.fail(key, f"no such user {name!r}; create it or leave worker_user unset") from None
    return name


def _boolean(r: _Reader, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise r.fail(key, f"must be true or false, got {_kind(value)}")
    return value


_DAEMON_PARSERS: dict[str, _Parser] = {
    "workers": _int_at_least(1),
    "runtime_dir": lambda r, key, value: r.path(key, value, r.base),
    "native_socket": _under_runtime,
    "native_socket_mode": _Reader.mode,
    "admin_socket": _under_runtime,
    "admin_socket_mode": _Reader.mode,
    "extproc_socket_prefix": _non_empty,
    "cache_dir": lambda r, key, value: r.path(key, value, r.base),
    "max_frame_bytes": _int_at_least(64),  # a HELLO and small frames must fit
    "heartbeat_interval_s": _Reader.seconds,
    "heartbeat_timeout_s": _Reader.seconds,
    "drain_timeout_s": _Reader.seconds,
    "ready_timeout_s": _Reader.seconds,
    "worker_rss_soft_limit_mib": _int_at_least(16),
    "worker_data_limit_mib": _int_at_least(64),
    "max_requests": _int_at_least(0),
    "restart_backoff_base_s": _Reader.seconds,
    "restart_backoff_cap_s": _Reader.seconds,
    "crash_loop_max_restarts": _int_at_least(1),
    "crash_loop_window_s": _Reader.seconds,
    "pause_timeout_s": _Reader.seconds,
    "log_level": lambda r, key, value: r.choice(key, value, LOG_LEVELS),
    "default_chain": _non_empty,
    "extproc_transport": lambda r, key, value: r.choice(key, value, EXTPROC_TRANSPORTS),
    "extproc_body_mode": lambda r, key, value: r.choice(key, value, EXTPROC_BODY_MODES),
    "max_module_bytes": _int_at_least(1024),
    "client_max_connections": _int_at_least(1),
    "client_max_streams": _int_at_least(1),
    "client_max_header_count": _int_at_least(16),  # a gRPC request has ~8 fields
    "client_max_header_bytes": _int_at_least(4096),  # below grpc's 8 KiB soft limit
    "client_max_body_bytes": _int_at_least(0),
    "client_handshake_timeout_s": _Reader.seconds,
    "client_frame_timeout_s": _Reader.seconds,
    "client_idle_timeout_s": _Reader.seconds,
    "client_write_buffer_bytes": _int_at_least(4096),
    "shared_data_max_mib_per_vm": _int_at_least(1),
    "shared_data_max_keys_per_vm": _int_at_least(1),
    "shared_queues_max_per_vm": _int_at_least(1),
    "shared_queue_max_length": _int_at_least(1),
    "shared_queues_max_mib_per_vm": _int_at_least(1),
    "shared_max_mib_total": _int_at_least(1),
    "worker_user": lambda r, key, value: _known_user(r, key, value),
    "spare_worker": lambda r, key, value: _boolean(r, key, value),
}
