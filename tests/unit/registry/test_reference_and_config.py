"""Module references: parsing, Istio's pin rules, and how the config models them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmd.kernel.config import UNRESOLVED_MODULE, parse_config
from wasmd.kernel.errors import ConfigError
from wasmd.kernel.module_ref import (
    HttpsRef,
    OciRef,
    PullPolicy,
    default_policy,
    parse_reference,
)
from wasmd.registry.generation import dump_toml

HEX = "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oci://ghcr.io/org/plugin:1.2", OciRef("ghcr.io", "org/plugin", "1.2", "")),
        ("oci://localhost:5000/p", OciRef("localhost:5000", "p", "latest", "")),
        (f"oci://r.io/a/b@sha256:{HEX}", OciRef("r.io", "a/b", "latest", HEX)),
        (f"oci://r.io/a:v1@sha256:{HEX}", OciRef("r.io", "a", "v1", HEX)),
        ("oci://docker.io/envoy", OciRef("registry-1.docker.io", "library/envoy", "latest", "")),
        ("oci://user/plugin:v1", OciRef("registry-1.docker.io", "user/plugin", "v1", "")),
        ("oci://[::1]:5000/p:v", OciRef("[::1]:5000", "p", "v", "")),
    ],
)
def test_oci_references(text: str, expected: OciRef) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("oci://r.io/Upper/case:v1", "invalid repository"),
        ("oci://r.io/a:-bad", "invalid tag"),
        ("oci://r.io/a@sha512:" + "0" * 128, "must be sha256"),
        ("oci://r.io/a@sha256:ABC", "must be sha256"),
        ("https://", "not a module URL"),
        ("https://host/", "not a module URL"),
    ],
)
def test_malformed_references_say_why(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_reference(text)


def test_files_are_not_references() -> None:
    assert parse_reference("/srv/plugins/a.wasm") is None
    assert parse_reference("a.wasm") is None
    assert parse_reference("https://h/m.wasm") == HttpsRef("https://h/m.wasm", "h")


def test_default_pull_policy_is_istios() -> None:
    latest, v1 = parse_reference("oci://r.io/a"), parse_reference("oci://r.io/a:v1")
    assert isinstance(latest, OciRef) and isinstance(v1, OciRef)
    assert default_policy(latest, "") is PullPolicy.ALWAYS
    assert default_policy(v1, "") is PullPolicy.IF_NOT_PRESENT
    assert default_policy(latest, "if_not_present") is PullPolicy.IF_NOT_PRESENT


def config(plugin: str, registry: str = "") -> str:
    return f'[[plugins]]\nname = "p"\n{plugin}\n' + (
        f"[registry]\n{registry}\n" if registry else ""
    )


def parse(text: str, tmp_path: Path) -> object:
    return parse_config(tomllib.loads(text), tmp_path / "wasmd.toml")


def test_config_models_references(tmp_path: Path) -> None:
    text = config(
        f'module = "oci://r.io/a:v1"\nsha256 = "{HEX}"\npull_policy = "always"',
        'ca_file = "ca.pem"\nplain_http_hosts = ["reg.lan:5000"]',
    )
    # One size limit for files and fetched modules: daemon.max_module_bytes.
    cfg = parse_config(tomllib.loads("[daemon]\nmax_module_bytes = 1024\n" + text), tmp_path / "w")
    spec = cfg.plugins[0]
    assert (spec.module, spec.source, spec.sha256) == (UNRESOLVED_MODULE, "oci://r.io/a:v1", HEX)
    assert spec.pull_policy == "always"
    assert cfg.registry.ca_file == tmp_path / "ca.pem"
    assert cfg.registry.plain_http_hosts == ("reg.lan:5000",)
    assert cfg.registry.max_module_bytes == 1024


@pytest.mark.parametrize(
    ("plugin", "registry", "why"),
    [
        ('module = "https://h/m.wasm"', "", r"plugins\[0\].sha256: is required for an https://"),
        (f'module = "oci://r.io/a@sha256:{HEX}"\nsha256 = "{"cd" * 32}"', "", "but the module"),
        ('module = "oci://r.io/A"', "", r"plugins\[0\].module: .*invalid repository"),
        ('module = "oci://r.io/a"\npull_policy = "never"', "", "must be one of"),
        ('module = "oci://r.io/a"', "timeout_s = 0", "registry.timeout_s"),
        ('module = "oci://r.io/a"', "proxy = 1", "registry.proxy: unknown key"),
    ],
)
def test_config_errors_name_the_key(plugin: str, registry: str, why: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=why):
        parse(config(plugin, registry), tmp_path)


_scalars = (
    st.text()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.booleans()
    | st.floats(allow_nan=False)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
)


@given(st.dictionaries(st.text(), _values, max_size=4))
def test_dump_toml_round_trips(doc: dict[str, object]) -> None:
    assert tomllib.loads(dump_toml(doc)) == doc
