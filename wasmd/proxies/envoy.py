"""``wasmd envoy-config``: the Envoy pieces that put this daemon behind Envoy's ext_proc filter.

One cluster lists every worker slot's ``extproc-<slot>.sock`` as a ``pipe`` endpoint (HTTP/2),
with active health checks and outlier detection so a slot whose worker is being replaced is
skipped for as long as the restart takes. The ext_proc filter's processing mode is derived
from what the chain's plugins export: no body or trailer phases unless a plugin handles them
(each extra phase costs a round trip). Pure functions of the config and the module exports;
the output is JSON, which Envoy also accepts as YAML.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmd.kernel.config import SKIPPABLE_PHASES, DaemonConfig, PluginSpec
from wasmd.kernel.errors import ConfigError, PluginLoadError
from wasmd.kernel.module_info import ModuleInfo, read_module_info

CLUSTER_NAME = "wasmd_extproc"
CHAIN_METADATA_KEY = "x-wasmd-chain"
# gRPC initial metadata telling the worker which phase is the last one Envoy sends on this
# route (``END_AFTER_RESPONSE_HEADERS``, or ``END_AFTER_ANY``). After answering it the worker
# ends the gRPC stream (OK) in the same write; Envoy then proceeds without the processor
# (external_processor.proto: "if the server closes the gRPC stream cleanly, then Envoy
# proceeds without consulting the server"), so no end-of-stream round trip is left.
END_AFTER_METADATA_KEY = "x-wasmd-end-after"
END_AFTER_RESPONSE_HEADERS = "response_headers"
END_AFTER_ANY = "any"  # the stream's end decides (Envoy may still send body or trailers)
# Where the workers put what plugins set with proxy_set_property (workers/faces/extproc.py).
PROPERTY_NAMESPACE = "wasmd"
# Envoy waits this long for each ext_proc reply. Above any plugin's CPU deadline; a plugin
# that pauses for a callout needs it too (raise it for slow callouts).
MESSAGE_TIMEOUT_S = 2.0
HEALTH_CHECK_INTERVAL_S = 1.0
# A worker's loop answers a health check in well under a millisecond; a loaded box in tens.
HEALTH_CHECK_TIMEOUT_S = 0.5
# Attributes Envoy sends with each ProcessingRequest; wasmd serves them as properties.
REQUEST_ATTRIBUTES = (
    "source.address",
    "source.port",
    "destination.address",
    "destination.port",
    "connection.id",
    "connection.mtls",
    "connection.requested_server_name",
    "request.id",
    "request.protocol",
    "request.time",
)
RESPONSE_ATTRIBUTES = ("response.code_details", "response.flags")
# A stream wasmd never answered is retried on another slot (a retry never happens once a
# reply started, so no phase runs twice):
# - connect-failure/reset/unavailable: the slot's worker was just killed, before the
#   health check or outlier detection took the slot out;
# - cancelled: a draining worker's grpc server cancels the streams that reached it after
#   its shutdown began but before Envoy saw the GOAWAY (grpc-core's race; 2 of ~400
#   requests per rolling reload under load before this).
# Measured with Envoy 1.40 under kill -9 and rolling reloads: this removes every failure
# except the streams wasmd had already answered.
STREAM_RETRY_POLICY: dict[str, Any] = {
    "retry_on": "connect-failure,refused-stream,unavailable,reset,cancelled",
    "num_retries": 2,
    "retry_back_off": {"base_interval": "0.01s", "max_interval": "0.05s"},
    "retry_host_predicate": [
        {
            "name": "envoy.retry_host_predicates.previous_hosts",
            "typed_config": {
                "@type": "type.googleapis.com/"
                "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
            },
        }
    ],
    "host_selection_retry_max_attempts": 3,
}
# Concurrent retries allowed: as many as the cluster has active requests, and never fewer
# than min_retry_concurrency (when few are active). See the cluster's circuit_breakers.
RETRY_BUDGET: dict[str, Any] = {"budget_percent": {"value": 100.0}, "min_retry_concurrency": 8}
_HTTP_OPTIONS_TYPE = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
_EXT_PROC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor"
_PER_ROUTE_TYPE = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute"


@dataclass(frozen=True, slots=True)
class Phases:
    request_body: bool = False
    response_body: bool = False
    request_trailers: bool = False
    response_trailers: bool = False
    streamed_bodies: bool = False  # daemon.extproc_body_mode = "streamed"


def slot_socket_paths(config: DaemonConfig) -> list[Path]:
    """The public ext_proc socket of every worker slot."""
    d = config.daemon
    return [d.extproc_socket(slot) for slot in range(d.workers)]


def chain_phases(config: DaemonConfig, chain: str, modules: Mapping[str, ModuleInfo]) -> Phases:
    """Which optional phases the chain's plugins handle (``modules``: ``plugin_modules``)."""
    members = config.chains.get(chain)
    if members is None:
        raise ConfigError(
            f"unknown chain {chain!r}; configured: {', '.join(sorted(config.chains))}"
        )
    wanted = [plugin_phases(config.plugin(m), modules[m]) for m in members]
    phases = Phases(
        **{f: any(getattr(w, f) for w in wanted) for f in SKIPPABLE_PHASES},
    )
    if config.daemon.extproc_body_mode == "streamed":
        phases = dataclasses.replace(phases, streamed_bodies=True)
    return phases


