"""The supervisor: spawns worker processes, watches them, replaces and rolls them.

``policy`` is the pure core (events and time in, actions out); ``loop`` is the asyncio
shell around it. Nothing here imports ``workers``, wasmtime or grpc: workers are spawned
with ``python -m workers``, never forked.
"""
