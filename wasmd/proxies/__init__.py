"""Configuration generators that put wasmd behind a proxy (``wasmd <proxy>-config``:
envoy, nginx, haproxy).

They read the daemon's config and the plugins' modules; they never import ``workers``.
"""
