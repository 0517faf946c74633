"""Model values shared by the admin tests: one realistic snapshot and hypothesis strategies."""

from __future__ import annotations

from hypothesis import strategies as st

from wasmd.admin import model
from wasmd.kernel.visibility import VisibilitySpec

SHA = "3f2a1b9c0d1e" + "ab" * 26

STATUS = model.DaemonStatus(
    version="0.1.0",
    pid=4242,
    uptime_s=7385.0,
    generation=3,
    rollout=model.RolloutStatus(
        state=model.RolloutState.FAILED,
        target_generation=4,
        last_error="canary: plugin add-header failed to configure",
    ),
    config_path="/etc/wasmd/wasmd.toml",
    workers=(
        model.WorkerStatus(
            slot=0,
            pid=4243,
            state=model.SlotState.READY,
            generation=3,
            uptime_s=7380.0,
            rss_bytes=43_200_000,
            cpu_s=12.34,
            requests_served=10234,
            in_flight=2,
            restarts=0,
            heartbeat_age_s=0.4,
        ),
        model.WorkerStatus(
            slot=1,
            pid=None,
            state=model.SlotState.FAILED,
            generation=3,
            uptime_s=0.0,
            rss_bytes=0,
            cpu_s=0.0,
            requests_served=17,
            in_flight=0,
            restarts=5,
            last_exit_reason="exit 3",
        ),
    ),
    plugins=(
        model.PluginStatus(
            name="add-header",
            module_sha256=SHA,
            vm_count=2,
            failed_vms=0,
            traps=1,
            deadline_hits=0,
            reloads=0,
            calls=20468,
            p50_call_us=11.3,
            p99_call_us=1680.0,
        ),
    ),
)

PLUGIN_INFO = model.PluginInfo(
    name="add-header",
    module="/usr/share/wasmd/plugins/add_header.wasm",
    module_sha256=SHA,
    root_id="as_add_header",
    vm_id="",
    failure_policy="fail_closed",
    deadline_ms=100,
    memory_limit_mib=64,
    chains=("default", "edge"),
    generation=3,
)

_i64 = st.integers(min_value=0, max_value=2**63 - 1)
_i32 = st.integers(min_value=0, max_value=2**31 - 1)
_f = st.floats(min_value=0, max_value=1e12, allow_nan=False)

workers = st.builds(
    model.WorkerStatus,
    slot=_i32,
    pid=st.none() | _i64,
    state=st.sampled_from(model.SlotState),
    generation=_i64,
    uptime_s=_f,
    rss_bytes=_i64,
    cpu_s=_f,
    requests_served=_i64,
    in_flight=_i64,
    restarts=_i64,
    last_exit_reason=st.text(),
    heartbeat_age_s=st.none() | _f,
)
plugin_statuses = st.builds(
    model.PluginStatus,
    name=st.text(),
    module_sha256=st.text(alphabet="0123456789abcdef", max_size=64),
    vm_count=_i64,
    failed_vms=_i64,
    traps=_i64,
    deadline_hits=_i64,
    reloads=_i64,
    calls=_i64,
    p50_call_us=_f,
    p99_call_us=_f,
    visibility=st.builds(
        VisibilitySpec, *[st.lists(st.text(), max_size=3).map(tuple) for _ in range(4)]
    ),
)
statuses = st.builds(
    model.DaemonStatus,
    version=st.text(),
    pid=_i64,
    uptime_s=_f,
    generation=_i64,
    rollout=st.builds(
        model.RolloutStatus,
        state=st.sampled_from(model.RolloutState),
        target_generation=_i64,
        last_error=st.text(),
    ),
    config_path=st.text(),
    workers=st.lists(workers, max_size=4).map(tuple),
    plugins=st.lists(plugin_statuses, max_size=4).map(tuple),
)
reload_results = st.builds(
    model.ReloadResult,
    outcome=st.sampled_from(model.ReloadOutcome),
    generation=_i64,
    message=st.text(),
)
drain_results = st.builds(
    model.DrainResult,
    outcome=st.sampled_from(model.DrainOutcome),
    slot=_i32,
    old_pid=st.none() | _i64,
    new_pid=st.none() | _i64,
    message=st.text(),
)
plugin_infos = st.builds(
    model.PluginInfo,
    name=st.text(),
    module=st.text(),
    module_sha256=st.text(alphabet="0123456789abcdef", max_size=64),
    root_id=st.text(),
    vm_id=st.text(),
    failure_policy=st.sampled_from(["fail_open", "fail_closed", "reload"]),
    deadline_ms=_i64,
    memory_limit_mib=_i64,
    chains=st.lists(st.text(), max_size=3).map(tuple),
    generation=_i64,
)
