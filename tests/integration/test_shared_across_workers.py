"""Shared data, shared queues and `wasmd metrics` across the workers of one real daemon.

`wasmd serve` with 2 workers runs a probe plugin (WAT below, assembled per test). Requests
reach a chosen worker through its slot's Envoy ext_proc socket (``extproc-<slot>.sock``),
so "set through slot 0, read through slot 1" is deterministic. The probe's request header
``x-op`` picks what it does; results come back as request-header mutations:

- ``set``: proxy_set_shared_data(x-key, x-value, cas=x-cas) -> ``x-status``
- ``get``: proxy_get_shared_data(x-key) -> ``x-status``, ``x-out-value``, ``x-out-cas``
- ``register``: remember x-value as this VM's tag, proxy_register_shared_queue(x-key) ->
  ``x-status``, ``x-queue-id``
- ``enqueue``: proxy_resolve_shared_queue("", x-key) then enqueue x-value -> ``x-status``
- ``count``: proxy_get_metric(probe_requests) -> ``x-status``, ``x-count``

``proxy_on_queue_ready`` dequeues a value v and sets shared data ``v = <this VM's tag>``, so
reading key v tells which worker's VM got the notification. Every request counts in the
plugin counter ``probe_requests``; every delivery in ``probe_delivered``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import wasmtime
from envoy.config.core.v3 import base_pb2 as core
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ep_grpc
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.procs import Spawned, spawn, wait_for
from wasmd.admin.client import AdminClient
from wasmd.admin.model import DaemonStatus, SlotState

START_TIMEOUT_S = 60.0
RPC_TIMEOUT_S = 10.0
OK, NOT_FOUND, CAS_MISMATCH = "0", "1", "8"

pytestmark = pytest.mark.timeout(120)

PROBE_WAT = r"""
(module
  (type $i5 (func (param i32 i32 i32 i32 i32) (result i32)))
  (type $i3 (func (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_hdr (type $i5)))
  (import "env" "proxy_add_header_map_value" (func $add_hdr (type $i5)))
  (import "env" "proxy_get_shared_data" (func $get_shared (type $i5)))
  (import "env" "proxy_set_shared_data" (func $set_shared (type $i5)))
  (import "env" "proxy_register_shared_queue" (func $register (type $i3)))
  (import "env" "proxy_resolve_shared_queue" (func $resolve (type $i5)))
  (import "env" "proxy_enqueue_shared_queue" (func $enqueue (type $i3)))
  (import "env" "proxy_dequeue_shared_queue" (func $dequeue (type $i3)))
  (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $inc (param i32 i64) (result i32)))
  (import "env" "proxy_get_metric" (func $get_metric (param i32 i32) (result i32)))
  (memory (export "memory") 8)
  (global $heap (mut i32) (i32.const 65536))
  (global $tag_len (mut i32) (i32.const 0))
  (global $m_requests (mut i32) (i32.const 0))
  (global $m_delivered (mut i32) (i32.const 0))
  (data (i32.const 16) "x-op")              ;; 4
  (data (i32.const 32) "x-key")             ;; 5
  (data (i32.const 48) "x-value")           ;; 7
  (data (i32.const 64) "x-cas")             ;; 5
  (data (i32.const 80) "x-status")          ;; 8
  (data (i32.const 96) "x-queue-id")        ;; 10
  (data (i32.const 112) "x-out-value")      ;; 11
  (data (i32.const 128) "x-out-cas")        ;; 9
  (data (i32.const 144) "probe_requests")   ;; 14
  (data (i32.const 160) "probe_delivered")  ;; 15
  (data (i32.const 176) "x-count")          ;; 7
  ;; 256/272/288/304: (ptr, len) of headers x-op, x-key, x-value, x-cas
  ;; 320/324/328: get_shared_data / dequeue out-params; 336: queue id; 340: metric id
  ;; 344: proxy_get_metric's u64 out-param
  ;; 512: decimal text; 560: its digits reversed; 1024..1279: this VM's tag

  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 7))
                               (i32.const -8)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $define (i32.const 0) (i32.const 144) (i32.const 14) (i32.const 340)))
    (global.set $m_requests (i32.load (i32.const 340)))
    (drop (call $define (i32.const 0) (i32.const 160) (i32.const 15) (i32.const 340)))
    (global.set $m_delivered (i32.load (i32.const 340)))
    (i32.const 1))

  (func $hdr (param $name i32) (param $len i32) (param $out i32)
    (if (call $get_hdr (i32.const 0) (local.get $name) (local.get $len)
                       (local.get $out) (i32.add (local.get $out) (i32.const 4)))
      (then (i32.store (local.get $out) (i32.const 0))
            (i32.store offset=4 (local.get $out) (i32.const 0)))))
  (func $itoa (param $v i32) (result i32)
    (local $p i32) (local $n i32) (local $i i32)
    (local.set $p (i32.const 560))
    (loop $digits
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (local.get $v)))
    (local.set $n (i32.sub (local.get $p) (i32.const 560)))
    (loop $copy
      (i32.store8 (i32.add (i32.const 512) (local.get $i))
                  (i32.load8_u (i32.sub (i32.sub (local.get $p) (i32.const 1)) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $copy (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $n))
  (func $atoi (param $p i32) (param $n i32) (result i32)
    (local $v i32) (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10))
                               (i32.sub (i32.load8_u (local.get $p)) (i32.const 48))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $v))
  (func $put_num (param $name i32) (param $len i32) (param $v i32)
    (local $n i32)
    (local.set $n (call $itoa (local.get $v)))
    (drop (call $add_hdr (i32.const 0) (local.get $name) (local.get $len)
                         (i32.const 512) (local.get $n))))

  (func (export "proxy_on_request_headers")
        (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (local $op i32) (local $rc i32)
    (global.set $heap (i32.const 65536))
    (drop (call $inc (global.get $m_requests) (i64.const 1)))
    (call $hdr (i32.const 16) (i32.const 4) (i32.const 256))
    (call $hdr (i32.const 32) (i32.const 5) (i32.const 272))
    (call $hdr (i32.const 48) (i32.const 7) (i32.const 288))
    (call $hdr (i32.const 64) (i32.const 5) (i32.const 304))
    (if (i32.eqz (i32.load (i32.const 260))) (then (return (i32.const 0))))
    (local.set $op (i32.load8_u (i32.load (i32.const 256))))
    (if (i32.eq (local.get $op) (i32.const 115))  ;; s: set
      (then (call $put_num (i32.const 80) (i32.const 8)
        (call $set_shared (i32.load (i32.const 272)) (i32.load (i32.const 276))
                          (i32.load (i32.const 288)) (i32.load (i32.const 292))
                          (call $atoi (i32.load (i32.const 304)) (i32.load (i32.const 308)))))))
    (if (i32.eq (local.get $op) (i32.const 103))  ;; g: get
      (then
        (local.set $rc (call $get_shared (i32.load (i32.const 272)) (i32.load (i32.const 276))
                                         (i32.const 320) (i32.const 324) (i32.const 328)))
        (call $put_num (i32.const 80) (i32.const 8) (local.get $rc))
        (if (i32.eqz (local.get $rc))
          (then
            (drop (call $add_hdr (i32.const 0) (i32.const 112) (i32.const 11)
                                 (i32.load (i32.const 320)) (i32.load (i32.const 324))))
            (call $put_num (i32.const 128) (i32.const 9) (i32.load (i32.const 328)))))))
    (if (i32.eq (local.get $op) (i32.const 114))  ;; r: register
      (then
        (global.set $tag_len (i32.load (i32.const 292)))
        (if (i32.gt_u (global.get $tag_len) (i32.const 255))
          (then (global.set $tag_len (i32.const 255))))
        (memory.copy (i32.const 1024) (i32.load (i32.const 288)) (global.get $tag_len))
        (call $put_num (i32.const 80) (i32.const 8)
          (call $register (i32.load (i32.const 272)) (i32.load (i32.const 276)) (i32.const 336)))
        (call $put_num (i32.const 96) (i32.const 10) (i32.load (i32.const 336)))))
    (if (i32.eq (local.get $op) (i32.const 99))  ;; c: count (probe_requests, daemon-wide)
      (then
        (call $put_num (i32.const 80) (i32.const 8)
          (call $get_metric (global.get $m_requests) (i32.const 344)))
        (call $put_num (i32.const 176) (i32.const 7) (i32.load (i32.const 344)))))
    (if (i32.eq (local.get $op) (i32.const 101))  ;; e: enqueue
      (then
        (local.set $rc (call $resolve (i32.const 0) (i32.const 0) (i32.load (i32.const 272))
                                      (i32.load (i32.const 276)) (i32.const 336)))
        (if (i32.eqz (local.get $rc))
          (then (local.set $rc (call $enqueue (i32.load (i32.const 336))
                                              (i32.load (i32.const 288))
                                              (i32.load (i32.const 292))))))
        (call $put_num (i32.const 80) (i32.const 8) (local.get $rc))))
    (i32.const 0))

  (func (export "proxy_on_queue_ready") (param $root i32) (param $qid i32)
    (global.set $heap (i32.const 65536))
    (if (call $dequeue (local.get $qid) (i32.const 320) (i32.const 324)) (then (return)))
    (drop (call $set_shared (i32.load (i32.const 320)) (i32.load (i32.const 324))
                            (i32.const 1024) (global.get $tag_len) (i32.const 0)))
    (drop (call $inc (global.get $m_delivered) (i64.const 1))))
)
"""


def write_config(tmp: Path, module: Path) -> Path:
    lines = [
        "[daemon]",
        "workers = 2",
        f'runtime_dir = "{tmp / "run"}"',
        f'cache_dir = "{tmp / "cache"}"',
        # Slow heartbeats: `wasmd metrics` must still be current (it asks the workers).
        "heartbeat_interval_s = 3.0",
        "heartbeat_timeout_s = 15.0",
        "ready_timeout_s = 30.0",
        "drain_timeout_s = 2.0",
        'log_level = "warn"',
        "[[plugins]]",
        'name = "probe"',
        f'module = "{module}"',
        'vm_id = "probe"',
        "[chains]",
        'default = ["probe"]',
    ]
    path = tmp / "wasmd.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class Daemon:
    """A running `wasmd serve`, reached through the admin socket and the slots' ext_proc."""

    def __init__(self, proc: Spawned, runtime_dir: Path) -> None:
        self.proc = proc
        self.runtime_dir = runtime_dir
        self.admin = AdminClient(runtime_dir / "admin.sock", timeout_s=10.0)
        self._channels: dict[int, grpc.Channel] = {}
        self.requests = 0  # exchanges run, over the module's tests (probe_requests)
        self.enqueued = 0  # values enqueued OK to a registered queue (probe_delivered)

    def ready(self) -> DaemonStatus:
        def check() -> DaemonStatus | None:
            assert not self.proc.exited(), "the supervisor exited"
            try:
                status = self.admin.status()
            except Exception:
                return None
            serving = all(
                w.state is SlotState.READY and w.heartbeat_age_s is not None for w in status.workers
            )
            return status if serving else None

        status = wait_for(check, START_TIMEOUT_S, 0.05, "both slots ready", self.proc.describe)
        assert isinstance(status, DaemonStatus)
        return status

    def call(self, slot: int, **headers: str) -> dict[str, str]:
        """One exchange through slot ``slot``; the request headers the probe added."""
        stub = ep_grpc.ExternalProcessorStub(self._channel(slot))
        pairs = [(":method", "GET"), (":path", "/"), (":authority", "probe")]
        pairs += [(f"x-{k.replace('_', '-')}", v) for k, v in headers.items()]
        header_map = core.HeaderMap(
            headers=[core.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
        )
        request = ep.ProcessingRequest(
            request_headers=ep.HttpHeaders(headers=header_map, end_of_stream=True)
        )
        responses = stub.Process(iter([request]), timeout=RPC_TIMEOUT_S)
        reply = next(responses)
        responses.cancel()
        assert reply.WhichOneof("response") == "request_headers", f"{reply}\n{self.log_tail()}"
        mutation = reply.request_headers.response.header_mutation
        added = {h.header.key: h.header.raw_value.decode() for h in mutation.set_headers}
        self.requests += 1
        self.enqueued += headers.get("op") == "enqueue" and added.get("x-status") == OK
        return added

    def _channel(self, slot: int) -> grpc.Channel:
        if slot not in self._channels:
            path = self.runtime_dir / f"extproc-{slot}.sock"
            self._channels[slot] = grpc.insecure_channel(f"unix:{path}")
        return self._channels[slot]

    def log_tail(self) -> str:
        return self.proc.describe()

    def metrics(self) -> str:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "wasmd",
                "metrics",
                "--admin-socket",
                str(self.runtime_dir / "admin.sock"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon for the module (start-up costs seconds); tests use distinct keys."""
    tmp_path = tmp_path_factory.mktemp("shared")
    module = tmp_path / "probe.wasm"
    module.write_bytes(wasmtime.wat2wasm(PROBE_WAT))
    config = write_config(tmp_path, module)
    argv = [sys.executable, "-m", "wasmd", "serve", "--config", str(config)]
    with spawn(argv, log_path=tmp_path / "serve.log", cwd=tmp_path) as proc:
        d = Daemon(proc, tmp_path / "run")
        try:
            d.ready()
            yield d
        finally:
            d.close()


def test_data_set_through_one_worker_is_read_through_the_other(daemon: Daemon) -> None:
    assert daemon.call(0, op="set", key="k", value="from-0") == {"x-status": OK}
    got = daemon.call(1, op="get", key="k")
    assert got["x-status"] == OK and got["x-out-value"] == "from-0"
    assert daemon.call(1, op="get", key="missing") == {"x-status": NOT_FOUND}


def test_cas_is_daemon_wide(daemon: Daemon) -> None:
    daemon.call(0, op="set", key="c", value="v1")
    cas_1 = daemon.call(1, op="get", key="c")["x-out-cas"]
    assert cas_1 != "0"
    # Slot 1 wins the race with the cas it read; slot 0, holding the same cas, loses.
    assert daemon.call(1, op="set", key="c", value="v2", cas=cas_1) == {"x-status": OK}
    assert daemon.call(0, op="set", key="c", value="v3", cas=cas_1) == {"x-status": CAS_MISMATCH}
    got = daemon.call(0, op="get", key="c")
    assert got["x-out-value"] == "v2" and got["x-out-cas"] not in ("0", cas_1)
    # One counter for the whole daemon: every write through either worker takes a new cas.
    daemon.call(0, op="set", key="d", value="x")
    cas_d = daemon.call(1, op="get", key="d")["x-out-cas"]
    assert int(cas_d) > int(got["x-out-cas"])


def test_queue_registered_in_one_worker_is_delivered_there(daemon: Daemon) -> None:
    registered = daemon.call(1, op="register", key="q", value="slot-1")
    assert registered["x-status"] == OK and registered["x-queue-id"] != "0"
    assert daemon.call(0, op="enqueue", key="q", value="m1") == {"x-status": OK}

    def delivered() -> str | None:
        got = daemon.call(0, op="get", key="m1")
        return got.get("x-out-value")

    # Slot 1's VM dequeued m1 and recorded its own tag under key m1.
    assert wait_for(delivered, 10.0, 0.05, "proxy_on_queue_ready in slot 1") == "slot-1"
    # The last registration wins: now slot 0 owns it, and slot 1's enqueue goes there.
    daemon.call(0, op="register", key="q", value="slot-0")
    daemon.call(1, op="enqueue", key="q", value="m2")
    assert wait_for(lambda: daemon.call(1, op="get", key="m2").get("x-out-value"), 10.0) == "slot-0"


def test_enqueue_to_unknown_queue_is_not_found(daemon: Daemon) -> None:
    assert daemon.call(0, op="enqueue", key="nobody-registered") == {"x-status": NOT_FOUND}


def test_get_metric_reads_the_daemon_wide_value(daemon: Daemon) -> None:
    """Envoy's stats are process-wide: at --concurrency 2 a counter incremented on three
    requests reads 1, 2, 3 whichever worker thread served each; so does wasmd's."""
    first = daemon.call(0, op="count")
    assert first["x-status"] == OK
    start = int(first["x-count"])
    counts = [int(daemon.call(slot, op="count")["x-count"]) for slot in (1, 0, 1, 1, 0)]
    assert counts == [start + 1, start + 2, start + 3, start + 4, start + 5]


def test_wasmd_metrics_is_current_not_a_heartbeat_old(daemon: Daemon) -> None:
    """Heartbeats come every 3 s here; `wasmd metrics` right after requests counts them."""
    for slot in (0, 1, 0):
        daemon.call(slot, op="count")
    requests = ("probe_requests_total", (("plugin", "probe"),))
    assert _samples(daemon.metrics())[requests] == daemon.requests


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_wasmd_metrics_sums_plugin_metrics_over_workers(daemon: Daemon) -> None:
    for _ in range(3):
        daemon.call(0, op="noop")
    for _ in range(2):
        daemon.call(1, op="noop")
    daemon.call(1, op="register", key="mq", value="slot-1")
    daemon.call(0, op="enqueue", key="mq", value="mm")
    requests = ("probe_requests_total", (("plugin", "probe"),))
    delivered = ("probe_delivered_total", (("plugin", "probe"),))
    queue_ready = ("wasmd_plugin_queue_ready_total", (("plugin", "probe"),))

    def summed() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        # Every exchange of this module, whichever slot ran it (both did).
        samples = _samples(daemon.metrics())
        done = samples.get(requests) == daemon.requests
        done = done and samples.get(delivered) == daemon.enqueued
        return samples if done else None

    samples = wait_for(summed, 10.0, 0.1, "metrics of both workers in `wasmd metrics`")
    assert isinstance(samples, dict)
    assert samples[queue_ready] == daemon.enqueued
    calls = ("wasmd_plugin_call_duration_seconds_count", (("plugin", "probe"),))
    assert samples[calls] >= daemon.requests + daemon.enqueued  # + lifecycle calls
    assert samples[("wasmd_shared_queue_pushes_total", ())] >= 1
    for slot in ("0", "1"):  # the sum above spans both workers
        assert samples[("wasmd_worker_requests_total", (("slot", slot),))] > 0


def test_a_dead_worker_loses_its_registrations_not_the_data_or_counters(daemon: Daemon) -> None:
    """kill -9 the registrar's worker: the queue keeps what is enqueued meanwhile, the
    restarted worker's registration takes ownership, and summed counters do not drop."""
    daemon.call(1, op="register", key="dq", value="old-1")
    requests = ("probe_requests_total", (("plugin", "probe"),))
    wait_for(lambda: _samples(daemon.metrics()).get(requests) == daemon.requests, 10.0, 0.1)
    old_pid = daemon.ready().workers[1].pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    wait_for(lambda: daemon.ready().workers[1].pid != old_pid, START_TIMEOUT_S, 0.05)
    assert daemon.call(0, op="enqueue", key="dq", value="kept") == {"x-status": OK}
    daemon.call(1, op="register", key="dq", value="new-1")
    daemon.call(0, op="enqueue", key="dq", value="next")
    # The new VM's first delivery dequeues the oldest value: the one nobody was told about.
    got = wait_for(lambda: daemon.call(0, op="get", key="kept").get("x-out-value"), 10.0)
    assert got == "new-1"
    assert daemon.call(0, op="get", key="next") == {"x-status": NOT_FOUND}  # still queued
    # The killed worker's counts were kept: the sum is still every exchange of the module.
    total = wait_for(lambda: _samples(daemon.metrics()).get(requests) == daemon.requests, 10.0, 0.1)
    assert total
