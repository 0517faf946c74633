"""What a PluginVm needs from the event loop that owns it: timers, wake-ups, callouts.

The contexts layer stays synchronous and I/O-free; the worker's loop (workers/service.py)
implements ``HostServices``. ``NoServices`` serves code that runs without a loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from workers.contexts.plugin import PluginVm
    from workers.contexts.stream import StreamContext


class HostServices(Protocol):
    def tick_period_changed(self, vm: PluginVm) -> None:
        """The plugin set (or cleared, period 0) its tick period."""

    def stream_continued(self, vm: PluginVm, ctx: StreamContext) -> None:
        """The plugin asked to continue a paused stream (proxy_continue_stream)."""

    def queue_ready(self, queue_id: int, owner: object) -> None:
        """A shared queue registered by ``owner`` (a PluginVm, or another worker's token)
        got a value: schedule one proxy_on_queue_ready for its root context on the loop,
        never from inside this call. A SharedQueues ready listener."""


class NoServices:
    """No loop: timers never fire and nothing is woken (a paused exchange stays paused)."""

    def tick_period_changed(self, vm: PluginVm) -> None:
        return None

    def stream_continued(self, vm: PluginVm, ctx: StreamContext) -> None:
        return None

    def queue_ready(self, queue_id: int, owner: object) -> None:
        return None
