"""What a plugin may choose about where a callout goes: only the path (and gRPC names).

Scheme, host and port of a callout come from the configured upstream alone
(``upstreams.py``). The plugin chooses the HTTP ``:path`` and, for gRPC, the service and
method names; this module decides, purely, whether those can only name something on the
configured upstream. Refused values make the host call answer ``BadArgument`` and nothing
is sent (docs/security.md, "Callouts go only where the config says").

Why each rule (the HTTP client builds ``base_url + path``):
- ``:path`` must start with ``/``: ``@127.0.0.1:28777/x`` turns the configured host into
  userinfo, ``:28777/x`` changes the port, ``.evil.example/x`` the host name.
- no CR, LF, NUL or other control characters, no space: request-line and header injection.
- no ``\\``: some URL parsers read it as ``/`` (``\\\\evil/x`` is an authority to them).
- no ``#``: a fragment is never sent; the client would silently send something else.
A gRPC service is dot-separated identifiers, a method one identifier (the protobuf
grammar): they become the ``/service/method`` path, so ``/``, ``..`` and the above are out.
"""

from __future__ import annotations

import re

# C0 controls, space and DEL; plus the two characters with URL meaning beyond the path.
_FORBIDDEN_IN_PATH = frozenset(range(0x21)) | {0x7F, ord("\\"), ord("#")}
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_GRPC_SERVICE = re.compile(rf"{_IDENT}(?:\.{_IDENT})*")
_GRPC_METHOD = re.compile(_IDENT)
MAX_GRPC_NAME = 1024  # far beyond any real service name; bounds the regex work


def path_problem(path: bytes) -> str | None:
    """Why ``path`` cannot be an HTTP callout's ``:path`` (None when it can)."""
    if not path.startswith(b"/"):
        return "the :path must start with '/'"
    bad = _FORBIDDEN_IN_PATH.intersection(path)
    if bad:
        return f"the :path holds a forbidden byte 0x{min(bad):02x}"
    return None


def grpc_names_problem(service: bytes, method: bytes) -> str | None:
    """Why ``service``/``method`` cannot name a gRPC call (None when they can)."""
    if len(service) > MAX_GRPC_NAME or len(method) > MAX_GRPC_NAME:
        return "gRPC service or method name too long"
    try:
        s, m = service.decode("ascii"), method.decode("ascii")
    except UnicodeDecodeError:
        return "gRPC service and method names are ASCII identifiers"
    if not _GRPC_SERVICE.fullmatch(s):
        return f"gRPC service {s!r} is not dot-separated identifiers"
    if not _GRPC_METHOD.fullmatch(m):
        return f"gRPC method {m!r} is not an identifier"
    return None


def same_origin(base_url: str, url: str) -> bool:
    """Whether ``url`` (``base_url`` + a path) still has ``base_url``'s scheme://authority.

    A second line of defence in the HTTP client, after ``path_problem``: the authority of
    ``base_url + path`` ends at the first '/' after the scheme's '//', so a path that
    starts with '/' cannot change it.
    """
    if not url.startswith(base_url):
        return False
    rest = url[len(base_url) :]
    return rest == "" or rest.startswith("/")
