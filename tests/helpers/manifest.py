"""Plugin manifests (``plugins/<toolchain>/manifest.toml``) and recorded ``expected.json``.

A manifest lists plugins and, per plugin, a table of HTTP cases. Paths in a manifest
(``wasm``, ``source``) are relative to the plugins root: the manifest folder's parent.
``expected.json`` sits next to a manifest and holds what real Envoy did for each case,
as written by ``tests/e2e/envoy_harness.py --record``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.outcome import Outcome
from workers.contexts.metadata import parse_namespace

REPO_ROOT = Path(__file__).resolve().parents[2]
PLUGINS_ROOT = REPO_ROOT / "plugins"
FAILURE_POLICIES = ("fail_open", "fail_closed", "reload")
EXPECTED_FILE = "expected.json"

Pairs = tuple[tuple[str, str], ...]


class ManifestError(ValueError):
    """A manifest is malformed; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class CaseSpec:
    """One HTTP exchange to run through a plugin, and how the upstream answers it."""

    name: str
    method: str = "GET"
    path: str = "/"
    headers: Pairs = ()
    body: str = ""
    status: int = 200
    response_headers: Pairs = ()
    response_body: str = ""
    # A deliberate, documented difference from Envoy: these response headers (the case
    # reports its results in them) are left out of the differential comparison, and
    # ``deviation`` says why. tests/integration asserts wasmd's own values for them.
    deviation: str = ""
    deviation_headers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """One ``[[plugin]]`` entry; ``wasm`` and ``source`` are resolved to absolute paths."""

    name: str
    wasm: Path
    manifest_path: Path
    source: Path | None = None
    toolchain: str = ""
    abi: str = ""
    root_id: str = ""
    config: str = ""
    vm_config: str = ""
    env: Pairs = ()
    failure_policy: str = "fail_closed"
    differential: bool = True
    why_not_differential: str = ""
    load_error: bool = False
    cases: tuple[CaseSpec, ...] = field(default=())
    # Callout upstreams the test starts: name -> kind (http | grpc | dead), see
    # tests/helpers/callout_upstreams.py. Envoy gets a STATIC cluster named like each one.
    upstreams: Pairs = ()
    # Dynamic metadata set before the plugin runs: namespace -> JSON object text. Envoy in
    # process gets a set_metadata filter in front of the Wasm filter; ext_proc forwards the
    # namespaces; ``wasmd try`` gets them as --metadata.
    dynamic_metadata: Pairs = ()
    # Properties Envoy supplies by itself that ``wasmd try`` cannot know (--property).
    try_properties: Pairs = ()

    def metadata(self) -> dict[str, Any]:
        """``dynamic_metadata`` as namespace -> object."""
        return {name: json.loads(text) for name, text in self.dynamic_metadata}


@dataclass(frozen=True, slots=True)
class PluginExpectation:
    """What Envoy did with one plugin: a load failure, or one outcome per case name."""

    load_error: bool
    cases: Mapping[str, Outcome]


def discover_manifests(plugins_root: Path = PLUGINS_ROOT) -> list[Path]:
    """All ``plugins/*/manifest.toml`` files, sorted."""
    return sorted(plugins_root.glob("*/manifest.toml"))


def load_manifest(path: Path, plugins_root: Path | None = None) -> list[PluginSpec]:
    """Parse one manifest. ``plugins_root`` defaults to the manifest folder's parent."""
    root = plugins_root if plugins_root is not None else path.resolve().parent.parent
    with path.open("rb") as f:
        data = tomllib.load(f)
    entries = data.get("plugin", [])
    if not isinstance(entries, list):
        raise ManifestError(f"{path}: 'plugin' must be an array of tables ([[plugin]])")
    return [_plugin(path.resolve(), root, entry) for entry in entries]


def load_all(plugins_root: Path = PLUGINS_ROOT) -> list[PluginSpec]:
    """Every plugin of every manifest; raises ManifestError on duplicate names."""
    specs = [spec for m in discover_manifests(plugins_root) for spec in load_manifest(m)]
    _check_unique([s.name for s in specs], "plugin", plugins_root)
    return specs


