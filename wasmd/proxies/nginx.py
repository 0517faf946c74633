"""``wasmd nginx-config``: an nginx configuration that runs a wasmd chain on every request.

nginx reaches wasmd through lua-nginx-module (Debian's ``libnginx-mod-http-lua``, OpenResty,
Kong) and the Lua client shipped with wasmd (``wasmd/clients/lua``). The mode follows the
chain's plugins, the way ``envoy-config`` picks ext_proc's processing mode:

- ``access``: no plugin has a response callback. ``access_by_lua`` runs the request phases,
  then ``proxy_pass`` streams the upstream's response untouched.
- ``content``: some plugin has one. ``content_by_lua`` runs the whole exchange and fetches
  the upstream through ``ngx.location.capture`` of an internal proxied location: the response
  is buffered whole (Envoy ext_proc's BUFFERED mode) before the response callbacks see it.

The output is a whole runnable file (``nginx -p PREFIX -c FILE``): relative paths (pid, temp
directories) resolve under the prefix, so it runs as any user from any directory.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmd.kernel.errors import ConfigError
from wasmd.proxies.envoy import parse_host_port, plugin_modules
from wasmd.proxies.lua_plan import (
    DEFAULT_TIMEOUT_MS,
    ChainPlan,
    Failure,
    adapter_options,
    add_common_arguments,
    lua_dir,
    lua_string,
    lua_table,
    parse_route,
    plan_chain,
)

# Debian's module directory (libnginx-mod-http-lua); OpenResty has the module built in.
DEFAULT_MODULES_DIR = Path("/usr/lib/nginx/modules")
# Pooled connections to wasmd per nginx worker; idle ones close after IDLE_MS.
POOL_SIZE = 64
IDLE_MS = 60_000
# Request bodies the chain reads are held in memory up to this (bigger ones go to a temp
# file, which the adapter reads back): nginx's client_max_body_size still applies.
BODY_BUFFER = "1m"
UPSTREAM_LOCATION = "/@wasmd_upstream"

ROUTE_FORBIDDEN = " ;{}"  # what would break a location block


class Mode(enum.Enum):
    AUTO = "auto"
    ACCESS = "access"
    CONTENT = "content"


@dataclass(frozen=True, slots=True)
class Route:
    """Requests under ``prefix`` (an nginx prefix location) run ``plan``'s chain in ``mode``
    (ACCESS or CONTENT, resolved)."""

    prefix: str
    plan: ChainPlan
    mode: Mode


@dataclass(frozen=True, slots=True)
class NginxOptions:
    listen: tuple[str, int]
    upstream: tuple[str, int]
    socket: Path
    routes: tuple[Route, ...]  # the first is the catch-all "/" (the --chain)
    workers: int = 1
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    modules_dir: Path | None = DEFAULT_MODULES_DIR  # None: the module is built in


def resolve_mode(requested: Mode, plan: ChainPlan) -> Mode:
    """``auto``: content mode when some plugin has a response callback, else access."""
    if requested is not Mode.AUTO:
        return requested
    return Mode.CONTENT if plan.response else Mode.ACCESS


def _adapter_call(opts: NginxOptions, route: Route) -> str:
    fields = adapter_options(route.plan, opts.socket, opts.timeout_ms)
    fields.update(pool_size=POOL_SIZE, idle_ms=IDLE_MS)
    if route.mode is Mode.CONTENT:
        fields["upstream_location"] = UPSTREAM_LOCATION
    return f'require("wasmd_nginx").{route.mode.value}({lua_table(fields)})'


_PROXY = """\
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $wasmd_authority;
            proxy_method $wasmd_method;
            proxy_pass http://wasmd_upstream$wasmd_path;"""


def _location(opts: NginxOptions, route: Route) -> str:
    phase = "access_by_lua_block" if route.mode is Mode.ACCESS else "content_by_lua_block"
    proxy = f"\n{_PROXY}" if route.mode is Mode.ACCESS else ""
    return f"""\
        location {route.prefix} {{
            set $wasmd_path $request_uri;
            set $wasmd_method $request_method;
            set $wasmd_authority $host;
            {phase} {{
                {_adapter_call(opts, route)}
            }}{proxy}
        }}"""


def _locations(opts: NginxOptions) -> str:
    blocks = [_location(opts, route) for route in opts.routes]
    if any(route.mode is Mode.CONTENT for route in opts.routes):
        blocks.append(
            f"""\
        location {UPSTREAM_LOCATION} {{
            internal;
{_PROXY}
        }}"""
        )
    return "\n".join(blocks)


