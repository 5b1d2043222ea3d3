"""The GitHub workflows as data: the job graph comes from `build.py matrix`, the configuration
package is built once, Unix .sh installers are cross-built on Linux and verified on their own
runners, releases carry SBOMs and a package diff, the toolchain is pinned, permissions are
least-privilege, secrets stay secret, and actionlint and shellcheck pass.

The `run:` scripts themselves are run in tests/test_workflow_scripts.py."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_PROFILE, REPO, require_tool
from workflow_util import (
    CI,
    INSTALLERS,
    SECRET_REF,
    STEP_OUTPUT,
    job_running,
    load,
    matrix_source,
    needs,
    runs,
    step_by_id,
    step_named,
    step_running,
    steps,
    strings,
    triggers,
    uses,
)

from orgconda import platforms
from orgconda.matrix import matrix_for
from orgconda.profile import load_profile

ACTIONLINT_SH = REPO / ".ci" / "actionlint.sh"
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+?)@(\S+)(.*)$")


@pytest.fixture(scope="module")
def installers() -> dict[str, Any]:
    return load(INSTALLERS)


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return load(CI)


@pytest.fixture(scope="module")
def default_matrix() -> dict[str, Any]:
    return matrix_for(load_profile(DEFAULT_PROFILE))


def _job(wf: dict[str, Any], command: str) -> dict[str, Any]:
    job: dict[str, Any] = wf["jobs"][job_running(wf, command)]
    return job


def _downloads(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps(job) if uses(s, "actions/download-artifact")]


def _uploads(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["with"]["name"]: s for s in steps(job) if uses(s, "actions/upload-artifact")}


# --- the job graph -------------------------------------------------------------------------


def test_the_jobs_take_their_matrices_from_build_py_matrix(installers: dict[str, Any]) -> None:
    producer_id = job_running(installers, "python build.py matrix")
    producer = installers["jobs"][producer_id]
    assert needs(producer) == []
    build_id = job_running(installers, "python build.py build")
    verify_id = job_running(installers, "python build.py verify")
    for job_id, output in ((build_id, "build"), (verify_id, "verify")):
        job = installers["jobs"][job_id]
        assert matrix_source(job) == (producer_id, output)
        assert producer_id in needs(job)
        assert job["strategy"]["fail-fast"] is False
        assert job["runs-on"] == "${{ matrix.runner }}"
    # Every job output is the matrix step's output of the same name.
    step = step_by_id(producer, "matrix")
    assert "python build.py matrix" in step["run"]
    for name, value in producer["outputs"].items():
        m = STEP_OUTPUT.match(value)
        assert m and m.groups() == ("matrix", name), value
    assert set(producer["outputs"]) == {"build", "verify", "config_package", "locked"}


def test_job_graph(installers: dict[str, Any]) -> None:
    """matrix -> config-package -> build -> verify -> release; release-notes after build."""
    ids = {
        "matrix": job_running(installers, "python build.py matrix"),
        "config": job_running(installers, "python build.py config-package"),
        "build": job_running(installers, "python build.py build"),
        "verify": job_running(installers, "python build.py verify"),
        "notes": job_running(installers, "python build.py diff"),
        "release": job_running(installers, "gh release create"),
    }
    jobs = installers["jobs"]
    assert set(jobs) == set(ids.values())
    graph = {k: set(needs(jobs[v])) for k, v in ids.items()}
    assert graph == {
        "matrix": set(),
        "config": {ids["matrix"]},
        "build": {ids["matrix"], ids["config"]},
        "verify": {ids["matrix"], ids["build"]},
        "notes": {ids["matrix"], ids["build"]},
        "release": {ids["matrix"], ids["build"], ids["verify"], ids["notes"]},
    }


def test_jobs_after_the_optional_config_package_job_say_when_they_run(
    installers: dict[str, Any],
) -> None:
    """A job whose ancestor was skipped is skipped too unless its `if` says otherwise: the
    config-package job is skipped for a profile without a package, so every later job has an
    explicit condition, and the release one requires every job it needs to have succeeded."""
    jobs = installers["jobs"]
    config_id = job_running(installers, "python build.py config-package")
    assert "needs.matrix.outputs.config_package == 'true'" in jobs[config_id]["if"]
    build = jobs[job_running(installers, "python build.py build")]
    assert f"needs.{config_id}.result == 'skipped'" in build["if"]
    assert f"needs.{config_id}.result == 'success'" in build["if"]
    assert "!cancelled()" in build["if"]
    verify_id = job_running(installers, "python build.py verify")
    assert "!cancelled()" in jobs[verify_id]["if"]
    for command in ("python build.py diff", "gh release create"):
        job = jobs[job_running(installers, command)]
        condition = job["if"]
        assert "startsWith(github.ref, 'refs/tags/v')" in condition
        assert "!cancelled()" in condition
        for need in needs(job):
            assert f"needs.{need}.result == 'success'" in condition, (command, need)


def test_the_config_package_is_built_once_and_every_build_job_uses_it(
    installers: dict[str, Any],
) -> None:
    config_id = job_running(installers, "python build.py config-package")
    config = installers["jobs"][config_id]
    assert not any(uses(s, "conda-incubator/setup-miniconda") for s in steps(config))
    upload = _uploads(config)
    assert list(upload) == ["config-package"]
    assert upload["config-package"]["with"]["path"].strip() == "dist/channel/"
    assert upload["config-package"]["with"]["if-no-files-found"] == "error"

    builders = [
        job_id for job_id, _, script in runs(installers) if "python build.py build" in script
    ]
    assert builders
    for job_id in builders:
        job = installers["jobs"][job_id]
        assert config_id in needs(job)
        order = steps(job)
        downloads = [s for s in _downloads(job) if s["with"].get("name") == "config-package"]
        assert len(downloads) == 1, job_id
        assert downloads[0]["with"]["path"] == "dist/channel"
        build = step_running(job, "python build.py build")
        assert order.index(downloads[0]) < order.index(build)
        # Nothing else in the job builds a configuration package of its own.
        assert not any("build.py config-package" in s.get("run", "") for s in order)
    # The channel is not uploaded again by the build jobs: one file, one artifact.
    build = installers["jobs"][builders[0]]
    artifact_paths = [s["with"]["path"] for s in _uploads(build).values()]
    assert any("!dist/channel/" in p.splitlines() for p in artifact_paths)


def test_build_jobs_build_what_their_matrix_entry_says(installers: dict[str, Any]) -> None:
    job = _job(installers, "python build.py build")
    assert job["name"] == "build ${{ matrix.name }}"
    build = step_by_id(job, "build")
    assert build["env"]["BUILD_ARGS"] == "${{ matrix.build_args }}"
    assert 'python build.py build "${args[@]}"' in build["run"]
    check = step_named(job, "Check every planned installer was built")
    assert check["env"]["PLATFORMS"] == "${{ join(matrix.platforms, ' ') }}"
    assert check["env"]["INSTALLER_TYPE"] == "${{ matrix.installer_type }}"
    assert steps(job).index(build) < steps(job).index(check)
    up = _uploads(job)["${{ matrix.artifact }}"]
    assert up["with"]["path"].splitlines() == ["dist/", "!dist/channel/"]
    assert up["if"] == "always() && steps.build.outcome == 'success'"
    assert "build-logs-${{ matrix.id }}" in _uploads(job)


def test_verify_jobs_download_the_artifacts_of_their_platform(installers: dict[str, Any]) -> None:
    job = _job(installers, "python build.py verify")
    assert job["name"] == "verify ${{ matrix.subdir }}"
    # No conda here: the installers bring their own.
    assert not any(uses(s, "conda-incubator/setup-miniconda") for s in steps(job))
    (download,) = _downloads(job)
    assert download["with"] == {"pattern": "${{ matrix.artifact_pattern }}", "path": "artifacts"}
    assemble = step_named(job, "Put the installers into dist/")
    assert assemble["env"] == {
        "SUBDIR": "${{ matrix.subdir }}",
        "ARTIFACTS": "${{ join(matrix.artifacts, ' ') }}",
    }
    verify = step_by_id(job, "verify")
    assert verify["env"]["VERIFY_FLAGS"] == "${{ matrix.verify_flags }}"
    order = steps(job)
    assert order.index(download) < order.index(assemble) < order.index(verify)
    reports = _uploads(job)["verify-${{ matrix.subdir }}"]
    assert reports["with"]["path"].strip() == "dist/verify/"
    assert reports["if"].startswith("always()")  # even (above all) when verify fails


def test_artifact_names_connect_the_jobs(
    installers: dict[str, Any], default_matrix: dict[str, Any]
) -> None:
    """What the build jobs upload is what verify and the release download, and nothing else
    a run uploads matches the release's `installers-*`."""
    builds = default_matrix["build"]["include"]
    names = [b["artifact"] for b in builds]
    assert len(set(names)) == len(names)
    release = _job(installers, "gh release create")
    patterns = [d["with"]["pattern"] for d in _downloads(release) if "pattern" in d["with"]]
    assert patterns == ["installers-*"]
    for name in names:
        assert fnmatch.fnmatchcase(name, "installers-*")
    others = ["config-package", "release-notes"]
    others += [f"verify-{e['subdir']}" for e in default_matrix["verify"]["include"]]
    others += [f"build-logs-{b['id']}" for b in builds]
    assert not [n for n in others if fnmatch.fnmatchcase(n, "installers-*")]
    uploaded = {n for job in installers["jobs"].values() for n in _uploads(job)}
    assert uploaded == {
        "config-package",
        "${{ matrix.artifact }}",
        "build-logs-${{ matrix.id }}",
        "verify-${{ matrix.subdir }}",
        "release-notes",
    }
    notes = _job(installers, "python build.py diff")
    assemble = step_named(notes, "Put every platform's build output into dist/")
    assert assemble["env"]["ARTIFACTS"] == (
        "${{ join(fromJSON(needs.matrix.outputs.build).include.*.artifact, ' ') }}"
    )
    assert assemble["env"]["SUBDIR"] == ""
    # One script assembles dist/ in both jobs.
    verify = _job(installers, "python build.py verify")
    assert assemble["run"] == step_named(verify, "Put the installers into dist/")["run"]


