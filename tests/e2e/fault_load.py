"""Load through Envoy during faults, and which failures a fault explains.

A failure count bounded by a number depends on how busy the machine is (how many requests
were in flight, how long Envoy took to notice). Instead, every failed request is matched
with Envoy's own reason for it (an access log keyed by a per-request id) and must be
explained by one injected fault:

- ``KILL`` (``kill -9`` a worker): only a stream the dead worker had already answered fails
  (500, ``upstream_reset_after_response_started``), so only a request in flight at the
  kill. An unanswered one is retried on another slot (``wasmd envoy-config``'s retry
  policy), so it must not fail.
- ``HANG`` (SIGSTOP): a request Envoy sent to the stopped worker before its gRPC health
  check took the slot out waits for ``message_timeout`` (504) or is reset when the
  supervisor kills the worker (500, ``connection_termination``). The test records when it
  saw Envoy take the slot out; a request started after that must not fail.
- ``RELOAD``: explains nothing; a rolling reload fails no request.
"""

from __future__ import annotations

import collections
import enum
import http.client
import itertools
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.envoy_config import connection_manager
from tests.helpers.procs import wait_for

CONNECTIONS = 4
REQUEST_TIMEOUT_S = 15.0
CONNECTION_ERROR = -1  # the client saw no HTTP response at all
LOAD_ID_HEADER = "x-load-id"
# Envoy's file access log is flushed every second by default.
ACCESS_LOG_TIMEOUT_S = 30.0
# Envoy's %RESPONSE_CODE_DETAILS% for the failures the faults explain.
ANSWERED_RESET = "upstream_reset_after_response_started"
CONNECTION_TERMINATION = "connection_termination"
MESSAGE_TIMEOUT = "per-message_timeout_exceeded"
# Load ids are unique per test session: a module-scoped Envoy's access log holds the lines
# of earlier loads too, and a reused id would match one of those instead of its own.
_LOAD_NUMBERS = itertools.count(1)


class FaultKind(enum.Enum):
    KILL = "kill -9"
    HANG = "SIGSTOP"
    RELOAD = "rolling reload"


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault, in ``time.monotonic()`` seconds."""

    kind: FaultKind
    before_s: float  # just before it was injected
    after_s: float  # just after
    out_s: float | None = None  # HANG: when Envoy was seen to have taken the slot out


@dataclass(frozen=True, slots=True)
class Result:
    started_s: float  # time.monotonic()
    ended_s: float
    status: int
    processed: bool  # the plugin's response header is there: wasmd handled both phases
    load_id: str  # the x-load-id header sent: the request's line in Envoy's access log


@dataclass(frozen=True, slots=True)
class Summary:
    total: int
    statuses: dict[int, int]
    failed: int
    unprocessed_ok: int
    failed_at_s: tuple[float, ...]  # when each failure completed, relative to the first fault


class ClosedLoad:
    """``connections`` threads, each sending GETs on one keep-alive connection until stopped."""

    def __init__(self, port: int, connections: int = CONNECTIONS) -> None:
        self.port = port
        self.number = next(_LOAD_NUMBERS)
        self.results: list[Result] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(connections)
        ]

    def __enter__(self) -> ClosedLoad:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=REQUEST_TIMEOUT_S + 5)

    def count(self) -> int:
        with self._lock:
            return len(self.results)

    def wait_more(self, n: int, timeout_s: float) -> None:
        target = self.count() + n
        wait_for(lambda: self.count() >= target, timeout_s, what=f"{n} more responses")

    def _run(self, connection: int) -> None:
        conn: http.client.HTTPConnection | None = None
        sent = 0
        while not self._stop.is_set():
            sent += 1
            load_id = f"l{self.number}-c{connection}-{sent}"
            started = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S
                    )
                conn.request("GET", "/load", headers={LOAD_ID_HEADER: load_id})
                resp = conn.getresponse()
                resp.read()
                status, processed = resp.status, resp.getheader("x-as-resp") == "added"
            except (OSError, http.client.HTTPException):
                status, processed = CONNECTION_ERROR, False
                conn = None
            with self._lock:
                self.results.append(Result(started, time.monotonic(), status, processed, load_id))

    def failures(self) -> list[Result]:
        with self._lock:
            return [r for r in self.results if not 200 <= r.status < 300]

    def summary(self, since_s: float) -> Summary:
        with self._lock:
            results = list(self.results)
        failed = [r for r in results if not 200 <= r.status < 300]
        return Summary(
            total=len(results),
            statuses=dict(collections.Counter(r.status for r in results)),
            failed=len(failed),
            unprocessed_ok=sum(1 for r in results if 200 <= r.status < 300 and not r.processed),
            failed_at_s=tuple(round(r.ended_s - since_s, 3) for r in failed),
        )


def add_access_log(doc: dict[str, Any], path: Path) -> None:
    """Make Envoy log every request as JSON: its load id, status and why it ended so."""
    fields = {
        "id": f"%REQ({LOAD_ID_HEADER.upper()})%",
        "status": "%RESPONSE_CODE%",
        "details": "%RESPONSE_CODE_DETAILS%",
        "flags": "%RESPONSE_FLAGS%",
        "ms": "%DURATION%",
        "upstream": "%UPSTREAM_HOST%",
    }
    connection_manager(doc)["access_log"] = [
        {
            "name": "envoy.access_loggers.file",
            "typed_config": {
                "@type": "type.googleapis.com/"
                "envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": str(path),
                "log_format": {"json_format": fields},
            },
        }
    ]


def access_log_rows(path: Path, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The access log lines of ``ids``, waiting (bounded) until Envoy has flushed them all."""

    def rows() -> dict[str, dict[str, Any]] | None:
        text = path.read_text() if path.exists() else ""
        found = {}
        for line in text.splitlines():
            row = json.loads(line)
            if row["id"] in ids:
                found[row["id"]] = row
        return found if set(found) == ids else None

    if not ids:
        return {}
    result = wait_for(rows, ACCESS_LOG_TIMEOUT_S, 0.1, what=f"{len(ids)} lines in {path}")
    assert isinstance(result, dict)
    return result


