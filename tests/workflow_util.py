"""Reading the GitHub workflows as data, and running their `run:` scripts as the runner would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from conftest import REPO, require_tool

WORKFLOWS = REPO / ".github" / "workflows"
INSTALLERS = WORKFLOWS / "installers.yml"
CI = WORKFLOWS / "ci.yml"

FROM_JSON = re.compile(
    r"^\$\{\{\s*fromJSON\(\s*needs\.([\w-]+)\.outputs\.([\w-]+)\s*\)\s*\}\}$", re.IGNORECASE
)
STEP_OUTPUT = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$")
SECRET_REF = re.compile(r"\$\{\{[^}]*\bsecrets\.", re.IGNORECASE)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def triggers(wf: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    on = wf.get("on", wf.get(True))
    assert isinstance(on, dict)
    return on


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def steps(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = job.get("steps", [])
    assert isinstance(found, list)
    return found


def runs(wf: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    for job_id, job in wf["jobs"].items():
        for step in steps(job):
            if "run" in step:
                yield job_id, step, step["run"]


def needs(job: Mapping[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def job_running(wf: dict[str, Any], command: str) -> str:
    """The one job with a `run:` script containing ``command``."""
    found = sorted({job_id for job_id, _, script in runs(wf) if command in script})
    assert len(found) == 1, f"expected one job running {command!r}, found {found}"
    return found[0]


def step_running(job: Mapping[str, Any], command: str) -> dict[str, Any]:
    found = [s for s in steps(job) if command in s.get("run", "")]
    assert len(found) == 1, f"expected one step running {command!r}, found {len(found)}"
    return found[0]


def step_by_id(job: Mapping[str, Any], step_id: str) -> dict[str, Any]:
    found = [s for s in steps(job) if s.get("id") == step_id]
    assert len(found) == 1, f"no single step with id {step_id!r}"
    return found[0]


def step_named(job: Mapping[str, Any], words: str) -> dict[str, Any]:
    found = [s for s in steps(job) if words in s.get("name", "")]
    assert len(found) == 1, f"expected one step named like {words!r}, found {len(found)}"
    return found[0]


def uses(step: Mapping[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).startswith(f"{action}@")


def matrix_source(job: Mapping[str, Any]) -> tuple[str, str]:
    """(producer job, output) of a job whose strategy.matrix is fromJSON(needs.X.outputs.Y)."""
    matrix = job.get("strategy", {}).get("matrix")
    assert isinstance(matrix, str), matrix
    m = FROM_JSON.match(matrix.strip())
    assert m, matrix
    return m.group(1), m.group(2)


def python_shim(directory: Path, script: str | None = None) -> Path:
    """A `python` on PATH that is this interpreter (a script, so a venv stays a venv), or that
    runs ``script`` instead of what it was asked to, to record how it was called."""
    directory.mkdir(parents=True, exist_ok=True)
    target = f'"{sys.executable}" "{script}"' if script else f'"{sys.executable}"'
    shim = directory / "python"
    shim.write_text(f'#!/bin/sh\nexec {target} "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    return directory


def run_script(
    script: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    path_first: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a step's script with bash as GitHub's `shell: bash` does (-eo pipefail)."""
    bash = require_tool("bash")
    path = os.environ.get("PATH", "")
    if path_first is not None:
        path = f"{path_first}{os.pathsep}{path}"
    full_env = {
        "PATH": path,
        "HOME": os.environ.get("HOME", str(cwd)),
        "GITHUB_REF_TYPE": "branch",
        "GITHUB_REF_NAME": "main",
        "GITHUB_REPOSITORY": "acme/orgconda",
        **(env or {}),
    }
    return subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def outputs(path: Path) -> dict[str, str]:
    """A $GITHUB_OUTPUT file's `key=value` lines."""
    if not path.is_file():
        return {}
    return dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())
