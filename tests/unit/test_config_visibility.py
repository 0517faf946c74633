"""wasmd.kernel.config + wasmd.kernel.visibility: the [visibility] default, per-plugin keys,
how they merge, and one case per error (the message names the key)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wasmd.kernel.config import REPO_PLUGINS_DIR, load_config
from wasmd.kernel.errors import ConfigError
from wasmd.kernel.visibility import NO_POLICY, VisibilitySpec
from workers.config_bridge import plugin_config

ECHO = REPO_PLUGINS_DIR / "c" / "build" / "header_echo.wasm"


def plugin(name: str, extra: str = "") -> str:
    return f'[[plugins]]\nname = "{name}"\nmodule = "{ECHO}"\n{extra}\n'


def load(tmp_path: Path, text: str) -> dict[str, VisibilitySpec]:
    path = tmp_path / "wasmd.toml"
    path.write_text(text)
    return {p.name: p.visibility for p in load_config(path).plugins}


DEFAULT = """
[visibility]
hide_headers = ["Authorization", "cookie"]
redact_headers = ["x-session"]
hide_properties = ["source.address", "source.port"]
"""


def test_no_policy_anywhere(tmp_path: Path) -> None:
    assert load(tmp_path, plugin("a")) == {"a": NO_POLICY}
    path = tmp_path / "wasmd.toml"
    assert plugin_config(load_config(path).plugins[0]).visibility is None  # zero-cost path


def test_every_plugin_inherits_the_default(tmp_path: Path) -> None:
    got = load(tmp_path, DEFAULT + plugin("a") + plugin("b"))
    expected = VisibilitySpec(
        ("authorization", "cookie"), ("x-session",), (), ("source.address", "source.port")
    )
    assert got == {"a": expected, "b": expected}


def test_a_plugin_extends_the_default(tmp_path: Path) -> None:
    extra = 'hide_headers = ["x-api-key", "cookie"]\nread_only_headers = [":path"]'
    got = load(tmp_path, DEFAULT + plugin("a", extra))["a"]
    assert got.hide_headers == ("authorization", "cookie", "x-api-key")
    assert got.read_only_headers == (":path",)
    assert got.redact_headers == ("x-session",)


def test_show_drops_single_inherited_entries(tmp_path: Path) -> None:
    extra = 'show_headers = ["authorization"]\nshow_properties = ["source.port"]'
    got = load(tmp_path, DEFAULT + plugin("auth", extra))["auth"]
    assert got.hide_headers == ("cookie",)
    assert got.hide_properties == ("source.address",)


def test_inherit_visibility_false_replaces_the_default(tmp_path: Path) -> None:
    extra = 'inherit_visibility = false\nredact_headers = ["cookie"]'
    got = load(tmp_path, DEFAULT + plugin("a", extra))["a"]
    assert got == VisibilitySpec(redact_headers=("cookie",))
    assert load(tmp_path, DEFAULT + plugin("b", "inherit_visibility = false"))["b"] == NO_POLICY


def test_the_worker_side_compiles_the_effective_policy(tmp_path: Path) -> None:
    path = tmp_path / "wasmd.toml"
    path.write_text(DEFAULT + plugin("a"))
    compiled = plugin_config(load_config(path).plugins[0]).visibility
    assert compiled is not None
    assert compiled.hidden == {b"authorization", b"cookie"}
    assert compiled.redacted == {b"x-session"}
    assert compiled.hidden_properties == ("source.address", "source.port")


@pytest.mark.parametrize(
    ("text", "key", "what"),
    [
        ('[visibility]\nhide_header = ["a"]', "visibility.hide_header", "unknown key"),
        ("[visibility]\nhide_headers = 'a'", "visibility.hide_headers", "array of strings"),
        ('[visibility]\nhide_headers = ["a", 3]', "visibility.hide_headers[1]", "string"),
        ('[visibility]\nhide_headers = ["a b"]', "visibility.hide_headers[0]", "header name"),
        ('[visibility]\nhide_properties = ["a..b"]', "visibility.hide_properties[0]", "dotted"),
        ("visibility = 3", "visibility", "must be a table"),
    ],
)
def test_default_errors_name_the_key(tmp_path: Path, text: str, key: str, what: str) -> None:
    with pytest.raises(ConfigError, match=rf"{re.escape(key)}: .*{what}"):
        load(tmp_path, text + "\n" + plugin("a"))


@pytest.mark.parametrize(
    ("extra", "key", "what"),
    [
        ('redact_headers = ["bad\\u0000"]', "plugins[0].redact_headers[0]", "header name"),
        ("inherit_visibility = 1", "plugins[0].inherit_visibility", "true or false"),
        ('show_headers = ["x-other"]', "plugins[0].show_headers[0]", "nothing to show"),
        ('show_properties = ["node"]', "plugins[0].show_properties[0]", "nothing to show"),
        ('hide_propertie = ["node"]', "plugins[0].hide_propertie", "did you mean"),
    ],
)
def test_plugin_errors_name_the_key(tmp_path: Path, extra: str, key: str, what: str) -> None:
    with pytest.raises(ConfigError, match=rf"{re.escape(key)}: .*{what}"):
        load(tmp_path, DEFAULT + plugin("a", extra))
