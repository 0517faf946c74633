"""What the Lua proxies (nginx, HAProxy) need to know about a chain, and how to say it in Lua.

Shared by ``wasmd nginx-config`` and ``wasmd haproxy-config``: the installed Lua client
(``wasmd/clients/lua``, package data), the phases a chain's plugins handle (read from their
exports the way ``wasmd envoy-config`` does), and Lua literals for the options the adapters
take. Pure functions of the config and the module exports.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmd.kernel.config import DaemonConfig
from wasmd.kernel.errors import ConfigError
from wasmd.kernel.module_info import ModuleInfo
from wasmd.proxies.envoy import chain_phases

# Every per-stream wait on wasmd (connect, each reply). Above any plugin's CPU deadline, like
# Envoy's message_timeout in envoy-config.
DEFAULT_TIMEOUT_MS = 2000
RESPONSE_CALLBACKS = (
    "proxy_on_response_headers",
    "proxy_on_response_body",
    "proxy_on_response_trailers",
)


def lua_dir() -> Path:
    """The installed Lua client library (``wasmd_client.lua`` and its adapters)."""
    return Path(__file__).resolve().parent.parent / "clients" / "lua"


class Failure(enum.Enum):
    """What the proxy does with a request when wasmd cannot process it."""

    CLOSED = "closed"  # answer 503, never pass the request
    OPEN = "open"  # pass it unprocessed (and log why)


@dataclass(frozen=True, slots=True)
class ChainPlan:
    """One chain as a Lua adapter runs it."""

    chain: str
    request_body: bool
    response_body: bool
    response: bool  # some plugin has a response callback: the proxy must show it the response
    failure: Failure


def plan_chain(
    config: DaemonConfig, chain: str, modules: Mapping[str, ModuleInfo], failure: Failure
) -> ChainPlan:
    """The phases ``chain``'s plugins handle; ConfigError for an unknown chain."""
    phases = chain_phases(config, chain, modules)
    members = config.chains[chain]
    response = any(name in modules[m].export_names for m in members for name in RESPONSE_CALLBACKS)
    return ChainPlan(chain, phases.request_body, phases.response_body, response, failure)


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal (decimal escapes: valid in Lua 5.1 and 5.3)."""
    out = []
    for ch in text:
        if ch.isascii() and ch.isprintable() and ch not in "\\\"'":
            out.append(ch)
        else:
            out.extend(f"\\{b}" for b in ch.encode())
    return '"' + "".join(out) + '"'


def lua_table(fields: Mapping[str, str | int | bool]) -> str:
    """A Lua table constructor, keys in the order given."""
    parts = []
    for key, value in fields.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = lua_string(value)
        parts.append(f"{key} = {text}")
    return "{" + ", ".join(parts) + "}"


def adapter_options(
    plan: ChainPlan, socket: Path, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> dict[str, str | int | bool]:
    """The options both adapters take (see the header of wasmd_client.lua's adapters)."""
    if timeout_ms <= 0:
        raise ConfigError(f"--timeout-ms must be positive, got {timeout_ms}")
    return {
        "socket": str(socket),
        "chain": plan.chain,
        "failure": plan.failure.value,
        "timeout_ms": timeout_ms,
        "request_body": plan.request_body,
        "response_body": plan.response_body,
    }


def add_common_arguments(p: Any, route_help: str) -> None:
    """The options ``wasmd nginx-config`` and ``wasmd haproxy-config`` share: the daemon's
    config, the chain, where to listen, the upstream, the failure behaviour and routes."""
    p.add_argument("--config", type=Path, default=None, help="wasmd.toml (default: built-in)")
    p.add_argument("--chain", default=None, help="chain to run (default: the default chain)")
    p.add_argument("--listen", default="127.0.0.1:10000", metavar="HOST:PORT")
    p.add_argument("--upstream", default="127.0.0.1:8080", metavar="HOST:PORT")
    p.add_argument(
        "--failure",
        choices=[f.value for f in Failure],
        default="closed",
        help="when wasmd cannot process a request: closed = answer 503 (default), "
        "open = pass it unprocessed",
    )
    p.add_argument("--route", action="append", default=[], metavar="PREFIX=CHAIN", help=route_help)


def parse_route(text: str, forbidden: str) -> tuple[str, str]:
    """``PREFIX=CHAIN`` (``--route``); ConfigError if malformed or if the prefix holds a
    character of ``forbidden`` (those the proxy's config syntax would misread)."""
    prefix, sep, chain = text.partition("=")
    if not sep or not prefix.startswith("/") or not chain or any(c in prefix for c in forbidden):
        raise ConfigError(f"--route {text!r} is not PREFIX=CHAIN (e.g. /api=strict)")
    return prefix, chain
