"""Envoy bootstrap for running one Proxy-Wasm plugin in-process (V8), as a pure function.

The bootstrap is emitted as JSON, which is also valid YAML; Envoy picks the parser from
the file extension, and JSON avoids any quoting surprises in plugin configuration text.
Both the admin and the listener bind port 0 so parallel runs never race for a port; the
harness learns the real ports from ``--admin-address-path`` and the admin API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.helpers.manifest import PluginSpec

LISTENER_NAME = "main"
UPSTREAM_CLUSTER = "upstream"
# Manifest failure_policy -> PluginConfig fields. fail_open uses the deprecated bool on
# purpose: in Envoy 1.40 (PyPI build) `failure_policy: FAIL_OPEN` still answers 503 when the
# plugin traps (measured; test_harness.py::test_fail_open_passes_a_trapping_request_through),
# while `fail_open: true` lets the request through unmodified, which is what fail_open means.
# Envoy rejects a config that sets both.
FAILURE_POLICY: dict[str, dict[str, Any]] = {
    "fail_open": {"fail_open": True},
    "fail_closed": {"failure_policy": "FAIL_CLOSED"},
    "reload": {"failure_policy": "FAIL_RELOAD"},
}

_HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
_STRING_VALUE = "type.googleapis.com/google.protobuf.StringValue"
_HTTP_PROTOCOL_OPTIONS = (
    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)


def bootstrap(spec: PluginSpec, upstream_port: int, host: str = "127.0.0.1") -> dict[str, Any]:
    """Bootstrap config: listener -> wasm filter (``spec``) -> router -> upstream cluster."""
    return {
        "admin": {"address": _socket(host, 0)},
        "static_resources": {
            "listeners": [_listener(spec, host)],
            "clusters": [_cluster(host, upstream_port)],
        },
    }


def callout_clusters(
    callouts: Mapping[str, tuple[str, int]], host: str = "127.0.0.1"
) -> list[dict[str, Any]]:
    """One STATIC cluster per callout upstream (name -> (kind, port)), named like it:
    Envoy's proxy_http_call/proxy_grpc_call take a cluster name. gRPC ones speak HTTP/2."""
    return [_callout_cluster(name, kind, host, port) for name, (kind, port) in callouts.items()]


def _callout_cluster(name: str, kind: str, host: str, port: int) -> dict[str, Any]:
    cluster = _cluster(host, port)
    cluster["name"] = cluster["load_assignment"]["cluster_name"] = name
    if kind == "grpc":
        cluster["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": _HTTP_PROTOCOL_OPTIONS,
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        }
    return cluster


def _socket(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _listener(spec: PluginSpec, host: str) -> dict[str, Any]:
    hcm = {
        "@type": _HCM + "HttpConnectionManager",
        "stat_prefix": "ingress",
        "route_config": {
            "virtual_hosts": [
                {
                    "name": "all",
                    "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "route": {"cluster": UPSTREAM_CLUSTER}}],
                }
            ]
        },
        "http_filters": [*metadata_filters(spec), wasm_filter(spec), _router()],
    }
    return {
        "name": LISTENER_NAME,
        "address": _socket(host, 0),
        "filter_chains": [
            {
                "filters": [
                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}
                ]
            }
        ],
    }


def connection_manager(doc: dict[str, Any]) -> dict[str, Any]:
    """The HttpConnectionManager config of a bootstrap's first listener (this harness's, or
    ``wasmd envoy-config --bootstrap``'s): its ``http_filters`` and ``route_config``."""
    listener = doc["static_resources"]["listeners"][0]
    hcm: dict[str, Any] = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return hcm


def metadata_filters(spec: PluginSpec) -> list[dict[str, Any]]:
    """A set_metadata filter putting ``spec``'s dynamic metadata on every request, if any."""
    if not spec.dynamic_metadata:
        return []
    entries = [{"metadata_namespace": ns, "value": value} for ns, value in spec.metadata().items()]
    return [
        {
            "name": "envoy.filters.http.set_metadata",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.set_metadata.v3.Config",
                "metadata": entries,
            },
        }
    ]


def wasm_filter(spec: PluginSpec) -> dict[str, Any]:
    """The ``envoy.filters.http.wasm`` entry for ``spec``."""
    vm_config: dict[str, Any] = {
        "vm_id": spec.name,
        "runtime": "envoy.wasm.runtime.v8",
        "code": {"local": {"filename": str(spec.wasm)}},
        "configuration": {"@type": _STRING_VALUE, "value": spec.vm_config},
    }
    if spec.env:
        vm_config["environment_variables"] = {"key_values": dict(spec.env)}
    return {
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": spec.name,
                "root_id": spec.root_id,
                "vm_config": vm_config,
                "configuration": {"@type": _STRING_VALUE, "value": spec.config},
                **FAILURE_POLICY[spec.failure_policy],
            },
        },
    }


def _router() -> dict[str, Any]:
    return {
        "name": "envoy.filters.http.router",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
        },
    }


def _cluster(host: str, port: int) -> dict[str, Any]:
    return {
        "name": UPSTREAM_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": UPSTREAM_CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _socket(host, port)}}]}],
        },
    }
