"""Run ``wasmd try --json`` for a manifest plugin and case, as a bounded subprocess."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.helpers import callout_upstreams
from tests.helpers.manifest import REPO_ROOT, CaseSpec, PluginSpec
from tests.helpers.procs import Completed, run
from tests.helpers.tools import compile_cache

# Loading compiles the module with wasmtime (cold cache) and runs one exchange.
TRY_TIMEOUT_S = 60.0
EXIT_OK, EXIT_LOAD_FAILED, EXIT_RUN_FAILED = 0, 2, 3


@dataclass(frozen=True, slots=True)
class TryResult:
    completed: Completed
    result: dict[str, Any]

    @property
    def loaded(self) -> bool:
        return bool(self.result.get("loaded"))


def try_argv(
    spec: PluginSpec,
    case: CaseSpec | None,
    callouts: Mapping[str, tuple[str, int]] | None = None,
) -> list[str]:
    """The command line for ``spec`` and ``case`` (defaults when ``case`` is None);
    ``callouts`` (name -> (kind, port), started by the caller) become ``--upstream``s.

    Long options use ``--opt=value`` so values starting with ``-`` stay values.
    """
    argv = [
        sys.executable,
        "-m",
        "wasmd",
        "try",
        str(spec.wasm),
        "--json",
        f"--name={spec.name}",
        f"--root-id={spec.root_id}",
        f"--vm-id={spec.name}",  # the harness gives Envoy's vm_config.vm_id the plugin name
        "--log-level=warn",  # the harness runs Envoy with -l warn
        f"--config={spec.config}",
        f"--vm-config={spec.vm_config}",
        f"--failure-policy={spec.failure_policy}",
    ]
    argv += [f"--env={k}={v}" for k, v in spec.env]
    argv += [f"--metadata={name}={fields}" for name, fields in spec.dynamic_metadata]
    argv += [f"--property={name}={value}" for name, value in spec.try_properties]
    for name, (kind, port) in (callouts or {}).items():
        argv.append(f"--upstream={name}={callout_upstreams.url_of(kind, port)}")
    cache = compile_cache()
    if cache is not None:
        argv.append(f"--compile-cache={cache}")
    if case is not None:
        argv += _case_args(case)
    return argv


def _case_args(case: CaseSpec) -> list[str]:
    args = [f"--method={case.method}", f"--path={case.path}", f"--status={case.status}"]
    for name, value in case.headers:
        args += ["-H", f"{name}: {value}"]
    for name, value in case.response_headers:
        args += ["-R", f"{name}: {value}"]
    if case.body:
        args.append(f"--body={case.body}")
    if case.response_body:
        args.append(f"--response-body={case.response_body}")
    return args


def run_in_process(argv: list[str]) -> Completed:
    """``wasmd try`` through its real CLI entry point, in this process.

    The same argument parsing, loading and JSON output as the subprocess, without a Python
    start-up per case (the corpus has ~100 cases; tests/integration/test_cli_try.py covers
    the process itself: exit codes, one JSON object on stdout). WASMD_TRY_SUBPROCESS=1 runs
    every case as a subprocess instead.
    """
    from wasmd import cli

    assert argv[1:4] == ["-m", "wasmd", "try"], argv
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv[3:])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Completed(tuple(argv), code, out.getvalue(), err.getvalue())


def run_try(spec: PluginSpec, case: CaseSpec | None, timeout_s: float = TRY_TIMEOUT_S) -> TryResult:
    """Run ``wasmd try`` and parse its single JSON object.

    Raises AssertionError (with the command, exit code and output) when the exit code is
    not one of the contract's (0, 2, 3) or stdout is not exactly one JSON object.
    """
    with callout_upstreams.started(dict(spec.upstreams)) as callouts:
        argv = try_argv(spec, case, callouts)
        if os.environ.get("WASMD_TRY_SUBPROCESS"):
            completed = run(argv, timeout_s=timeout_s, cwd=REPO_ROOT)
        else:
            completed = run_in_process(argv)
    if completed.returncode not in (EXIT_OK, EXIT_LOAD_FAILED, EXIT_RUN_FAILED):
        raise AssertionError(f"wasmd try failed unexpectedly\n{completed.describe()}")
    try:
        result = json.loads(completed.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"wasmd try --json did not print one JSON object ({exc})\n{completed.describe()}"
        ) from None
    if not isinstance(result, dict):
        raise AssertionError(f"wasmd try --json printed a non-object\n{completed.describe()}")
    return TryResult(completed, result)
