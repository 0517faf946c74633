"""``wasmd nginx-config`` and ``wasmd haproxy-config``: pure functions of the config and the
plugins' exports (tests/e2e/test_nginx.py and test_haproxy.py run what they print)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wasmd.kernel.errors import ConfigError
from wasmd.proxies import haproxy, nginx
from wasmd.proxies.lua_plan import ChainPlan, Failure, lua_dir, lua_string, lua_table

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"


def _config(tmp_path: Path, plugins: dict[str, Path]) -> Path:
    lines = ["[daemon]", f'runtime_dir = "{tmp_path / "run"}"']
    for name, module in plugins.items():
        lines += ["[[plugins]]", f'name = "{name}"', f'module = "{module}"']
    lines += ["[chains]", f"default = [{', '.join(repr(n) for n in plugins)}]".replace("'", '"')]
    path = tmp_path / "wasmd.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmd", *args], capture_output=True, text=True, timeout=60
    )


def _plan(**kw: object) -> ChainPlan:
    fields: dict[str, object] = {
        "chain": "default",
        "request_body": False,
        "response_body": False,
        "response": False,
        "failure": Failure.CLOSED,
    }
    fields.update(kw)
    return ChainPlan(**fields)  # type: ignore[arg-type]


def test_request_only_chain_gets_access_mode(tmp_path: Path) -> None:
    config = _config(tmp_path, {"m": PLUGINS / "rust" / "build" / "metrics.wasm"})
    done = _cli("nginx-config", "--config", str(config), "--listen", "127.0.0.1:1")
    assert done.returncode == 0, done.stderr
    assert "access_by_lua_block" in done.stdout and "content_by_lua_block" not in done.stdout
    assert f'"{tmp_path / "run" / "wasmd.sock"}"' in done.stdout
    assert f'lua_package_path "{lua_dir()}/?.lua;;"' in done.stdout


def test_a_response_callback_gets_content_mode_with_bodies(tmp_path: Path) -> None:
    config = _config(tmp_path, {"b": PLUGINS / "as" / "build" / "body_rewrite.wasm"})
    done = _cli("nginx-config", "--config", str(config), "--failure", "open")
    assert done.returncode == 0, done.stderr
    assert "content_by_lua_block" in done.stdout
    assert "location /@wasmd_upstream" in done.stdout
    assert 'failure = "open"' in done.stdout
    assert "request_body = true, response_body = true" in done.stdout


def test_haproxy_config_has_response_rules_only_when_needed(tmp_path: Path) -> None:
    config = _config(tmp_path, {"m": PLUGINS / "rust" / "build" / "metrics.wasm"})
    done = _cli("haproxy-config", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "http-request lua.wasmd-request" in done.stdout
    assert "http-response" not in done.stdout
    assert f"lua-load {lua_dir() / 'wasmd_haproxy.lua'}" in done.stdout
    config = _config(tmp_path, {"b": PLUGINS / "as" / "build" / "body_rewrite.wasm"})
    done = _cli("haproxy-config", "--config", str(config))
    assert "http-request wait-for-body" in done.stdout
    assert "http-response wait-for-body" in done.stdout
    assert "http-response lua.wasmd-response" in done.stdout


def test_unknown_chain_is_a_clear_error(tmp_path: Path) -> None:
    config = _config(tmp_path, {"m": PLUGINS / "rust" / "build" / "metrics.wasm"})
    for kind in ("nginx", "haproxy"):
        done = _cli(f"{kind}-config", "--config", str(config), "--chain", "nope")
        assert done.returncode == 2
        assert "unknown chain 'nope'" in done.stderr


def test_bad_listen_is_a_clear_error(tmp_path: Path) -> None:
    done = _cli("nginx-config", "--listen", "nowhere")
    assert done.returncode == 2 and "--listen 'nowhere' is not HOST:PORT" in done.stderr


@pytest.mark.parametrize(
    ("text", "lua"),
    [("plain/path.sock", '"plain/path.sock"'), ('q"b\\', '"q\\34b\\92"'), ("é", '"\\195\\169"')],
)
def test_lua_string_escapes_for_both_lua_versions(text: str, lua: str) -> None:
    assert lua_string(text) == lua


def test_lua_table_keeps_order_and_types() -> None:
    assert lua_table({"a": "x", "n": 3, "t": True}) == '{a = "x", n = 3, t = true}'


def test_haproxy_action_argument_refuses_what_would_split_it() -> None:
    plan = _plan(chain="has space")
    opts = haproxy.HaproxyOptions(("h", 1), ("h", 2), Path("/run/wasmd.sock"), plan)
    with pytest.raises(ConfigError, match="cannot go in an HAProxy action argument"):
        haproxy.action_argument(opts)


def test_explicit_mode_overrides_auto() -> None:
    plan = _plan(response=True)
    assert nginx.resolve_mode(nginx.Mode.AUTO, plan) is nginx.Mode.CONTENT
    assert nginx.resolve_mode(nginx.Mode.ACCESS, plan) is nginx.Mode.ACCESS
    assert nginx.resolve_mode(nginx.Mode.AUTO, _plan()) is nginx.Mode.ACCESS


def test_nginx_routes_get_their_own_location_and_mode(tmp_path: Path) -> None:
    config = tmp_path / "wasmd.toml"
    metrics = PLUGINS / "rust" / "build" / "metrics.wasm"
    body = PLUGINS / "as" / "build" / "body_rewrite.wasm"
    config.write_text(
        f'[daemon]\nruntime_dir = "{tmp_path}"\n'
        f'[[plugins]]\nname = "m"\nmodule = "{metrics}"\n'
        f'[[plugins]]\nname = "b"\nmodule = "{body}"\n'
        '[chains]\ndefault = ["m"]\nbodies = ["b"]\n'
    )
    done = _cli("nginx-config", "--config", str(config), "--route", "/up=bodies")
    assert done.returncode == 0, done.stderr
    assert "#   / -> chain 'default', access mode" in done.stdout
    assert "#   /up -> chain 'bodies', content mode" in done.stdout
    assert done.stdout.count("location /@wasmd_upstream") == 1
    done = _cli("haproxy-config", "--config", str(config), "--route", "/up=bodies")
    assert done.returncode == 0, done.stderr
    assert "set-var(txn.wasmd_route) int(1) if { path_beg /up }" in done.stdout
    assert "chain=bodies;" in done.stdout and "if { var(txn.wasmd_route) -m int 1 }" in done.stdout


@pytest.mark.parametrize("kind", ["nginx", "haproxy"])
def test_malformed_route_is_a_clear_error(kind: str) -> None:
    done = _cli(f"{kind}-config", "--route", "api=strict")
    assert done.returncode == 2 and "is not PREFIX=CHAIN" in done.stderr
