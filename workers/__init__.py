"""The wasmd worker: a Proxy-Wasm host (VM binding, ABI layer, contexts) and its faces."""
