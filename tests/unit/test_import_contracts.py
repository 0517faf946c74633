"""The process boundary in the import graph: the supervisor side and the worker side never
import each other, both import ``wasmd.kernel``, and the CLI sits on top.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and are checked by
import-linter, which reads the imports of every module without running them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert lint_imports(no_cache=True) == 0, "an import crosses the boundary: run lint-imports"


def test_a_crossing_import_is_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The check is real: a contract the tree breaks (workers do import the kernel) fails."""
    config = tmp_path / "broken.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["wasmd", "workers"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "deliberately broken"\ntype = "forbidden"\n'
        'source_modules = ["workers"]\nforbidden_modules = ["wasmd.kernel"]\n'
    )
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(config), no_cache=True) == 1
