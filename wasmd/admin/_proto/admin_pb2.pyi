from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SlotState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SLOT_STATE_UNSPECIFIED: _ClassVar[SlotState]
    SLOT_STATE_SPAWNING: _ClassVar[SlotState]
    SLOT_STATE_READY: _ClassVar[SlotState]
    SLOT_STATE_DRAINING: _ClassVar[SlotState]
    SLOT_STATE_EXITED: _ClassVar[SlotState]
    SLOT_STATE_BACKOFF: _ClassVar[SlotState]
    SLOT_STATE_FAILED: _ClassVar[SlotState]

class RolloutState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLLOUT_STATE_UNSPECIFIED: _ClassVar[RolloutState]
    ROLLOUT_STATE_IDLE: _ClassVar[RolloutState]
    ROLLOUT_STATE_CANARY: _ClassVar[RolloutState]
    ROLLOUT_STATE_ROLLING: _ClassVar[RolloutState]
    ROLLOUT_STATE_FAILED: _ClassVar[RolloutState]

class ReloadOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RELOAD_OUTCOME_UNSPECIFIED: _ClassVar[ReloadOutcome]
    RELOAD_OUTCOME_STARTED: _ClassVar[ReloadOutcome]
    RELOAD_OUTCOME_SUCCEEDED: _ClassVar[ReloadOutcome]
    RELOAD_OUTCOME_UNCHANGED: _ClassVar[ReloadOutcome]
    RELOAD_OUTCOME_FAILED: _ClassVar[ReloadOutcome]

class DrainOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DRAIN_OUTCOME_UNSPECIFIED: _ClassVar[DrainOutcome]
    DRAIN_OUTCOME_DRAINED: _ClassVar[DrainOutcome]
    DRAIN_OUTCOME_UNKNOWN_SLOT: _ClassVar[DrainOutcome]
    DRAIN_OUTCOME_REFUSED: _ClassVar[DrainOutcome]
    DRAIN_OUTCOME_FAILED: _ClassVar[DrainOutcome]
SLOT_STATE_UNSPECIFIED: SlotState
SLOT_STATE_SPAWNING: SlotState
SLOT_STATE_READY: SlotState
SLOT_STATE_DRAINING: SlotState
SLOT_STATE_EXITED: SlotState
SLOT_STATE_BACKOFF: SlotState
SLOT_STATE_FAILED: SlotState
ROLLOUT_STATE_UNSPECIFIED: RolloutState
ROLLOUT_STATE_IDLE: RolloutState
ROLLOUT_STATE_CANARY: RolloutState
ROLLOUT_STATE_ROLLING: RolloutState
ROLLOUT_STATE_FAILED: RolloutState
RELOAD_OUTCOME_UNSPECIFIED: ReloadOutcome
RELOAD_OUTCOME_STARTED: ReloadOutcome
RELOAD_OUTCOME_SUCCEEDED: ReloadOutcome
RELOAD_OUTCOME_UNCHANGED: ReloadOutcome
RELOAD_OUTCOME_FAILED: ReloadOutcome
DRAIN_OUTCOME_UNSPECIFIED: DrainOutcome
DRAIN_OUTCOME_DRAINED: DrainOutcome
DRAIN_OUTCOME_UNKNOWN_SLOT: DrainOutcome
DRAIN_OUTCOME_REFUSED: DrainOutcome
DRAIN_OUTCOME_FAILED: DrainOutcome

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StatusReply(_message.Message):
    __slots__ = ("daemon",)
    DAEMON_FIELD_NUMBER: _ClassVar[int]
    daemon: DaemonStatus
    def __init__(self, daemon: _Optional[_Union[DaemonStatus, _Mapping]] = ...) -> None: ...

class DaemonStatus(_message.Message):
    __slots__ = ("version", "pid", "uptime_s", "generation", "rollout", "config_path", "workers", "plugins")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_PATH_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    PLUGINS_FIELD_NUMBER: _ClassVar[int]
    version: str
    pid: int
    uptime_s: float
    generation: int
    rollout: RolloutStatus
    config_path: str
    workers: _containers.RepeatedCompositeFieldContainer[WorkerStatus]
    plugins: _containers.RepeatedCompositeFieldContainer[PluginStatus]
    def __init__(self, version: _Optional[str] = ..., pid: _Optional[int] = ..., uptime_s: _Optional[float] = ..., generation: _Optional[int] = ..., rollout: _Optional[_Union[RolloutStatus, _Mapping]] = ..., config_path: _Optional[str] = ..., workers: _Optional[_Iterable[_Union[WorkerStatus, _Mapping]]] = ..., plugins: _Optional[_Iterable[_Union[PluginStatus, _Mapping]]] = ...) -> None: ...

class RolloutStatus(_message.Message):
    __slots__ = ("state", "target_generation", "last_error")
    STATE_FIELD_NUMBER: _ClassVar[int]
    TARGET_GENERATION_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    state: RolloutState
    target_generation: int
    last_error: str
    def __init__(self, state: _Optional[_Union[RolloutState, str]] = ..., target_generation: _Optional[int] = ..., last_error: _Optional[str] = ...) -> None: ...

