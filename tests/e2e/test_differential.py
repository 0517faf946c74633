"""Differential test: for every plugin in ``plugins/*/manifest.toml``, each case's
client-visible outcome through real Envoy (V8, in-process) equals ``wasmd try``'s.

One Envoy per plugin runs all of its cases; ``wasmd try`` runs once per case. Until any
manifest exists, the WAT fixture manifest stands in so the test has something to check.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.e2e import fixture_plugins
from tests.e2e.envoy_harness import PluginRun, run_plugin
from tests.helpers.manifest import PluginSpec, load_all
from tests.helpers.outcome import Outcome, diff, outcome_from_try
from tests.helpers.wasmd_try import EXIT_LOAD_FAILED, TryResult, run_try

pytestmark = [pytest.mark.envoy, pytest.mark.timeout(600)]
# How much of wasmd's log to quote per mismatching case (log-flood plugins exist).
LOG_LINES, LOG_LINE_CHARS = 12, 160


def _plugins() -> list[PluginSpec]:
    return load_all() or fixture_plugins.fixture_specs()


def _params() -> list[object]:
    return [pytest.param(spec, id=spec.name, marks=_marks(spec)) for spec in _plugins()]


def _marks(spec: PluginSpec) -> tuple[pytest.MarkDecorator, ...]:
    if spec.differential:
        return ()
    why = spec.why_not_differential or "(no reason given)"
    return (pytest.mark.skip(reason=f"not differential: {why}"),)


@pytest.fixture
def plugin(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> PluginSpec:
    spec: PluginSpec = request.param
    if fixture_plugins.is_fixture(spec):
        return fixture_plugins.build(spec, tmp_path_factory.mktemp("wat"))
    if not spec.wasm.exists():
        pytest.fail(f"{spec.wasm} missing (declared in {spec.manifest_path}); run plugins/build.sh")
    return spec


@pytest.mark.parametrize("plugin", _params(), indirect=True)
def test_wasmd_try_matches_envoy(plugin: PluginSpec, tmp_path: Path) -> None:
    envoy = run_plugin(plugin, tmp_path)
    if not envoy.loaded:
        _assert_wasmd_refuses(plugin, envoy)
        return
    assert not plugin.load_error, f"manifest says load_error but Envoy loaded {plugin.name}"
    mismatches = [_compare(plugin, name, outcome) for name, outcome in envoy.outcomes.items()]
    problems = [m for m in mismatches if m]
    if problems:
        header = f"{plugin.name}: {len(problems)}/{len(mismatches)} cases differ (- envoy, + wasmd)"
        pytest.fail("\n\n".join([header, *problems]), pytrace=False)


def _assert_wasmd_refuses(plugin: PluginSpec, envoy: PluginRun) -> None:
    """Envoy rejected the plugin: ``wasmd try`` must fail to load it too (exit 2)."""
    assert plugin.load_error, f"Envoy failed to load {plugin.name}:\n{envoy.error}"
    tried = run_try(plugin, plugin.cases[0] if plugin.cases else None)
    assert not tried.loaded and tried.completed.returncode == EXIT_LOAD_FAILED, (
        f"Envoy rejects {plugin.name} but wasmd try did not fail to load it (exit 2)\n"
        f"{tried.completed.describe()}\n--- Envoy ---\n{envoy.error}"
    )


def _compare(plugin: PluginSpec, case_name: str, expected: Outcome) -> str:
    """Empty when ``wasmd try`` agrees with Envoy on ``case_name``, else a readable report."""
    case = next(c for c in plugin.cases if c.name == case_name)
    tried: TryResult = run_try(plugin, case)
    if not tried.loaded:
        return f"case {case_name}: wasmd try did not load the plugin\n{tried.completed.describe()}"
    actual = outcome_from_try(tried.result)
    if case.deviation_headers:
        expected = _without(expected, case.deviation_headers)
        actual = _without(actual, case.deviation_headers)
    if actual == expected:
        return ""
    return f"case {case_name}:\n{diff(expected, actual)}\n{_logs(tried)}"


def _without(outcome: Outcome, names: tuple[str, ...]) -> Outcome:
    """The outcome minus response headers ``names`` (a documented deviation)."""
    kept = tuple(h for h in outcome.response_headers if h[0] not in names)
    return dataclasses.replace(outcome, response_headers=kept)


def _logs(tried: TryResult) -> str:
    logs = tried.result.get("logs") or []
    lines = [f"  [{e.get('level')}] {str(e.get('message'))[:LOG_LINE_CHARS]}" for e in logs]
    if len(lines) > LOG_LINES:
        lines = [f"  ... {len(lines) - LOG_LINES} earlier lines", *lines[-LOG_LINES:]]
    return "wasmd try logs:\n" + "\n".join(lines) if lines else "(no wasmd try logs)"
