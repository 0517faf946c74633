"""Fetching modules from a real registry (docker-registry v2.8) and a real HTTPS server.

In-process ``Fetcher`` calls against real servers: every image format Istio accepts, the
pull policies and the store, basic auth right and wrong, a truncated layer, a non-Wasm
layer, a wrong pin, TLS with and without the test CA. The daemon-level behaviour (reloads,
registry down) is in test_registry_daemon.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers.daemon import ADD_HEADER
from tests.helpers.registry import (
    FORMATS,
    Registry,
    push_image,
    registry,
    with_custom_section,
)
from tests.helpers.registry_servers import Served, TlsServer, TokenServer, make_ca
from wasmd.kernel.config import RegistrySettings
from wasmd.registry.fetcher import Fetcher
from wasmd.registry.store import Store
from wasmd.registry.transport import FetchError

pytestmark = pytest.mark.timeout(120)
MODULE = ADD_HEADER.read_bytes()
SHA = hashlib.sha256(MODULE).hexdigest()


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Registry]:
    with registry(tmp_path) as r:
        yield r


def fetcher(tmp_path: Path, **settings: object) -> Fetcher:
    return Fetcher(RegistrySettings(**settings), Store(tmp_path / "store"))  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_yields_the_module(reg: Registry, tmp_path: Path, fmt: str) -> None:
    digest = push_image(reg, "plugins/add-header", fmt, MODULE, fmt)
    got = fetcher(tmp_path).resolve(f"oci://{reg.host}/plugins/add-header:{fmt}")
    assert (got.sha256, got.manifest_digest, got.fetched) == (SHA, digest, True)
    assert got.path.read_bytes() == MODULE
    assert got.path.stat().st_mode & 0o777 == 0o644


def test_pinned_digest_comes_from_the_store_without_the_registry(
    reg: Registry, tmp_path: Path
) -> None:
    digest = push_image(reg, "p/a", "v1", MODULE)
    ref = f"oci://{reg.host}/p/a@sha256:{digest}"
    assert fetcher(tmp_path).resolve(ref).fetched
    reg.stop()
    again = fetcher(tmp_path).resolve(ref)
    assert (again.fetched, again.sha256) == (False, SHA)


def test_tag_policies_and_a_moved_tag(reg: Registry, tmp_path: Path) -> None:
    v2 = with_custom_section(MODULE, b"v2")
    push_image(reg, "p/a", "stable", MODULE)
    ref = f"oci://{reg.host}/p/a:stable"
    assert fetcher(tmp_path).resolve(ref).sha256 == SHA
    push_image(reg, "p/a", "stable", v2)
    lazy = fetcher(tmp_path).resolve(ref, policy="if_not_present")
    assert (lazy.sha256, lazy.fetched) == (SHA, False)  # the store's resolution
    fresh = fetcher(tmp_path).resolve(ref, policy="always")
    assert fresh.sha256 == hashlib.sha256(v2).hexdigest()
    reg.stop()
    with pytest.raises(FetchError, match="cannot connect"):
        fetcher(tmp_path).resolve(ref, policy="always")
    stale = fetcher(tmp_path).resolve(ref, policy="always", allow_stale=True)
    assert (stale.stale, stale.sha256) == (True, fresh.sha256)


def test_wrong_pin_is_refused(reg: Registry, tmp_path: Path) -> None:
    push_image(reg, "p/a", "v1", MODULE)
    with pytest.raises(FetchError, match="but the config pins sha256:" + "0" * 64):
        fetcher(tmp_path).resolve(f"oci://{reg.host}/p/a:v1", pin="0" * 64)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetcher(tmp_path).resolve(f"oci://{reg.host}/p/a@sha256:{'0' * 64}")
    assert not (tmp_path / "store" / "sha256").exists()


def test_truncated_layer_is_refused_and_not_stored(reg: Registry, tmp_path: Path) -> None:
    digest = push_image(reg, "p/a", "v1", MODULE, "wasm-layer")
    layer = hashlib.sha256(MODULE).hexdigest()  # the raw layer is the module itself
    blob = reg.blob_file(layer)
    blob.write_bytes(blob.read_bytes()[: len(MODULE) // 2])
    with pytest.raises(FetchError, match="truncated"):
        fetcher(tmp_path).resolve(f"oci://{reg.host}/p/a@sha256:{digest}")
    assert not (tmp_path / "store" / "sha256").exists()


@pytest.mark.parametrize("fmt", ["compat-oci", "wasm-layer"])
def test_non_wasm_layer_is_refused(reg: Registry, tmp_path: Path, fmt: str) -> None:
    push_image(reg, "p/a", "bad", b"#!/bin/sh\necho not wasm\n", fmt)
    with pytest.raises(FetchError, match="not a WebAssembly module"):
        fetcher(tmp_path).resolve(f"oci://{reg.host}/p/a:bad")


def test_image_without_a_module_layer_is_refused(reg: Registry, tmp_path: Path) -> None:
    push_image(reg, "p/a", "tar", MODULE, "compat-oci")
    from tests.helpers.registry import OCI_MANIFEST, push_blob, push_manifest

    other = push_blob(reg, "p/a", b"not a layer")
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": f"sha256:{push_blob(reg, 'p/a', b'{}')}", "size": 2},
        "layers": [{"mediaType": "text/plain", "digest": f"sha256:{other}", "size": 11}],
    }  # fmt: skip
    push_manifest(reg, "p/a", "odd", json.dumps(manifest).encode(), OCI_MANIFEST)
    with pytest.raises(FetchError, match="no Wasm module in this image.*text/plain"):
        fetcher(tmp_path).resolve(f"oci://{reg.host}/p/a:odd")


def test_module_over_the_size_limit_is_refused(reg: Registry, tmp_path: Path) -> None:
    push_image(reg, "p/a", "v1", MODULE, "wasm-layer")
    with pytest.raises(FetchError, match="over the limit"):
        fetcher(tmp_path, max_module_bytes=1024).resolve(f"oci://{reg.host}/p/a:v1")


def _credentials(tmp_path: Path, host: str, user: str, password: str, mode: int = 0o600) -> Path:
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"auths": {host: {"username": user, "password": password}}}))
    os.chmod(path, mode)
    return path


def test_basic_auth(tmp_path: Path) -> None:
    with registry(tmp_path, users={"alice": "s3cret"}) as reg:
        push_image(reg, "p/a", "v1", MODULE)
        ref = f"oci://{reg.host}/p/a:v1"
        with pytest.raises(FetchError, match="requires credentials"):
            fetcher(tmp_path).resolve(ref)
        wrong = _credentials(tmp_path, reg.host, "alice", "nope")
        with pytest.raises(FetchError, match="refused the credentials"):
            fetcher(tmp_path, credentials=wrong).resolve(ref)
        right = _credentials(tmp_path, reg.host, "alice", "s3cret")
        assert fetcher(tmp_path, credentials=right).resolve(ref).sha256 == SHA
        loose = _credentials(tmp_path, reg.host, "alice", "s3cret", mode=0o644)
        with pytest.raises(FetchError, match="chmod 600"):
            fetcher(tmp_path, credentials=loose).resolve(ref, policy="always")


def test_plain_http_only_to_loopback_or_listed_hosts(tmp_path: Path) -> None:
    f = fetcher(tmp_path, timeout_s=2.0)
    with pytest.raises(FetchError, match="plain HTTP to 192.0.2.1 is not allowed"):
        f.resolve("http://192.0.2.1/m.wasm", pin=SHA)


def test_https_module_with_the_test_ca(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "ca")
    files = {
        "/m.wasm": Served(MODULE),
        "/cut.wasm": Served(MODULE, truncate_to=100),
    }
    with TlsServer(ca, files) as server:
        with pytest.raises(FetchError, match="TLS failed.*registry.ca_file"):
            fetcher(tmp_path).resolve(server.url("/m.wasm"), pin=SHA)
        trusting = fetcher(tmp_path, ca_file=ca.ca)
        got = trusting.resolve(server.url("/m.wasm"), pin=SHA)
        assert (got.sha256, got.path.read_bytes()) == (SHA, MODULE)
        wrong = replace(got, sha256="1" * 64).sha256
        with pytest.raises(FetchError, match="but the config pins " + wrong):
            trusting.resolve(server.url("/m.wasm"), pin=wrong)
        with pytest.raises(FetchError, match="truncated: got 100 of"):
            trusting.resolve(server.url("/cut.wasm"), pin="2" * 64)


def test_docker_token_flow(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "ca")
    with TokenServer(ca, {"bob": "hunter2"}) as tokens, registry(tmp_path, token=tokens) as reg:
        push_image(reg, "p/a", "v1", MODULE)
        ref = f"oci://{reg.host}/p/a:v1"
        with pytest.raises(FetchError, match="requires credentials"):
            fetcher(tmp_path).resolve(ref)
        wrong = _credentials(tmp_path, reg.host, "bob", "nope")
        with pytest.raises(FetchError, match="refused the credentials"):
            fetcher(tmp_path, credentials=wrong).resolve(ref)
        right = _credentials(tmp_path, reg.host, "bob", "hunter2")
        tokens.requests.clear()
        assert fetcher(tmp_path, credentials=right).resolve(ref).sha256 == SHA
        # One token for the repository, asked for with the user's credentials, reused for
        # the manifest and the layer.
        assert tokens.requests == [("repository:p/a:pull", "bob")]
