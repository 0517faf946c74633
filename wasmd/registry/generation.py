"""What the supervisor calls before it builds a generation: references -> store files.

``resolve_generation(config, raw)`` fetches (or finds in the store) every plugin whose
``module`` is a reference and returns the config with those plugins' ``module`` set to
the verified store file and ``sha256`` to its digest (``source`` keeps the reference), plus
the TOML the generation's workers read: the operator's file with only those two keys of
those plugins rewritten, so workers never fetch anything, and verify the bytes they load
against the digest the supervisor checked. A failure raises ModuleFetchError naming every
plugin that could not be resolved; the caller keeps serving what it serves.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from wasmd.kernel.config import DaemonConfig, PluginSpec
from wasmd.registry.fetcher import Fetcher, Resolved
from wasmd.registry.store import Store
from wasmd.registry.transport import FetchError, ProgressFn

STORE_SUBDIR = "modules"


class ModuleFetchError(FetchError):
    """One or more plugins' modules could not be fetched or verified."""


def store_for(config: DaemonConfig) -> Store:
    return Store(config.daemon.cache_dir / STORE_SUBDIR)


def resolve_generation(
    config: DaemonConfig,
    raw: bytes | None,
    *,
    allow_stale: bool = False,
    progress: ProgressFn | None = None,
) -> tuple[DaemonConfig, bytes | None]:
    """(config with references resolved, the TOML its workers read); ModuleFetchError."""
    refs = [spec for spec in config.plugins if spec.source]
    if not refs:
        return config, raw
    fetcher = Fetcher(config.registry, store_for(config), progress)
    resolved: dict[str, Resolved] = {}
    errors: list[str] = []
    for spec in refs:
        try:
            resolved[spec.name] = fetcher.resolve(
                spec.source, pin=spec.sha256, policy=spec.pull_policy, allow_stale=allow_stale
            )
        except FetchError as exc:
            errors.append(f"plugin {spec.name}: {exc}")
    if errors:
        raise ModuleFetchError("; ".join(errors))
    plugins = tuple(_resolved_spec(spec, resolved.get(spec.name)) for spec in config.plugins)
    return replace(config, plugins=plugins), _snapshot(raw, resolved)


def _resolved_spec(spec: PluginSpec, found: Resolved | None) -> PluginSpec:
    if found is None:
        return spec
    return replace(spec, module=found.path, sha256=found.sha256)


def _snapshot(raw: bytes | None, resolved: Mapping[str, Resolved]) -> bytes | None:
    """The operator's TOML with the resolved plugins' module and sha256 rewritten."""
    if raw is None:
        return None
    doc = tomllib.loads(raw.decode())
    for table in doc.get("plugins", []):
        found = resolved.get(table.get("name", ""))
        if found is not None:
            table["module"] = str(found.path)
            table["sha256"] = found.sha256
    return dump_toml(doc).encode()


# -- a TOML writer for configs (tomllib reads only; the shapes here are plain data) ------


def dump_toml(doc: Mapping[str, Any]) -> str:
    """``doc`` as TOML that ``tomllib.loads`` reads back equal: one ``key = value`` line
    per top-level key, tables and arrays written inline."""
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in doc.items())


def _key(key: str) -> str:
    return _string(key)


def _string(text: str) -> str:
    # JSON's escapes are TOML's, except that TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"cannot write {type(value).__name__} values as TOML here")
