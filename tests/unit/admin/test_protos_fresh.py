"""The checked-in wasmd/admin/_proto/ is what scripts/gen_protos.sh makes of protos/ today."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CHECKED_IN = REPO / "wasmd" / "admin" / "_proto"
GENERATED = ("admin_pb2.py", "admin_pb2.pyi", "admin_pb2_grpc.py")
# The grpcio-tools release that wrote a file is stamped into it; a patch release of the tool
# changes that line and nothing else, so it is not a sign of a stale proto.
_TOOL_STAMP = re.compile(r"^GRPC_GENERATED_VERSION = .*$", re.M)


def _content(path: Path) -> str:
    return _TOOL_STAMP.sub("GRPC_GENERATED_VERSION = <tool release>", path.read_text())


@pytest.mark.timeout(60)
def test_generated_code_is_fresh(tmp_path: Path) -> None:
    """Fails after an edit to admin.proto without `scripts/gen_protos.sh` (or after a
    grpcio-tools upgrade that changes the output: regenerate and commit)."""
    if shutil.which("sh") is None:
        pytest.skip("no /bin/sh to run scripts/gen_protos.sh")
    subprocess.run(
        ["sh", str(REPO / "scripts" / "gen_protos.sh"), str(tmp_path)],
        check=True,
        timeout=50,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable},
    )
    stale = [
        name
        for name in GENERATED
        if _content(tmp_path / name) != _content(CHECKED_IN / name)
    ]
    assert not stale, f"stale generated code {stale}: run scripts/gen_protos.sh and commit"


def test_generated_modules_import_under_wasmd_admin() -> None:
    """The import rewrite in gen_protos.sh: the grpc module finds its messages."""
    from wasmd.admin._proto import admin_pb2, admin_pb2_grpc

    assert admin_pb2_grpc.wasmd_dot_v1_dot_admin__pb2 is admin_pb2
    assert admin_pb2.DESCRIPTOR.name == "wasmd/v1/admin.proto"
    assert admin_pb2.DESCRIPTOR.services_by_name["Admin"].full_name == "wasmd.v1.Admin"
