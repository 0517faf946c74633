"""structlog set-up, the same for the supervisor and every worker.

Every process of one daemon logs in one format to the supervisor's stdout: JSON, one object per
line, when stdout is not a terminal (journald, a file, a pipe), key=value on a terminal. The
supervisor decides once and hands its choice to the workers it spawns (``FORMAT_ENV``), so
the lines of all processes can be read by one parser.

Each line reaches the file descriptor in a single ``write``: processes that share a stdout
never interleave inside a line (``print`` writes the text and the newline separately, which
let two processes' lines run together as ``}{``).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

_LEVELS = {"trace": 5, "debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
FORMAT_ENV = "WASMD_LOG_FORMAT"  # "json" or "console", set by the supervisor for its workers
FORMATS = ("json", "console")


class LineWriter:
    """A structlog logger that writes each rendered line with one ``os.write``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def msg(self, message: str) -> None:
        line = message + "\n"
        self._stream.flush()  # anything printed before stays before
        try:
            fd = self._stream.fileno()
        except (AttributeError, OSError, ValueError):  # an in-memory stream: no fd to share
            self._stream.write(line)
            return
        data = line.encode("utf-8", "backslashreplace")
        while data:
            data = data[os.write(fd, data) :]

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def chosen_format(stream: TextIO) -> str:
    """The format this process should use on ``stream``: the supervisor's choice when it
    spawned us, else JSON unless ``stream`` is a terminal."""
    inherited = os.environ.get(FORMAT_ENV, "")
    if inherited in FORMATS:
        return inherited
    return "console" if stream.isatty() else "json"


def configure(
    level: str = "info",
    *,
    json: bool | None = None,
    stream: Any = None,
    process: Mapping[str, Any] | None = None,
) -> None:
    """Configure structlog for the whole process; idempotent. ``json`` forces the format;
    ``process`` names this process in every line (``{"process": "worker", "slot": 0}``)."""
    out = stream if stream is not None else sys.stdout
    fields = dict(process or {})

    def name_process(
        _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in fields.items():
            event.setdefault(key, value)
        return event

    use_json = chosen_format(out) == "json" if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            name_process,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=lambda *_args: LineWriter(out),
        cache_logger_on_first_use=False,
    )


def pass_format_to_children(stream: TextIO) -> None:
    """Make processes spawned from now on log in this process's format (``FORMAT_ENV``)."""
    os.environ[FORMAT_ENV] = chosen_format(stream)


def get_logger(**bind: Any) -> Any:
    """A logger with ``bind`` in every line. Lazy: a module-level logger made at import,
    before :func:`configure` ran, still logs in the configured format (``.bind()`` on the
    proxy would fix structlog's default console format at import time)."""
    return structlog.get_logger(**bind)


def set_log_level(level: str) -> None:
    """Change the level of an already configured process (a reload of ``log_level``)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO))
    )
