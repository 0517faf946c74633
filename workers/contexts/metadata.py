"""Dynamic metadata as proxy_get_property answers it: ``metadata`` paths, encoded as Envoy does.

In Envoy a plugin reads the stream's dynamic metadata (``envoy.config.core.v3.Metadata``)
through property paths whose segments walk the message, then the ``google.protobuf.Struct``
of a namespace, as CEL sees it (``context.cc`` ``getProperty``):

- ``metadata``: the whole message, protobuf-serialized;
- ``metadata filter_metadata``: a map of namespace -> Struct, serialized as pairs;
- ``metadata filter_metadata NS``: that namespace's Struct, a map (pairs);
- deeper segments index into a Struct (by key) or a list (by decimal index);
- ``metadata typed_filter_metadata``: typed metadata is not carried, so an empty map.

A leaf is encoded like every CEL value: strings raw, numbers as 8-byte little-endian doubles
(a Struct has no integers), booleans as one byte, lists as pairs of (element, empty), maps as
pairs of (key, value). A null, or a list or map holding one, cannot be serialized:
``NotSerializable``, which proxy_get_property answers with SerializationFailure as Envoy does.

The namespaces are plain data (``namespace -> JSON-like dict``): the ext_proc face fills them
from Envoy's ``metadata_context``, ``wasmd try`` from ``--metadata``. They reach
proxy_get_property through the stream's supplied properties: a mapping answers a ``metadata``
path under ``path_key(segments)`` (the segments joined by NUL, as the guest sent them;
namespace names contain dots, so the dotted form would be ambiguous).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from workers.abi import pairs
from workers.abi.types import NotSerializable

ROOT = "metadata"
SEPARATOR = "\0"
_DOUBLE = struct.Struct("<d")

Namespaces = Mapping[str, Mapping[str, Any]]


def path_key(segments: Sequence[str]) -> str:
    """The key under which a supplied-properties mapping answers a ``metadata`` path."""
    return SEPARATOR.join(segments)


def is_path_key(key: str) -> bool:
    """Whether a supplied-properties key is a ``metadata`` path (``path_key``)."""
    return key == ROOT or key.startswith(ROOT + SEPARATOR)


def parse_namespace(text: str) -> dict[str, Any]:
    """A namespace's fields from JSON object text; ValueError saying what is wrong."""
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(fields, dict):
        raise ValueError(f"must be a JSON object, got {text!r}")
    return fields


def encode(value: Any) -> bytes:
    """A Struct value (str, float/int, bool, None, list, dict) as Envoy serializes it for
    proxy_get_property; NotSerializable for a null anywhere in it."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool):  # before int: bool is an int
        return b"\x01" if value else b"\x00"
    if isinstance(value, int | float):
        return _DOUBLE.pack(float(value))
    if isinstance(value, Mapping):
        return pairs.encode([(str(key).encode(), encode(item)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return pairs.encode([(encode(item), b"") for item in value])
    raise NotSerializable(f"a {type(value).__name__} in dynamic metadata")


_ABSENT = object()


def _walk(value: Any, segments: Sequence[str]) -> Any:
    """The value under ``segments`` (Struct keys, list indexes); _ABSENT when there is none."""
    for segment in segments:
        if isinstance(value, Mapping):
            if segment not in value:
                return _ABSENT
            value = value[segment]
        elif isinstance(value, list | tuple):
            if not segment.isdigit() or int(segment) >= len(value):
                return _ABSENT
            value = value[int(segment)]
        else:
            return _ABSENT
    return value


class DynamicMetadata:
    """The namespaces of a stream's dynamic metadata, answering ``metadata`` property paths."""

    __slots__ = ("namespaces", "_message")

    def __init__(self, namespaces: Namespaces, message: bytes | None = None) -> None:
        """``message``: the serialized Metadata when the proxy sent one (else built on use)."""
        self.namespaces = namespaces
        self._message = message

    def get(self, key: str) -> bytes | None:
        """``lookup`` by ``path_key``."""
        return self.lookup(key.split(SEPARATOR))

    def __getitem__(self, key: str) -> bytes:
        """``get``, raising KeyError when absent (for a supplied-properties mapping)."""
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def lookup(self, segments: Sequence[str]) -> bytes | None:
        """The encoded value at ``segments`` (``["metadata", ...]``), None if absent;
        NotSerializable for a null (or a list or map holding one)."""
        if not segments or segments[0] != ROOT:
            return None
        if len(segments) == 1:
            return self.serialized()
        if segments[1] == "typed_filter_metadata":
            # Not forwarded (ext_proc's typed namespaces are not requested): an empty map,
            # as Envoy answers for a stream without typed metadata.
            return pairs.encode([]) if len(segments) == 2 else None
        if segments[1] != "filter_metadata":
            return None
        if len(segments) == 2:
            return encode(self.namespaces)
        namespace = self.namespaces.get(segments[2])
        if namespace is None:
            return None
        found = _walk(namespace, segments[3:])
        return None if found is _ABSENT else encode(found)

    def serialized(self) -> bytes:
        """The namespaces as a serialized ``envoy.config.core.v3.Metadata``."""
        if self._message is not None:
            return self._message
        from envoy.config.core.v3 import base_pb2
        from google.protobuf import json_format

        message = base_pb2.Metadata()
        for name, fields in self.namespaces.items():
            json_format.ParseDict(dict(fields), message.filter_metadata[name])
        serialized: bytes = message.SerializeToString(deterministic=True)
        return serialized


def from_struct(struct_value: Any) -> dict[str, Any]:
    """A ``google.protobuf.Struct`` as plain data (numbers stay floats, as in the Struct)."""
    from google.protobuf import json_format

    fields: dict[str, Any] = json_format.MessageToDict(struct_value)
    return fields


class WithMetadata(Mapping[str, bytes]):
    """Supplied properties (``flat``: attribute name -> encoded value) that also answer
    ``metadata`` paths from ``metadata``."""

    __slots__ = ("flat", "metadata")

    def __init__(self, flat: Mapping[str, bytes], metadata: DynamicMetadata) -> None:
        self.flat = flat
        self.metadata = metadata

    def __getitem__(self, key: str) -> bytes:
        return self.metadata[key] if is_path_key(key) else self.flat[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.flat)  # metadata paths are answered, not listed

    def __len__(self) -> int:
        return len(self.flat)
