"""Write the FileDescriptorSet of Envoy's ext_proc service and everything it imports.

go-control-plane is not packaged for Debian, so the Go floor's protobuf code is generated
from the descriptors PyPI ``xds-protos`` compiles into its ``*_pb2`` modules (it ships no
``.proto`` files): this writes them, dependencies first, for ``protoc --descriptor_set_in``.
Prints the names of the files to generate (all but google/protobuf/*, which Go's protobuf
runtime provides).

    python3 bench/go_floor/descriptors.py OUT.pb
"""

from __future__ import annotations

import sys
from pathlib import Path

from envoy.service.ext_proc.v3 import external_processor_pb2
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FileDescriptor


def closure(root: FileDescriptor) -> list[FileDescriptor]:
    """``root`` and its transitive imports, each after the files it imports."""
    seen: dict[str, FileDescriptor] = {}

    def walk(fd: FileDescriptor) -> None:
        if fd.name not in seen:
            for dep in fd.dependencies:
                walk(dep)
            seen[fd.name] = fd

    walk(root)
    return list(seen.values())


def main() -> int:
    files = closure(external_processor_pb2.DESCRIPTOR)
    out = descriptor_pb2.FileDescriptorSet()
    for fd in files:
        fd.CopyToProto(out.file.add())
    Path(sys.argv[1]).write_bytes(out.SerializeToString())
    print("\n".join(fd.name for fd in files if not fd.name.startswith("google/protobuf/")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
