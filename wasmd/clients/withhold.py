"""Headers a native client keeps to itself (docs/visibility.md, docs/protocol.md).

When no plugin of a chain may see a header (every plugin's visibility policy hides it), the
client need not send it at all: it leaves those names out of what it sends and puts the
original pairs back into what it forwards. Replies only ever name headers to set or remove,
and a plugin could not name a header it cannot see (its writes to it are refused), so the
kept pairs come through unchanged. Pure functions; ``Client.exchange(withhold=...)`` uses them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

Pair = tuple[bytes, bytes]


def names(withhold: Collection[bytes | str]) -> frozenset[bytes]:
    """Lower-cased byte names (header maps compare lower-case)."""
    return frozenset((n.encode() if isinstance(n, str) else n).lower() for n in withhold)


def split(
    pairs: Sequence[Pair], withheld: frozenset[bytes]
) -> tuple[tuple[Pair, ...], tuple[Pair, ...]]:
    """(what is sent, what is kept back), each in the original order."""
    sent = tuple(p for p in pairs if p[0].lower() not in withheld)
    kept = tuple(p for p in pairs if p[0].lower() in withheld)
    return sent, kept


def restore(
    pairs: Sequence[Pair], kept: Sequence[Pair], withheld: frozenset[bytes]
) -> tuple[Pair, ...]:
    """``pairs`` (the exchange's result) with the kept pairs back, after the others; a
    withheld name the reply set anyway (a plugin may not, but a buggy server could) is
    dropped in favour of the original."""
    return (*(p for p in pairs if p[0].lower() not in withheld), *kept)