def test_no_hand_kept_platform_or_runner_list(installers: dict[str, Any]) -> None:
    labels = {p.ci_runner for p in platforms.PLATFORMS}
    # Jobs that are not per-platform need a runner of their own; nothing else may name one.
    fixed = {job_id for job_id, job in installers["jobs"].items() if "strategy" not in job}
    rest = {
        job_id: {k: v for k, v in job.items() if not (job_id in fixed and k == "runs-on")}
        for job_id, job in installers["jobs"].items()
    }
    rest_of_workflow = {k: v for k, v in installers.items() if k != "jobs"}
    for text in [*strings(rest), *strings(rest_of_workflow)]:
        for name in [*labels, *platforms.SUBDIRS]:
            assert name not in text, f"{name!r} is hand-written in installers.yml: {text!r}"
    for job_id in fixed:
        assert installers["jobs"][job_id]["runs-on"] == "ubuntu-latest"


def test_each_matrix_job_reads_only_keys_its_entries_have(
    installers: dict[str, Any], default_matrix: dict[str, Any]
) -> None:
    for command, kind in (("python build.py build", "build"), ("python build.py verify", "verify")):
        job = _job(installers, command)
        text = "\n".join(strings(job))
        used = set(re.findall(r"(?<![\w.])matrix\.([A-Za-z_][\w-]*)", text))
        assert used, f"the {kind} job reads nothing from its matrix"
        for entry in default_matrix[kind]["include"]:
            assert used <= set(entry), f"{kind} job reads {sorted(used - set(entry))}"


