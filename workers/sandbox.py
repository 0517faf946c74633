"""The worker's sandbox: no capabilities, and a seccomp filter, installed at start.

``enter()`` runs once, early in ``workers.process.harden`` (the worker has already set
PR_SET_NO_NEW_PRIVS, which an unprivileged seccomp filter requires):

1. Capabilities: every capability goes (bounding set, ambient set, then effective/
   permitted/inheritable through capset). A worker of a root supervisor keeps only
   CAP_SETUID/SETGID/SETPCAP, and only until ``drop_user``: it reads its config and
   modules, compiles (filling the cache), starts its plugins and binds its ext_proc socket
   in runtime_dir as uid 0, then, before it reports READY and serves anything, drops to the
   ``[daemon] worker_user`` (``worker_identity``: the ``wasmd`` user, else ``nobody``) with
   no supplementary groups and no capabilities left at all.
2. seccomp (kernel interface, a BPF program assembled here, no libseccomp): on x86_64 and
   aarch64, the calls below answer EPERM and everything else is allowed; a call from
   another architecture (or the x32 ABI) kills the process. Denied: execve/execveat (no new
   programs), ptrace and process_vm_readv/writev (no reading other processes), socket()
   for families other than AF_UNIX, AF_INET, AF_INET6 (faces and callouts), and the
   administrative calls a worker never makes (mount, namespaces, bpf, perf, keyrings,
   modules, kexec, reboot, swap, chroot, userfaultfd, open_by_handle_at). The action is
   EPERM rather than kill so that a plugin-triggered path in Python fails with an
   exception the worker reports, not a silent death. The filter is a deny-list on top of
   systemd's ``SystemCallFilter=@system-service`` allow-list when run under the unit.
The filter is synchronized to every thread of the process (SECCOMP_FILTER_FLAG_TSYNC).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import socket
import struct
from collections.abc import Sequence

PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_X32_BIT = 0x40000000
ALLOWED_FAMILIES = (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6)

_DENIED = (  # noqa: SIM905 - one name per word reads better than 26 quoted strings
    "execve execveat ptrace process_vm_readv process_vm_writev kexec_load kexec_file_load "
    "init_module finit_module delete_module mount umount2 bpf userfaultfd perf_event_open "
    "keyctl add_key request_key unshare setns pivot_root chroot swapon swapoff reboot "
    "open_by_handle_at"
).split()

# (audit arch, seccomp syscall nr, capset nr, syscall numbers) per machine.
_ARCHES: dict[str, tuple[int, int, int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        317,
        126,
        dict(
            execve=59,
            execveat=322,
            ptrace=101,
            process_vm_readv=310,
            process_vm_writev=311,
            socket=41,
            kexec_load=246,
            kexec_file_load=320,
            init_module=175,
            finit_module=313,
            delete_module=176,
            mount=165,
            umount2=166,
            bpf=321,
            userfaultfd=323,
            perf_event_open=298,
            keyctl=250,
            add_key=248,
            request_key=249,
            unshare=272,
            setns=308,
            pivot_root=155,
            chroot=161,
            swapon=167,
            swapoff=168,
            reboot=169,
            open_by_handle_at=304,
        ),
    ),  # fmt: skip
    "aarch64": (
        0xC00000B7,
        277,
        91,
        dict(
            execve=221,
            execveat=281,
            ptrace=117,
            process_vm_readv=270,
            process_vm_writev=271,
            socket=198,
            kexec_load=104,
            kexec_file_load=294,
            init_module=105,
            finit_module=273,
            delete_module=106,
            mount=40,
            umount2=39,
            bpf=280,
            userfaultfd=282,
            perf_event_open=241,
            keyctl=219,
            add_key=217,
            request_key=218,
            unshare=97,
            setns=268,
            pivot_root=41,
            chroot=51,
            swapon=224,
            swapoff=225,
            reboot=142,
            open_by_handle_at=265,
        ),
    ),  # fmt: skip
}


class SandboxError(OSError):
    """The sandbox could not be installed (the worker refuses to run without it)."""


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def bpf_program(arch: int, numbers: dict[str, int], denied: Sequence[str]) -> list[bytes]:
    """The filter described in the module doc, as struct sock_filter instructions."""
    deny_nrs = [numbers[name] for name in denied]
    prog = [_insn(_LD_W_ABS, 4), _insn(_JEQ_K, arch, jt=1), _insn(_RET_K, RET_KILL_PROCESS)]
    prog.append(_insn(_LD_W_ABS, 0))  # the syscall number
    # Layout after here: x32 check, one JEQ per denied call, JEQ socket, ALLOW,
    # socket family checks (load + one JEQ per family), ERRNO.
    n_deny, n_fam = len(deny_nrs), len(ALLOWED_FAMILIES)
    errno_at = n_deny + n_fam + 4  # relative to the x32 check
    prog.append(_insn(_JGE_K, _X32_BIT, jt=errno_at - 1))
    for i, nr in enumerate(deny_nrs):
        prog.append(_insn(_JEQ_K, nr, jt=errno_at - (i + 2)))
    prog.append(_insn(_JEQ_K, numbers["socket"], jt=1))
    prog.append(_insn(_RET_K, RET_ALLOW))
    prog.append(_insn(_LD_W_ABS, 16))  # args[0], low 32 bits (little endian)
    for i, family in enumerate(ALLOWED_FAMILIES):
        prog.append(_insn(_JEQ_K, int(family), jt=n_fam - i))
    prog.append(_insn(_RET_K, RET_ERRNO | errno.EPERM))
    prog.append(_insn(_RET_K, RET_ALLOW))
    assert len(prog) == 4 + errno_at + 2
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def _check(libc: ctypes.CDLL, result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"sandbox: {what}: {os.strerror(err)}")


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return 40


def drop_capabilities(libc: ctypes.CDLL, capset_nr: int, keep: int = 0) -> None:
    """Bounding set (when we may), ambient set, then effective/permitted/inheritable; the
    capabilities in the bit mask ``keep`` stay (only until ``drop_user``)."""
    for cap in range(_last_cap() + 1):
        if keep & (1 << cap):
            continue
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # without CAP_SETPCAP (not root): nothing to drop from the bounding set
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = struct.pack("=Ii", _LINUX_CAPABILITY_VERSION_3, 0)
    # Two {effective, permitted, inheritable} u32 triples (capabilities 0-31, 32-63).
    data = struct.pack("=6I", keep, keep, 0, 0, 0, 0)
    _check(libc, libc.syscall(capset_nr, header, data), "capset")


def install_filter(libc: ctypes.CDLL, seccomp_nr: int, program: list[bytes]) -> None:
    code = b"".join(program)
    fprog = _SockFprog(len(program), code)
    flags = SECCOMP_FILTER_FLAG_TSYNC
    result = libc.syscall(seccomp_nr, SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(fprog))
    _check(libc, result, "seccomp filter")


def enter(*, keep_setid: bool = False) -> None:
    """Drop capabilities and install the filter; raises SandboxError if either fails.

    PR_SET_NO_NEW_PRIVS must already be set. Unknown architectures raise too: a worker
    never runs without its sandbox. ``keep_setid`` keeps CAP_SETUID, CAP_SETGID and
    CAP_SETPCAP for a later ``drop_user`` (which ends them).
    """
    machine = platform.machine()
    if machine not in _ARCHES:
        raise SandboxError(errno.ENOSYS, f"sandbox: no seccomp filter for {machine}")
    arch, seccomp_nr, capset_nr, numbers = _ARCHES[machine]
    libc = _libc()
    drop_capabilities(libc, capset_nr, _KEPT_FOR_DROP if keep_setid else 0)
    install_filter(libc, seccomp_nr, bpf_program(arch, numbers, _DENIED))


# -- dropping to an unprivileged user -----------------------------------------------------
CAP_SETGID, CAP_SETUID, CAP_SETPCAP = 6, 7, 8
_KEPT_FOR_DROP = (1 << CAP_SETGID) | (1 << CAP_SETUID) | (1 << CAP_SETPCAP)
AUTO_USERS = ("wasmd", "nobody")


def worker_identity(setting: str) -> tuple[int, int] | None:
    """(uid, gid) a worker of this process should drop to, or None to stay as it is.

    Only a root supervisor's workers drop. ``setting`` is ``[daemon] worker_user``: empty
    means the ``wasmd`` user when it exists, else ``nobody``; ``root`` keeps root (without
    capabilities). Raises KeyError for an unknown user (the config parser checks first).
    """
    if os.geteuid() != 0 or setting == "root":
        return None
    import pwd

    names = (setting,) if setting else AUTO_USERS
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise KeyError(f"no such user: {' or '.join(names)}")


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def drop_user(uid: int, gid: int) -> None:
    """No supplementary groups, then gid, then the bounding set, then uid (all of real,
    effective, saved): the kernel clears the remaining capabilities with the last step.
    Needs CAP_SETGID, CAP_SETUID and CAP_SETPCAP (``enter(keep_setid=True)`` keeps them).
    Raises SandboxError if the process could still regain privileges afterwards."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    libc = _libc()
    for cap in range(_last_cap() + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise SandboxError(errno.EPERM, "sandbox: the uid/gid drop did not take")
    try:
        os.setresuid(0, 0, 0)  # must fail now
    except PermissionError:
        return
    raise SandboxError(errno.EPERM, "sandbox: a dropped worker could become root again")
