"""Configuration generators for the proxies that sit in front of wasmd (``wasmd envoy-config``).

They read the daemon's config and the plugins' modules; they never import ``workers``.
"""