def explains(fault: Fault, r: Result, details: str) -> bool:
    """Whether ``fault`` explains failed request ``r`` (Envoy's details: ``details``)."""
    if fault.kind is FaultKind.KILL:
        in_flight = r.started_s <= fault.after_s and r.ended_s >= fault.before_s
        return in_flight and r.status == 500 and ANSWERED_RESET in details
    if fault.kind is FaultKind.HANG:
        assert fault.out_s is not None, "a HANG fault records when Envoy took the slot out"
        sent_to_it = r.started_s <= fault.out_s and r.ended_s >= fault.before_s
        timed_out = r.status == 504 and MESSAGE_TIMEOUT in details
        killed = r.status == 500 and CONNECTION_TERMINATION in details
        return sent_to_it and (timed_out or killed)
    return False


def unexplained(load: ClosedLoad, faults: list[Fault], access_log: Path) -> list[str]:
    """A line for every failed request no fault explains (empty: every failure is one a
    fault is allowed to cause), with Envoy's reason and the times relative to the faults."""
    failed = load.failures()
    rows = access_log_rows(access_log, {r.load_id for r in failed if r.status > 0})
    origin = faults[0].before_s if faults else 0.0
    out = []
    for r in failed:
        row = rows.get(r.load_id, {})
        if not any(explains(f, r, str(row.get("details", ""))) for f in faults):
            out.append(
                f"{r.load_id} {r.status} started {r.started_s - origin:+.3f}s ended "
                f"{r.ended_s - origin:+.3f}s: {row or 'no HTTP response'}"
            )
    if out:
        out += [describe(f, origin) for f in faults]
    return out


def describe(fault: Fault, origin: float) -> str:
    out = f" Envoy took it out {fault.out_s - origin:+.3f}s" if fault.out_s is not None else ""
    return (
        f"fault {fault.kind.value}: {fault.before_s - origin:+.3f}s"
        f"..{fault.after_s - origin:+.3f}s{out}"
    )
