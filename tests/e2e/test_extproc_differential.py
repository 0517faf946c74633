"""Differential test for the Envoy face: every corpus plugin, run by wasmd behind Envoy's
stock ext_proc filter, gives the client-visible outcome that the same plugin gives inside
Envoy (V8), as recorded in ``plugins/*/expected.json``.

One Envoy (ext_proc filter -> wasmd over a Unix socket) and one wasmd worker service per
plugin run all of the plugin's cases in order, like the in-process recording did.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.e2e.envoy_config import bootstrap
from tests.e2e.envoy_harness import EnvoyHarness
from tests.e2e.extproc_server import extproc_bootstrap, serving
from tests.helpers import callout_upstreams
from tests.helpers.manifest import PluginSpec, load_all, load_expected
from tests.helpers.outcome import Outcome, diff

pytestmark = [pytest.mark.envoy, pytest.mark.timeout(300)]


def _plugins() -> list[PluginSpec]:
    return [s for s in load_all() if s.differential and not s.load_error and s.cases]


def _urls(callouts: dict[str, tuple[str, int]]) -> dict[str, str]:
    return {name: callout_upstreams.url_of(kind, port) for name, (kind, port) in callouts.items()}


def _without(outcome: Outcome, names: tuple[str, ...]) -> Outcome:
    kept = tuple(h for h in outcome.response_headers if h[0] not in names)
    return dataclasses.replace(outcome, response_headers=kept)


# The grpcio fallback transport maps through the same code; a few plugins cover its wiring
# (local replies, body rewrites, callouts) without doubling the run.
GRPCIO_PLUGINS = ("as_add_header", "as_local_reply", "as_body_rewrite", "c_http_callout")
# daemon.extproc_body_mode = "streamed": the plugins whose cases carry bodies.
STREAMED_PLUGINS = ("as_body_rewrite", "c_conformance", "as_local_reply", "as_http_callout")


def _cases() -> list[object]:
    plugins = _plugins()
    cases = [pytest.param(spec, "wasmd", False, id=spec.name) for spec in plugins]
    cases += [
        pytest.param(spec, "grpcio", False, id=f"{spec.name}-grpcio")
        for spec in plugins
        if spec.name in GRPCIO_PLUGINS
    ]
    cases += [
        pytest.param(spec, "wasmd", True, id=f"{spec.name}-streamed")
        for spec in plugins
        if spec.name in STREAMED_PLUGINS
    ]
    return cases


@pytest.mark.parametrize(("spec", "transport", "streamed"), _cases())
def test_ext_proc_matches_envoy_in_process(
    spec: PluginSpec, transport: str, streamed: bool, tmp_path: Path
) -> None:
    expected = load_expected(spec.manifest_path)[spec.name]
    socket_path = tmp_path / "extproc-0.sock"

    def config(plugin: PluginSpec, upstream_port: int) -> dict[str, object]:
        base = bootstrap(plugin, upstream_port)
        return extproc_bootstrap(base, plugin, socket_path, streamed_bodies=streamed)

    problems = []
    with (
        callout_upstreams.started(dict(spec.upstreams)) as callouts,
        serving(spec, socket_path, _urls(callouts), transport, streamed),
        EnvoyHarness(spec, tmp_path / "envoy", config) as envoy,
    ):
        for case in spec.cases:
            want, got = expected.cases[case.name], envoy.run_case(case)
            if case.deviation_headers:
                want = _without(want, case.deviation_headers)
                got = _without(got, case.deviation_headers)
            if want != got:
                problems.append(f"case {case.name}:\n{diff(want, got, ('in-process', 'ext_proc'))}")
    assert not problems, f"{spec.name}: " + "\n\n".join(problems)
