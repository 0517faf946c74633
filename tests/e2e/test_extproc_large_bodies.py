"""Large buffered bodies through Envoy -> ext_proc -> wasmd, against Envoy's own Wasm filter.

The corpus cases carry bodies of a few bytes; these carry hundreds of KiB, so the HTTP/2
layer has to reassemble messages from many DATA frames, split its replies to Envoy's
SETTINGS_MAX_FRAME_SIZE and keep both flow-control windows moving (workers/faces/h2core.py
rule 4). The AS body_rewrite plugin uppercases both bodies: every byte must come back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.envoy_config import bootstrap
from tests.e2e.envoy_harness import EnvoyHarness
from tests.e2e.extproc_server import extproc_bootstrap, serving
from tests.helpers.manifest import CaseSpec, PluginSpec, load_all
from tests.helpers.outcome import diff

pytestmark = [pytest.mark.envoy, pytest.mark.timeout(180)]

# Under Envoy's default 1 MiB per-connection buffer limit, which BUFFERED mode must hold.
SIZES_BYTES = (70_000, 400_000, 900_000)


def _spec() -> PluginSpec:
    return next(s for s in load_all() if s.name == "as_body_rewrite")


def _case(size: int) -> CaseSpec:
    text = "".join(chr(ord("a") + i % 26) for i in range(size))
    return CaseSpec(
        name=f"post-{size}",
        method="POST",
        path="/upper",
        headers=(("content-type", "text/plain"),),
        body=text,
        response_headers=(("content-type", "text/plain"),),
        response_body=text[::-1],
    )


@pytest.mark.parametrize("transport", ["wasmd", "grpcio"])
def test_large_bodies_match_envoy_in_process(transport: str, tmp_path: Path) -> None:
    spec = _spec()
    cases = [_case(size) for size in SIZES_BYTES]
    with EnvoyHarness(spec, tmp_path / "v8") as envoy:
        want = [envoy.run_case(case) for case in cases]
    for case, outcome in zip(cases, want, strict=True):  # the reference did rewrite them
        assert outcome.status == 200, outcome.status
        assert outcome.response_body == case.response_body.upper()
        assert outcome.upstream_body == case.body.upper()
    socket_path = tmp_path / "extproc-0.sock"

    def config(plugin: PluginSpec, upstream_port: int) -> dict[str, object]:
        return extproc_bootstrap(bootstrap(plugin, upstream_port), plugin, socket_path)

    with (
        serving(spec, socket_path, transport=transport),
        EnvoyHarness(spec, tmp_path / "extproc", config) as envoy,
    ):
        got = [envoy.run_case(case) for case in cases]
    problems = [
        f"{case.name}:\n{diff(w, g, ('in-process', 'ext_proc'))}"
        for case, w, g in zip(cases, want, got, strict=True)
        if w != g
    ]
    assert not problems, "\n\n".join(problems)
