"""Where plugin log lines go: structlog (bound with the plugin's name), rate-limited.

A plugin that floods its log must not take the worker down with it: above
``max_lines_per_s`` lines are dropped and counted, and one summary line says how many.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wasmd.kernel.logs import get_logger
from workers.abi.types import LogLevel

MAX_LINES_PER_S = 1000  # a healthy plugin logs far less; a flood is cut here
MAX_CAPTURED_LINES = 1000  # kept in memory for `wasmd try`


# Per level: the name records carry and the structlog method that writes it (an enum's
# .name costs more than the rest of a captured line).
_NAMES = {
    level: (
        level.name.lower(),
        {"trace": "debug", "warn": "warning"}.get(level.name.lower(), level.name.lower()),
    )
    for level in LogLevel
}


@dataclass(slots=True)
class LogRecord:
    level: str
    message: str


@dataclass
class LogSink:
    plugin: str
    capture: bool = False
    max_lines_per_s: int = MAX_LINES_PER_S
    clock: Callable[[], float] = time.monotonic
    records: list[LogRecord] = field(default_factory=list)
    dropped: int = 0
    _window_start: float = 0.0
    _window_lines: int = 0
    _logger: Any = None

    def __post_init__(self) -> None:
        self._logger = get_logger(plugin=self.plugin)

    def emit(self, level: LogLevel, message: str, *, source: str = "plugin") -> None:
        now = self.clock()
        if now - self._window_start >= 1.0:
            if self.dropped:
                self._write(LogLevel.WARN, f"dropped {self.dropped} log lines (rate limit)", "host")
                self.dropped = 0
            self._window_start, self._window_lines = now, 0
        if self._window_lines >= self.max_lines_per_s:
            self.dropped += 1
            return
        self._window_lines += 1
        self._write(level, message, source)

    def _write(self, level: LogLevel, message: str, source: str) -> None:
        name, method = _NAMES[level]
        if self.capture:
            # Host lines (the drop summary above all) are kept even past the cap.
            if len(self.records) < MAX_CAPTURED_LINES or source == "host":
                self.records.append(LogRecord(name, message))
            return
        getattr(self._logger, method)(message, source=source)

    def flush(self) -> None:
        """Report drops still pending in the current window."""
        if self.dropped:
            self._write(LogLevel.WARN, f"dropped {self.dropped} log lines (rate limit)", "host")
            self.dropped = 0
