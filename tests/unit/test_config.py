"""wasmd.kernel.config: parsing, defaults, one case per error path (file, key, what is wrong)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from wasmd.kernel.config import REPO_PLUGINS_DIR, default_config, load_config
from wasmd.kernel.errors import ConfigError, PluginLoadError
from workers.abi.types import LogLevel
from workers.config_bridge import plugin_config, plugin_source, read_module
from workers.contexts.plugin import FailurePolicy

ADD_HEADER = REPO_PLUGINS_DIR / "as" / "build" / "add_header.wasm"

MINIMAL = f"""
[[plugins]]
name = "add-header"
module = "{ADD_HEADER}"
root_id = "as_add_header"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wasmd.toml"
    path.write_text(text)
    return path


def test_minimal_config_gets_every_default(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL))
    d = cfg.daemon
    assert d.workers >= 1
    assert d.native_socket == d.runtime_dir / "wasmd.sock"
    assert d.native_socket_mode == 0o660 and d.admin_socket_mode == 0o600
    assert d.max_frame_bytes == 1 << 20 and d.pause_timeout_s == 15.0
    assert d.extproc_socket(3) == d.runtime_dir / "extproc-3.sock"
    assert d.extproc_transport == "wasmd"
    assert cfg.chains == {"default": ("add-header",)}
    assert cfg.plugin("add-header").failure_policy == "fail_closed"


def test_full_config(tmp_path: Path) -> None:
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "a.wasm").write_bytes(ADD_HEADER.read_bytes())
    text = """
[daemon]
workers = 3
runtime_dir = "rt"
native_socket = "/tmp/elsewhere.sock"
native_socket_mode = 0o666
admin_socket_mode = "600"
max_frame_bytes = 4096
default_chain = "edge"

[[plugins]]
name = "a"
module = "mods/a.wasm"
sha256 = "SHA"
configuration = "cfg"
env = { K = "V" }
failure_policy = "reload"
deadline_ms = 7
memory_limit_mib = 9
log_level = "debug"
upstreams = { auth = "http://127.0.0.1:9000", sock = "unix:///run/auth.sock" }

[chains]
edge = ["a", "a"]
empty = []
""".replace("SHA", hashlib.sha256(ADD_HEADER.read_bytes()).hexdigest().upper())
    cfg = load_config(write(tmp_path, text))
    assert cfg.daemon.workers == 3
    assert cfg.daemon.runtime_dir == tmp_path / "rt"
    assert cfg.daemon.native_socket == Path("/tmp/elsewhere.sock")
    assert cfg.daemon.admin_socket == tmp_path / "rt" / "admin.sock"
    assert (cfg.daemon.native_socket_mode, cfg.daemon.admin_socket_mode) == (0o666, 0o600)
    spec = cfg.plugin("a")
    assert spec.module == tmp_path / "mods" / "a.wasm"
    assert spec.sha256 == spec.sha256.lower()
    assert spec.upstreams["sock"] == "unix:///run/auth.sock"
    assert cfg.chains == {"edge": ("a", "a"), "empty": ()}


def test_default_config_points_at_bundled_plugins() -> None:
    cfg = default_config()
    assert cfg.path is None
    assert all(spec.module.is_file() for spec in cfg.plugins)
    assert cfg.daemon.default_chain in cfg.chains


def test_bridge_converts_a_plugin_entry(tmp_path: Path) -> None:
    text = MINIMAL + 'configuration = "c"\nenv = { B = "2", A = "1" }\n'
    text += 'failure_policy = "fail_open"\nmemory_limit_mib = 3\nlog_level = "warn"\n'
    spec = load_config(write(tmp_path, text)).plugins[0]
    pc = plugin_config(spec)
    assert pc.configuration == b"c" and pc.root_id == "as_add_header"
    assert pc.env == (("A", "1"), ("B", "2"))
    assert pc.failure_policy is FailurePolicy.FAIL_OPEN
    assert pc.memory_limit_bytes == 3 << 20 and pc.log_level is LogLevel.WARN
    assert plugin_source(spec).wasm == ADD_HEADER.read_bytes()


def test_bridge_rejects_a_module_whose_sha256_changed(tmp_path: Path) -> None:
    module = tmp_path / "m.wasm"
    module.write_bytes(b"\0asm\1\0\0\0")
    text = f'[[plugins]]\nname = "m"\nmodule = "m.wasm"\nsha256 = "{"0" * 64}"\n'
    spec = load_config(write(tmp_path, text)).plugins[0]
    with pytest.raises(PluginLoadError, match="has sha256 .* pins 0000"):
        read_module(spec)
    module.unlink()
    with pytest.raises(PluginLoadError, match="cannot read module"):
        read_module(spec)


