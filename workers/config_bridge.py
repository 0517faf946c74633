"""From the daemon's config types (wasmd.kernel.config) to what a worker runs.

``PluginConfig`` and ``PluginSource`` are the worker-side forms.

The supervisor never imports ``workers``; a worker reads the same config file and converts
each ``[[plugins]]`` entry here. Module bytes are read once and checked against the
configured sha256, so a worker never runs a module the operator did not pin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from wasmd.kernel.config import DaemonConfig, PluginSpec
from wasmd.kernel.errors import PluginLoadError
from workers.abi.types import LogLevel
from workers.contexts.plugin import FailurePolicy, PluginConfig
from workers.contexts.visibility import compile_spec, daemon_key
from workers.service import PluginSource

MIB = 1 << 20


def plugin_config(spec: PluginSpec) -> PluginConfig:
    """The worker-side settings of one configured plugin (callout upstreams included)."""
    return PluginConfig(
        name=spec.name,
        root_id=spec.root_id,
        vm_id=spec.vm_id,
        configuration=spec.configuration.encode(),
        vm_configuration=spec.vm_configuration.encode(),
        env=tuple(sorted(spec.env.items())),
        failure_policy=FailurePolicy(spec.failure_policy),
        deadline_ms=spec.deadline_ms,
        memory_limit_bytes=spec.memory_limit_mib * MIB,
        log_level=LogLevel[spec.log_level.upper()],
        upstreams=dict(spec.upstreams),
        # The key is read (and dropped from the environment) even for plugins without a
        # policy, so it never lingers in a worker's environment.
        visibility=compile_spec(spec.visibility, daemon_key()),
    )


def read_module(spec: PluginSpec) -> bytes:
    """The module bytes of ``spec``; raises PluginLoadError if unreadable or the sha256 differs."""
    try:
        wasm = spec.module.read_bytes()
    except OSError as exc:
        raise PluginLoadError(
            f"plugin {spec.name}: cannot read module {spec.module}: {exc.strerror}"
        ) from None
    if spec.sha256:
        actual = hashlib.sha256(wasm).hexdigest()
        if actual != spec.sha256:
            raise PluginLoadError(
                f"plugin {spec.name}: module {spec.module} has sha256 {actual}, but the config "
                f"pins {spec.sha256}; update sha256 or restore the module"
            )
    return wasm


def plugin_source(spec: PluginSpec) -> PluginSource:
    """Config plus checked module bytes, ready for WorkerService."""
    return PluginSource(plugin_config(spec), read_module(spec))


def plugin_sources(config: DaemonConfig) -> list[PluginSource]:
    """Every configured plugin, in file order; raises PluginLoadError naming the first bad one."""
    return [plugin_source(spec) for spec in config.plugins]


def chains(config: DaemonConfig) -> Mapping[str, tuple[str, ...]]:
    """The named chains, as WorkerService takes them."""
    return dict(config.chains)
