"""Header mutations by diff: what a face tells the proxy to change, from before/after maps.

Pure functions, shared by the native face and the Envoy ext_proc face. The proxy applies a
mutation as ``wasmd.kernel.native_protocol.apply_mutation`` does: drop every name in
``remove``, then give
every name in ``set`` exactly the values listed there. Names compare lower-cased (the
plugins see Envoy's lower-case header maps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Pair = tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class HeaderMutation:
    set: tuple[Pair, ...] = ()
    remove: tuple[bytes, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.set or self.remove)


def group(headers: Sequence[Pair]) -> dict[bytes, list[bytes]]:
    """Values per lower-cased name, in order; names keep their first-seen order."""
    out: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        out.setdefault(name.lower(), []).append(value)
    return out


def diff_headers(before: Sequence[Pair], after: Sequence[Pair]) -> HeaderMutation:
    """The smallest per-name mutation that turns ``before`` into ``after``.

    A name whose values (in order) did not change is left alone; order between different
    names is not preserved (HTTP gives it no meaning, except for repeated names).
    """
    before, after = list(before), list(after)
    if before == after:  # the common case: the plugin changed nothing
        return HeaderMutation()
    n = len(before)
    if after[:n] == before:  # the next most common: the plugin only added headers
        added = after[n:]
        present = {name.lower() for name, _ in before}
        if not any(name.lower() in present for name, _ in added):
            # new names only: exactly what the general diff gives (their values, in order)
            return HeaderMutation(tuple((k, v) for k, vs in group(added).items() for v in vs))
    return diff_by_name(before, after)


def diff_by_name(before: Sequence[Pair], after: Sequence[Pair]) -> HeaderMutation:
    """``diff_headers`` without its shortcuts: compare the values of every name."""
    old, new = group(before), group(after)
    changed = [(n, v) for n, values in new.items() if old.get(n) != values for v in values]
    removed = tuple(n for n in old if n not in new)
    return HeaderMutation(tuple(changed), removed)


def forwarded_body(chunk: bytes, passed: bytes) -> bytes | None:
    """Body replacement for a body phase: None when ``passed`` is exactly the chunk sent."""
    return None if passed == chunk else passed
