"""A plugin's visibility policy, enforced between the ABI's host calls and the exchange.

``Visibility`` is one plugin's effective policy (``wasmd.kernel.visibility.VisibilitySpec``
compiled to byte sets) plus the daemon's redaction key. ``PluginVm`` asks it for a
``HeaderView`` over each HTTP header map the plugin reaches (proxy_*_header_map_*, and the
``request.headers``/``response.headers``-derived properties) and asks it whether a property
path is hidden. A plugin without a policy has no ``Visibility`` (None): no view object, no
extra work beyond one ``is not None`` test per host call. Contract (docs/visibility.md):

- hidden names do not exist: ``get`` answers None (NotFound), ``pairs``, ``byte_size`` and
  the header count leave them out;
- redacted names exist, with the value replaced by ``redacted:`` + 24 hex digits of
  HMAC-SHA256(daemon key, value): equal values give equal markers for the daemon's life,
  and a plugin learns nothing else about the value;
- add/replace/remove of a hidden, redacted or read-only name answer BadArgument (what Envoy
  answers for a map the plugin may not write) and change nothing; the answer depends on
  the name only, never on whether the header is there;
- set_pairs (replacing the whole map) keeps every protected header exactly as it came; it
  answers BadArgument and changes nothing when the new list would change one (a hidden
  name in it, or a redacted/read-only name with other values than the plugin sees); a
  list that leaves them out or repeats them as seen is applied.
"""

from __future__ import annotations

import functools
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from wasmd.kernel.visibility import REDACTION_KEY_ENV, VisibilitySpec
from workers.abi.types import WasmResult
from workers.contexts.maps import HeaderMap, Pair

REDACTED_PREFIX = b"redacted:"
REDACTED_HEX_DIGITS = 24  # 96 bits of the HMAC: collisions are not a practical concern
REFUSED = WasmResult.BAD_ARGUMENT
# Bounded (values are at most a header's size): a few hundred distinct values in flight.
MARKER_CACHE_ENTRIES = 512

_daemon_key: bytes | None = None


def daemon_key() -> bytes:
    """The redaction key: the supervisor's (``REDACTION_KEY_ENV``, hex, removed from the
    environment on first read) or, in a process started without one (``wasmd try``, a
    test), a random key of this process's own."""
    global _daemon_key
    if _daemon_key is None:
        text = os.environ.pop(REDACTION_KEY_ENV, "")
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        _daemon_key = key if len(key) >= 16 else secrets.token_bytes(32)
    return _daemon_key


@dataclass(frozen=True, slots=True)
class Visibility:
    """One plugin's compiled policy. Build with ``compile``."""

    hidden: frozenset[bytes]
    redacted: frozenset[bytes]
    read_only: frozenset[bytes]
    protected: frozenset[bytes]  # all three: names the plugin may not write
    hidden_properties: tuple[str, ...]
    key: bytes

    def view(self, target: HeaderMap) -> HeaderView:
        return HeaderView(target, self)

    def redact(self, value: bytes) -> bytes:
        return _marker(self.key, value)

    def count(self, target: HeaderMap) -> int:
        """The number of headers the plugin sees (the header callbacks' argument)."""
        hidden = self.hidden
        if not hidden:
            return len(target)
        return len([k for k, _ in target.pairs() if k not in hidden])

    def hides_property(self, path: Sequence[bytes]) -> bool:
        """Whether a property path (the guest's NUL-separated segments) is at or under a
        hidden prefix; compared as dotted text, as properties.lookup joins segments."""
        if not self.hidden_properties:
            return False
        dotted = ".".join(seg.decode("utf-8", "replace") for seg in path)
        return any(dotted == p or dotted.startswith(p + ".") for p in self.hidden_properties)