def test_release_job_publishes_installers_sboms_notes_and_the_package(
    installers: dict[str, Any],
) -> None:
    assert "v*" in triggers(installers)["push"]["tags"]
    job = _job(installers, "gh release create")
    downloads = {d["with"].get("name") or d["with"].get("pattern"): d for d in _downloads(job)}
    assert set(downloads) == {"installers-*", "release-notes", "config-package"}
    assert downloads["config-package"]["if"] == "needs.matrix.outputs.config_package == 'true'"
    script = "\n".join(s.get("run", "") for s in steps(job))
    for words in ("SHA256SUMS", "sha256sum --check", ".sbom", "build-record.tar.gz"):
        assert words in script, words
    create = step_running(job, "gh release create")["run"]
    assert 'gh release create "$TAG" release/*' in create
    assert "--notes-file release-notes/notes.md" in create
    # The write token never meets repository code: no checkout, no python.
    assert not any(uses(s, "actions/checkout") for s in steps(job))
    assert "python" not in script


def test_release_notes_come_from_build_py_diff_without_write_access(
    installers: dict[str, Any],
) -> None:
    job = _job(installers, "python build.py diff")
    assert "permissions" not in job  # the workflow's contents: read
    notes = step_named(job, "Package diff against the previous release")["run"]
    assert "python build.py diff previous dist --format markdown" in notes
    assert "--format json --output release-notes/package-diff.json" in notes
    up = _uploads(job)["release-notes"]
    assert up["with"]["path"].strip() == "release-notes/"


# --- the toolchain is pinned in environment.yml ---------------------------------------------


@pytest.mark.parametrize("path", [INSTALLERS, CI], ids=lambda p: p.name)
def test_the_toolchain_comes_only_from_environment_yml(path: Path) -> None:
    wf = load(path)
    miniconda = [
        s
        for job in wf["jobs"].values()
        for s in steps(job)
        if uses(s, "conda-incubator/setup-miniconda")
    ]
    assert miniconda
    for step in miniconda:
        assert re.fullmatch(r"\d+\.\d+\.\d+-\d+", step["with"]["miniforge-version"]), step
        assert step["with"]["environment-file"] == "environment.yml"
        assert step["with"]["activate-environment"] == "orgconda"
    text = path.read_text(encoding="utf-8")
    assert "latest" not in "\n".join(str(v) for s in miniconda for v in s["with"].values())
    assert "conda-build" not in text
    for _, _, script in runs(wf):
        for banned in ("conda install", "mamba install", "conda create", "conda env create"):
            assert banned not in script, script
        assert not re.search(r"pip install[^\n]*\bconstructor\b", script), script