def phases_for_exports(names: frozenset[str]) -> Phases:
    """The optional phases a set of plugins (their export names, together) handles."""
    return Phases(
        request_body="proxy_on_request_body" in names,
        response_body="proxy_on_response_body" in names,
        request_trailers="proxy_on_request_trailers" in names,
        response_trailers="proxy_on_response_trailers" in names,
    )


def plugin_phases(spec: PluginSpec, info: ModuleInfo) -> Phases:
    """The optional phases one plugin needs: those its module exports a callback for, less
    its ``skip_phases`` (SDKs export every callback, implemented or not; each phase Envoy
    sends costs a round trip and, for a body, buffering it in Envoy)."""
    phases = phases_for_exports(info.export_names)
    return dataclasses.replace(phases, **dict.fromkeys(spec.skip_phases, False))


def module_phases(module: Path) -> Phases:
    """The optional phases one module handles (read without compiling)."""
    return phases_for_exports(read_module_info(module.read_bytes()).export_names)


ATTRIBUTE_MODES = ("auto", "all", "none")


@dataclass(frozen=True, slots=True)
class Withheld:
    """What Envoy need not send at all: header names and attributes that every plugin the
    filter can run hides (docs/visibility.md); what no plugin may see never crosses the socket."""

    headers: tuple[str, ...] = ()
    attributes: frozenset[str] = frozenset()


def withheld(config: DaemonConfig, chains: Sequence[str]) -> Withheld:
    """The intersection of the effective policies of every plugin of ``chains``. Pseudo-
    headers are always sent (the workers need them); an attribute is withheld when every
    plugin hides it or a prefix of it."""
    specs = [config.plugin(m).visibility for c in chains for m in config.chains.get(c, ())]
    if not specs:
        return Withheld()
    first, rest = specs[0], specs[1:]
    headers = tuple(
        n
        for n in first.hide_headers
        if not n.startswith(":") and all(n in s.hide_headers for s in rest)
    )
    attributes = frozenset(
        a
        for a in (*REQUEST_ATTRIBUTES, *RESPONSE_ATTRIBUTES)
        if all(any(a == p or a.startswith(p + ".") for p in s.hide_properties) for s in specs)
    )
    return Withheld(headers, attributes)


def forward_rules(hidden: Withheld) -> dict[str, Any]:
    """ext_proc ``forward_rules`` that keep ``hidden.headers`` from the ext_proc server
    (request and response headers and trailers); empty when there are none."""
    if not hidden.headers:
        return {}
    patterns = [{"exact": name, "ignore_case": True} for name in hidden.headers]
    return {"forward_rules": {"disallowed_headers": {"patterns": patterns}}}


def wants_attributes(mode: str, modules: Mapping[str, ModuleInfo]) -> bool:
    """Whether the filter asks Envoy for ``REQUEST_ATTRIBUTES``/``RESPONSE_ATTRIBUTES``:
    ``auto`` only when some plugin imports proxy_get_property (one that does not can never
    read them, and evaluating them costs Envoy 0.06-0.1 ms of CPU per request)."""
    if mode == "auto":
        return any(info.imports_host_function("proxy_get_property") for info in modules.values())
    return mode == "all"


def sets_properties(modules: Mapping[str, ModuleInfo]) -> bool:
    """Whether some plugin imports proxy_set_property: then the filter accepts the dynamic
    metadata the workers send back (``PROPERTY_NAMESPACE``)."""
    return any(info.imports_host_function("proxy_set_property") for info in modules.values())


