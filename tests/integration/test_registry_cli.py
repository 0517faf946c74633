"""``wasmd pull``, ``wasmd inspect`` and ``wasmd try`` with references, through the real
CLI against a real registry (docker-registry v2.8 on a loopback port)."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import ADD_HEADER
from tests.helpers.procs import Completed, run
from tests.helpers.registry import Registry, push_image, registry, with_custom_section

pytestmark = pytest.mark.timeout(120)
TIMEOUT_S = 60.0
MODULE = ADD_HEADER.read_bytes()
SHA = hashlib.sha256(MODULE).hexdigest()


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Registry]:
    with registry(tmp_path) as r:
        yield r


def wasmd(tmp_path: Path, *args: str) -> Completed:
    argv = [sys.executable, "-m", "wasmd", *args, "--cache-dir", str(tmp_path / "cache")]
    return run(argv, timeout_s=TIMEOUT_S, cwd=tmp_path)


def test_pull_stores_and_shows_progress_for_a_large_module(tmp_path: Path, reg: Registry) -> None:
    big = with_custom_section(MODULE, b"x" * (3 << 20))
    digest = push_image(reg, "plugins/big", "v1", big, "wasm-layer")
    done = wasmd(tmp_path, "pull", f"oci://{reg.host}/plugins/big:v1", "--json")
    assert done.returncode == 0, done.describe()
    doc = json.loads(done.stdout)
    assert doc["sha256"] == hashlib.sha256(big).hexdigest()
    assert doc["manifest_digest"] == f"sha256:{digest}" and doc["fetched"] is True
    assert Path(doc["path"]).read_bytes() == big
    assert "100%" in done.stderr and "MiB" in done.stderr, done.describe()
    again = wasmd(tmp_path, "pull", f"oci://{reg.host}/plugins/big:v1", "--json")
    assert json.loads(again.stdout)["fetched"] is False  # if_not_present: the store's


def test_pull_failure_says_why(tmp_path: Path, reg: Registry) -> None:
    done = wasmd(tmp_path, "pull", f"oci://{reg.host}/plugins/none:v1")
    assert done.returncode == 1 and "HTTP 404" in done.stderr, done.describe()
    bad = wasmd(tmp_path, "pull", "oci://Bad Name")
    assert bad.returncode == 78 and "invalid" in bad.stderr, bad.describe()


def test_inspect_reference_and_file(tmp_path: Path, reg: Registry) -> None:
    digest = push_image(reg, "plugins/add-header", "v1", MODULE, "compat-docker")
    done = wasmd(tmp_path, "inspect", f"oci://{reg.host}/plugins/add-header:v1", "--json")
    assert done.returncode == 0, done.describe()
    doc = json.loads(done.stdout)
    assert (doc["sha256"], doc["size"]) == (SHA, len(MODULE))
    assert doc["manifest_digest"] == f"sha256:{digest}"
    assert doc["abi_versions"] == ["0.2.0"] and doc["abi_supported"] is True
    assert "request_headers" in doc["phases"] and doc["missing_host_functions"] == []
    assert "env.proxy_log" in doc["imports"]
    local = wasmd(tmp_path, "inspect", str(ADD_HEADER))
    assert local.returncode == 0 and f"sha256: {SHA}" in local.stdout, local.describe()
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"not wasm")
    bad = wasmd(tmp_path, "inspect", str(junk))
    assert bad.returncode == 1 and "not a WebAssembly module" in bad.stderr


def test_try_accepts_a_reference(tmp_path: Path, reg: Registry) -> None:
    digest = push_image(reg, "plugins/add-header", "v1", MODULE, "wasm-artifact")
    ref = f"oci://{reg.host}/plugins/add-header@sha256:{digest}"
    done = wasmd(tmp_path, "try", ref, "--json", "--root-id=as_add_header", "--config=hello")
    assert done.returncode == 0, done.describe()
    assert ["x-as-req", "hello"] in json.loads(done.stdout)["request"]["headers"]
    wrong = wasmd(tmp_path, "try", f"oci://{reg.host}/plugins/add-header:v1", "--sha256", "0" * 64)
    assert wrong.returncode == 2 and "pins sha256:" in wrong.stderr, wrong.describe()


def test_envoy_config_reads_referenced_modules(tmp_path: Path, reg: Registry) -> None:
    digest = push_image(reg, "plugins/add-header", "v1", MODULE)
    config = tmp_path / "wasmd.toml"
    config.write_text(
        f'[daemon]\ncache_dir = "{tmp_path / "cache"}"\nruntime_dir = "{tmp_path / "run"}"\n'
        f'[[plugins]]\nname = "a"\nmodule = "oci://{reg.host}/plugins/add-header@sha256:{digest}"\n'
    )
    argv = [sys.executable, "-m", "wasmd", "envoy-config", "--config", str(config)]
    done = run(argv, timeout_s=TIMEOUT_S, cwd=tmp_path)
    assert done.returncode == 0 and "ext_proc" in done.stdout, done.describe()
    reg.stop()  # pinned and stored: no registry needed any more
    again = run(argv, timeout_s=TIMEOUT_S, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == done.stdout, again.describe()