def _summary(opts: NginxOptions) -> str:
    return "\n".join(
        f"#   {r.prefix} -> chain {r.plan.chain!r}, {r.mode.value} mode, "
        f"failure {r.plan.failure.value}"
        for r in opts.routes
    )


def render(opts: NginxOptions) -> str:
    """The whole nginx.conf."""
    modules = ""
    if opts.modules_dir is not None:
        modules = (
            f"load_module {opts.modules_dir / 'ndk_http_module.so'};\n"
            f"load_module {opts.modules_dir / 'ngx_http_lua_module.so'};\n"
        )
    package_path = f"{lua_dir()}/?.lua;;"
    listen_host, listen_port = opts.listen
    up_host, up_port = opts.upstream
    return f"""\
# Generated by `wasmd nginx-config`. Run: nginx -p PREFIX -c THIS_FILE
{_summary(opts)}
{modules}worker_processes {opts.workers};
pid nginx.pid;
error_log stderr warn;

events {{
    worker_connections 1024;
}}

http {{
    lua_package_path {lua_string(package_path)};
    lua_socket_log_errors off;  # the adapter logs what failed, once, with the chain
    init_by_lua_block {{
        require("wasmd_nginx")
    }}
    access_log off;
    # No content-type on a response the upstream (or a plugin) sent without one, as Envoy.
    default_type "";
    client_body_temp_path client_body;
    proxy_temp_path proxy;
    fastcgi_temp_path fastcgi;
    uwsgi_temp_path uwsgi;
    scgi_temp_path scgi;
    client_body_buffer_size {BODY_BUFFER};
    subrequest_output_buffer_size {BODY_BUFFER};

    upstream wasmd_upstream {{
        server {up_host}:{up_port};
        keepalive 32;
    }}

    server {{
        listen {listen_host}:{listen_port};
{_locations(opts)}
    }}
}}
"""


def add_command(sub: Any) -> None:
    """Register ``wasmd nginx-config`` on the CLI's subparsers."""
    p = sub.add_parser(
        "nginx-config",
        help="print an nginx config that runs a chain through this daemon",
        description="Print a whole nginx.conf (lua-nginx-module) that listens on --listen, "
        "runs the chain's plugins through this daemon's native socket and proxies to "
        "--upstream. Run it with: nginx -p PREFIX -c FILE.",
    )
    add_common_arguments(
        p,
        "requests under PREFIX run CHAIN, in the mode its plugins need (repeatable; "
        "nginx picks the longest matching prefix)",
    )
    p.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default="auto",
        help="access: request phases only, the response streams; content: the whole "
        "exchange, the response buffered; auto (default): content if a plugin has a "
        "response callback",
    )
    p.add_argument("--workers", type=int, default=1, help="nginx worker_processes")
    p.add_argument("--timeout-ms", type=int, default=DEFAULT_TIMEOUT_MS)
    p.add_argument(
        "--modules-dir",
        default=str(DEFAULT_MODULES_DIR),
        help="where ndk_http_module.so and ngx_http_lua_module.so are; '' when nginx has "
        "them built in (OpenResty)",
    )
    p.set_defaults(func=_cmd)


def build(args: Any) -> NginxOptions:
    """The options for ``args`` (the parsed command line); ConfigError if something is off."""
    from wasmd.kernel.config import default_config, load_config

    config = load_config(args.config) if args.config else default_config()
    modules = plugin_modules(config)
    failure, mode = Failure(args.failure), Mode(args.mode)

    def route(prefix: str, chain: str) -> Route:
        plan = plan_chain(config, chain, modules, failure)
        return Route(prefix, plan, resolve_mode(mode, plan))

    routes = [route("/", args.chain or config.daemon.default_chain)]
    routes += [route(*parse_route(text, ROUTE_FORBIDDEN)) for text in args.route]
    prefixes = [r.prefix for r in routes]
    if len(set(prefixes)) != len(prefixes):
        raise ConfigError(f"--route: a prefix appears twice in {prefixes}")
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    return NginxOptions(
        listen=parse_host_port(args.listen, "--listen"),
        upstream=parse_host_port(args.upstream, "--upstream"),
        socket=config.daemon.native_socket,
        routes=tuple(routes),
        workers=args.workers,
        timeout_ms=args.timeout_ms,
        modules_dir=Path(args.modules_dir) if args.modules_dir else None,
    )


def _cmd(args: Any) -> int:
    try:
        text = render(build(args))
    except ConfigError as exc:
        print(f"wasmd nginx-config: {exc}", file=sys.stderr)
        return 2
    print(text, end="")
    return 0
