"""workers/vm/cache_entry.py: an entry names its module and engine; both are checked."""

from __future__ import annotations

import hashlib

from workers.vm import cache_entry

MODULE = hashlib.sha256(b"module").digest()
OTHER = hashlib.sha256(b"other").digest()
ENGINE = cache_entry.engine_fingerprint("1.0", "epoch=1")


def test_round_trip() -> None:
    data = cache_entry.encode(MODULE, ENGINE, b"code")
    assert cache_entry.decode(data, MODULE, ENGINE) == b"code"


def test_an_entry_for_another_module_is_refused() -> None:
    data = cache_entry.encode(OTHER, ENGINE, b"trap code")
    assert cache_entry.decode(data, MODULE, ENGINE) is None


def test_an_entry_for_another_engine_is_refused() -> None:
    data = cache_entry.encode(MODULE, cache_entry.engine_fingerprint("2.0", "epoch=1"), b"c")
    assert cache_entry.decode(data, MODULE, ENGINE) is None
    assert cache_entry.engine_fingerprint("1.0", "epoch=0") != ENGINE


def test_torn_or_foreign_files_are_refused() -> None:
    data = cache_entry.encode(MODULE, ENGINE, b"code")
    assert cache_entry.decode(data[:-1], MODULE, ENGINE) is None
    assert cache_entry.decode(data[:10], MODULE, ENGINE) is None
    assert cache_entry.decode(b"X" + data[1:], MODULE, ENGINE) is None
    old_format = hashlib.sha256(b"code").digest() + b"code"
    assert cache_entry.decode(old_format, MODULE, ENGINE) is None
