"""A blocking client of the ``wasmd.v1.Admin`` service, for the CLI and for tests.

Every failure is an ``AdminError`` whose message says what happened and which socket path
was tried; ``AdminUnavailable`` means no daemon answers there (no socket file, nothing
listening, or not allowed to connect).
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any

import grpc

from wasmd.admin import convert, model
from wasmd.admin._proto import admin_pb2 as pb
from wasmd.admin._proto import admin_pb2_grpc as pb_grpc
from wasmd.admin.errors import AdminError, AdminUnavailable

# Status and metrics are served from supervisor memory; seconds mean the daemon is stuck.
DEFAULT_TIMEOUT_S = 10.0

__all__ = ["AdminClient", "AdminError", "AdminUnavailable", "probe"]
# Prometheus text for many plugins and workers can pass gRPC's 4 MiB default.
MAX_RECEIVE_BYTES = 64 << 20


def probe(path: Path) -> None:
    """Raise AdminUnavailable, saying why, unless something accepts connections at ``path``.

    gRPC reports all of these as one UNAVAILABLE; a plain connect tells them apart.
    """
    if not path.exists():
        raise AdminUnavailable(
            f"wasmd is not running: no admin socket at {path} "
            "(start it with `wasmd serve`, or point at it with --config or --admin-socket)"
        )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except PermissionError:
            raise AdminUnavailable(
                f"permission denied on the admin socket {path}: it is only open to the "
                "daemon's user (mode 0600 by default); run as that user or root"
            ) from None
        except OSError as exc:
            raise AdminUnavailable(_connect_failure(path, exc)) from None


def _connect_failure(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ECONNREFUSED:
        return (
            f"wasmd is not running: nothing listens on the admin socket {path} "
            "(a stale file left by a daemon that exited?)"
        )
    return f"cannot connect to the admin socket {path}: {exc.strerror or exc}"


class AdminClient:
    """Calls ``wasmd.v1.Admin`` on ``path``; ``close`` is idempotent."""

    def __init__(self, path: Path, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.path = Path(path).absolute()
        self.timeout_s = timeout_s
        self._channel: Any = grpc.insecure_channel(
            f"unix:{self.path}",
            options=[("grpc.max_receive_message_length", MAX_RECEIVE_BYTES)],
        )
        self._stub: Any = pb_grpc.AdminStub(self._channel)  # type: ignore[no-untyped-call]

    def status(self) -> model.DaemonStatus:
        reply = self._call("status", self._stub.Status, pb.StatusRequest())
        return convert.status_from_proto(reply.daemon)

    def reload(self, wait: bool) -> model.ReloadResult:
        reply = self._call("reload", self._stub.Reload, pb.ReloadRequest(wait=wait))
        return convert.reload_from_proto(reply)

    def drain(self, slot: int) -> model.DrainResult:
        reply = self._call("drain", self._stub.Drain, pb.DrainRequest(slot=slot))
        return convert.drain_from_proto(reply)

    def metrics_text(self) -> str:
        reply = self._call("metrics", self._stub.Metrics, pb.MetricsRequest())
        text: str = reply.text
        return text

    def plugins(self) -> tuple[model.PluginInfo, ...]:
        reply = self._call("list plugins", self._stub.ListPlugins, pb.ListPluginsRequest())
        return tuple(convert.plugin_info_from_proto(p) for p in reply.plugins)

    def _call(self, what: str, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self.timeout_s)
        except grpc.RpcError as exc:
            raise self._error(what, exc) from None

    def _error(self, what: str, exc: Any) -> AdminError:
        code, details = exc.code(), exc.details() or ""
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return AdminError(
                f"{what}: no answer from {self.path} within {self.timeout_s:g}s "
                "(raise --timeout for long rollouts)"
            )
        if code == grpc.StatusCode.UNAVAILABLE:
            return AdminUnavailable(f"{what}: the daemon at {self.path} is unavailable: {details}")
        if code == grpc.StatusCode.FAILED_PRECONDITION:
            return AdminError(f"{what}: {details}")
        return AdminError(f"{what} failed ({code.name}): {details}")

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
