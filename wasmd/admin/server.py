"""The ``wasmd.v1.Admin`` gRPC server: a thin shell from RPCs to ``SupervisorControl``.

Runs on the supervisor's asyncio loop (``grpc.aio``). It listens on a Unix socket with a
restrictive mode (0600 by default) published without a window where the path is missing or
too open:

1. bind a private temporary path next to the public one (same directory, so rename is atomic);
2. chmod it to the requested mode before anyone can know its name;
3. ``os.rename`` it onto the public path.

grpcio unlinks the path *it bound* when it stops, by name and without checking ownership
(wasmtime-and-ipc.md §5.2): binding the public path directly would let an old server's stop
delete a newer server's socket. With the rename, its stop removes only the temporary name,
which no longer exists. On stop we unlink the public path ourselves, and only if it is still
the socket we published (same inode).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc

from wasmd.admin import convert
from wasmd.admin._proto import admin_pb2 as pb
from wasmd.admin._proto import admin_pb2_grpc as pb_grpc
from wasmd.admin.model import SupervisorControl
from wasmd.kernel.errors import ConfigError, WasmdError
from wasmd.kernel.logs import get_logger

T = TypeVar("T")

DEFAULT_SOCKET_MODE = 0o600
# Linux sun_path holds 108 bytes including the terminating NUL.
_MAX_UNIX_PATH_BYTES = 107
# A stop lets in-flight RPCs finish this long; a reload --wait in progress is not among
# them for long, because the supervisor stops the server only after its own drain.
DEFAULT_STOP_GRACE_S = 1.0


class _Servicer(pb_grpc.AdminServicer):
    """RPC -> SupervisorControl; errors become gRPC status codes with readable details."""

    def __init__(self, control: SupervisorControl) -> None:
        self._control = control
        self._log = get_logger(component="admin")

    async def Status(self, request: pb.StatusRequest, context: Any) -> pb.StatusReply:
        await self._guard(context, "status", self._control.refresh)
        status = await self._guard(context, "status", _sync(self._control.status))
        return pb.StatusReply(daemon=convert.status_to_proto(status))

    async def Reload(self, request: pb.ReloadRequest, context: Any) -> pb.ReloadReply:
        # Shielded: a client that hangs up (Ctrl-C on `wasmd reload --wait`) must not
        # cancel a rollout half way through.
        result = await self._guard(
            context, "reload", lambda: asyncio.shield(self._control.reload(request.wait))
        )
        return convert.reload_to_proto(result)

    async def Drain(self, request: pb.DrainRequest, context: Any) -> pb.DrainReply:
        result = await self._guard(
            context, "drain", lambda: asyncio.shield(self._control.drain(request.slot))
        )
        return convert.drain_to_proto(result)

    async def Metrics(self, request: pb.MetricsRequest, context: Any) -> pb.MetricsReply:
        await self._guard(context, "metrics", self._control.refresh)
        text = await self._guard(context, "metrics", _sync(self._control.metrics_text))
        return pb.MetricsReply(text=text)

    async def ListPlugins(
        self, request: pb.ListPluginsRequest, context: Any
    ) -> pb.ListPluginsReply:
        plugins = await self._guard(context, "list_plugins", _sync(self._control.plugins))
        return pb.ListPluginsReply(plugins=[convert.plugin_info_to_proto(p) for p in plugins])

    async def _guard(self, context: Any, what: str, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except WasmdError as exc:
            self._log.warning("admin_call_refused", call=what, error=str(exc))
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            raise  # abort() raises; this line only keeps the type checker honest
        except Exception as exc:
            self._log.exception("admin_call_failed", call=what)
            await context.abort(grpc.StatusCode.INTERNAL, f"{what}: {type(exc).__name__}: {exc}")
            raise


def _sync(fn: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    async def call() -> T:
        return fn()

    return call


def temp_bind_path(public: Path, pid: int) -> Path:
    """The private name to bind before renaming onto ``public`` (same directory)."""
    return public.with_name(f".{public.name}.{pid}.tmp")


class AdminServer:
    """The admin gRPC server on one Unix socket path.

    ``start`` publishes the socket (mode applied before it appears at ``path``); ``close``
    stops serving and removes ``path`` if it is still ours. ``close`` is idempotent.
    """

    def __init__(
        self,
        control: SupervisorControl,
        path: Path,
        mode: int = DEFAULT_SOCKET_MODE,
        stop_grace_s: float = DEFAULT_STOP_GRACE_S,
    ) -> None:
        self.path = Path(path).absolute()
        self._control = control
        self._mode = mode
        self._stop_grace_s = stop_grace_s
        self._server: Any = None
        self._published: tuple[int, int] | None = None
        self._log = get_logger(component="admin", socket=str(self.path))

    async def start(self) -> None:
        """Bind, chmod, publish and serve. ConfigError if the path cannot be used."""
        tmp = temp_bind_path(self.path, os.getpid())
        _check_path_length(tmp)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # left by a previous process with our pid (after a crash)
        server = grpc.aio.server()
        pb_grpc.add_AdminServicer_to_server(  # type: ignore[no-untyped-call]
            _Servicer(self._control), server
        )
        if server.add_insecure_port(f"unix:{tmp}") == 0:
            raise ConfigError(f"admin socket: cannot bind {tmp} (does {tmp.parent} exist?)")
        os.chmod(tmp, self._mode)
        await server.start()
        self._server = server
        os.rename(tmp, self.path)
        st = os.stat(self.path)
        self._published = (st.st_dev, st.st_ino)
        self._log.info("admin_listening", mode=oct(self._mode))

    async def close(self) -> None:
        """Stop serving (in-flight RPCs get ``stop_grace_s``) and unlink our public path."""
        server, self._server = self._server, None
        if server is not None:
            await server.stop(self._stop_grace_s)
        self._unlink_if_ours()

    def _unlink_if_ours(self) -> None:
        published, self._published = self._published, None
        if published is None:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return
        # Another server may have taken the path over since; its socket is not ours to remove.
        if (st.st_dev, st.st_ino) == published:
            self.path.unlink()

    async def __aenter__(self) -> AdminServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _check_path_length(path: Path) -> None:
    if len(os.fsencode(path)) > _MAX_UNIX_PATH_BYTES:
        raise ConfigError(
            f"admin socket: {path} is longer than the {_MAX_UNIX_PATH_BYTES} bytes a Unix "
            "socket path may have; use a shorter runtime_dir or admin_socket"
        )
