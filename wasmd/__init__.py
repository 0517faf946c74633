"""wasmd: a daemon that hosts Proxy-Wasm plugins out of the proxy's process."""

__version__ = "0.1.0"
