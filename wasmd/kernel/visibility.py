"""The visibility policy as configured: what one plugin may not see or change.

``VisibilitySpec`` is the validated, effective policy of one plugin (the daemon-wide
``[visibility]`` default merged with the plugin's own keys); the supervisor side shows it
(``wasmd status``) and derives Envoy's ``forward_rules`` from it, the worker side enforces
it (``workers/contexts/visibility.py``). Pure: no I/O, imports nothing from wasmd but errors.

Merging (docs/visibility.md): a plugin *extends* the default (union of each list), drops
single inherited entries with ``show_headers``/``show_properties``, or ignores the default
altogether with ``inherit_visibility = false``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wasmd.kernel.errors import ConfigError

# The supervisor hands its workers the redaction key (hex) in this environment variable;
# a worker removes it from its environment when it reads it (workers/contexts/visibility.py).
REDACTION_KEY_ENV = "WASMD_REDACTION_KEY"

HEADER_LISTS = ("hide_headers", "redact_headers", "read_only_headers")
LIST_KEYS = (*HEADER_LISTS, "hide_properties")
# The keys a [[plugins]] entry may carry on top of LIST_KEYS.
PLUGIN_KEYS = (*LIST_KEYS, "show_headers", "show_properties", "inherit_visibility")

# RFC 9110 token characters, lower-cased; a leading ':' for HTTP/2 pseudo-headers.
_HEADER_NAME = re.compile(r":?[!#$%&'*+\-.^_`|~0-9a-z]+")
# Dotted property paths: non-empty segments without whitespace or NUL.
_PROPERTY_PATH = re.compile(r"[^.\s\x00]+(\.[^.\s\x00]+)*")


@dataclass(frozen=True, slots=True)
class VisibilitySpec:
    """One policy. Header names are lower-case; property paths are dotted prefixes."""

    hide_headers: tuple[str, ...] = ()
    redact_headers: tuple[str, ...] = ()
    read_only_headers: tuple[str, ...] = ()
    hide_properties: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (
            self.hide_headers
            or self.redact_headers
            or self.read_only_headers
            or self.hide_properties
        )

    def union(self, other: VisibilitySpec) -> VisibilitySpec:
        """Each list of ``self`` followed by the entries of ``other`` it does not have."""
        return VisibilitySpec(*(_merge(getattr(self, k), getattr(other, k)) for k in LIST_KEYS))

    def without(self, headers: Iterable[str], properties: Iterable[str]) -> VisibilitySpec:
        """This policy minus the header names in ``headers`` (from every header list) and
        the exact paths in ``properties``."""
        drop_h, drop_p = frozenset(headers), frozenset(properties)
        return VisibilitySpec(
            tuple(n for n in self.hide_headers if n not in drop_h),
            tuple(n for n in self.redact_headers if n not in drop_h),
            tuple(n for n in self.read_only_headers if n not in drop_h),
            tuple(p for p in self.hide_properties if p not in drop_p),
        )

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(getattr(self, k)) for k in LIST_KEYS}


NO_POLICY = VisibilitySpec()  # sees and may change everything


def _merge(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return first + tuple(x for x in second if x not in first)


Fail = Callable[[str, str], ConfigError]


def parse_default(prefix: str, table: Mapping[str, Any], fail: Fail) -> VisibilitySpec:
    """The ``[visibility]`` table (``prefix`` is ``"visibility."``)."""
    for key in table:
        if key not in LIST_KEYS:
            raise fail(f"{prefix}{key}", f"unknown key (known: {', '.join(LIST_KEYS)})")
    return _lists(prefix, table, fail)


def parse_plugin(
    prefix: str, table: Mapping[str, Any], default: VisibilitySpec, fail: Fail
) -> VisibilitySpec:
    """A plugin's effective policy from its keys (only PLUGIN_KEYS are looked at) and the
    daemon-wide ``default``; ``prefix`` is ``"plugins[N]."``."""
    inherit = table.get("inherit_visibility", True)
    if not isinstance(inherit, bool):
        raise fail(f"{prefix}inherit_visibility", "must be true or false")
    base = default if inherit else VisibilitySpec()
    shown_h = _names(prefix, "show_headers", table, fail)
    shown_p = _names(prefix, "show_properties", table, fail)
    for i, name in enumerate(shown_h):
        if not any(name in getattr(default, k) for k in HEADER_LISTS):
            raise fail(
                f"{prefix}show_headers[{i}]",
                f"{name!r} is not in the [visibility] default's header lists; nothing to show",
            )
    for i, path in enumerate(shown_p):
        if path not in default.hide_properties:
            raise fail(
                f"{prefix}show_properties[{i}]",
                f"{path!r} is not in [visibility] hide_properties; nothing to show",
            )
    return base.without(shown_h, shown_p).union(_lists(prefix, table, fail))


def _lists(prefix: str, table: Mapping[str, Any], fail: Fail) -> VisibilitySpec:
    return VisibilitySpec(*(_names(prefix, key, table, fail) for key in LIST_KEYS))


def _names(prefix: str, key: str, table: Mapping[str, Any], fail: Fail) -> tuple[str, ...]:
    value = table.get(key, [])
    where = f"{prefix}{key}"
    if not isinstance(value, list):
        raise fail(where, f"must be an array of strings, got {type(value).__name__}")
    out: list[str] = []
    is_property = key.endswith("properties")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise fail(f"{where}[{i}]", f"must be a string, got {type(item).__name__}")
        if is_property:
            if not _PROPERTY_PATH.fullmatch(item):
                raise fail(
                    f"{where}[{i}]",
                    f"must be a dotted property path like 'source.address'; got {item!r}",
                )
            name = item
        else:
            name = item.lower()
            if not _HEADER_NAME.fullmatch(name):
                raise fail(f"{where}[{i}]", f"must be an HTTP header name; got {item!r}")
        if name not in out:
            out.append(name)
    return tuple(out)
