"""Fresh worker numbers for ``wasmd status`` and ``wasmd metrics``, asked for on demand.

Workers heartbeat every ``heartbeat_interval_s`` (1 s by default), so a status or metrics
answer built from the last heartbeats is up to that old. Before answering, the supervisor
sends each serving worker ``ctl.REFRESH`` and waits (at most ``REFRESH_TIMEOUT_S``) until
each has sent a heartbeat after it; a worker that does not answer in time (busy in a long
guest call, stopped) is shown with its last heartbeat, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

REFRESH_TIMEOUT_S = 0.5


class HeartbeatWaiter:
    """Counts heartbeats per worker; ``wait`` returns once the named workers sent one more."""

    def __init__(self) -> None:
        self._seen: dict[int, int] = {}
        self._event = asyncio.Event()

    def seen(self, wid: int) -> None:
        """A heartbeat from ``wid`` arrived (call from the control-channel reader)."""
        self._seen[wid] = self._seen.get(wid, 0) + 1
        self._event.set()

    def forget(self, wid: int) -> None:
        self._seen.pop(wid, None)
        self._event.set()

    def marks(self, wids: Collection[int]) -> dict[int, int]:
        """The current count of each worker, to ``wait`` past."""
        return {wid: self._seen.get(wid, 0) for wid in wids}

    async def wait(self, marks: dict[int, int], timeout_s: float = REFRESH_TIMEOUT_S) -> bool:
        """True once every worker in ``marks`` (still known) heartbeat past its mark;
        False when ``timeout_s`` passed first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while any(self._seen.get(w, m + 1) <= m for w, m in marks.items()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                return False
        return True