@functools.lru_cache(maxsize=MARKER_CACHE_ENTRIES)
def _marker(key: bytes, value: bytes) -> bytes:
    """``redacted:`` + the first 24 hex digits of HMAC-SHA256(key, value). Cached: an HMAC
    costs microseconds, and a plugin reads the same values again and again (every
    get_header_map_pairs of an exchange, the same session cookie across requests)."""
    digest = hmac.digest(key, value, "sha256")
    return REDACTED_PREFIX + digest[: REDACTED_HEX_DIGITS // 2].hex().encode()


def compile_spec(spec: VisibilitySpec, key: bytes | None = None) -> Visibility | None:
    """The enforceable form of ``spec``; None for an empty policy (the zero-cost path).
    A name in several lists gets the strongest treatment: hide, then redact, then read-only."""
    if spec.is_empty():
        return None
    hidden = frozenset(n.encode() for n in spec.hide_headers)
    redacted = frozenset(n.encode() for n in spec.redact_headers) - hidden
    read_only = frozenset(n.encode() for n in spec.read_only_headers) - hidden - redacted
    return Visibility(
        hidden,
        redacted,
        read_only,
        hidden | redacted | read_only,
        spec.hide_properties,
        key if key is not None else daemon_key(),
    )


class HeaderView:
    """``target`` as one plugin sees it (the ``workers.abi.host.HeaderMap`` protocol)."""

    __slots__ = ("_target", "_policy")

    def __init__(self, target: HeaderMap, policy: Visibility) -> None:
        self._target = target
        self._policy = policy

    @property
    def writable(self) -> bool:
        return self._target.writable

    def get(self, key: bytes) -> bytes | None:
        key = key.lower()
        policy = self._policy
        if key in policy.hidden:
            return None
        value = self._target.get(key)
        if value is not None and key in policy.redacted:
            return policy.redact(value)
        return value

    def pairs(self) -> list[Pair]:
        policy = self._policy
        hidden, redacted = policy.hidden, policy.redacted
        if not hidden and not redacted:  # a read-only policy: the pairs as they are
            return self._target.pairs()
        return [
            (k, policy.redact(v) if k in redacted else v)
            for k, v in self._target.pairs()
            if k not in hidden
        ]

    def byte_size(self) -> int:
        return sum(len(k) + len(v) for k, v in self.pairs())

    def __len__(self) -> int:
        return self._policy.count(self._target)

    def add(self, key: bytes, value: bytes) -> WasmResult:
        if key.lower() in self._policy.protected:
            return REFUSED
        self._target.add(key, value)
        return WasmResult.OK

    def replace(self, key: bytes, value: bytes) -> WasmResult:
        if key.lower() in self._policy.protected:
            return REFUSED
        self._target.replace(key, value)
        return WasmResult.OK

    def remove(self, key: bytes) -> WasmResult:
        if key.lower() in self._policy.protected:
            return REFUSED
        self._target.remove(key)
        return WasmResult.OK

    def set_pairs(self, items: Sequence[Pair]) -> WasmResult:
        """Replace what the plugin may change; protected headers stay as they came (pseudo-
        headers first, the others after the plugin's list)."""
        protected = self._policy.protected
        new = [(k.lower(), v) for k, v in items]
        asked = [(k, v) for k, v in new if k in protected]
        if asked and not self._unchanged(asked):
            return REFUSED
        kept = [(k, v) for k, v in self._target.pairs() if k in protected]
        rest = [(k, v) for k, v in new if k not in protected]
        pseudo = [p for p in kept if p[0].startswith(b":")]
        self._target.set_pairs(pseudo + rest + [p for p in kept if not p[0].startswith(b":")])
        return WasmResult.OK

    def _unchanged(self, asked: list[Pair]) -> bool:
        """Whether every protected name in ``asked`` has exactly the values the plugin sees
        (a hidden name never does: the plugin sees none)."""
        seen: dict[bytes, list[bytes]] = {}
        for k, v in self.pairs():
            seen.setdefault(k, []).append(v)
        wanted: dict[bytes, list[bytes]] = {}
        for k, v in asked:
            wanted.setdefault(k, []).append(v)
        return all(k in seen and seen[k] == values for k, values in wanted.items())

    def __repr__(self) -> str:
        return f"HeaderView({self.pairs()!r})"