# (case id, TOML body appended after MINIMAL or standalone, expected key, expected words)
PLUGIN = f'[[plugins]]\nname = "p"\nmodule = "{ADD_HEADER}"\n'
ERRORS: list[tuple[str, str, str, str]] = [
    ("toml-syntax", "[daemon\n", "", "invalid TOML"),
    ("unknown-top", PLUGIN + "[deamon]\n", "deamon", "did you mean 'daemon'"),
    ("daemon-not-table", "daemon = 1\n" + PLUGIN, "daemon", "must be a table"),
    ("unknown-daemon-key", "[daemon]\nworkerz = 2\n" + PLUGIN, "daemon.workerz", "unknown key"),
    ("workers-zero", "[daemon]\nworkers = 0\n" + PLUGIN, "daemon.workers", "at least 1"),
    ("workers-bool", "[daemon]\nworkers = true\n" + PLUGIN, "daemon.workers", "a boolean"),
    ("workers-str", '[daemon]\nworkers = "2"\n' + PLUGIN, "daemon.workers", "an integer"),
    ("mode-text", '[daemon]\nnative_socket_mode = "rw"\n' + PLUGIN, "native_socket_mode", "octal"),
    ("mode-big", "[daemon]\nadmin_socket_mode = 0o1777\n" + PLUGIN, "admin_socket_mode", "0o777"),
    ("socket-empty", '[daemon]\nnative_socket = ""\n' + PLUGIN, "native_socket", "not be empty"),
    ("prefix-path", '[daemon]\nextproc_socket_prefix = "a/b"\n' + PLUGIN, "prefix", "not a path"),
    ("seconds-neg", "[daemon]\ndrain_timeout_s = -1\n" + PLUGIN, "drain_timeout_s", "positive"),
    ("seconds-str", '[daemon]\npause_timeout_s = "1s"\n' + PLUGIN, "pause_timeout_s", "seconds"),
    ("seconds-inf", "[daemon]\nready_timeout_s = inf\n" + PLUGIN, "ready_timeout_s", "finite"),
    ("frame-tiny", "[daemon]\nmax_frame_bytes = 8\n" + PLUGIN, "max_frame_bytes", "at least 64"),
    ("max-req-neg", "[daemon]\nmax_requests = -1\n" + PLUGIN, "max_requests", "at least 0"),
    ("level", '[daemon]\nlog_level = "loud"\n' + PLUGIN, "daemon.log_level", "one of trace"),
    (
        "extproc-transport",
        '[daemon]\nextproc_transport = "h2"\n' + PLUGIN,
        "daemon.extproc_transport",
        "one of wasmd, grpcio; got 'h2'",
    ),
    (
        "heartbeat-order",
        "[daemon]\nheartbeat_interval_s = 5.0\nheartbeat_timeout_s = 2.0\n" + PLUGIN,
        "heartbeat_timeout_s",
        "must exceed",
    ),
    (
        "backoff-order",
        "[daemon]\nrestart_backoff_base_s = 5.0\nrestart_backoff_cap_s = 1.0\n" + PLUGIN,
        "restart_backoff_cap_s",
        "at least daemon.restart_backoff_base_s",
    ),
    ("default-chain-empty", '[daemon]\ndefault_chain = ""\n' + PLUGIN, "default_chain", "empty"),
    ("plugins-table", "[plugins]\nname = 1\n", "plugins", "array of tables"),
    ("plugin-no-name", f'[[plugins]]\nmodule = "{ADD_HEADER}"\n', "plugins[0].name", "required"),
    ("plugin-no-module", '[[plugins]]\nname = "x"\n', "plugins[0].module", "required"),
    ("plugin-bad-name", PLUGIN.replace('"p"', '"a b"'), "plugins[0].name", "letters"),
    ("plugin-dup", PLUGIN + PLUGIN, "plugins[1].name", "duplicate plugin name 'p'"),
    ("plugin-unknown-key", PLUGIN + "dealine_ms = 1\n", "plugins[0].dealine_ms", "deadline_ms"),
    ("module-missing", '[[plugins]]\nname = "x"\nmodule = "nope.wasm"\n', "module", "no such"),
    ("module-int", '[[plugins]]\nname = "x"\nmodule = 3\n', "plugins[0].module", "a string"),
    ("sha-short", PLUGIN + 'sha256 = "abc"\n', "plugins[0].sha256", "64 hex"),
    ("root-id-int", PLUGIN + "root_id = 1\n", "plugins[0].root_id", "a string"),
    ("env-not-table", PLUGIN + 'env = "A=1"\n', "plugins[0].env", "must be a table"),
    ("env-value", PLUGIN + "env = { A = 1 }\n", "plugins[0].env.A", "a string"),
    ("policy", PLUGIN + 'failure_policy = "retry"\n', "failure_policy", "fail_open, fail_closed"),
    ("deadline-zero", PLUGIN + "deadline_ms = 0\n", "plugins[0].deadline_ms", "at least 1"),
    ("memory-float", PLUGIN + "memory_limit_mib = 1.5\n", "memory_limit_mib", "a float"),
    ("plugin-level", PLUGIN + 'log_level = "x"\n', "plugins[0].log_level", "one of"),
    ("upstream-scheme", PLUGIN + 'upstreams = { a = "ftp://h" }\n', "upstreams.a", "scheme"),
    ("upstream-host", PLUGIN + 'upstreams = { a = "http://" }\n', "upstreams.a", "needs a host"),
    ("upstream-unix", PLUGIN + 'upstreams = { a = "unix://" }\n', "upstreams.a", "socket path"),
    ("skip-not-list", PLUGIN + 'skip_phases = "response_body"\n', "skip_phases", "array"),
    (
        "skip-unknown",
        PLUGIN + 'skip_phases = ["response_headers"]\n',
        "plugins[0].skip_phases[0]",
        "one of request_body, response_body, request_trailers, response_trailers",
    ),
    ("chains-not-table", "chains = 1\n" + PLUGIN, "chains", "must be a table"),
    ("chain-not-list", PLUGIN + '[chains]\ndefault = "p"\n', "chains.default", "array"),
    ("chain-member-int", PLUGIN + "[chains]\ndefault = [1]\n", "chains.default[0]", "a string"),
    (
        "chain-unknown-plugin",
        PLUGIN + '[chains]\ndefault = ["p", "q"]\n',
        "chains.default[1]",
        "unknown plugin 'q' (plugins: p)",
    ),
    (
        "default-chain-missing",
        PLUGIN + '[chains]\nedge = ["p"]\n',
        "daemon.default_chain",
        "'default', which [chains] does not define (chains: edge)",
    ),
]


