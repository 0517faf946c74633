"""Plugins from registries: ``oci://`` images and ``https://`` modules, pinned and stored.

- ``wasmd.kernel.module_ref`` (outside this package: it belongs with the config in the shared
  kernel): parse a ``module`` value into an OCI or HTTPS reference (pure; the config
  parser and the workers see it, so it imports nothing but ``wasmd.kernel.errors``).
- ``transport``: the synchronous HTTP client (urllib): TLS, plain-HTTP rule, size limits,
  no credentials across redirects.
- ``auth``: credentials files (Docker ``config.json`` shape, mode checked) and the
  registry challenge flows (basic, Docker bearer token).
- ``formats``: which manifest/layer holds the module (Istio's formats) and unpacking it.
- ``oci``: the distribution-spec client (manifests, blobs, digests).
- ``store``: the content-addressed module store under ``cache_dir``.
- ``fetcher``: pull policy + store + network: a reference -> a verified local file.
- ``generation``: what the supervisor calls before it builds a generation.

This package never imports ``workers`` or ``wasmd.supervisor``; the supervisor and the CLI
import it.
"""
