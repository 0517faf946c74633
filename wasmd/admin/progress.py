"""``wasmd reload --wait`` progress: what changed per slot, printed as it happens.

While the Reload call waits, a second connection polls Status and prints one line to
stderr per change: a slot's replacement spawning or ready on the new generation, an old
worker draining (with its streams in flight) and gone. ``changes`` is pure; ``Watcher``
runs it on a thread until stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TextIO

from wasmd.admin import model

POLL_S = 0.2

Seen = dict[tuple[str, int, int | None], str]  # (kind, slot, pid) -> what was last said


def describe(status: model.DaemonStatus) -> Seen:
    """What one status says per slot worker and per draining worker."""
    out: Seen = {}
    for w in status.workers:
        out[("slot", w.slot, None)] = (
            f"slot {w.slot}: generation {w.generation} {w.state.value}"
            + (f" (pid {w.pid})" if w.pid is not None else "")
        )
        if w.pid is not None:
            out[("live", w.slot, w.pid)] = ""  # tracked, so its exit is reported
    for w in status.draining:
        out[("old", w.slot, w.pid)] = (
            f"slot {w.slot}: old worker pid {w.pid} (generation {w.generation}) draining, "
            f"{w.in_flight} in flight"
        )
    return out


def changes(before: Seen, after: Seen) -> list[str]:
    """Lines for what is new or different in ``after``, and for draining workers gone."""
    lines = [text for key, text in after.items() if text and before.get(key) != text]
    for kind, slot, pid in before:
        gone = kind in ("live", "old") and not {("live", slot, pid), ("old", slot, pid)} & set(
            after
        )
        if gone:
            lines.append(f"slot {slot}: old worker pid {pid} drained and exited")
    return lines


class Watcher:
    """Polls ``status()`` every POLL_S on a thread and prints changes to ``out``."""

    def __init__(self, status: Callable[[], model.DaemonStatus], out: TextIO) -> None:
        self._status = status
        self._out = out
        self._stop = threading.Event()
        self._seen: Seen = {}
        self._thread = threading.Thread(target=self._run, name="reload-progress", daemon=True)

    def __enter__(self) -> Watcher:
        try:
            self._seen = describe(self._status())  # the starting point is not progress
        except Exception:
            self._seen = {}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(POLL_S * 10)
        self.poll()  # the last changes (old workers gone) before the final line

    def poll(self) -> None:
        try:
            now = describe(self._status())
        except Exception:
            return  # progress is best effort; the reload's own answer decides the exit
        for line in changes(self._seen, now):
            print(line, file=self._out, flush=True)
        self._seen = now

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self.poll()