def plugin_modules(config: DaemonConfig) -> dict[str, ModuleInfo]:
    """Imports and exports of every configured plugin's module (read without compiling)."""
    out: dict[str, ModuleInfo] = {}
    for spec in config.plugins:
        try:
            out[spec.name] = read_module_info(spec.module.read_bytes())
        except OSError as exc:
            raise ConfigError(
                f"plugin {spec.name}: cannot read {spec.module}: {exc.strerror}"
            ) from exc
        except PluginLoadError as exc:
            raise ConfigError(f"plugin {spec.name}: {spec.module}: {exc}") from exc
    return out


def cluster(config: DaemonConfig) -> dict[str, Any]:
    return cluster_for(slot_socket_paths(config))


def cluster_for(socket_paths: list[Path]) -> dict[str, Any]:
    """The ext_proc cluster over these slot sockets."""
    endpoints = [{"endpoint": {"address": {"pipe": {"path": str(p)}}}} for p in socket_paths]
    interval = f"{HEALTH_CHECK_INTERVAL_S}s"
    return {
        "name": CLUSTER_NAME,
        "type": "STATIC",
        "connect_timeout": "0.25s",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": _HTTP_OPTIONS_TYPE,
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": CLUSTER_NAME,
            "endpoints": [{"lb_endpoints": endpoints}],
        },
        # A slot whose worker is down refuses connections: take it out at once, probe it
        # every interval, put it back on the first success. A gRPC check (the worker's
        # event loop answers grpc.health.v1) also catches a hung worker, whose socket the
        # kernel keeps accepting: a TCP check passed it until the heartbeat kill.
        "health_checks": [
            {
                "timeout": f"{HEALTH_CHECK_TIMEOUT_S}s",
                "interval": interval,
                "no_traffic_interval": interval,
                "unhealthy_threshold": 1,
                "healthy_threshold": 1,
                "grpc_health_check": {},
            }
        ],
        # The stream retry policy only works if Envoy may retry every stream a dying worker
        # held at once: its default circuit breaker allows 3 concurrent retries per cluster,
        # so a kill with more unanswered streams on the slot failed the rest (500,
        # upstream_rq_retry_overflow; seen with 8 connections under load). A budget of
        # 100 % of the active requests lets each be retried once (the policy's own
        # num_retries still bounds the attempts per stream).
        "circuit_breakers": {"thresholds": [{"priority": "DEFAULT", "retry_budget": RETRY_BUDGET}]},
        "outlier_detection": {
            "split_external_local_origin_errors": True,
            "consecutive_local_origin_failure": 1,
            "interval": interval,
            "base_ejection_time": interval,
            "max_ejection_percent": 100,
        },
    }


def processing_mode(phases: Phases) -> dict[str, str]:
    """Headers always; bodies (BUFFERED, or STREAMED) and trailers only where a plugin
    handles them."""
    body = "STREAMED" if phases.streamed_bodies else "BUFFERED"
    return {
        "request_header_mode": "SEND",
        "response_header_mode": "SEND",
        "request_body_mode": body if phases.request_body else "NONE",
        "response_body_mode": body if phases.response_body else "NONE",
        "request_trailer_mode": "SEND" if phases.request_trailers else "SKIP",
        "response_trailer_mode": "SEND" if phases.response_trailers else "SKIP",
    }


@dataclass(frozen=True, slots=True)
class RouteChain:
    """A route (path prefix) whose requests run ``chain`` instead of the filter's chain."""

    prefix: str
    chain: str
    phases: Phases


def end_after(phases: Phases) -> str:
    """The last phase Envoy sends in this mode (``END_AFTER_METADATA_KEY``)."""
    if phases.response_body or phases.response_trailers:
        return END_AFTER_ANY
    return END_AFTER_RESPONSE_HEADERS


def per_route_override(route: RouteChain) -> dict[str, Any]:
    """ExtProcPerRoute: this route's chain and last phase (gRPC initial metadata) and its
    processing mode."""
    return {
        "@type": _PER_ROUTE_TYPE,
        "overrides": {
            "processing_mode": processing_mode(route.phases),
            "grpc_initial_metadata": [
                {"key": CHAIN_METADATA_KEY, "value": route.chain},
                {"key": END_AFTER_METADATA_KEY, "value": end_after(route.phases)},
            ],
        },
    }


