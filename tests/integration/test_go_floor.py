"""bench/go_floor: the do-nothing Go ext_proc server the Envoy bench compares wasmd with.

Marked ``bench`` (building it takes ~1 min of CPU; run with ``-m bench``): it builds from
the Debian packages ``scripts/setup.sh --go-floor`` installs, listens on a Unix socket, and
answers each ProcessingRequest with the matching empty response.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ep_grpc

from tests.helpers.procs import spawn, wait_for
from tests.helpers.tools import missing_component

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "bench" / "go_floor" / "build.sh"
PHASES = (
    ("request_headers", ep.HttpHeaders),
    ("response_headers", ep.HttpHeaders),
    ("request_body", ep.HttpBody),
    ("response_body", ep.HttpBody),
    ("request_trailers", ep.HttpTrailers),
    ("response_trailers", ep.HttpTrailers),
)

pytestmark = [pytest.mark.bench, pytest.mark.timeout(600)]


def _binary() -> Path:
    missing = [
        t for t in ("go", "protoc", "protoc-gen-go", "protoc-gen-go-grpc") if not shutil.which(t)
    ]
    if missing:
        missing_component(f"{', '.join(missing)} not installed: bash scripts/setup.sh --go-floor")
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(BUILD)], capture_output=True, text=True, timeout=540, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def test_go_floor_answers_every_phase_with_its_empty_response(tmp_path: Path) -> None:
    binary = _binary()
    sock = tmp_path / "floor.sock"
    with spawn([str(binary), "-socket", str(sock)], log_path=tmp_path / "floor.log") as proc:
        wait_for(sock.exists, 30, what="go_floor socket", diagnostics=proc.describe)
        with grpc.insecure_channel(f"unix:{sock}") as channel:
            stub = ep_grpc.ExternalProcessorStub(channel)
            requests = [ep.ProcessingRequest(**{phase: kind()}) for phase, kind in PHASES]
            replies = list(stub.Process(iter(requests), timeout=30))
    assert [r.WhichOneof("response") for r in replies] == [phase for phase, _ in PHASES]
    empty = ep.ProcessingResponse(request_headers=ep.HeadersResponse())
    assert replies[0] == empty  # CONTINUE, no mutation
