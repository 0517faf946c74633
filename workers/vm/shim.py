"""A ``Shortcut`` answered inside Wasm: a tiny module between the plugin and the host.

A dropped ``proxy_log`` line still cost ~0.7 us through a ctypes callback (the
AssemblyScript SDK makes ten per request). The fast path links such an import to the
export of a helper instance in the plugin's store instead: a Wasm-to-Wasm call that
answers the shortcut's case itself and calls the host function for every other call.

The helper cannot see the plugin's memory (the plugin defines it, and imports the helper),
so the host tells it how much memory there is: ``limit`` is the size of linear memory
the host last saw (0 until bound). Memory never shrinks, so a stale limit is too small
and only sends more calls to the host, which has the exact answer; the same rule as the
Python shortcut in FastVm.
"""

from __future__ import annotations

import wasmtime

from workers.vm.base import Shortcut

# (level, ptr, size) -> result: ``answer`` when level < below (unsigned) and
# ptr + size <= limit (64-bit, so a span that wraps 32 bits never passes); else the host.
SHIM_WAT = """
(module
  (import "wasmd" "slow" (func $slow (param i32 i32 i32) (result i32)))
  (global $below (export "below") (mut i32) (i32.const 0))
  (global $answer (export "answer") (mut i32) (i32.const 0))
  (global $limit (export "limit") (mut i64) (i64.const 0))
  (func (export "call") (param i32 i32 i32) (result i32)
    (if (result i32)
      (i32.and
        (i32.lt_u (local.get 0) (global.get $below))
        (i64.le_u
          (i64.add (i64.extend_i32_u (local.get 1)) (i64.extend_i32_u (local.get 2)))
          (global.get $limit)))
      (then (global.get $answer))
      (else (call $slow (local.get 0) (local.get 1) (local.get 2))))))
"""
SLOW_IMPORT = ("wasmd", "slow")  # where the helper expects the host function


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


class ShortcutShim:
    """One helper instance in ``store``: ``func`` is what the plugin's import links to.

    ``linker`` must define ``SLOW_IMPORT`` as the host function (same type as the
    import: (i32, i32, i32) -> i32).
    """

    def __init__(
        self,
        store: wasmtime.Store,
        linker: wasmtime.Linker,
        module: wasmtime.Module,
        shortcut: Shortcut,
    ) -> None:
        self._store = store
        instance = linker.instantiate(store, module)
        exports = instance.exports(store)
        func, limit = exports["call"], exports["limit"]
        below, answer = exports["below"], exports["answer"]
        assert isinstance(func, wasmtime.Func) and isinstance(limit, wasmtime.Global)
        assert isinstance(below, wasmtime.Global) and isinstance(answer, wasmtime.Global)
        below.set_value(store, _signed32(shortcut.below))
        answer.set_value(store, _signed32(shortcut.result))
        self.func = func
        self._limit = limit
        self.limit = 0

    def set_limit(self, size_bytes: int) -> None:
        """The size of linear memory the host has seen; only ever raised."""
        if size_bytes > self.limit:
            self.limit = size_bytes
            self._limit.set_value(self._store, size_bytes)
