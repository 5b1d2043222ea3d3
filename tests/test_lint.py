"""The project's own hygiene, run as tests so the README's one test command covers it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import REPO


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False, timeout=300)


def _module_available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@pytest.mark.parametrize(
    "args", [["check", "."], ["format", "--check", "."]], ids=["check", "format"]
)
def test_ruff(args: list[str]) -> None:
    if not _module_available("ruff") and not shutil.which("ruff"):
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    proc = _run(sys.executable, "-m", "ruff", *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy() -> None:
    if not _module_available("mypy"):
        pytest.skip("mypy is not installed (pip install -e '.[test]')")
    proc = _run(sys.executable, "-m", "mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
