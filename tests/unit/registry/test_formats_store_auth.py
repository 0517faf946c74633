"""Pure parts of the registry package: layer selection and unpacking, the store's
verification, credentials files and challenges, and what inspect reports."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.helpers.registry import leb128, tar_gz
from wasmd.registry import formats as f
from wasmd.registry.auth import load_credentials, parse_challenge
from wasmd.registry.commands import HostSupport, describe
from wasmd.registry.store import Store, TagEntry
from wasmd.registry.transport import FetchError

WASM = b"\0asm\x01\0\0\0"


def manifest(media: str, *layers: str) -> f.Manifest:
    return f.Manifest(media, tuple(f.Descriptor(m, "0" * 64, 1) for m in layers))


def test_layer_selection_follows_istio() -> None:
    docker = manifest(f.DOCKER_MANIFEST, f.DOCKER_LAYER, f.DOCKER_LAYER)
    assert f.select_layer(docker, "x")[1] is f.Packing.TAR_GZIP
    compat = manifest(f.OCI_MANIFEST, f.OCI_LAYER)
    assert f.select_layer(compat, "x")[1] is f.Packing.TAR_GZIP
    variant = manifest(f.OCI_MANIFEST, "application/vnd.module.wasm.config.v1+json", f.WASM_LAYER)
    assert f.select_layer(variant, "x")[1] is f.Packing.RAW
    artifact = manifest(f.OCI_MANIFEST, f.WASM_ARTIFACT)
    assert f.select_layer(artifact, "x")[1] is f.Packing.RAW
    with pytest.raises(FetchError, match="Docker image's last layer"):
        f.select_layer(manifest(f.DOCKER_MANIFEST, f.WASM_LAYER), "x")
    with pytest.raises(FetchError, match="no layers"):
        f.select_layer(manifest(f.OCI_MANIFEST), "x")


def test_index_is_refused_with_advice() -> None:
    index = json.dumps({"schemaVersion": 2, "mediaType": f.OCI_INDEX, "manifests": []})
    with pytest.raises(FetchError, match="reference one of its manifests by digest"):
        f.parse_manifest(index.encode(), "", "x")


def test_unpack_finds_plugin_wasm_and_checks_magic_and_limits() -> None:
    blob = tar_gz({"README": b"hi", "dir/plugin.wasm": WASM})
    assert f.unpack(blob, f.Packing.TAR_GZIP, 1 << 20, "x") == WASM
    with pytest.raises(FetchError, match="holds no plugin.wasm"):
        f.unpack(tar_gz({"other.wasm": WASM}), f.Packing.TAR_GZIP, 1 << 20, "x")
    with pytest.raises(FetchError, match="not a WebAssembly module"):
        f.unpack(b"\x7fELF....", f.Packing.RAW, 1 << 20, "x")
    with pytest.raises(FetchError, match="not a valid tar.gz"):
        f.unpack(b"garbage", f.Packing.TAR_GZIP, 1 << 20, "x")


def test_gzip_bomb_stops_at_the_limit() -> None:
    # 8 MiB of zeros before plugin.wasm: ~8 KiB compressed, all read to reach the module.
    bomb = tar_gz({"filler": b"\0" * (8 << 20), "plugin.wasm": WASM})
    with pytest.raises(FetchError, match="more than the module limit"):
        f.unpack(bomb, f.Packing.TAR_GZIP, 1024, "x")


def test_store_verifies_every_read(tmp_path: Path) -> None:
    store = Store(tmp_path / "modules")
    sha, path = store.put(WASM)
    assert sha == hashlib.sha256(WASM).hexdigest() and store.verified(sha) == path
    assert path.stat().st_mode & 0o777 == 0o644
    os.chmod(path, 0o644)
    path.write_bytes(WASM + b"tampered")
    assert store.verified(sha) is None and not path.exists()  # gone: the next fetch replaces it
    store.link_manifest("1" * 64, sha)
    assert store.manifest_module("1" * 64) == sha
    store.record_tag("oci://r/a:v1", TagEntry("1" * 64, sha))
    assert store.tag("oci://r/a:v1") == TagEntry("1" * 64, sha)
    assert store.tag("oci://r/a:v2") is None
    assert not list((tmp_path / "modules").rglob("*.tmp"))


def test_credentials_file_mode_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    auth = base64.b64encode(b"u:p:w").decode()
    auths = {
        "https://index.docker.io/v1/": {"auth": auth},
        "r.io:5000": {"username": "a", "password": "b"},
    }
    path.write_text(json.dumps({"auths": auths}))
    os.chmod(path, 0o640)
    with pytest.raises(FetchError, match="mode 0640.*chmod 600"):
        load_credentials(path)
    os.chmod(path, 0o600)
    creds = load_credentials(path)
    hub = creds.for_host("registry-1.docker.io")
    assert hub is not None and (hub.username, hub.password) == ("u", "p:w")
    assert creds.for_host("R.IO:5000") is not None and creds.for_host("r.io") is None
    with pytest.raises(FetchError, match="no such file"):
        load_credentials(tmp_path / "missing.json")


def test_bearer_challenge_parsing() -> None:
    header = 'Bearer realm="https://auth.io/token",service="registry.io",scope="repository:a:pull"'
    assert parse_challenge(header) == (
        "bearer",
        {"realm": "https://auth.io/token", "service": "registry.io", "scope": "repository:a:pull"},
    )
    assert parse_challenge('Basic realm="x"') == ("basic", {"realm": "x"})


def _module_importing(*names: tuple[str, str]) -> bytes:
    """A minimal module: one func type () -> (), importing ``names`` as functions."""
    types = b"\x01\x60\x00\x00"
    imports = leb128(len(names))
    for module, name in names:
        imports += leb128(len(module)) + module.encode() + leb128(len(name)) + name.encode()
        imports += b"\x00\x00"
    exports = b"\x00"
    out = WASM + b"\x01" + leb128(len(types)) + types
    out += b"\x02" + leb128(len(imports)) + imports + b"\x07" + leb128(len(exports)) + exports
    return out


def test_describe_lists_host_functions_wasmd_lacks() -> None:
    data = _module_importing(("env", "proxy_log"), ("env", "proxy_from_the_future"))
    support = HostSupport(frozenset({("env", "proxy_log")}), frozenset())
    doc = describe(data, support)
    assert doc["missing_host_functions"] == ["env.proxy_from_the_future"]
    assert doc["imports"] == ["env.proxy_log", "env.proxy_from_the_future"]
    assert doc["abi_versions"] == [] and doc["abi_supported"] is False