def parse_route(text: str, config: DaemonConfig, modules: Mapping[str, ModuleInfo]) -> RouteChain:
    """``PREFIX=CHAIN`` (``--route``) with the chain's phases; ConfigError if malformed."""
    prefix, sep, chain = text.partition("=")
    if not sep or not prefix.startswith("/") or not chain:
        raise ConfigError(f"--route {text!r} is not PREFIX=CHAIN (e.g. /api=strict)")
    return RouteChain(prefix, chain, chain_phases(config, chain, modules))


def ext_proc_filter(
    chain: str,
    phases: Phases,
    *,
    failure_mode_allow: bool = False,
    metadata_namespaces: Sequence[str] = (),
    attributes: bool = True,
    receive_properties: bool = False,
    hidden: Withheld = Withheld(),
) -> dict[str, Any]:
    """The ext_proc filter running ``chain``. ``metadata_namespaces``: the dynamic metadata
    namespaces Envoy forwards with every message; plugins read them as
    ``metadata.filter_metadata.<namespace>...`` properties. ``attributes``: ask Envoy for
    the request's and the response's attributes (``wants_attributes``).
    ``receive_properties``: accept what plugins set with proxy_set_property as dynamic
    metadata in ``PROPERTY_NAMESPACE`` (``sets_properties``). ``hidden``: headers and
    attributes Envoy does not send because no plugin may see them (``withheld``)."""
    mode = processing_mode(phases)
    extra: dict[str, Any] = forward_rules(hidden)
    if attributes:
        extra["request_attributes"] = [a for a in REQUEST_ATTRIBUTES if a not in hidden.attributes]
        extra["response_attributes"] = [
            a for a in RESPONSE_ATTRIBUTES if a not in hidden.attributes
        ]
    options: dict[str, Any] = {}
    if metadata_namespaces:
        options["forwarding_namespaces"] = {"untyped": list(metadata_namespaces)}
    if receive_properties:
        options["receiving_namespaces"] = {"untyped": [PROPERTY_NAMESPACE]}
    if options:
        extra["metadata_options"] = options
    return {
        "name": "envoy.filters.http.ext_proc",
        "typed_config": {
            "@type": _EXT_PROC_TYPE,
            "grpc_service": {
                "envoy_grpc": {"cluster_name": CLUSTER_NAME},
                "initial_metadata": [
                    {"key": CHAIN_METADATA_KEY, "value": chain},
                    {"key": END_AFTER_METADATA_KEY, "value": end_after(phases)},
                ],
                "retry_policy": STREAM_RETRY_POLICY,
            },
            "failure_mode_allow": failure_mode_allow,
            "message_timeout": f"{MESSAGE_TIMEOUT_S}s",
            "processing_mode": mode,
            # Plugins may rewrite :authority/:method/host like in-process Wasm can.
            "mutation_rules": {"allow_all_routing": True},
            **extra,
        },
    }


_HCM_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    "HttpConnectionManager"
)
_ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"


def _socket(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _route(prefix: str, chain: RouteChain | None) -> dict[str, Any]:
    route: dict[str, Any] = {"match": {"prefix": prefix}, "route": {"cluster": "upstream"}}
    if chain is not None:
        route["typed_per_filter_config"] = {
            "envoy.filters.http.ext_proc": per_route_override(chain)
        }
    return route


def _listener(
    listen: tuple[str, int], filters: list[dict[str, Any]], chains: Sequence[RouteChain] = ()
) -> dict[str, Any]:
    # Envoy takes the first matching route: the per-chain prefixes before the catch-all.
    routes = [_route(c.prefix, c) for c in chains] + [_route("/", None)]
    hcm = {
        "@type": _HCM_TYPE,
        "stat_prefix": "ingress",
        "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}]},
        "http_filters": filters,
    }
    chain = {
        "filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]
    }
    return {"name": "wasmd_ingress", "address": _socket(*listen), "filter_chains": [chain]}


def _upstream_cluster(upstream: tuple[str, int]) -> dict[str, Any]:
    endpoint = {"endpoint": {"address": _socket(*upstream)}}
    return {
        "name": "upstream",
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": "upstream",
            "endpoints": [{"lb_endpoints": [endpoint]}],
        },
    }


