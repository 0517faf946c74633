"""The one exception tree of wasmd.

Every error a user can cause carries a message that says what was wrong and what to do.
"""

from __future__ import annotations


class WasmdError(Exception):
    """Base of every error wasmd raises on purpose."""


class ConfigError(WasmdError):
    """The configuration (file, flags, plugin settings) is invalid."""


class PluginLoadError(WasmdError):
    """A plugin could not be compiled, instantiated, started or configured.

    ``plugin`` names it when the caller knows which configured plugin it was.
    """

    def __init__(self, message: str, plugin: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin


class PluginTrap(WasmdError):
    """A plugin call trapped, ran past its CPU deadline, or ran out of memory.

    ``kind`` is one of ``"trap"``, ``"deadline"``, ``"memory"``, ``"exit"``.
    """

    def __init__(self, message: str, kind: str = "trap") -> None:
        super().__init__(message)
        self.kind = kind


class ProtocolError(WasmdError):
    """A peer sent bytes that break the wire protocol."""


class WorkerUnavailable(WasmdError):
    """No worker can take the request right now."""
