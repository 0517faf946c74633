"""WASI preview1 for Proxy-Wasm plugins, with no capabilities beyond logging, time and entropy.

SDK-built plugins (Rust, TinyGo, Go wasip1, Emscripten C++) import a slice of WASI just to
get their language runtime started. Like proxy-wasm-cpp-host (``src/exports.cc``) we give
them exactly enough to run and nothing that reaches the host:

1. stdout and stderr exist only as log sinks: ``fd_write`` on fd 1 logs at INFO, on fd 2 at
   ERROR. No other descriptor exists; reading is ENOSYS.
2. There are no preopened directories (``fd_prestat_get`` is EBADF), so no path resolves:
   lookups are ENOENT and mutations ENOTCAPABLE. Sockets are ENOTCAPABLE.
3. The environment is only what the operator configured for the plugin, never the host's
   (spec: "Exposing the host's environment variables is highly discouraged"). argv is empty.
4. Realtime and monotonic clocks and ``random_get`` (at most 64 KiB a call) are provided.
5. ``proc_exit`` traps the guest with ``HostTrap(kind="exit")``; the caller marks the VM
   failed. (The cpp-host only logs, leaving the guest running past a call declared to never
   return; trapping is the safe reading of the same intent.)

Every function is registered under both ``wasi_snapshot_preview1`` and ``wasi_unstable`` by
the VM binding; ``WASI_SIGNATURES`` is the preview1 type of each. Methods take the guest's
raw arguments (ints, possibly sign-extended by the engine), return a ``WasiErrno`` value,
and never raise except ``HostTrap`` from ``proc_exit``: an out-of-bounds pointer is EFAULT,
any other failure inside the host is EIO and an error log.
"""

from __future__ import annotations

import contextlib
import functools
import os
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar, cast

from workers.abi.types import MAX_RANDOM_GET_BYTES, LogLevel, WasiErrno
from workers.vm.base import GuestMemory, GuestMemoryError, HostTrap

_I32 = "i32"
_I64 = "i64"
_ERRNO = (_I32,)

WASI_SIGNATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # (params, results) per wasi_snapshot_preview1 witx; pointers and sizes are i32.
    "args_get": ((_I32, _I32), _ERRNO),
    "args_sizes_get": ((_I32, _I32), _ERRNO),
    "environ_get": ((_I32, _I32), _ERRNO),
    "environ_sizes_get": ((_I32, _I32), _ERRNO),
    "clock_res_get": ((_I32, _I32), _ERRNO),
    "clock_time_get": ((_I32, _I64, _I32), _ERRNO),
    "fd_advise": ((_I32, _I64, _I64, _I32), _ERRNO),
    "fd_allocate": ((_I32, _I64, _I64), _ERRNO),
    "fd_close": ((_I32,), _ERRNO),
    "fd_datasync": ((_I32,), _ERRNO),
    "fd_fdstat_get": ((_I32, _I32), _ERRNO),
    "fd_fdstat_set_flags": ((_I32, _I32), _ERRNO),
    "fd_fdstat_set_rights": ((_I32, _I64, _I64), _ERRNO),
    "fd_filestat_get": ((_I32, _I32), _ERRNO),
    "fd_filestat_set_size": ((_I32, _I64), _ERRNO),
    "fd_filestat_set_times": ((_I32, _I64, _I64, _I32), _ERRNO),
    "fd_pread": ((_I32, _I32, _I32, _I64, _I32), _ERRNO),
    "fd_prestat_get": ((_I32, _I32), _ERRNO),
    "fd_prestat_dir_name": ((_I32, _I32, _I32), _ERRNO),
    "fd_pwrite": ((_I32, _I32, _I32, _I64, _I32), _ERRNO),
    "fd_read": ((_I32, _I32, _I32, _I32), _ERRNO),
    "fd_readdir": ((_I32, _I32, _I32, _I64, _I32), _ERRNO),
    "fd_renumber": ((_I32, _I32), _ERRNO),
    "fd_seek": ((_I32, _I64, _I32, _I32), _ERRNO),
    "fd_sync": ((_I32,), _ERRNO),
    "fd_tell": ((_I32, _I32), _ERRNO),
    "fd_write": ((_I32, _I32, _I32, _I32), _ERRNO),
    "path_create_directory": ((_I32, _I32, _I32), _ERRNO),
    "path_filestat_get": ((_I32, _I32, _I32, _I32, _I32), _ERRNO),
    "path_filestat_set_times": ((_I32, _I32, _I32, _I32, _I64, _I64, _I32), _ERRNO),
    "path_link": ((_I32, _I32, _I32, _I32, _I32, _I32, _I32), _ERRNO),
    "path_open": ((_I32, _I32, _I32, _I32, _I32, _I64, _I64, _I32, _I32), _ERRNO),
    "path_readlink": ((_I32, _I32, _I32, _I32, _I32, _I32), _ERRNO),
    "path_remove_directory": ((_I32, _I32, _I32), _ERRNO),
    "path_rename": ((_I32, _I32, _I32, _I32, _I32, _I32), _ERRNO),
    "path_symlink": ((_I32, _I32, _I32, _I32, _I32), _ERRNO),
    "path_unlink_file": ((_I32, _I32, _I32), _ERRNO),
    "poll_oneoff": ((_I32, _I32, _I32, _I32), _ERRNO),
    "proc_exit": ((_I32,), ()),
    "random_get": ((_I32, _I32), _ERRNO),
    "sched_yield": ((), _ERRNO),
    "sock_accept": ((_I32, _I32, _I32), _ERRNO),
    "sock_recv": ((_I32, _I32, _I32, _I32, _I32, _I32), _ERRNO),
    "sock_send": ((_I32, _I32, _I32, _I32, _I32), _ERRNO),
    "sock_shutdown": ((_I32, _I32), _ERRNO),
}