def _plugin(manifest: Path, root: Path, entry: dict[str, Any]) -> PluginSpec:
    where = f"{manifest}: plugin {entry.get('name', '?')!r}"
    for key in ("name", "wasm"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ManifestError(f"{where}: '{key}' is required and must be a non-empty string")
    policy = entry.get("failure_policy", "fail_closed")
    if policy not in FAILURE_POLICIES:
        raise ManifestError(f"{where}: failure_policy {policy!r} not in {FAILURE_POLICIES}")
    cases = tuple(_case(where, c) for c in entry.get("cases", []))
    _check_unique([c.name for c in cases], "case", manifest)
    return PluginSpec(
        name=entry["name"],
        wasm=root / entry["wasm"],
        manifest_path=manifest,
        source=root / entry["source"] if entry.get("source") else None,
        toolchain=str(entry.get("toolchain", "")),
        abi=str(entry.get("abi", "")),
        root_id=str(entry.get("root_id", "")),
        config=str(entry.get("config", "")),
        vm_config=str(entry.get("vm_config", "")),
        env=tuple((str(k), str(v)) for k, v in dict(entry.get("env", {})).items()),
        failure_policy=policy,
        differential=bool(entry.get("differential", True)),
        why_not_differential=str(entry.get("why_not_differential", "")),
        load_error=bool(entry.get("load_error", False)),
        cases=cases,
        upstreams=tuple((str(k), str(v)) for k, v in dict(entry.get("upstreams", {})).items()),
        dynamic_metadata=_namespaces(where, entry.get("dynamic_metadata", {})),
        try_properties=tuple(
            (str(k), str(v)) for k, v in dict(entry.get("try_properties", {})).items()
        ),
    )


def _namespaces(where: str, raw: Any) -> Pairs:
    """namespace -> table, or JSON object text (TOML has no null)."""
    if not isinstance(raw, dict):
        raise ManifestError(f"{where}: dynamic_metadata must map namespaces to tables")
    out = []
    for name, fields in raw.items():
        try:
            table = parse_namespace(fields) if isinstance(fields, str) else fields
        except ValueError as exc:
            raise ManifestError(f"{where}: dynamic_metadata {name!r}: {exc}") from None
        if not isinstance(table, dict):
            raise ManifestError(f"{where}: dynamic_metadata {name!r} must be a table")
        out.append((str(name), json.dumps(table, sort_keys=True)))
    return tuple(out)


def _case(where: str, entry: dict[str, Any]) -> CaseSpec:
    if not isinstance(entry.get("name"), str):
        raise ManifestError(f"{where}: every [[plugin.cases]] needs a string 'name'")
    if entry.get("deviation_headers") and not entry.get("deviation"):
        raise ManifestError(
            f"{where}: case {entry['name']!r} lists deviation_headers without a 'deviation' reason"
        )
    return CaseSpec(
        name=entry["name"],
        method=str(entry.get("method", "GET")),
        path=str(entry.get("path", "/")),
        headers=_pairs(where, entry.get("headers", [])),
        body=str(entry.get("body", "")),
        status=int(entry.get("status", 200)),
        response_headers=_pairs(where, entry.get("response_headers", [])),
        response_body=str(entry.get("response_body", "")),
        deviation=str(entry.get("deviation", "")),
        deviation_headers=tuple(str(h).lower() for h in entry.get("deviation_headers", [])),
    )


def _pairs(where: str, raw: Any) -> Pairs:
    if not isinstance(raw, list) or not all(isinstance(p, list) and len(p) == 2 for p in raw):
        raise ManifestError(f"{where}: headers must be a list of [name, value] pairs, got {raw!r}")
    return tuple((str(k), str(v)) for k, v in raw)


def _check_unique(names: list[str], kind: str, where: Path) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ManifestError(f"{where}: duplicate {kind} names {dupes}")


def expected_path(manifest: Path) -> Path:
    return manifest.parent / EXPECTED_FILE


def load_expected(manifest: Path) -> dict[str, PluginExpectation]:
    """Read ``expected.json`` next to ``manifest``; an absent file means no recordings."""
    path = expected_path(manifest)
    if not path.exists():
        return {}
    raw: dict[str, Any] = json.loads(path.read_text())
    return {name: _expectation(entry) for name, entry in raw.items()}


def _expectation(entry: dict[str, Any]) -> PluginExpectation:
    if entry.get("load_error") is True:
        return PluginExpectation(load_error=True, cases={})
    return PluginExpectation(
        load_error=False, cases={case: Outcome.from_dict(o) for case, o in entry.items()}
    )
