"""The shared kernel: what the supervisor side, the worker side and the CLI all speak.

Errors, logging, the config model, what a module imports and exports, and the wire formats
(the native msgpack protocol, the supervisor<->worker control channel, metric snapshots).
It imports nothing from ``wasmd.supervisor``, ``wasmd.admin``, ``wasmd.cli`` or ``workers``:
both sides depend on it, so it may depend on neither (tests/unit/test_import_contracts.py).
"""