STDOUT_FD = 1
STDERR_FD = 2
CLOCK_REALTIME = 0
CLOCK_MONOTONIC = 1

# Bound on the bytes one fd_write gathers: iovecs may all point at the same large region,
# so without it a guest could make us copy memory_size x iovs_len bytes. A short write is
# legal WASI; libc retries the rest. Far above any sane log line.
MAX_FD_WRITE_BYTES = 1 << 20

# Both clocks are read as integer nanoseconds, so that is the resolution we report.
CLOCK_RESOLUTION_NS = 1

# WASI errno EIO. WasiErrno (workers/abi/types.py) lacks it; used only for host-side bugs.
ERRNO_IO = 29

# __wasi_fdstat_t for stdout/stderr: filetype CHARACTER_DEVICE (2), no flags, rights
# FD_WRITE (1 << 6). The cpp-host reports filetype UNKNOWN; a character device makes
# wasi-libc's isatty() true, so stdio is line-buffered and each line becomes one log record.
_FDSTAT = struct.Struct("<BxHxxxxQQ")
_STDIO_FDSTAT = _FDSTAT.pack(2, 0, 1 << 6, 0)

_IOVEC = struct.Struct("<II")
_MASKS = {_I32: 0xFFFF_FFFF, _I64: 0xFFFF_FFFF_FFFF_FFFF}
_LOG_LEVEL_BY_FD = {STDOUT_FD: LogLevel.INFO, STDERR_FD: LogLevel.ERROR}

_F = TypeVar("_F", bound=Callable[..., Any])


def _hostcall(method: _F) -> _F:
    """Wrap a ``Wasi`` method as a guest-callable function.

    Arguments are reduced to their unsigned WASI type (engines hand i32 over sign-extended).
    ``GuestMemoryError`` becomes EFAULT, ``HostTrap`` propagates, and any other exception is
    logged and becomes EIO, so a host bug never unwinds through the guest.
    """
    masks = tuple(_MASKS[kind] for kind in WASI_SIGNATURES[method.__name__][0])

    @functools.wraps(method)
    def guarded(self: Wasi, *args: int) -> int | None:
        try:
            unsigned = tuple(arg & mask for arg, mask in zip(args, masks, strict=True))
            result = method(self, *unsigned)
        except GuestMemoryError:
            return int(WasiErrno.FAULT)
        except HostTrap:
            raise
        except Exception as exc:  # the guest must never see a Python error
            self._safe_log(LogLevel.ERROR, f"wasi {method.__name__} failed in the host: {exc!r}")
            return ERRNO_IO
        # Plain int: the engine binding should not have to know about IntEnum.
        return None if result is None else int(result)

    return cast(_F, guarded)