@pytest.mark.parametrize(("case", "text", "key", "words"), ERRORS, ids=[e[0] for e in ERRORS])
def test_config_errors_name_file_key_and_problem(
    tmp_path: Path, case: str, text: str, key: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert key in message and words in message, message


@pytest.mark.parametrize(
    ("setup", "words"),
    [("missing", "no such config file"), ("directory", "cannot read"), ("binary", "invalid TOML")],
)
def test_unreadable_config_files(tmp_path: Path, setup: str, words: str) -> None:
    path = tmp_path / "wasmd.toml"
    actions: dict[str, Any] = {
        "missing": lambda: None,
        "directory": path.mkdir,
        "binary": lambda: path.write_bytes(b"\xff\xfe\x00"),
    }
    actions[setup]()
    with pytest.raises(ConfigError, match=words):
        load_config(path)


def test_a_module_over_max_module_bytes_is_refused_by_its_size_on_disk(tmp_path: Path) -> None:
    """Issue 13: refused at config time, before any worker reads it into memory."""
    big = tmp_path / "big.wasm"
    with big.open("wb") as fh:
        fh.truncate(4096)  # sparse: the check must look at the size, not read the bytes
    text = f'[daemon]\nmax_module_bytes = 2048\n[[plugins]]\nname = "big"\nmodule = "{big}"\n'
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    assert "plugins[0].module" in message and "daemon.max_module_bytes (2048)" in message
    assert "4096 bytes" in message


def test_max_module_bytes_defaults_to_64_mib(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MINIMAL)).daemon.max_module_bytes == 64 << 20


def test_directories_default_to_the_ones_systemd_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit's RuntimeDirectory=/CacheDirectory= reach the daemon as these variables."""
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path / "run") + ":/run/other")
    monkeypatch.setenv("CACHE_DIRECTORY", str(tmp_path / "cache"))
    daemon = load_config(write(tmp_path, MINIMAL)).daemon
    assert daemon.runtime_dir == tmp_path / "run"
    assert daemon.cache_dir == tmp_path / "cache"
