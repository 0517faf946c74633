"""Errors of the admin face (kept free of grpc so the CLI can import them cheaply)."""

from __future__ import annotations

from wasmd.kernel.errors import WasmdError


class AdminError(WasmdError):
    """An admin call failed; the message is meant for the operator."""


class AdminUnavailable(AdminError):
    """No daemon answers on the admin socket."""
