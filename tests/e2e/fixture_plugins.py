"""The hand-written WAT plugins under ``tests/e2e/fixtures/``, compiled at test time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import wasmtime

from tests.helpers.manifest import PluginSpec, load_manifest

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
FIXTURE_MANIFEST = FIXTURES_DIR / "wat" / "manifest.toml"


def fixture_specs() -> list[PluginSpec]:
    """The fixture manifest's plugins, with ``wasm`` paths not yet built."""
    return load_manifest(FIXTURE_MANIFEST, plugins_root=FIXTURES_DIR)


def is_fixture(spec: PluginSpec) -> bool:
    return spec.manifest_path == FIXTURE_MANIFEST


def build(spec: PluginSpec, out_dir: Path) -> PluginSpec:
    """Compile ``spec.source`` (WAT) into ``out_dir``; return the spec pointing at it."""
    if spec.source is None:
        raise ValueError(f"fixture plugin {spec.name} has no WAT source")
    wasm = out_dir / spec.wasm.relative_to(FIXTURES_DIR)
    wasm.parent.mkdir(parents=True, exist_ok=True)
    wasm.write_bytes(wasmtime.wat2wasm(spec.source.read_text()))
    return dataclasses.replace(spec, wasm=wasm)


def build_all(out_dir: Path) -> dict[str, PluginSpec]:
    """Every fixture plugin, built, by name."""
    return {spec.name: build(spec, out_dir) for spec in fixture_specs()}
