"""VM binding: a runtime-neutral interface to a Wasm engine, and its wasmtime implementation."""
