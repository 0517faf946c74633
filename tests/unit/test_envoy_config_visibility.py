"""wasmd/proxies/envoy.py: what Envoy is told not to send because no plugin may see it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.helpers.procs import run
from wasmd.kernel.config import REPO_PLUGINS_DIR, load_config
from wasmd.proxies import envoy as ec

ECHO = REPO_PLUGINS_DIR / "c" / "build" / "header_echo.wasm"
CONFIG = f"""
[visibility]
hide_headers = ["authorization", ":authority", "cookie"]
hide_properties = ["source"]

[[plugins]]
name = "a"
module = "{ECHO}"
hide_headers = ["x-api-key"]

[[plugins]]
name = "b"
module = "{ECHO}"
show_headers = ["cookie"]
hide_headers = ["x-api-key"]

[[plugins]]
name = "open"
module = "{ECHO}"
inherit_visibility = false

[chains]
default = ["a", "b"]
alone = ["a"]
open = ["open"]
"""


def config(tmp_path: Path) -> Path:
    path = tmp_path / "wasmd.toml"
    path.write_text(CONFIG)
    return path


def test_what_every_plugin_hides_is_withheld(tmp_path: Path) -> None:
    cfg = load_config(config(tmp_path))
    got = ec.withheld(cfg, ["default"])
    # cookie: b shows it; :authority: pseudo-headers are always sent.
    assert got.headers == ("authorization", "x-api-key")
    assert got.attributes == {"source.address", "source.port"}
    assert ec.withheld(cfg, ["alone"]).headers == ("authorization", "cookie", "x-api-key")
    assert ec.withheld(cfg, ["default", "open"]) == ec.Withheld()  # open sees everything


def test_the_filter_carries_forward_rules_and_fewer_attributes(tmp_path: Path) -> None:
    cfg = load_config(config(tmp_path))
    phases = ec.chain_phases(cfg, "default", ec.plugin_modules(cfg))
    typed = ec.ext_proc_filter("default", phases, hidden=ec.withheld(cfg, ["default"]))[
        "typed_config"
    ]
    assert typed["forward_rules"] == {
        "disallowed_headers": {
            "patterns": [
                {"exact": "authorization", "ignore_case": True},
                {"exact": "x-api-key", "ignore_case": True},
            ]
        }
    }
    assert "source.address" not in typed["request_attributes"]
    assert "destination.address" in typed["request_attributes"]


def test_no_policy_no_forward_rules(tmp_path: Path) -> None:
    cfg = load_config(config(tmp_path))
    phases = ec.chain_phases(cfg, "open", ec.plugin_modules(cfg))
    typed = ec.ext_proc_filter("open", phases, hidden=ec.withheld(cfg, ["open"]))["typed_config"]
    assert "forward_rules" not in typed
    assert typed["request_attributes"] == list(ec.REQUEST_ATTRIBUTES)


def test_the_cli_withholds_only_what_every_routed_chain_hides(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "wasmd", "envoy-config", "--config", str(config(tmp_path))]
    alone = run([*argv, "--chain", "default"], timeout_s=60)
    assert alone.returncode == 0, alone.describe()
    typed = json.loads(alone.stdout)["http_filters"][0]["typed_config"]
    assert len(typed["forward_rules"]["disallowed_headers"]["patterns"]) == 2
    routed = run([*argv, "--bootstrap", "--route", "/open=open"], timeout_s=60)
    assert routed.returncode == 0, routed.describe()
    assert '"forward_rules"' not in routed.stdout
