"""Faces: wire protocols in front of WorkerService (native msgpack, Envoy ext_proc)."""
