"""wasmd/proxies/envoy.py: the processing mode Envoy is told to use for a chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmd.kernel.config import REPO_PLUGINS_DIR, load_config
from wasmd.proxies import envoy as ec

BODY_REWRITE = REPO_PLUGINS_DIR / "as" / "build" / "body_rewrite.wasm"
RUST_HEADERS = REPO_PLUGINS_DIR / "rust" / "build" / "headers.wasm"


def _config(tmp_path: Path, module: Path, body_mode: str | None) -> Path:
    daemon = f'[daemon]\nextproc_body_mode = "{body_mode}"\n' if body_mode else ""
    path = tmp_path / "wasmd.toml"
    path.write_text(
        f'{daemon}[[plugins]]\nname = "p"\nmodule = "{module}"\n[chains]\ndefault = ["p"]\n'
    )
    return path


@pytest.mark.parametrize(
    ("module", "body_mode", "want_body"),
    [
        (BODY_REWRITE, None, "BUFFERED"),
        (BODY_REWRITE, "buffered", "BUFFERED"),
        (BODY_REWRITE, "streamed", "STREAMED"),
        (RUST_HEADERS, "streamed", "NONE"),  # no body callbacks: no body phase at all
    ],
)
def test_body_mode_follows_the_config_and_the_exports(
    tmp_path: Path, module: Path, body_mode: str | None, want_body: str
) -> None:
    config = load_config(_config(tmp_path, module, body_mode))
    phases = ec.chain_phases(config, "default", ec.plugin_modules(config))
    mode = ec.ext_proc_filter("default", phases)["typed_config"]["processing_mode"]
    assert mode["request_body_mode"] == mode["response_body_mode"] == want_body
    assert mode["request_header_mode"] == mode["response_header_mode"] == "SEND"


AS_ADD_HEADER = REPO_PLUGINS_DIR / "as" / "build" / "add_header.wasm"


def _modes(tmp_path: Path, plugins: str, chain: str) -> dict[str, str]:
    path = tmp_path / "wasmd.toml"
    path.write_text(f"{plugins}[chains]\ndefault = {chain}\n")
    config = load_config(path)
    phases = ec.chain_phases(config, "default", ec.plugin_modules(config))
    mode: dict[str, str] = ec.ext_proc_filter("default", phases)["typed_config"]["processing_mode"]
    return mode


def test_skip_phases_drops_exported_phases_no_other_member_needs(tmp_path: Path) -> None:
    """The AS SDK exports every body and trailer callback; add_header needs none of them.
    A phase another chain member needs is still asked for."""
    skip = '["request_body", "response_body", "request_trailers", "response_trailers"]'
    plugins = (
        f'[[plugins]]\nname = "h"\nmodule = "{AS_ADD_HEADER}"\nskip_phases = {skip}\n'
        f'[[plugins]]\nname = "b"\nmodule = "{BODY_REWRITE}"\n'
        f'skip_phases = ["request_body", "request_trailers"]\n'
    )
    alone = _modes(tmp_path, plugins, '["h"]')
    assert alone["request_body_mode"] == alone["response_body_mode"] == "NONE"
    assert alone["request_trailer_mode"] == alone["response_trailer_mode"] == "SKIP"
    both = _modes(tmp_path, plugins, '["h", "b"]')
    assert (both["request_body_mode"], both["response_body_mode"]) == ("NONE", "BUFFERED")
    assert (both["request_trailer_mode"], both["response_trailer_mode"]) == ("SKIP", "SEND")
    unset = _modes(tmp_path, f'[[plugins]]\nname = "h"\nmodule = "{AS_ADD_HEADER}"\n', '["h"]')
    assert unset["response_body_mode"] == "BUFFERED"  # the exports alone


def test_forwarded_metadata_namespaces_go_in_metadata_options() -> None:
    phases = ec.Phases()
    plain = ec.ext_proc_filter("default", phases)["typed_config"]
    assert "metadata_options" not in plain
    forwarding = ec.ext_proc_filter("default", phases, metadata_namespaces=["envoy.lb", "a"])
    options = forwarding["typed_config"]["metadata_options"]
    assert options == {"forwarding_namespaces": {"untyped": ["envoy.lb", "a"]}}


@pytest.mark.parametrize(
    ("module", "mode", "asked"),
    [
        (BODY_REWRITE, "auto", True),  # the AS SDK imports proxy_get_property
        (RUST_HEADERS, "auto", False),  # never reads a property: Envoy need not evaluate any
        (RUST_HEADERS, "all", True),
        (BODY_REWRITE, "none", False),
    ],
)
def test_attributes_are_asked_for_only_when_a_plugin_can_read_them(
    tmp_path: Path, module: Path, mode: str, asked: bool
) -> None:
    config = load_config(_config(tmp_path, module, None))
    modules = ec.plugin_modules(config)
    attributes = ec.wants_attributes(mode, modules)
    assert attributes is asked
    typed = ec.ext_proc_filter("default", ec.Phases(), attributes=attributes)["typed_config"]
    assert ("request_attributes" in typed) is asked
    assert ("response_attributes" in typed) is asked
    if asked:
        assert typed["request_attributes"] == list(ec.REQUEST_ATTRIBUTES)


def test_the_filter_accepts_set_properties_only_when_a_plugin_sets_any(tmp_path: Path) -> None:
    """A plugin importing proxy_set_property gets its values back into Envoy as dynamic
    metadata (namespace "wasmd"); Envoy drops what metadata_options does not list."""
    conformance = REPO_PLUGINS_DIR / "c" / "build" / "conformance.wasm"
    for module, expected in ((conformance, True), (RUST_HEADERS, False)):
        modules = ec.plugin_modules(load_config(_config(tmp_path, module, None)))
        assert ec.sets_properties(modules) is expected
        typed = ec.ext_proc_filter("default", ec.Phases(), receive_properties=expected)
        options = typed["typed_config"].get("metadata_options", {})
        receiving = {"untyped": [ec.PROPERTY_NAMESPACE]} if expected else None
        assert options.get("receiving_namespaces") == receiving


def test_the_property_namespace_is_the_one_the_workers_use() -> None:
    from workers.faces import extproc

    assert ec.PROPERTY_NAMESPACE == extproc.PROPERTY_NAMESPACE
    assert ec.CHAIN_METADATA_KEY == extproc.CHAIN_METADATA_KEY


def test_every_active_stream_may_be_retried_when_its_worker_dies() -> None:
    """Envoy's default circuit breaker allows 3 concurrent retries per cluster: a worker
    killed with more unanswered streams would fail the others instead of retrying them."""
    thresholds = ec.cluster_for([Path("/run/wasmd/extproc-0.sock")])["circuit_breakers"]
    (default,) = thresholds["thresholds"]
    assert default["priority"] == "DEFAULT"
    assert default["retry_budget"]["budget_percent"] == {"value": 100.0}
    assert "max_retries" not in default  # the budget replaces the fixed cap


@pytest.mark.parametrize(
    ("phases", "last"),
    [
        (ec.Phases(), "response_headers"),
        (ec.Phases(request_body=True, request_trailers=True), "response_headers"),
        (ec.Phases(response_body=True), "any"),
        (ec.Phases(response_trailers=True), "any"),
    ],
)
def test_the_worker_is_told_the_last_phase_envoy_sends(phases: ec.Phases, last: str) -> None:
    """Nothing follows the response headers unless the mode asks for the response body or
    trailers: then the worker may end the stream with that reply (x-wasmd-end-after)."""
    from workers.faces import extproc

    grpc = ec.ext_proc_filter("default", phases)["typed_config"]["grpc_service"]
    assert {"key": ec.END_AFTER_METADATA_KEY, "value": last} in grpc["initial_metadata"]
    route = ec.per_route_override(ec.RouteChain("/r", "c", phases))["overrides"]
    assert {"key": ec.END_AFTER_METADATA_KEY, "value": last} in route["grpc_initial_metadata"]
    assert ec.END_AFTER_METADATA_KEY.encode() == extproc.END_AFTER_METADATA_KEY
    assert ec.END_AFTER_RESPONSE_HEADERS.encode() == extproc.END_AFTER_RESPONSE_HEADERS