def _environ_entries(env: Sequence[tuple[str, str]]) -> tuple[bytes, ...]:
    """Encode ``env`` as NUL-terminated ``K=V`` UTF-8 strings; reject what cannot be encoded."""
    entries = []
    for key, value in env:
        if not key or "=" in key or "\0" in key or "\0" in value:
            raise ValueError(
                f"plugin environment variable {key!r}: names must be non-empty without '=' "
                "or NUL, values without NUL"
            )
        entries.append(f"{key}={value}".encode() + b"\0")
    return tuple(entries)


class Wasi:
    """The WASI functions of one plugin instance; see the module docstring for the policy.

    ``memory_getter`` is called on every access, so it may return the memory of an instance
    created after this object. ``log`` receives guest stdout/stderr and host diagnostics.
    Clocks and ``random_bytes`` are injectable for tests.
    """

    def __init__(
        self,
        memory_getter: Callable[[], GuestMemory],
        *,
        env: Sequence[tuple[str, str]] = (),
        log: Callable[[LogLevel, str], None],
        clock_realtime_ns: Callable[[], int] = time.time_ns,
        clock_monotonic_ns: Callable[[], int] = time.monotonic_ns,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._memory = memory_getter
        self._environ = _environ_entries(env)
        self._log = log
        self._clocks = {CLOCK_REALTIME: clock_realtime_ns, CLOCK_MONOTONIC: clock_monotonic_ns}
        self._random_bytes = random_bytes

    def lookup(self, name: str) -> Callable[..., int | None] | None:
        """The host function for WASI import ``name``, or None if we do not provide it."""
        if name not in WASI_SIGNATURES:
            return None
        return cast("Callable[..., int | None]", getattr(self, name))

    def _safe_log(self, level: LogLevel, message: str) -> None:
        """Log, swallowing a failing sink: diagnostics must not turn into guest-visible errors."""
        with contextlib.suppress(Exception):
            self._log(level, message)

    # -- stdio ---------------------------------------------------------------------------

    @_hostcall
    def fd_write(self, fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
        """Log the gathered iovecs (one trailing newline stripped): fd 1 at INFO, 2 at ERROR.

        EBADF for any other fd. Writes the byte count taken (before stripping) to
        ``nwritten_ptr``; at most MAX_FD_WRITE_BYTES are taken per call.
        """
        level = _LOG_LEVEL_BY_FD.get(fd)
        if level is None:
            return WasiErrno.BADF
        data = self._gather(iovs, iovs_len)
        if data:
            text = data.removesuffix(b"\n").decode("utf-8", errors="replace")
            self._log(level, text)
        self._memory().write_u32(nwritten_ptr, len(data))
        return WasiErrno.SUCCESS

    def _gather(self, iovs: int, iovs_len: int) -> bytes:
        """Concatenate the guest's ``ciovec`` buffers, up to MAX_FD_WRITE_BYTES."""
        if iovs_len == 0:
            return b""
        memory = self._memory()
        table = memory.read(iovs, _IOVEC.size * iovs_len)
        chunks: list[bytes] = []
        budget = MAX_FD_WRITE_BYTES
        for buf, buf_len in _IOVEC.iter_unpack(table):
            take = min(buf_len, budget)
            if take:
                chunks.append(memory.read(buf, take))
                budget -= take
            if budget == 0:
                break
        return b"".join(chunks)

    @_hostcall
    def fd_read(self, fd: int, iovs: int, iovs_len: int, nread_ptr: int) -> int:
        """ENOSYS: plugins cannot read any descriptor."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_seek(self, fd: int, offset: int, whence: int, newoffset_ptr: int) -> int:
        """Log an error and report success without writing, as the cpp-host does.

        Emscripten-built plugins import it for their stdio; answering differently from Envoy
        could break a plugin that works there.
        """
        self._safe_log(LogLevel.ERROR, "wasi fd_seek is not supported")
        return WasiErrno.SUCCESS

    @_hostcall
    def fd_close(self, fd: int) -> int:
        """Log an error and report success, as the cpp-host does (runtimes close stdio)."""
        self._safe_log(LogLevel.ERROR, "wasi fd_close is not supported")
        return WasiErrno.SUCCESS

    @_hostcall
    def fd_fdstat_get(self, fd: int, stat_ptr: int) -> int:
        """Describe fds 1 and 2 as write-only character devices (24 bytes); EBADF otherwise."""
        if fd not in _LOG_LEVEL_BY_FD:
            return WasiErrno.BADF
        self._memory().write(stat_ptr, _STDIO_FDSTAT)
        return WasiErrno.SUCCESS

    @_hostcall
    def fd_prestat_get(self, fd: int, prestat_ptr: int) -> int:
        """EBADF for every fd: the guest's preopen scan finds none."""
        return WasiErrno.BADF

    @_hostcall
    def fd_prestat_dir_name(self, fd: int, path_ptr: int, path_len: int) -> int:
        """EBADF: there are no preopens to name."""
        return WasiErrno.BADF

    # -- other descriptor operations: nothing to operate on ------------------------------

    @_hostcall
    def fd_advise(self, fd: int, offset: int, length: int, advice: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_allocate(self, fd: int, offset: int, length: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_datasync(self, fd: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_fdstat_set_flags(self, fd: int, flags: int) -> int:
        """ENOSYS; the Go runtime calls this at start-up and tolerates the error."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_fdstat_set_rights(self, fd: int, rights_base: int, rights_inheriting: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_filestat_get(self, fd: int, filestat_ptr: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_filestat_set_size(self, fd: int, size: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_filestat_set_times(self, fd: int, atim: int, mtim: int, fst_flags: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_pread(self, fd: int, iovs: int, iovs_len: int, offset: int, nread_ptr: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_pwrite(self, fd: int, iovs: int, iovs_len: int, offset: int, nwritten_ptr: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_readdir(self, fd: int, buf: int, buf_len: int, cookie: int, bufused_ptr: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_renumber(self, fd: int, to: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_sync(self, fd: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    @_hostcall
    def fd_tell(self, fd: int, offset_ptr: int) -> int:
        """ENOSYS."""
        return WasiErrno.NOSYS

    # -- environment and arguments -------------------------------------------------------

    @_hostcall
    def environ_sizes_get(self, count_ptr: int, buf_size_ptr: int) -> int:
        """Write the variable count and the total size of the ``K=V\\0`` strings."""
        memory = self._memory()
        memory.write_u32(count_ptr, len(self._environ))
        memory.write_u32(buf_size_ptr, sum(map(len, self._environ)))
        return WasiErrno.SUCCESS

    @_hostcall
    def environ_get(self, environ_ptr: int, buf_ptr: int) -> int:
        """Write the ``K=V\\0`` strings back to back at ``buf_ptr`` and a u32 pointer to each
        at ``environ_ptr`` (the guest sized both with ``environ_sizes_get``)."""
        if not self._environ:
            return WasiErrno.SUCCESS  # nothing to write, so the pointers are never checked
        pointers, offset = [], 0
        for entry in self._environ:
            pointers.append((buf_ptr + offset) & _MASKS[_I32])
            offset += len(entry)
        memory = self._memory()
        memory.write(environ_ptr, struct.pack(f"<{len(pointers)}I", *pointers))
        memory.write(buf_ptr, b"".join(self._environ))
        return WasiErrno.SUCCESS

    @_hostcall
    def args_sizes_get(self, argc_ptr: int, argv_buf_size_ptr: int) -> int:
        """Write 0 arguments of 0 bytes."""
        memory = self._memory()
        memory.write_u32(argc_ptr, 0)
        memory.write_u32(argv_buf_size_ptr, 0)
        return WasiErrno.SUCCESS

    @_hostcall
    def args_get(self, argv_ptr: int, argv_buf_ptr: int) -> int:
        """Success, writing nothing: there are no arguments."""
        return WasiErrno.SUCCESS

    # -- clocks, entropy, scheduling -----------------------------------------------------

    @_hostcall
    def clock_time_get(self, clock_id: int, precision: int, time_ptr: int) -> int:
        """Write the realtime (0) or monotonic (1) clock as u64 ns; ENOTSUP for other ids."""
        clock = self._clocks.get(clock_id)
        if clock is None:
            return WasiErrno.NOTSUP
        self._memory().write_u64(time_ptr, clock())
        return WasiErrno.SUCCESS

    @_hostcall
    def clock_res_get(self, clock_id: int, resolution_ptr: int) -> int:
        """Write CLOCK_RESOLUTION_NS for realtime and monotonic; ENOTSUP for other ids."""
        if clock_id not in self._clocks:
            return WasiErrno.NOTSUP
        self._memory().write_u64(resolution_ptr, CLOCK_RESOLUTION_NS)
        return WasiErrno.SUCCESS

    @_hostcall
    def random_get(self, buf: int, buf_len: int) -> int:
        """Fill ``buf_len`` bytes with entropy; EINVAL above MAX_RANDOM_GET_BYTES."""
        if buf_len > MAX_RANDOM_GET_BYTES:
            return WasiErrno.INVAL
        self._memory().write(buf, self._random_bytes(buf_len))
        return WasiErrno.SUCCESS

    @_hostcall
    def sched_yield(self) -> int:
        """Success; there is nothing to yield to."""
        return WasiErrno.SUCCESS

    @_hostcall
    def poll_oneoff(self, in_ptr: int, out_ptr: int, nsubscriptions: int, nevents_ptr: int) -> int:
        """Write nevents=0 and succeed: the Go runtime needs success (proxy-wasm-cpp-host#497)."""
        self._memory().write_u32(nevents_ptr, 0)
        return WasiErrno.SUCCESS

    @_hostcall
    def proc_exit(self, code: int) -> NoReturn:
        """Log an error and raise ``HostTrap(kind="exit")``; never returns."""
        self._safe_log(LogLevel.ERROR, f"plugin called proc_exit({code})")
        raise HostTrap(f"plugin called proc_exit({code})", kind="exit")

    # -- paths: no preopens, so nothing resolves -----------------------------------------

    @_hostcall
    def path_open(
        self,
        fd: int,
        dirflags: int,
        path: int,
        path_len: int,
        oflags: int,
        rights_base: int,
        rights_inheriting: int,
        fdflags: int,
        fd_ptr: int,
    ) -> int:
        """ENOENT."""
        return WasiErrno.NOENT

    @_hostcall
    def path_filestat_get(self, fd: int, flags: int, path: int, path_len: int, buf: int) -> int:
        """ENOENT."""
        return WasiErrno.NOENT

    @_hostcall
    def path_readlink(
        self, fd: int, path: int, path_len: int, buf: int, buf_len: int, bufused_ptr: int
    ) -> int:
        """ENOENT."""
        return WasiErrno.NOENT

    @_hostcall
    def path_create_directory(self, fd: int, path: int, path_len: int) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    @_hostcall
    def path_filestat_set_times(
        self, fd: int, flags: int, path: int, path_len: int, atim: int, mtim: int, fst_flags: int
    ) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    @_hostcall
    def path_link(
        self,
        old_fd: int,
        old_flags: int,
        old_path: int,
        old_path_len: int,
        new_fd: int,
        new_path: int,
        new_path_len: int,
    ) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    @_hostcall
    def path_remove_directory(self, fd: int, path: int, path_len: int) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    @_hostcall
    def path_rename(
        self, fd: int, old_path: int, old_len: int, new_fd: int, new_path: int, new_len: int
    ) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    @_hostcall
    def path_symlink(
        self, old_path: int, old_len: int, fd: int, new_path: int, new_len: int
    ) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    @_hostcall
    def path_unlink_file(self, fd: int, path: int, path_len: int) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    # -- sockets -------------------------------------------------------------------------

    @_hostcall
    def sock_accept(self, fd: int, flags: int, fd_ptr: int) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    @_hostcall
    def sock_recv(
        self, fd: int, ri_data: int, ri_len: int, ri_flags: int, ro_len_ptr: int, ro_flags_ptr: int
    ) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    @_hostcall
    def sock_send(self, fd: int, si_data: int, si_len: int, si_flags: int, so_len_ptr: int) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE

    @_hostcall
    def sock_shutdown(self, fd: int, how: int) -> int:
        """ENOTCAPABLE."""
        return WasiErrno.NOTCAPABLE
