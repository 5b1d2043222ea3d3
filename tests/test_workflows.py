"""The GitHub workflows: the installers matrix comes from `build.py matrix`, actions are pinned,
permissions are least-privilege, secrets stay secret, and actionlint passes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFAULT_PROFILE, REPO, require_tool

from orgconda import platforms
from orgconda.matrix import matrix_for
from orgconda.profile import load_profile

WORKFLOWS = REPO / ".github" / "workflows"
INSTALLERS = WORKFLOWS / "installers.yml"
CI = WORKFLOWS / "ci.yml"
ACTIONLINT_SH = REPO / ".ci" / "actionlint.sh"

FROM_JSON = re.compile(
    r"^\$\{\{\s*fromJSON\(\s*needs\.([\w-]+)\.outputs\.([\w-]+)\s*\)\s*\}\}$", re.IGNORECASE
)
STEP_OUTPUT = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+?)@(\S+)(.*)$")
SECRET_REF = re.compile(r"\$\{\{[^}]*\bsecrets\.", re.IGNORECASE)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _triggers(wf: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    on = wf.get("on", wf.get(True))
    assert isinstance(on, dict)
    return on


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps = job.get("steps", [])
    assert isinstance(steps, list)
    return steps


def _runs(wf: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    for job_id, job in wf["jobs"].items():
        for step in _steps(job):
            if "run" in step:
                yield job_id, step, step["run"]


def _matrix_job(wf: dict[str, Any]) -> tuple[str, dict[str, Any], str, str]:
    """The job whose strategy.matrix is fromJSON(needs.<job>.outputs.<name>)."""
    found = []
    for job_id, job in wf["jobs"].items():
        matrix = job.get("strategy", {}).get("matrix")
        if isinstance(matrix, str) and (m := FROM_JSON.match(matrix.strip())):
            found.append((job_id, job, m.group(1), m.group(2)))
    assert len(found) == 1, f"expected one job with a fromJSON matrix, found {found}"
    return found[0]


def _step_by_id(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    matches = [s for s in _steps(job) if s.get("id") == step_id]
    assert len(matches) == 1, f"no single step with id {step_id!r}"
    return matches[0]


@pytest.fixture(scope="module")
def installers() -> dict[str, Any]:
    return _load(INSTALLERS)


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return _load(CI)


@pytest.fixture(scope="module")
def default_matrix() -> dict[str, Any]:
    return matrix_for(load_profile(DEFAULT_PROFILE))


# --- the matrix comes from build.py matrix ----------------------------------------------


def test_matrix_job_takes_its_matrix_from_build_py_matrix(installers: dict[str, Any]) -> None:
    _, job, producer_id, output = _matrix_job(installers)
    needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
    assert producer_id in needs
    assert job["strategy"]["fail-fast"] is False
    assert job["runs-on"] == "${{ matrix.runner }}"

    producer = installers["jobs"][producer_id]
    m = STEP_OUTPUT.match(producer["outputs"][output])
    assert m, producer["outputs"][output]
    step = _step_by_id(producer, m.group(1))
    assert "python build.py matrix" in step["run"]
    assert f'echo "{m.group(2)}=$' in step["run"] and '>> "$GITHUB_OUTPUT"' in step["run"]


@pytest.mark.skipif(sys.platform == "win32", reason="runs the step's bash script with a PATH stub")
def test_matrix_step_really_outputs_the_profiles_matrix(
    installers: dict[str, Any], default_matrix: dict[str, Any], tmp_path: Path
) -> None:
    """Run the producing step's script as the runner would and read $GITHUB_OUTPUT."""
    bash = require_tool("bash")
    _, _, producer_id, output = _matrix_job(installers)
    producer = installers["jobs"][producer_id]
    step_output = STEP_OUTPUT.match(producer["outputs"][output])
    assert step_output
    step = _step_by_id(producer, step_output.group(1))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "python"  # the runner's `python`; a script, so a venv stays a venv
    stub.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    stub.chmod(0o755)
    github_output = tmp_path / "github_output"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_OUTPUT": str(github_output),
    }
    proc = subprocess.run(
        [bash, "-e", "-c", step["run"]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = github_output.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    key, _, value = lines[0].partition("=")
    assert key == step_output.group(2)
    assert json.loads(value) == default_matrix


def test_no_hand_kept_platform_or_runner_list(installers: dict[str, Any]) -> None:
    labels = {p.ci_runner for p in platforms.PLATFORMS}
    # Jobs that are not per-platform need a runner of their own; nothing else may name one.
    fixed = {job_id for job_id, job in installers["jobs"].items() if "strategy" not in job}
    rest = {
        job_id: {k: v for k, v in job.items() if not (job_id in fixed and k == "runs-on")}
        for job_id, job in installers["jobs"].items()
    }
    rest_of_workflow = {k: v for k, v in installers.items() if k != "jobs"}
    for text in [*_strings(rest), *_strings(rest_of_workflow)]:
        for name in [*labels, *platforms.SUBDIRS]:
            assert name not in text, f"{name!r} is hand-written in installers.yml: {text!r}"
    for job_id in fixed:
        assert isinstance(installers["jobs"][job_id]["runs-on"], str)


def test_workflow_uses_only_keys_the_matrix_has(default_matrix: dict[str, Any]) -> None:
    used = set(
        re.findall(r"(?<![\w.])matrix\.([A-Za-z_][\w-]*)", INSTALLERS.read_text(encoding="utf-8"))
    )
    assert used, "the matrix job reads nothing from the matrix"
    for row in default_matrix["include"]:
        assert used <= set(row), f"installers.yml reads {sorted(used - set(row))} not in {row}"


def test_matrix_job_builds_verifies_and_uploads(installers: dict[str, Any]) -> None:
    _, job, _, _ = _matrix_job(installers)
    steps = _steps(job)
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("conda-incubator/setup-miniconda@") for u in uses)
    miniconda = next(s for s in steps if s.get("uses", "").startswith("conda-incubator/"))
    assert miniconda["with"]["environment-file"] == "environment.yml"
    assert miniconda["with"]["activate-environment"] == "orgconda"
    assert job["defaults"]["run"]["shell"] == "bash -el {0}"

    build = _step_by_id(job, "build")
    assert 'python build.py build --platform "$SUBDIR"' in build["run"]
    assert build["env"]["SUBDIR"] == "${{ matrix.subdir }}"
    verify = _step_by_id(job, "verify")
    assert "python build.py verify" in verify["run"]
    assert verify["env"]["VERIFY_FLAGS"] == "${{ matrix.verify_flags }}"

    uploads = {s["with"]["name"]: s for s in steps if "upload-artifact@" in s.get("uses", "")}
    installers_up = uploads["installers-${{ matrix.subdir }}"]
    paths = installers_up["with"]["path"].splitlines()
    assert "dist/${{ matrix.subdir }}/" in paths  # installers + .sha256, lockfile, info.json
    assert "dist/manifest.json" in paths
    assert installers_up["if"].startswith("always()")
    reports = uploads["verify-${{ matrix.subdir }}"]
    assert reports["with"]["path"].strip() == "dist/verify/"
    assert reports["if"].startswith("always()")  # even (above all) when verify fails


def test_release_job_publishes_installers_with_sha256sums(installers: dict[str, Any]) -> None:
    assert "v*" in _triggers(installers)["push"]["tags"]
    matrix_job_id = _matrix_job(installers)[0]
    release = [
        (job_id, job)
        for job_id, job in installers["jobs"].items()
        if any("gh release create" in s.get("run", "") for s in _steps(job))
    ]
    assert len(release) == 1
    _, job = release[0]
    assert job["needs"] == matrix_job_id or matrix_job_id in job["needs"]
    assert "refs/tags/v" in job["if"]
    script = "\n".join(s.get("run", "") for s in _steps(job))
    assert "SHA256SUMS" in script
    assert "sha256sum --check" in script
    downloads = [s for s in _steps(job) if "download-artifact@" in s.get("uses", "")]
    assert downloads and downloads[0]["with"]["pattern"] == "installers-*"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the release job runs on Linux (GNU sha256sum)"
)
def test_release_script_writes_a_sha256sum_file(installers: dict[str, Any], tmp_path: Path) -> None:
    """Run the collecting step on fake artifacts: SHA256SUMS must check with sha256sum."""
    bash = require_tool("bash")
    sha256sum = require_tool("sha256sum")
    require_tool("jq")
    job = next(
        j
        for j in installers["jobs"].values()
        if any("gh release create" in s.get("run", "") for s in _steps(j))
    )
    step = next(s for s in _steps(job) if "SHA256SUMS" in s.get("run", ""))
    for subdir, name in (("linux-64", "Acme-1-Linux-x86_64.sh"), ("win-64", "Acme-1.exe")):
        art = tmp_path / "artifacts" / f"installers-{subdir}"
        (art / subdir).mkdir(parents=True)
        payload = f"installer for {subdir}".encode()
        (art / subdir / name).write_bytes(payload)
        (art / subdir / "lockfile.base.txt").write_text("not an installer")
        manifest = {
            "installers": [
                {
                    "path": f"{subdir}/{name}",
                    "platform": subdir,
                    "sha256": hashlib.sha256(payload).hexdigest(),
                }
            ]
        }
        (art / "manifest.json").write_text(json.dumps(manifest))
    proc = subprocess.run(
        [bash, "-e", "-c", step["run"]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    release = tmp_path / "release"
    assert sorted(p.name for p in release.iterdir()) == [
        "Acme-1-Linux-x86_64.sh",
        "Acme-1.exe",
        "SHA256SUMS",
    ]
    check = subprocess.run(
        [sha256sum, "--check", "--strict", "SHA256SUMS"],
        cwd=release,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr

    # A file that differs from what its build recorded stops the release.
    (tmp_path / "release").rename(tmp_path / "release-1")
    tampered = tmp_path / "artifacts" / "installers-win-64" / "win-64" / "Acme-1.exe"
    tampered.write_bytes(b"something else")
    proc = subprocess.run(
        [bash, "-e", "-c", step["run"]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "FAILED" in proc.stdout + proc.stderr


# --- pinning, permissions, secrets ------------------------------------------------------


@pytest.mark.parametrize("path", [INSTALLERS, CI], ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha(path: Path) -> None:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if "uses:" in ln]
    assert lines
    for line in lines:
        m = USES_LINE.match(line)
        assert m, line
        action, ref, rest = m.groups()
        if action.startswith(("./", "docker://")):
            continue
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}@{ref} is not a commit SHA"
        assert re.match(r"\s+# v\d+(\.\d+)*\s*$", rest), f"{line!r}: add `# vX.Y.Z`"


def test_each_action_is_pinned_to_the_same_commit_everywhere() -> None:
    seen: dict[str, set[str]] = {}
    for path in (INSTALLERS, CI):
        for line in path.read_text(encoding="utf-8").splitlines():
            if m := USES_LINE.match(line):
                seen.setdefault(m.group(1), set()).add(m.group(2))
    assert {a: refs for a, refs in seen.items() if len(refs) > 1} == {}


@pytest.mark.parametrize("path", [INSTALLERS, CI], ids=lambda p: p.name)
def test_permissions_are_least_privilege(path: Path) -> None:
    wf = _load(path)
    assert wf["permissions"] == {"contents": "read"}
    for job_id, job in wf["jobs"].items():
        perms = job.get("permissions")
        if perms is None:
            continue
        assert isinstance(perms, dict), f"{job_id}: permissions must be a mapping"
        writes = {k for k, v in perms.items() if v == "write"}
        releases = any("gh release create" in s.get("run", "") for s in _steps(job))
        assert writes == ({"contents"} if releases else set()), (job_id, perms)
    # Only the release job may write, and it checks nothing out.
    for job in wf["jobs"].values():
        for step in _steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", [INSTALLERS, CI], ids=lambda p: p.name)
def test_secrets_reach_steps_only_through_step_env(path: Path) -> None:
    wf = _load(path)
    assert not any(SECRET_REF.search(t) for t in _strings(wf.get("env", {})))
    for job_id, job in wf["jobs"].items():
        assert not any(SECRET_REF.search(t) for t in _strings(job.get("env", {}))), job_id
        for step in _steps(job):
            outside_env = {k: v for k, v in step.items() if k != "env"}
            assert not any(SECRET_REF.search(t) for t in _strings(outside_env)), step
    for _, _, script in _runs(wf):
        assert "${{" not in script, f"expression inside a run script (use env): {script!r}"
        assert "set -x" not in script


def _secret_env(step: dict[str, Any]) -> set[str]:
    return {k for k, v in step.get("env", {}).items() if SECRET_REF.search(str(v))}


def test_secrets_are_never_echoed(installers: dict[str, Any]) -> None:
    checked = 0
    for _, step, script in _runs(installers):
        names = _secret_env(step) - {"GH_TOKEN"}
        for line in script.splitlines():
            words = line.strip().split()
            if not words or words[0] not in ("echo", "printf"):
                continue
            for name in names:
                if f"${name}" in line or f"${{{name}}}" in line:
                    checked += 1
                    # Only into a decoder writing a file, or reduced to true/false.
                    assert "| base64 --decode >" in line or "$(set_or_not" in line, line
    assert checked, "no step reads a signing secret: the signing steps are gone"


def test_signing_steps_run_only_when_their_secrets_are_set(installers: dict[str, Any]) -> None:
    _, job, _, _ = _matrix_job(installers)
    probe = _step_by_id(job, "signing")
    assert _secret_env(probe)
    signing_steps = [
        s for s in _steps(job) if _secret_env(s) and s is not probe and s.get("id") != "build"
    ]
    assert len(signing_steps) >= 2  # macOS keychain, Windows certificate
    for step in signing_steps:
        assert "steps.signing.outputs." in step["if"], step["name"]


@pytest.mark.skipif(sys.platform == "win32", reason="runs the step's bash script")
def test_signing_probe_reports_true_false_and_never_the_secret(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    bash = require_tool("bash")
    _, job, _, _ = _matrix_job(installers)
    probe = _step_by_id(job, "signing")
    secret = "s3cr3t-VALUE-42"
    out = tmp_path / "out"
    env = {name: "" for name in probe["env"]}
    env.update(
        {"PATH": os.environ.get("PATH", ""), "GITHUB_OUTPUT": str(out)},
        MACOS_APPLICATION_CERTIFICATE=secret,
        WINDOWS_CERTIFICATE=secret,
    )
    proc = subprocess.run(
        [bash, "-e", "-c", probe["run"]], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    written = out.read_text(encoding="utf-8")
    assert secret not in proc.stdout + proc.stderr + written
    assert dict(line.split("=", 1) for line in written.splitlines()) == {
        "macos": "true",
        "windows_pfx": "true",
        "azure": "false",
    }


@pytest.mark.skipif(sys.platform == "win32", reason="runs the step's bash script with a stub")
def test_build_step_passes_on_only_the_signing_variables_that_are_set(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    """constructor checks `VAR in os.environ`: an empty secret must not be passed as set."""
    bash = require_tool("bash")
    _, job, _, _ = _matrix_job(installers)
    build = _step_by_id(job, "build")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dump = tmp_path / "dump.py"
    dump.write_text(
        "import json, os, sys\nprint(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}))\n"
    )
    stub = bin_dir / "python"  # the step's `python`, reporting what it was given
    stub.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{dump}" "$@"\n')
    stub.chmod(0o755)
    env = {name: "" for name in build["env"]}
    env.update(
        SUBDIR="win-64",
        AZURE_SIGNTOOL_KEY_VAULT_URL="https://vault.example",
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    proc = subprocess.run(
        [bash, "-e", "-c", build["run"]], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["argv"] == ["build.py", "build", "--platform", "win-64"]
    signing_vars = {n for n in build["env"] if n != "SUBDIR"}
    assert {n for n in signing_vars if n in seen["env"]} == {"AZURE_SIGNTOOL_KEY_VAULT_URL"}


# --- ci.yml -------------------------------------------------------------------------------


def test_ci_runs_the_projects_checks_on_three_oses(ci: dict[str, Any]) -> None:
    runners: set[str] = set()
    scripts: list[str] = []
    for job in ci["jobs"].values():
        runs_on = job["runs-on"]
        if runs_on == "${{ matrix.os }}":
            matrix = job["strategy"]["matrix"]
            runners |= set(matrix["os"]) | {i["os"] for i in matrix.get("include", [])}
            assert job["strategy"]["fail-fast"] is False
        else:
            runners.add(runs_on)
        scripts += [s.get("run", "") for s in _steps(job)]
    assert {r.split("-")[0] for r in runners} == {"ubuntu", "macos", "windows"}
    text = "\n".join(scripts)
    for command in (
        'pip install --disable-pip-version-check -e ".[test]"',
        "ruff check .",
        "ruff format --check .",
        "mypy",
        "shellcheck -s sh",
        ".ci/actionlint.sh",
        "python -m pytest -W error --strict-markers",
    ):
        assert command in text, command


# --- linters --------------------------------------------------------------------------------


def _shell() -> str:
    sh = shutil.which("sh")
    if sh is None:
        pytest.skip("no POSIX sh on PATH to run .ci/actionlint.sh")
    return sh


def _actionlint_or_skip() -> str:
    sh = _shell()
    proc = subprocess.run(
        [sh, str(ACTIONLINT_SH), "--find"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(proc.stderr.strip() or "actionlint is not installed")
    return sh


def test_actionlint_passes_on_both_workflows() -> None:
    sh = _actionlint_or_skip()
    proc = subprocess.run(
        [sh, str(ACTIONLINT_SH), str(INSTALLERS), str(CI)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The linter really lints: a workflow reading a job output that does not exist fails."""
    sh = _actionlint_or_skip()
    broken = tmp_path / "broken.yml"
    text = INSTALLERS.read_text(encoding="utf-8").replace(
        "needs.matrix.outputs.matrix", "needs.matrix.outputs.matrixx"
    )
    assert text != INSTALLERS.read_text(encoding="utf-8")
    broken.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sh, str(ACTIONLINT_SH), str(broken)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert "matrixx" in proc.stdout + proc.stderr


@pytest.mark.parametrize("path", [INSTALLERS, CI], ids=lambda p: p.name)
def test_run_scripts_are_shellcheck_clean(path: Path) -> None:
    """What actionlint's shellcheck pass does, for the WebAssembly actionlint that cannot."""
    shellcheck = require_tool("shellcheck")
    wf = _load(path)
    checked = 0
    for job_id, step, script in _runs(wf):
        job = wf["jobs"][job_id]
        shell = step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell", "bash")
        assert shell.split()[0] == "bash", f"{job_id}: {step.get('name')}: shell {shell!r}"
        proc = subprocess.run(
            [shellcheck, "--shell=bash", "--norc", "-"],
            input=script,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, f"{job_id}: {step.get('name')}\n{proc.stdout}"
        checked += 1
    assert checked


def test_actionlint_script_is_shellcheck_clean() -> None:
    shellcheck = require_tool("shellcheck")
    proc = subprocess.run(
        [shellcheck, "-s", "sh", str(ACTIONLINT_SH)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout
