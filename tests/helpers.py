"""Small helpers shared by the core tests: run build.py for real, write profiles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from conftest import DEFAULT_PROFILE, REPO, SCHEMA


def run_build_py(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    if SCHEMA.is_file():  # ../shared's copy of constructor's schema, where present
        full_env.setdefault("ORGCONDA_CONSTRUCT_SCHEMA", str(SCHEMA))
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def default_profile_data() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write_profile(directory: Path, data: dict[str, Any], name: str = "org.yaml") -> Path:
    """Write a profile next to a copy of the default license file, so relative paths work."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "LICENSE.txt").write_bytes((REPO / "construct" / "LICENSE.txt").read_bytes())
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
