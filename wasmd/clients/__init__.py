"""Client libraries that proxies and tools use to reach a worker's native face.

``native`` is the Python client of the msgpack protocol (``wasmd.kernel.native_protocol``).
"""