class WorkerStatus(_message.Message):
    __slots__ = ("slot", "pid", "state", "generation", "uptime_s", "rss_bytes", "cpu_s", "requests_served", "in_flight", "restarts", "last_exit_reason", "heartbeat_age_s")
    SLOT_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    CPU_S_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_SERVED_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    LAST_EXIT_REASON_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_AGE_S_FIELD_NUMBER: _ClassVar[int]
    slot: int
    pid: int
    state: SlotState
    generation: int
    uptime_s: float
    rss_bytes: int
    cpu_s: float
    requests_served: int
    in_flight: int
    restarts: int
    last_exit_reason: str
    heartbeat_age_s: float
    def __init__(self, slot: _Optional[int] = ..., pid: _Optional[int] = ..., state: _Optional[_Union[SlotState, str]] = ..., generation: _Optional[int] = ..., uptime_s: _Optional[float] = ..., rss_bytes: _Optional[int] = ..., cpu_s: _Optional[float] = ..., requests_served: _Optional[int] = ..., in_flight: _Optional[int] = ..., restarts: _Optional[int] = ..., last_exit_reason: _Optional[str] = ..., heartbeat_age_s: _Optional[float] = ...) -> None: ...

class PluginStatus(_message.Message):
    __slots__ = ("name", "module_sha256", "vm_count", "failed_vms", "traps", "deadline_hits", "reloads", "calls", "p50_call_us", "p99_call_us", "visibility")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODULE_SHA256_FIELD_NUMBER: _ClassVar[int]
    VM_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_VMS_FIELD_NUMBER: _ClassVar[int]
    TRAPS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_HITS_FIELD_NUMBER: _ClassVar[int]
    RELOADS_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    P50_CALL_US_FIELD_NUMBER: _ClassVar[int]
    P99_CALL_US_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    module_sha256: str
    vm_count: int
    failed_vms: int
    traps: int
    deadline_hits: int
    reloads: int
    calls: int
    p50_call_us: float
    p99_call_us: float
    visibility: Visibility
    def __init__(self, name: _Optional[str] = ..., module_sha256: _Optional[str] = ..., vm_count: _Optional[int] = ..., failed_vms: _Optional[int] = ..., traps: _Optional[int] = ..., deadline_hits: _Optional[int] = ..., reloads: _Optional[int] = ..., calls: _Optional[int] = ..., p50_call_us: _Optional[float] = ..., p99_call_us: _Optional[float] = ..., visibility: _Optional[_Union[Visibility, _Mapping]] = ...) -> None: ...

class Visibility(_message.Message):
    __slots__ = ("hide_headers", "redact_headers", "read_only_headers", "hide_properties")
    HIDE_HEADERS_FIELD_NUMBER: _ClassVar[int]
    REDACT_HEADERS_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_HEADERS_FIELD_NUMBER: _ClassVar[int]
    HIDE_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    hide_headers: _containers.RepeatedScalarFieldContainer[str]
    redact_headers: _containers.RepeatedScalarFieldContainer[str]
    read_only_headers: _containers.RepeatedScalarFieldContainer[str]
    hide_properties: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, hide_headers: _Optional[_Iterable[str]] = ..., redact_headers: _Optional[_Iterable[str]] = ..., read_only_headers: _Optional[_Iterable[str]] = ..., hide_properties: _Optional[_Iterable[str]] = ...) -> None: ...

class ReloadRequest(_message.Message):
    __slots__ = ("wait",)
    WAIT_FIELD_NUMBER: _ClassVar[int]
    wait: bool
    def __init__(self, wait: _Optional[bool] = ...) -> None: ...

class ReloadReply(_message.Message):
    __slots__ = ("outcome", "generation", "message")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    outcome: ReloadOutcome
    generation: int
    message: str
    def __init__(self, outcome: _Optional[_Union[ReloadOutcome, str]] = ..., generation: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class DrainRequest(_message.Message):
    __slots__ = ("slot",)
    SLOT_FIELD_NUMBER: _ClassVar[int]
    slot: int
    def __init__(self, slot: _Optional[int] = ...) -> None: ...

class DrainReply(_message.Message):
    __slots__ = ("outcome", "slot", "old_pid", "new_pid", "message")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    OLD_PID_FIELD_NUMBER: _ClassVar[int]
    NEW_PID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    outcome: DrainOutcome
    slot: int
    old_pid: int
    new_pid: int
    message: str
    def __init__(self, outcome: _Optional[_Union[DrainOutcome, str]] = ..., slot: _Optional[int] = ..., old_pid: _Optional[int] = ..., new_pid: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class MetricsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MetricsReply(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class ListPluginsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PluginInfo(_message.Message):
    __slots__ = ("name", "module", "module_sha256", "root_id", "vm_id", "failure_policy", "deadline_ms", "memory_limit_mib", "chains", "generation")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODULE_FIELD_NUMBER: _ClassVar[int]
    MODULE_SHA256_FIELD_NUMBER: _ClassVar[int]
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    VM_ID_FIELD_NUMBER: _ClassVar[int]
    FAILURE_POLICY_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_LIMIT_MIB_FIELD_NUMBER: _ClassVar[int]
    CHAINS_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    module: str
    module_sha256: str
    root_id: str
    vm_id: str
    failure_policy: str
    deadline_ms: int
    memory_limit_mib: int
    chains: _containers.RepeatedScalarFieldContainer[str]
    generation: int
    def __init__(self, name: _Optional[str] = ..., module: _Optional[str] = ..., module_sha256: _Optional[str] = ..., root_id: _Optional[str] = ..., vm_id: _Optional[str] = ..., failure_policy: _Optional[str] = ..., deadline_ms: _Optional[int] = ..., memory_limit_mib: _Optional[int] = ..., chains: _Optional[_Iterable[str]] = ..., generation: _Optional[int] = ...) -> None: ...

class ListPluginsReply(_message.Message):
    __slots__ = ("plugins",)
    PLUGINS_FIELD_NUMBER: _ClassVar[int]
    plugins: _containers.RepeatedCompositeFieldContainer[PluginInfo]
    def __init__(self, plugins: _Optional[_Iterable[_Union[PluginInfo, _Mapping]]] = ...) -> None: ...