def test_one_miniforge_version_everywhere() -> None:
    versions = {
        s["with"]["miniforge-version"]
        for path in (INSTALLERS, CI)
        for job in load(path)["jobs"].values()
        for s in steps(job)
        if uses(s, "conda-incubator/setup-miniconda")
    }
    assert len(versions) == 1, versions


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
    wf = load(path)
    assert wf["permissions"] == {"contents": "read"}
    for job_id, job in wf["jobs"].items():
        perms = job.get("permissions")
        if perms is None:
            continue
        assert isinstance(perms, dict), f"{job_id}: permissions must be a mapping"
        writes = {k for k, v in perms.items() if v == "write"}
        releases = any("gh release create" in s.get("run", "") for s in steps(job))
        assert writes == ({"contents"} if releases else set()), (job_id, perms)
    for job in wf["jobs"].values():
        for step in steps(job):
            if uses(step, "actions/checkout"):
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", [INSTALLERS, CI], ids=lambda p: p.name)
def test_secrets_reach_steps_only_through_step_env(path: Path) -> None:
    wf = load(path)
    assert not any(SECRET_REF.search(t) for t in strings(wf.get("env", {})))
    for job_id, job in wf["jobs"].items():
        assert not any(SECRET_REF.search(t) for t in strings(job.get("env", {}))), job_id
        for step in steps(job):
            outside_env = {k: v for k, v in step.items() if k != "env"}
            assert not any(SECRET_REF.search(t) for t in strings(outside_env)), step
    for _, _, script in runs(wf):
        assert "${{" not in script, f"expression inside a run script (use env): {script!r}"
        assert "set -x" not in script


def _secret_env(step: dict[str, Any]) -> set[str]:
    return {k for k, v in step.get("env", {}).items() if SECRET_REF.search(str(v))}


def test_secrets_are_never_echoed(installers: dict[str, Any]) -> None:
    checked = 0
    for _, step, script in runs(installers):
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
    job = _job(installers, "python build.py build")
    probe = step_by_id(job, "signing")
    assert _secret_env(probe)
    signing_steps = [
        s for s in steps(job) if _secret_env(s) and s is not probe and s.get("id") != "build"
    ]
    assert len(signing_steps) >= 2  # macOS keychain, Windows certificate
    for step in signing_steps:
        assert "steps.signing.outputs." in step["if"], step["name"]
    # Secrets reach no other job.
    for job_id, step, _ in runs(installers):
        if _secret_env(step):
            assert installers["jobs"][job_id] is job, job_id


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
        scripts += [s.get("run", "") for s in steps(job)]
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


def test_ci_runs_the_e2e_tests_in_the_environment_yml_environment(ci: dict[str, Any]) -> None:
    job_id = job_running(ci, "python -m pytest -m e2e")
    job = ci["jobs"][job_id]
    assert job["runs-on"] == "${{ matrix.os }}"
    # linux-64, osx-arm64 and win-64 runners (the platform table's labels for them).
    assert set(job["strategy"]["matrix"]["os"]) == {
        platforms.get(s).ci_runner for s in ("linux-64", "osx-arm64", "win-64")
    }
    assert job["strategy"]["fail-fast"] is False
    assert job["defaults"]["run"]["shell"] == "bash -el {0}"
    order = steps(job)
    miniconda = next(s for s in order if uses(s, "conda-incubator/setup-miniconda"))
    assert miniconda["with"]["environment-file"] == "environment.yml"
    e2e = step_running(job, "python -m pytest -m e2e")
    assert e2e["env"] == {"ORGCONDA_E2E_CHANNEL": "conda-forge"}
    assert "--junitxml=e2e-junit.xml" in e2e["run"]
    guard = step_named(job, "Check that e2e tests ran")
    assert "e2e-junit.xml" in guard["run"]
    rest = step_running(job, 'python -m pytest -m "not e2e"')
    assert order.index(miniconda) < order.index(e2e) < order.index(guard) < order.index(rest)


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
        "needs.matrix.outputs.verify", "needs.matrix.outputs.verifyy"
    )
    assert text != INSTALLERS.read_text(encoding="utf-8")
    broken.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sh, str(ACTIONLINT_SH), str(broken)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert "verifyy" in proc.stdout + proc.stderr


@pytest.mark.parametrize("path", [INSTALLERS, CI], ids=lambda p: p.name)
def test_run_scripts_are_shellcheck_clean(path: Path) -> None:
    """What actionlint's shellcheck pass does, for the WebAssembly actionlint that cannot."""
    shellcheck = require_tool("shellcheck")
    wf = load(path)
    checked = 0
    for job_id, step, script in runs(wf):
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
