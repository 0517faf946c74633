"""The supervisor: spawns worker processes, watches them, replaces and rolls them.

``policy`` is the pure core (events and time in, actions out); ``daemon`` is the asyncio
shell around it. Nothing here imports ``workers``, wasmtime or grpc servers: workers are
spawned with ``python -m workers``, never forked. What both sides share lives in
``wasmd.kernel``.
"""
