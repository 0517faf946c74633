"""The corpus through nginx and HAProxy: every differential plugin of ``plugins/*/manifest.toml``
runs its cases through real nginx and real HAProxy (configs from ``wasmd nginx-config`` /
``wasmd haproxy-config``) in front of one real daemon, and each case's client-visible outcome
equals what the plugin does inside Envoy (``plugins/*/expected.json``), except the cases
listed in DIFFERENCES, each with its reason (docs/nginx.md and docs/haproxy.md explain them).

One daemon (one worker, so a plugin's cases meet one VM in order, as in Envoy's recording)
hosts every plugin as a chain of its own; each proxy runs one chain at a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.e2e.envoy_harness import CLIENT_AUTHORITY, _request_headers
from tests.e2e.lua_proxies import Front, haproxy_front, nginx_front, shared_cache
from tests.e2e.test_daemon_envoy import wasmd_daemon, write_config
from tests.helpers import callout_upstreams
from tests.helpers.daemon import PluginEntry
from tests.helpers.manifest import CaseSpec, PluginSpec, load_all, load_expected
from tests.helpers.outcome import RESET_STATUS, Outcome, diff, outcome_from_wire
from tests.helpers.upstream import Answer, Upstream

pytestmark = [pytest.mark.timeout(300)]

REQUEST_TIMEOUT_S = 10.0
PROXIES = ("nginx", "haproxy")

# (proxy, plugin, case) -> why its outcome differs from Envoy's. "*" matches any case.
_NO_BODY_REPLACE = "HAProxy's actions cannot replace a request body: fail closed, 503"
_NO_METADATA = "no dynamic metadata in this proxy (metadata.* properties are absent)"
_NO_CODE_DETAILS = (
    "response.code_details is Envoy's own string; properties are supplied at OPEN only"
)
_EMPTY_HEADER = "nginx (ngx.req.set_header) drops a request header set to an empty value"
DIFFERENCES: dict[tuple[str, str, str], str] = {
    ("haproxy", "as_body_rewrite", "post-both-bodies"): _NO_BODY_REPLACE,
    ("haproxy", "as_body_rewrite", "empty-response-body"): _NO_BODY_REPLACE,
    ("haproxy", "c_conformance", "body-replace"): _NO_BODY_REPLACE,
    ("haproxy", "c_conformance", "body-prepend"): _NO_BODY_REPLACE,
    ("haproxy", "c_conformance", "body-append"): _NO_BODY_REPLACE,
    ("nginx", "c_http_callout", "slow-upstream-times-out"): _EMPTY_HEADER,
    ("nginx", "c_http_callout", "dead-upstream"): _EMPTY_HEADER,
    **{
        (proxy, "c_props", case): _NO_METADATA
        for proxy in PROXIES
        for case in ("meta-scalars", "meta-structured", "meta-namespace", "meta-null")
    },
    **{(proxy, "c_props", "attributes"): _NO_CODE_DETAILS for proxy in PROXIES},
}


def _plugins() -> list[PluginSpec]:
    return [s for s in load_all() if s.differential and not s.load_error and s.cases]


def _entry(spec: PluginSpec, urls: Mapping[str, str]) -> PluginEntry:
    settings: dict[str, object] = {
        "vm_id": spec.name,
        "vm_configuration": spec.vm_config,
        "failure_policy": spec.failure_policy,
        "log_level": "warn",  # what Envoy's recording ran with (wasmd try's convention)
    }
    if spec.env:
        settings["env"] = dict(spec.env)
    wanted = {name: urls[name] for name, _ in spec.upstreams}
    if wanted:
        settings["upstreams"] = wanted
    return PluginEntry(spec.name, spec.wasm, spec.root_id, spec.config, settings)


@dataclasses.dataclass(frozen=True, slots=True)
class Corpus:
    proxy: str
    config: Path
    upstream: Upstream
    work: Path


@pytest.fixture(scope="module", params=PROXIES)
def corpus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Corpus]:
    """A daemon per proxy: a plugin's VM then sees that proxy's cases only, in order."""
    proxy: str = request.param
    work = tmp_path_factory.mktemp(f"lua-corpus-{proxy}")
    specs = _plugins()
    kinds = {name: kind for spec in specs for name, kind in spec.upstreams}
    with contextlib.ExitStack() as es:
        callouts = es.enter_context(callout_upstreams.started(kinds))
        urls = {n: callout_upstreams.url_of(kind, port) for n, (kind, port) in callouts.items()}
        upstream = es.enter_context(Upstream())
        plugins = [_entry(spec, urls) for spec in specs]
        chains = {spec.name: [spec.name] for spec in specs}
        chains["default"] = [specs[0].name]
        runtime = work / "run"
        config = write_config(
            work / "wasmd.toml", runtime, shared_cache(tmp_path_factory), plugins, chains, workers=1
        )
        es.enter_context(wasmd_daemon(config, runtime, work / "wasmd.log"))
        yield Corpus(proxy, config, upstream, work)


@contextlib.contextmanager
def _front(corpus: Corpus, chain: str) -> Iterator[Front]:
    start = nginx_front if corpus.proxy == "nginx" else haproxy_front
    args = ("--chain", chain)
    with start(corpus.work, chain, corpus.config, corpus.upstream.port, args) as front:
        yield front


def _exchange(port: int, case: CaseSpec) -> tuple[int, list[tuple[str, str]], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.putrequest(case.method, case.path, skip_host=True, skip_accept_encoding=True)
        for name, value in _request_headers(case, CLIENT_AUTHORITY):
            conn.putheader(name, value)
        conn.endheaders(case.body.encode() if case.body else None)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    except (ConnectionResetError, http.client.RemoteDisconnected):
        return RESET_STATUS, [], b""
    finally:
        conn.close()


def _run_case(front: Front, upstream: Upstream, case: CaseSpec) -> Outcome:
    upstream.set_answer(Answer(case.status, case.response_headers, case.response_body.encode()))
    before = upstream.request_count()
    status, headers, body = _exchange(front.port, case)
    seen = upstream.requests()[before:]
    return outcome_from_wire(status, headers, body, seen[0].view() if seen else None)


def _without(outcome: Outcome, names: tuple[str, ...]) -> Outcome:
    kept = tuple(h for h in outcome.response_headers if h[0] not in names)
    return dataclasses.replace(outcome, response_headers=kept)


def _known(proxy: str, plugin: str, case: str) -> str | None:
    return DIFFERENCES.get((proxy, plugin, case)) or DIFFERENCES.get((proxy, plugin, "*"))


@pytest.mark.parametrize("spec", _plugins(), ids=lambda s: s.name)
def test_corpus_case_matches_envoy(corpus: Corpus, spec: PluginSpec) -> None:
    proxy = corpus.proxy
    expected = load_expected(spec.manifest_path)[spec.name]
    problems, unexpectedly_same = [], []
    with _front(corpus, spec.name) as front:
        for case in spec.cases:
            want, got = expected.cases[case.name], _run_case(front, corpus.upstream, case)
            if case.deviation_headers:
                want = _without(want, case.deviation_headers)
                got = _without(got, case.deviation_headers)
            known = _known(proxy, spec.name, case.name)
            if want != got and known is None:
                problems.append(f"case {case.name}:\n{diff(want, got, ('envoy', proxy))}")
            elif want == got and known is not None and (proxy, spec.name, case.name) in DIFFERENCES:
                unexpectedly_same.append(case.name)
    assert not problems, f"{proxy} {spec.name}: " + "\n\n".join(problems)
    assert not unexpectedly_same, f"listed as different but the same: {unexpectedly_same}"