def bootstrap(
    config: DaemonConfig,
    ext_proc: dict[str, Any],
    *,
    listen: tuple[str, int],
    upstream: tuple[str, int],
    admin_port: int = 9901,
    routes: Sequence[RouteChain] = (),
) -> dict[str, Any]:
    """A complete Envoy bootstrap: listener -> ``ext_proc`` (``ext_proc_filter``) -> router
    -> upstream.

    ``routes`` add path prefixes that run another chain (ExtProcPerRoute overrides).
    """
    filters = [
        ext_proc,
        {"name": "envoy.filters.http.router", "typed_config": {"@type": _ROUTER_TYPE}},
    ]
    return {
        "admin": {"address": _socket("127.0.0.1", admin_port)},
        "static_resources": {
            "listeners": [_listener(listen, filters, routes)],
            "clusters": [cluster(config), _upstream_cluster(upstream)],
        },
    }


def render(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2)


def parse_host_port(text: str, flag: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{flag} {text!r} is not HOST:PORT")
    return host, int(port)


def add_command(sub: Any) -> None:
    """Register ``wasmd envoy-config`` on the CLI's subparsers."""
    p = sub.add_parser(
        "envoy-config",
        help="print the Envoy cluster and ext_proc filter for this daemon",
        description="Print the Envoy pieces (JSON, valid YAML) that route Envoy's ext_proc "
        "filter to this daemon's worker slots; with --bootstrap, a complete Envoy config.",
    )
    p.add_argument("--config", type=Path, default=None, help="wasmd.toml (default: built-in)")
    p.add_argument("--chain", default=None, help="chain for the filter (default: default chain)")
    p.add_argument(
        "--failure-mode-allow",
        action="store_true",
        help="let requests through unprocessed when wasmd is unreachable",
    )
    p.add_argument(
        "--forward-metadata",
        action="append",
        default=[],
        metavar="NAMESPACE",
        help="a dynamic metadata namespace Envoy forwards, for plugins to read as "
        "metadata.filter_metadata.NAMESPACE properties (repeatable)",
    )
    p.add_argument(
        "--attributes",
        choices=ATTRIBUTE_MODES,
        default="auto",
        help="ask Envoy for request/response attributes (source.address, request.id, ...): "
        "auto = only if some plugin imports proxy_get_property (default)",
    )
    p.add_argument("--bootstrap", action="store_true", help="print a complete Envoy bootstrap")
    p.add_argument("--listen", default="127.0.0.1:10000", metavar="HOST:PORT")
    p.add_argument("--upstream", default="127.0.0.1:8080", metavar="HOST:PORT")
    p.add_argument("--admin-port", type=int, default=9901)
    p.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="PREFIX=CHAIN",
        help="with --bootstrap: requests under PREFIX run CHAIN (repeatable)",
    )
    p.set_defaults(func=_cmd)


def _cmd(args: Any) -> int:
    import sys

    from wasmd.kernel import logs
    from wasmd.kernel.config import default_config, load_config
    from wasmd.registry.generation import ModuleFetchError, resolve_generation

    logs.configure("warning", stream=sys.stderr)  # stdout carries only the Envoy config
    try:
        config = load_config(args.config) if args.config else default_config()
        # oci:// and https:// modules: from the store (fetched first when absent), as serve does
        config, _ = resolve_generation(config, None, allow_stale=True)
        chain = args.chain or config.daemon.default_chain
        modules = plugin_modules(config)
        phases = chain_phases(config, chain, modules)
        routes = [parse_route(r, config, modules) for r in args.route] if args.bootstrap else []
        ext_proc = ext_proc_filter(
            chain,
            phases,
            failure_mode_allow=args.failure_mode_allow,
            metadata_namespaces=args.forward_metadata,
            attributes=wants_attributes(args.attributes, modules),
            receive_properties=sets_properties(modules),
            # The filter's forward rules hold for every route: withhold only what every
            # chain it can run hides.
            hidden=withheld(config, [chain, *(r.chain for r in routes)]),
        )
        if args.bootstrap:
            doc: dict[str, Any] = bootstrap(
                config,
                ext_proc,
                listen=parse_host_port(args.listen, "--listen"),
                upstream=parse_host_port(args.upstream, "--upstream"),
                admin_port=args.admin_port,
                routes=routes,
            )
        else:
            doc = {"clusters": [cluster(config)], "http_filters": [ext_proc]}
    except (ConfigError, ModuleFetchError) as exc:
        print(f"wasmd envoy-config: {exc}", file=sys.stderr)
        return 2
    print(render(doc))
    return 0
