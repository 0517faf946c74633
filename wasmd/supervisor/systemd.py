"""systemd glue: ``sd_notify`` over ``NOTIFY_SOCKET`` and the watchdog interval.

The protocol is one datagram of newline-separated ``KEY=VALUE`` lines to the AF_UNIX socket
named by ``NOTIFY_SOCKET`` (a leading ``@`` means the abstract namespace). No libsystemd.

Only the supervisor talks to systemd (the unit says ``NotifyAccess=main``).
``Notifier.from_environment`` therefore removes ``NOTIFY_SOCKET`` and the watchdog variables
from ``os.environ`` when it reads them, so worker processes never inherit them (Knot
Resolver does the same); ``child_environment`` scrubs an explicit environment the same way.

Messages the supervisor sends (supervisors.md §2.1):
- ``READY=1`` once the sockets are bound and the initial workers are ready;
- ``STATUS=...`` a one-line summary shown by ``systemctl status``;
- ``WATCHDOG=1`` every ``watchdog_interval_s()`` from the main loop, only if it really ran;
- ``RELOADING=1`` + ``MONOTONIC_USEC`` at the start of a rollout, then ``READY=1``;
- ``STOPPING=1`` at the start of a graceful stop.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Mapping, MutableMapping

from wasmd.kernel.logs import get_logger

# Variables systemd sets for the main process only; children must not see them.
SYSTEMD_ONLY_VARIABLES = (
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "LISTEN_PID",
    "LISTEN_FDS",
    "LISTEN_FDNAMES",
)
# Ping twice per WatchdogSec= period, as sd_watchdog_enabled(3) recommends.
WATCHDOG_PINGS_PER_PERIOD = 2


def format_message(**fields: str | int) -> bytes:
    """``KEY=VALUE`` lines for one notification; newlines in values become spaces."""
    lines = (f"{key}={str(value).replace(chr(10), ' ')}" for key, value in fields.items())
    return "\n".join(lines).encode()


def socket_address(notify_socket: str) -> str | bytes:
    """The ``connect``/``sendto`` address for a NOTIFY_SOCKET value (``@`` = abstract)."""
    if notify_socket.startswith("@"):
        return b"\0" + notify_socket[1:].encode()
    return notify_socket


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, as ``MONOTONIC_USEC`` wants it."""
    return time.monotonic_ns() // 1000


def watchdog_interval_s(environ: Mapping[str, str], pid: int) -> float | None:
    """How often to send ``WATCHDOG=1``, or None when the watchdog is off for ``pid``.

    Follows sd_watchdog_enabled(3): ``WATCHDOG_USEC`` must be a positive integer, and if
    ``WATCHDOG_PID`` is set it must be ``pid``.
    """
    usec = environ.get("WATCHDOG_USEC", "")
    owner = environ.get("WATCHDOG_PID")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if owner is not None and owner != str(pid):
        return None
    return int(usec) / 1_000_000 / WATCHDOG_PINGS_PER_PERIOD


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``environ`` without the variables meant for the main process only."""
    return {k: v for k, v in environ.items() if k not in SYSTEMD_ONLY_VARIABLES}


class Notifier:
    """Sends notifications to systemd; does nothing when not started by it.

    Sending never raises: a lost notification must not take the daemon down. The first
    failure is logged and disables the notifier (systemd went away or the address is bad).
    ``close`` is idempotent.
    """

    def __init__(self, notify_socket: str | None, watchdog_s: float | None = None) -> None:
        self.address = socket_address(notify_socket) if notify_socket else None
        self.watchdog_s = watchdog_s
        self._sock: socket.socket | None = None
        self._log = get_logger(component="systemd")

    @classmethod
    def from_environment(cls, environ: MutableMapping[str, str] | None = None) -> Notifier:
        """Read NOTIFY_SOCKET and the watchdog settings, removing them from ``environ``."""
        env = os.environ if environ is None else environ
        notify_socket = env.get("NOTIFY_SOCKET")
        watchdog_s = watchdog_interval_s(env, os.getpid())
        for key in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(key, None)
        return cls(notify_socket, watchdog_s)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, **fields: str | int) -> bool:
        """Send one notification; True if it was sent."""
        if self.address is None:
            return False
        try:
            self._socket().sendto(format_message(**fields), self.address)
        except OSError as exc:
            self._log.warning("sd_notify_failed", error=str(exc), fields=sorted(fields))
            self.address = None
            self.close()
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify(READY=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> bool:
        return self.notify(STATUS=text)

    def watchdog(self) -> bool:
        return self.notify(WATCHDOG=1)

    def reloading(self, status: str = "") -> bool:
        """Start of a reload; send ``ready()`` when it is over (success or not)."""
        extra = {"STATUS": status} if status else {}
        return self.notify(RELOADING=1, MONOTONIC_USEC=monotonic_usec(), **extra)

    def stopping(self, status: str = "") -> bool:
        return self.notify(STOPPING=1, **({"STATUS": status} if status else {}))

    def _socket(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        return self._sock

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
