"""ABI layer: one host function per proxy_* / WASI import, purely marshalling."""
