"""Tests for workers/abi/wasi.py: every WASI function's success and error paths."""

from __future__ import annotations

import inspect
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workers.abi.types import MAX_RANDOM_GET_BYTES, LogLevel, WasiErrno
from workers.abi.wasi import ERRNO_IO, MAX_FD_WRITE_BYTES, WASI_SIGNATURES, Wasi
from workers.vm.base import BytesMemory, HostTrap

MEMORY_BYTES = 65536
OOB = MEMORY_BYTES - 2  # any u32/u64 written here runs off the end
REALTIME_NS = 1_700_000_000_123_456_789
MONOTONIC_NS = 987_654_321


@dataclass
class Host:
    """A Wasi over BytesMemory with recorded logs and deterministic clocks and entropy."""

    memory: BytesMemory = field(default_factory=lambda: BytesMemory(MEMORY_BYTES))
    logs: list[tuple[LogLevel, str]] = field(default_factory=list)
    env: tuple[tuple[str, str], ...] = ()
    random_calls: list[int] = field(default_factory=list)

    def wasi(self, **overrides: object) -> Wasi:
        kwargs: dict[str, object] = {
            "env": self.env,
            "log": lambda level, msg: self.logs.append((level, msg)),
            "clock_realtime_ns": lambda: REALTIME_NS,
            "clock_monotonic_ns": lambda: MONOTONIC_NS,
            "random_bytes": self._random,
        }
        kwargs.update(overrides)
        return Wasi(lambda: self.memory, **kwargs)  # type: ignore[arg-type]

    def _random(self, n: int) -> bytes:
        self.random_calls.append(n)
        return bytes(i & 0xFF for i in range(n))

    def u32(self, ptr: int) -> int:
        return self.memory.read_u32(ptr)

    def u64(self, ptr: int) -> int:
        return self.memory.read_u64(ptr)


@pytest.fixture
def host() -> Host:
    return Host()


def call(wasi: Wasi, name: str, *args: int) -> int | None:
    fn = wasi.lookup(name)
    assert fn is not None
    return fn(*args)


# ---------------------------------------------------------------------------------------
# The table itself


def test_every_signature_has_a_method_with_matching_arity() -> None:
    wasi = Host().wasi()
    for name, (params, results) in WASI_SIGNATURES.items():
        method = getattr(Wasi, name, None)
        assert method is not None, name
        arity = len(inspect.signature(method).parameters) - 1  # self
        assert arity == len(params), name
        assert set(params) | set(results) <= {"i32", "i64"}, name
        assert callable(wasi.lookup(name))


# The list proxy-wasm-cpp-host registers (exports.h FOR_ALL_WASI_FUNCTIONS; reference §1.7).
CPP_HOST_WASI_FUNCTIONS = """
    fd_write fd_read fd_seek fd_close fd_fdstat_get fd_fdstat_set_flags fd_fdstat_set_rights
    fd_advise fd_allocate fd_datasync fd_filestat_get fd_filestat_set_size
    fd_filestat_set_times fd_pread fd_pwrite fd_readdir fd_renumber fd_sync fd_tell
    fd_prestat_get fd_prestat_dir_name
    environ_get environ_sizes_get args_get args_sizes_get
    clock_time_get clock_res_get random_get
    sched_yield poll_oneoff proc_exit
    path_open path_create_directory path_filestat_get path_filestat_set_times path_link
    path_readlink path_remove_directory path_rename path_symlink path_unlink_file
    sock_accept sock_recv sock_send sock_shutdown
"""


def test_signature_table_covers_the_cpp_host_list() -> None:
    assert set(WASI_SIGNATURES) == set(CPP_HOST_WASI_FUNCTIONS.split())


@pytest.mark.parametrize(
    ("name", "signature"),
    [
        ("clock_time_get", (("i32", "i64", "i32"), ("i32",))),
        ("fd_write", (("i32",) * 4, ("i32",))),
        ("fd_seek", (("i32", "i64", "i32", "i32"), ("i32",))),
        ("proc_exit", (("i32",), ())),
        ("sched_yield", ((), ("i32",))),
        ("path_open", (("i32",) * 5 + ("i64", "i64", "i32", "i32"), ("i32",))),
    ],
)
def test_known_signatures(name: str, signature: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    assert WASI_SIGNATURES[name] == signature


def test_signatures_link_against_wasmtime_preview1() -> None:
    """wasmtime links by exact type: a module importing each function with our declared type
    must instantiate against wasmtime's own wasi_snapshot_preview1."""
    import wasmtime  # a dependency of wasmd: missing is an error, not a skip

    imports = "\n".join(
        f'(import "wasi_snapshot_preview1" "{name}" '
        f"(func (param {' '.join(params)}) (result {' '.join(results)})))"
        for name, (params, results) in WASI_SIGNATURES.items()
    )
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    linker.instantiate(store, wasmtime.Module(engine, f"(module {imports})"))


def test_lookup_unknown_name_is_none(host: Host) -> None:
    wasi = host.wasi()
    assert wasi.lookup("proxy_log") is None
    assert wasi.lookup("lookup") is None
    assert wasi.lookup("__init__") is None


# ---------------------------------------------------------------------------------------
# Functions that only return an errno and must not touch memory

CONSTANT_RESULTS: list[tuple[str, tuple[int, ...], int]] = [
    ("fd_read", (1, 0, 1, 0), WasiErrno.NOSYS),
    ("fd_read", (0, OOB, 5, OOB), WasiErrno.NOSYS),
    ("fd_prestat_get", (3, 0), WasiErrno.BADF),
    ("fd_prestat_get", (0, OOB), WasiErrno.BADF),
    ("fd_prestat_dir_name", (3, 0, 10), WasiErrno.BADF),
    ("fd_advise", (1, 0, 10, 0), WasiErrno.NOSYS),
    ("fd_allocate", (1, 0, 10), WasiErrno.NOSYS),
    ("fd_datasync", (1,), WasiErrno.NOSYS),
    ("fd_fdstat_set_flags", (1, 0), WasiErrno.NOSYS),
    ("fd_fdstat_set_rights", (1, 0, 0), WasiErrno.NOSYS),
    ("fd_filestat_get", (1, 0), WasiErrno.NOSYS),
    ("fd_filestat_set_size", (1, 0), WasiErrno.NOSYS),
    ("fd_filestat_set_times", (1, 0, 0, 0), WasiErrno.NOSYS),
    ("fd_pread", (1, 0, 1, 0, 0), WasiErrno.NOSYS),
    ("fd_pwrite", (1, 0, 1, 0, 0), WasiErrno.NOSYS),
    ("fd_readdir", (3, 0, 100, 0, 0), WasiErrno.NOSYS),
    ("fd_renumber", (1, 5), WasiErrno.NOSYS),
    ("fd_sync", (1,), WasiErrno.NOSYS),
    ("fd_tell", (1, 0), WasiErrno.NOSYS),
    ("args_get", (0, 0), WasiErrno.SUCCESS),
    ("args_get", (OOB, OOB), WasiErrno.SUCCESS),
    ("sched_yield", (), WasiErrno.SUCCESS),
    ("path_open", (3, 0, 0, 4, 0, 0, 0, 0, 0), WasiErrno.NOENT),
    ("path_open", (3, 0, 0, 4, 0, -1, -1, 0, OOB), WasiErrno.NOENT),
    ("path_filestat_get", (3, 0, 0, 4, 0), WasiErrno.NOENT),
    ("path_readlink", (3, 0, 4, 0, 10, 0), WasiErrno.NOENT),
    ("path_create_directory", (3, 0, 4), WasiErrno.NOTCAPABLE),
    ("path_filestat_set_times", (3, 0, 0, 4, 0, 0, 0), WasiErrno.NOTCAPABLE),
    ("path_link", (3, 0, 0, 4, 3, 8, 4), WasiErrno.NOTCAPABLE),
    ("path_remove_directory", (3, 0, 4), WasiErrno.NOTCAPABLE),
    ("path_rename", (3, 0, 4, 3, 8, 4), WasiErrno.NOTCAPABLE),
    ("path_symlink", (0, 4, 3, 8, 4), WasiErrno.NOTCAPABLE),
    ("path_unlink_file", (3, 0, 4), WasiErrno.NOTCAPABLE),
    ("sock_accept", (3, 0, 0), WasiErrno.NOTCAPABLE),
    ("sock_recv", (3, 0, 1, 0, 0, 0), WasiErrno.NOTCAPABLE),
    ("sock_send", (3, 0, 1, 0, 0), WasiErrno.NOTCAPABLE),
    ("sock_shutdown", (3, 0), WasiErrno.NOTCAPABLE),
]


def test_constant_results_cover_every_stub() -> None:
    covered = {name for name, _, _ in CONSTANT_RESULTS}
    stubs = {n for n in WASI_SIGNATURES if n.startswith(("path_", "sock_"))}
    assert stubs <= covered


@pytest.mark.parametrize(("name", "args", "errno"), CONSTANT_RESULTS)
def test_constant_results(host: Host, name: str, args: tuple[int, ...], errno: int) -> None:
    host.memory.buf[:] = b"\xaa" * MEMORY_BYTES
    result = call(host.wasi(), name, *args)
    assert result == errno
    assert type(result) is int
    assert host.memory.buf == b"\xaa" * MEMORY_BYTES
    assert host.logs == []


@pytest.mark.parametrize("name", ["fd_seek", "fd_close"])
def test_seek_and_close_log_an_error_and_succeed_like_the_cpp_host(host: Host, name: str) -> None:
    args = (1, 5, 0, OOB) if name == "fd_seek" else (1,)
    host.memory.buf[:] = b"\xaa" * MEMORY_BYTES
    assert call(host.wasi(), name, *args) == WasiErrno.SUCCESS
    assert host.memory.buf == b"\xaa" * MEMORY_BYTES
    assert [(level, name in msg) for level, msg in host.logs] == [(LogLevel.ERROR, True)]


# ---------------------------------------------------------------------------------------
# fd_write


def write_iovecs(memory: BytesMemory, chunks: list[bytes], iovs: int = 0, data: int = 1024) -> int:
    """Lay out ``chunks`` at ``data`` and their ciovec array at ``iovs``; return the count."""
    for i, chunk in enumerate(chunks):
        memory.write(iovs + 8 * i, struct.pack("<II", data, len(chunk)))
        memory.write(data, chunk)
        data += len(chunk)
    return len(chunks)


@pytest.mark.parametrize(
    ("fd", "chunks", "logged"),
    [
        (1, [b"hello\n"], [(LogLevel.INFO, "hello")]),
        (2, [b"oops\n"], [(LogLevel.ERROR, "oops")]),
        (1, [b"he", b"", b"llo", b" world\n"], [(LogLevel.INFO, "hello world")]),
        (1, [b"two\n\n"], [(LogLevel.INFO, "two\n")]),  # only one newline is stripped
        (1, [b"no newline"], [(LogLevel.INFO, "no newline")]),
        (1, [b"\n"], [(LogLevel.INFO, "")]),
        (1, [b"a\n", b"b\n"], [(LogLevel.INFO, "a\nb")]),
        (1, [b"caf\xc3\xa9 \xff\n"], [(LogLevel.INFO, "caf\u00e9 \ufffd")]),
        (1, [], []),
        (1, [b"", b""], []),
    ],
)
def test_fd_write_gathers_and_logs(
    host: Host, fd: int, chunks: list[bytes], logged: list[tuple[LogLevel, str]]
) -> None:
    n = write_iovecs(host.memory, chunks)
    assert call(host.wasi(), "fd_write", fd, 0, n, 512) == WasiErrno.SUCCESS
    assert host.logs == logged
    assert host.u32(512) == sum(map(len, chunks))


@pytest.mark.parametrize("fd", [0, 3, 100, -1])
def test_fd_write_other_fds_are_badf(host: Host, fd: int) -> None:
    n = write_iovecs(host.memory, [b"x"])
    assert call(host.wasi(), "fd_write", fd, 0, n, 512) == WasiErrno.BADF
    assert host.logs == []
    assert host.u32(512) == 0


def test_fd_write_skips_empty_iovecs_whatever_their_pointer(host: Host) -> None:
    host.memory.write(0, struct.pack("<IIII", 0xFFFF_FFF0, 0, 1024, 2))
    host.memory.write(1024, b"ok")
    assert call(host.wasi(), "fd_write", 1, 0, 2, 512) == WasiErrno.SUCCESS
    assert host.logs == [(LogLevel.INFO, "ok")]


@pytest.mark.parametrize(
    ("iovs", "iovs_len", "iovec", "nwritten_ptr"),
    [
        (OOB, 1, None, 512),  # the iovec array itself is out of bounds
        (0, MEMORY_BYTES // 8 + 1, None, 512),  # the array runs past the end
        (0, 1, (MEMORY_BYTES - 1, 2), 512),  # a buffer runs past the end
        (0, 1, (0xFFFF_FFFF, 1), 512),
        (0, 1, (1024, 1), OOB),  # nwritten cannot be stored
        (-8, 1, None, 512),  # sign-extended i32 pointer: really 0xFFFFFFF8
    ],
)
def test_fd_write_faults(
    host: Host, iovs: int, iovs_len: int, iovec: tuple[int, int] | None, nwritten_ptr: int
) -> None:
    if iovec is not None:
        host.memory.write(0, struct.pack("<II", *iovec))
    assert call(host.wasi(), "fd_write", 1, iovs, iovs_len, nwritten_ptr) == WasiErrno.FAULT


def test_fd_write_takes_at_most_max_bytes_per_call(host: Host) -> None:
    """Many iovecs aliasing one big region must not make the host copy without bound."""
    count = MAX_FD_WRITE_BYTES // 40_000 + 2
    for i in range(count):
        host.memory.write(8 * i, struct.pack("<II", 1024, 40_000))
    assert call(host.wasi(), "fd_write", 1, 0, count, 512) == WasiErrno.SUCCESS
    assert host.u32(512) == MAX_FD_WRITE_BYTES
    assert len(host.logs[0][1]) == MAX_FD_WRITE_BYTES


@given(st.lists(st.binary(max_size=40), max_size=8))
def test_fd_write_property(chunks: list[bytes]) -> None:
    host = Host()
    n = write_iovecs(host.memory, chunks)
    assert call(host.wasi(), "fd_write", 2, 0, n, 512) == WasiErrno.SUCCESS
    data = b"".join(chunks)
    assert host.u32(512) == len(data)
    expected = data.removesuffix(b"\n").decode("utf-8", errors="replace")
    assert host.logs == ([(LogLevel.ERROR, expected)] if data else [])


# ---------------------------------------------------------------------------------------
# fd_fdstat_get

STDIO_FDSTAT = bytes([2, 0, 0, 0, 0, 0, 0, 0]) + (64).to_bytes(8, "little") + bytes(8)


@pytest.mark.parametrize(
    ("fd", "ptr", "errno", "written"),
    [
        (1, 100, WasiErrno.SUCCESS, STDIO_FDSTAT),
        (2, 100, WasiErrno.SUCCESS, STDIO_FDSTAT),
        (0, 100, WasiErrno.BADF, None),
        (3, 100, WasiErrno.BADF, None),
        (3, OOB, WasiErrno.BADF, None),
        (1, MEMORY_BYTES - 16, WasiErrno.FAULT, None),
    ],
)
def test_fd_fdstat_get(host: Host, fd: int, ptr: int, errno: int, written: bytes | None) -> None:
    host.memory.buf[:] = b"\xaa" * MEMORY_BYTES
    assert call(host.wasi(), "fd_fdstat_get", fd, ptr) == errno
    if written is None:
        assert host.memory.buf == b"\xaa" * MEMORY_BYTES
    else:
        assert host.memory.read(ptr, 24) == written


# ---------------------------------------------------------------------------------------
# environ_* and args_*


@pytest.mark.parametrize(
    ("env", "count", "buf"),
    [
        ((), 0, b""),
        ((("A", "1"),), 1, b"A=1\0"),
        ((("A", "1"), ("PATH", "/x:/y")), 2, b"A=1\0PATH=/x:/y\0"),
        ((("EMPTY", ""), ("K", "v=w")), 2, b"EMPTY=\0K=v=w\0"),
        ((("U", "caf\u00e9"),), 1, b"U=caf\xc3\xa9\0"),
    ],
)
def test_environ_layout(env: tuple[tuple[str, str], ...], count: int, buf: bytes) -> None:
    host = Host(env=env)
    wasi = host.wasi()
    assert call(wasi, "environ_sizes_get", 0, 4) == WasiErrno.SUCCESS
    assert (host.u32(0), host.u32(4)) == (count, len(buf))
    assert call(wasi, "environ_get", 100, 1000) == WasiErrno.SUCCESS
    assert host.memory.read(1000, len(buf)) == buf
    starts = [1000 + i + 1 for i, b in enumerate(buf) if b == 0][:-1]
    assert [host.u32(100 + 4 * i) for i in range(count)] == ([1000, *starts] if count else [])


def test_environ_is_only_the_configured_env(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASMD_SECRET", "do-not-leak")
    assert call(host.wasi(), "environ_sizes_get", 0, 4) == WasiErrno.SUCCESS
    assert (host.u32(0), host.u32(4)) == (0, 0)


def test_environ_get_with_no_env_does_not_check_pointers(host: Host) -> None:
    assert call(host.wasi(), "environ_get", OOB, OOB) == WasiErrno.SUCCESS


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("environ_sizes_get", (OOB, 4)),
        ("environ_sizes_get", (0, OOB)),
        ("environ_get", (OOB, 1000)),  # pointer array
        ("environ_get", (100, MEMORY_BYTES - 4)),  # string buffer
        ("args_sizes_get", (OOB, 4)),
        ("args_sizes_get", (0, OOB)),
    ],
)
def test_environ_and_args_faults(name: str, args: tuple[int, int]) -> None:
    host = Host(env=(("A", "1"), ("B", "2")))
    assert call(host.wasi(), name, *args) == WasiErrno.FAULT


@pytest.mark.parametrize(
    "env", [[("", "x")], [("A=B", "x")], [("A\0", "x")], [("A", "x\0y")]]
)  # fmt: skip
def test_invalid_env_is_rejected_at_construction(env: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError, match="environment variable"):
        Host(env=tuple(env)).wasi()


def test_args_sizes_get_writes_zero(host: Host) -> None:
    host.memory.write(0, b"\xff" * 8)
    assert call(host.wasi(), "args_sizes_get", 0, 4) == WasiErrno.SUCCESS
    assert (host.u32(0), host.u32(4)) == (0, 0)


# ---------------------------------------------------------------------------------------
# clocks


@pytest.mark.parametrize(
    ("name", "clock_id", "ptr", "errno", "value"),
    [
        ("clock_time_get", 0, 8, WasiErrno.SUCCESS, REALTIME_NS),
        ("clock_time_get", 1, 8, WasiErrno.SUCCESS, MONOTONIC_NS),
        ("clock_time_get", 2, 8, WasiErrno.NOTSUP, None),  # process cputime
        ("clock_time_get", 3, 8, WasiErrno.NOTSUP, None),  # thread cputime
        ("clock_time_get", -1, 8, WasiErrno.NOTSUP, None),
        ("clock_time_get", 0, MEMORY_BYTES - 4, WasiErrno.FAULT, None),
        ("clock_time_get", 1, -8, WasiErrno.FAULT, None),
        ("clock_res_get", 0, 8, WasiErrno.SUCCESS, 1),
        ("clock_res_get", 1, 8, WasiErrno.SUCCESS, 1),
        ("clock_res_get", 2, 8, WasiErrno.NOTSUP, None),
        ("clock_res_get", 0, MEMORY_BYTES - 4, WasiErrno.FAULT, None),
    ],
)
def test_clocks(
    host: Host, name: str, clock_id: int, ptr: int, errno: int, value: int | None
) -> None:
    args = (clock_id, 1000, ptr) if name == "clock_time_get" else (clock_id, ptr)
    assert call(host.wasi(), name, *args) == errno
    assert host.u64(8) == (value if value is not None else 0)


def test_clock_time_get_ignores_precision_and_wraps_to_u64(host: Host) -> None:
    wasi = host.wasi(clock_realtime_ns=lambda: 2**64 + 5)
    assert call(wasi, "clock_time_get", 0, -1, 8) == WasiErrno.SUCCESS
    assert host.u64(8) == 5


def test_default_clocks_are_real(host: Host) -> None:
    wasi = Wasi(lambda: host.memory, log=lambda level, msg: None)
    assert call(wasi, "clock_time_get", 0, 0, 8) == WasiErrno.SUCCESS
    assert host.u64(8) > 1_600_000_000 * 10**9


# ---------------------------------------------------------------------------------------
# random_get


@pytest.mark.parametrize(
    ("buf", "length", "errno"),
    [
        (0, 0, WasiErrno.SUCCESS),
        (100, 16, WasiErrno.SUCCESS),
        (0, MAX_RANDOM_GET_BYTES, WasiErrno.SUCCESS),
        (0, MAX_RANDOM_GET_BYTES + 1, WasiErrno.INVAL),
        (0, -1, WasiErrno.INVAL),  # sign-extended: 4 GiB
        (2 * MAX_RANDOM_GET_BYTES - 8, 16, WasiErrno.FAULT),
    ],
)
def test_random_get(buf: int, length: int, errno: int) -> None:
    host = Host(memory=BytesMemory(2 * MAX_RANDOM_GET_BYTES))
    assert call(host.wasi(), "random_get", buf, length) == errno
    if errno == WasiErrno.SUCCESS:
        assert host.memory.read(buf, length) == bytes(i & 0xFF for i in range(length))
    if errno == WasiErrno.INVAL:
        assert host.random_calls == []


def test_default_random_source(host: Host) -> None:
    wasi = Wasi(lambda: host.memory, log=lambda level, msg: None)
    assert call(wasi, "random_get", 0, 64) == WasiErrno.SUCCESS
    assert host.memory.read(0, 64) != bytes(64)


# ---------------------------------------------------------------------------------------
# poll_oneoff, proc_exit


def test_poll_oneoff_reports_no_events(host: Host) -> None:
    host.memory.write(512, b"\xff\xff\xff\xff")
    assert call(host.wasi(), "poll_oneoff", 0, 256, 1, 512) == WasiErrno.SUCCESS
    assert host.u32(512) == 0


def test_poll_oneoff_fault(host: Host) -> None:
    assert call(host.wasi(), "poll_oneoff", 0, 256, 1, OOB) == WasiErrno.FAULT


@pytest.mark.parametrize(("code", "shown"), [(0, 0), (3, 3), (-1, 0xFFFF_FFFF)])
def test_proc_exit_traps(host: Host, code: int, shown: int) -> None:
    with pytest.raises(HostTrap, match=rf"plugin called proc_exit\({shown}\)") as info:
        call(host.wasi(), "proc_exit", code)
    assert info.value.kind == "exit"
    assert [level for level, _ in host.logs] == [LogLevel.ERROR]


def test_proc_exit_traps_even_if_logging_fails(host: Host) -> None:
    def broken_log(level: LogLevel, msg: str) -> None:
        raise RuntimeError("sink down")

    with pytest.raises(HostTrap):
        call(host.wasi(log=broken_log), "proc_exit", 1)


# ---------------------------------------------------------------------------------------
# Host-side failures never escape into the guest


def _raise(exc: Exception) -> Callable[..., object]:
    def fn(*args: object) -> object:
        raise exc

    return fn


@pytest.mark.parametrize(
    ("override", "name", "args"),
    [
        ({"log": _raise(RuntimeError("sink down"))}, "fd_write", (1, 0, 1, 512)),
        ({"clock_realtime_ns": _raise(OSError("no clock"))}, "clock_time_get", (0, 0, 8)),
        ({"random_bytes": _raise(OSError("no entropy"))}, "random_get", (0, 8)),
        ({"random_bytes": lambda n: "not bytes"}, "random_get", (0, 8)),
    ],
)
def test_host_failures_become_eio(
    host: Host, override: dict[str, object], name: str, args: tuple[int, ...]
) -> None:
    write_iovecs(host.memory, [b"x"])
    assert call(host.wasi(**override), name, *args) == ERRNO_IO


def test_failing_memory_getter_becomes_eio(host: Host) -> None:
    wasi = Wasi(_raise(RuntimeError("instance gone")), log=lambda lv, msg: None)  # type: ignore[arg-type]
    assert call(wasi, "args_sizes_get", 0, 4) == ERRNO_IO


def test_wrong_arity_becomes_eio_and_is_logged(host: Host) -> None:
    assert call(host.wasi(), "fd_write", 1, 0) == ERRNO_IO
    assert [level for level, _ in host.logs] == [LogLevel.ERROR]
