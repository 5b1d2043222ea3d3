"""The workflows' `run:` scripts, run with bash as the runner would, on files laid out like the
artifacts they receive: what they write, what they refuse, and what they ask build.py to do."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_PROFILE, REPO, require_tool
from workflow_util import (
    CI,
    INSTALLERS,
    job_running,
    load,
    outputs,
    python_shim,
    run_script,
    step_by_id,
    step_named,
)

from orgconda.harness.plan import load_manifest
from orgconda.matrix import matrix_for
from orgconda.profile import load_profile

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="runs the steps' bash scripts")
# The release jobs run on ubuntu-latest: GNU sort -V, sha256sum, tar, jq.
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the release jobs run on Linux (GNU tools)"
)


@pytest.fixture(scope="module")
def installers() -> dict[str, Any]:
    return load(INSTALLERS)


def _job(wf: dict[str, Any], command: str) -> dict[str, Any]:
    job: dict[str, Any] = wf["jobs"][job_running(wf, command)]
    return job


def _entry(platform: str, kind: str, name: str, payload: bytes) -> dict[str, Any]:
    return {
        "path": f"{platform}/{name}",
        "platform": platform,
        "type": kind,
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "sbom": f"{platform}/{name}.cdx.json",
        "expect": {"org_token": "acme-corp"},
    }


def _artifact(root: Path, name: str, installers: list[tuple[str, str, str]]) -> Path:
    """artifacts/<name>/ as a build job uploads it: manifest.json, installers, SBOMs and
    constructor's outputs per platform."""
    art = root / name
    entries = []
    for platform, kind, file_name in installers:
        payload = f"{kind} installer for {platform}".encode()
        (art / platform).mkdir(parents=True, exist_ok=True)
        (art / platform / file_name).write_bytes(payload)
        (art / platform / f"{file_name}.cdx.json").write_text('{"bomFormat": "CycloneDX"}')
        (art / platform / "lockfile.base.txt").write_text(f"@EXPLICIT\n# from {name}\n")
        entries.append(_entry(platform, kind, file_name, payload))
    manifest = {
        "format": 1,
        "generator": "orgconda 0.1.0",
        "name": "AcmeConda",
        "version": "2026.11",
        "profile": "construct/org.yaml",
        "installers": entries,
    }
    (art / "manifest.json").write_text(json.dumps(manifest))
    return art


# --- matrix ---------------------------------------------------------------------------------


def _matrix_step(installers: dict[str, Any]) -> dict[str, Any]:
    return step_by_id(_job(installers, "python build.py matrix"), "matrix")


def test_matrix_step_outputs_the_profiles_jobs(installers: dict[str, Any], tmp_path: Path) -> None:
    require_tool("jq")
    out = tmp_path / "out"
    proc = run_script(
        _matrix_step(installers)["run"],
        cwd=REPO,
        env={"GITHUB_OUTPUT": str(out)},
        path_first=python_shim(tmp_path / "bin"),
    )
    assert proc.returncode == 0, proc.stderr
    expected = matrix_for(load_profile(DEFAULT_PROFILE))
    got = outputs(out)
    assert set(got) == {"build", "verify", "config_package", "locked"}
    assert json.loads(got["build"]) == expected["build"]
    assert json.loads(got["verify"]) == expected["verify"]
    assert got["config_package"] == json.dumps(expected["config_package"])
    assert got["locked"] == json.dumps(expected["locked"])
    for key in ("build", "verify"):  # one line each, as $GITHUB_OUTPUT needs
        assert "\n" not in got[key]


def test_a_release_tag_that_is_not_the_profile_version_stops_the_run_first(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    require_tool("jq")
    version = load_profile(DEFAULT_PROFILE).version
    script = _matrix_step(installers)["run"]
    shim = python_shim(tmp_path / "bin")

    def run(ref_type: str, ref_name: str) -> tuple[subprocess.CompletedProcess[str], dict]:
        out = tmp_path / f"out-{ref_name}"
        env = {"GITHUB_OUTPUT": str(out), "GITHUB_REF_TYPE": ref_type, "GITHUB_REF_NAME": ref_name}
        return run_script(script, cwd=REPO, env=env, path_first=shim), outputs(out)

    proc, got = run("tag", "v1999.1")
    assert proc.returncode != 0
    assert got == {}  # no job starts
    assert "::error title=python build.py matrix::error: --release-tag v1999.1" in proc.stdout
    assert f'installer.version "{version}"' in proc.stderr
    assert f"tag this commit v{version}" in proc.stderr
    assert 'set installer.version: "1999.1"' in proc.stderr

    proc, got = run("tag", f"v{version}")
    assert proc.returncode == 0, proc.stderr
    assert set(got) == {"build", "verify", "config_package", "locked"}
    # Tags that are not v* publish nothing, so they are not checked.
    proc, got = run("tag", "nightly")
    assert proc.returncode == 0, proc.stderr


# --- build ----------------------------------------------------------------------------------


def _recorder(tmp_path: Path) -> Path:
    """A `python` that prints the arguments and environment it was given as JSON."""
    dump = tmp_path / "dump.py"
    dump.write_text(
        "import json, os, sys\nprint(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}))\n"
    )
    return python_shim(tmp_path / "bin", str(dump))


def test_build_step_runs_build_py_with_each_entrys_arguments(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    build = step_by_id(_job(installers, "python build.py build"), "build")
    shim = _recorder(tmp_path)
    entries = matrix_for(load_profile(DEFAULT_PROFILE), locked=True)["build"]["include"]
    for entry in entries:
        env = {name: "" for name in build["env"]}
        env["BUILD_ARGS"] = entry["build_args"]
        proc = run_script(build["run"], cwd=tmp_path, env=env, path_first=shim)
        assert proc.returncode == 0, proc.stderr
        argv = json.loads(proc.stdout)["argv"]
        assert argv[:2] == ["build.py", "build"]
        assert argv[2:] == entry["build_args"].split()
        assert [argv[i + 1] for i, a in enumerate(argv) if a == "--platform"] == entry["platforms"]
        assert argv[argv.index("--installer-type") + 1] == entry["installer_type"]
        assert "--locked" in argv


def test_build_step_passes_on_only_the_signing_variables_that_are_set(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    """constructor checks `VAR in os.environ`: an empty secret must not be passed as set."""
    build = step_by_id(_job(installers, "python build.py build"), "build")
    env = {name: "" for name in build["env"]}
    env.update(
        BUILD_ARGS="--platform win-64 --installer-type exe",
        AZURE_SIGNTOOL_KEY_VAULT_URL="https://vault.example",
    )
    proc = run_script(build["run"], cwd=tmp_path, env=env, path_first=_recorder(tmp_path))
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["argv"] == ["build.py", "build", "--platform", "win-64", "--installer-type", "exe"]
    signing_vars = {n for n in build["env"] if n != "BUILD_ARGS"}
    assert {n for n in signing_vars if n in seen["env"]} == {"AZURE_SIGNTOOL_KEY_VAULT_URL"}


def test_build_check_refuses_a_missing_installer_or_a_rebuilt_config_package(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    check = step_named(_job(installers, "python build.py build"), "Check every planned installer")
    shim = python_shim(tmp_path / "bin")
    work = tmp_path / "work"
    _artifact(work, "dist", [("linux-64", "sh", "A-Linux.sh"), ("osx-arm64", "sh", "A-MacOSX.sh")])
    package = b"the one configuration package"
    for root in (work / "dist" / "channel", tmp_path / "temp" / "config-package"):
        (root / "noarch").mkdir(parents=True)
        (root / "noarch" / "acme-corp-conda-config-2026.11-0.conda").write_bytes(package)
    env = {
        "PLATFORMS": "linux-64 osx-arm64",
        "INSTALLER_TYPE": "sh",
        "CONFIG_PACKAGE": "true",
        "RUNNER_TEMP": str(tmp_path / "temp"),
    }

    def run(**changes: str) -> subprocess.CompletedProcess[str]:
        return run_script(check["run"], cwd=work, env={**env, **changes}, path_first=shim)

    proc = run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run(PLATFORMS="linux-64 linux-aarch64 osx-arm64")
    assert proc.returncode == 1
    assert "::error::dist/manifest.json lists 0 .sh installers for linux-aarch64" in proc.stdout
    proc = run(INSTALLER_TYPE="pkg", PLATFORMS="osx-arm64")
    assert proc.returncode == 1 and "0 .pkg installers for osx-arm64" in proc.stdout

    rebuilt = work / "dist" / "channel" / "noarch" / "acme-corp-conda-config-2026.11-0.conda"
    rebuilt.write_bytes(b"same name, other bytes")
    proc = run()
    assert proc.returncode == 1
    assert "rebuilt acme-corp-conda-config-2026.11-0.conda" in proc.stdout
    # Without a configuration package in the profile, there is nothing to compare.
    assert run(CONFIG_PACKAGE="false").returncode == 0


# --- verify -----------------------------------------------------------------------------------


def _assemble(installers: dict[str, Any]) -> str:
    step = step_named(_job(installers, "python build.py verify"), "Put the installers into dist/")
    script: str = step["run"]
    return script


def _two_artifacts(tmp_path: Path) -> Path:
    root = tmp_path / "artifacts"
    _artifact(
        root,
        "installers-sh",
        [("linux-64", "sh", "A-Linux-x86_64.sh"), ("osx-arm64", "sh", "A-MacOSX-arm64.sh")],
    )
    _artifact(root, "installers-pkg-osx-arm64", [("osx-arm64", "pkg", "A-MacOSX-arm64.pkg")])
    return root


def test_verify_puts_its_platforms_installers_from_several_artifacts_into_one_dist(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    _two_artifacts(tmp_path)
    env = {"SUBDIR": "osx-arm64", "ARTIFACTS": "installers-sh installers-pkg-osx-arm64"}
    shim = python_shim(tmp_path / "bin")
    proc = run_script(_assemble(installers), cwd=tmp_path, env=env, path_first=shim)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dist = tmp_path / "dist"
    manifest = load_manifest(dist / "manifest.json")  # what `build.py verify` reads
    assert manifest is not None
    assert [(i["platform"], i["type"]) for i in manifest["installers"]] == [
        ("osx-arm64", "pkg"),
        ("osx-arm64", "sh"),
    ]
    assert manifest["name"] == "AcmeConda" and manifest["version"] == "2026.11"
    for entry in manifest["installers"]:
        data = (dist / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert (dist / entry["sbom"]).is_file()
    assert not (dist / "linux-64").exists()  # another platform's installers stay out


def test_verify_fails_clearly_when_a_build_artifact_is_missing(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    _two_artifacts(tmp_path)
    env = {"SUBDIR": "osx-64", "ARTIFACTS": "installers-sh installers-pkg-osx-64"}
    proc = run_script(
        _assemble(installers), cwd=tmp_path, env=env, path_first=python_shim(tmp_path / "bin")
    )
    assert proc.returncode == 1
    assert "::error::artifact installers-sh holds no installer for osx-64" in proc.stdout
    env = {"SUBDIR": "win-64", "ARTIFACTS": "installers-exe-win-64"}
    proc = run_script(
        _assemble(installers), cwd=tmp_path, env=env, path_first=python_shim(tmp_path / "bin")
    )
    assert proc.returncode == 1
    assert "::error::artifact installers-exe-win-64 was not downloaded" in proc.stdout
    assert not (tmp_path / "dist" / "manifest.json").exists()


def test_verify_step_verifies_dist_with_the_entrys_flags(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    verify = step_by_id(_job(installers, "python build.py verify"), "verify")
    shim = _recorder(tmp_path)
    for flags, expected in (("", []), ("--allow-pkg", ["--allow-pkg"])):
        proc = run_script(verify["run"], cwd=tmp_path, env={"VERIFY_FLAGS": flags}, path_first=shim)
        assert proc.returncode == 0, proc.stderr
        argv = json.loads(proc.stdout)["argv"]
        assert argv == ["build.py", "verify", "--dist", "dist", *expected]


# --- release notes --------------------------------------------------------------------------


def _notes_job(installers: dict[str, Any]) -> dict[str, Any]:
    return _job(installers, "python build.py diff")


RELEASES = [
    {"tagName": "v2026.05", "isDraft": False, "isPrerelease": False},
    {"tagName": "v2026.11-rc1", "isDraft": False, "isPrerelease": True},
    {"tagName": "v2026.09", "isDraft": False, "isPrerelease": False},
    {"tagName": "v2026.10", "isDraft": True, "isPrerelease": False},
    {"tagName": "v2026.12", "isDraft": False, "isPrerelease": False},
    {"tagName": "v2026.09.1", "isDraft": False, "isPrerelease": False},
]


@linux_only
@pytest.mark.parametrize(
    ("tag", "releases", "previous"),
    [
        ("v2026.11", RELEASES, "v2026.09.1"),  # not the newer v2026.12, a draft or an rc
        ("v2026.11-rc2", RELEASES, "v2026.11-rc1"),  # a pre-release compares with the last rc
        ("v2026.11-rc1", RELEASES, "v2026.09.1"),  # itself is not its own previous release
        ("v2026.09.2", RELEASES, "v2026.09.1"),  # a fix release compares with its own line
        ("v2026.01", RELEASES, ""),  # older than every release
        ("v2026.11", [], ""),  # the first release
    ],
)
def test_the_previous_release_is_the_highest_published_version_below_the_tag(
    installers: dict[str, Any], tmp_path: Path, tag: str, releases: list[dict], previous: str
) -> None:
    require_tool("jq")
    (tmp_path / "releases.json").write_text(json.dumps(releases))
    out = tmp_path / "out"
    step = step_by_id(_notes_job(installers), "previous")
    proc = run_script(step["run"], cwd=tmp_path, env={"TAG": tag, "GITHUB_OUTPUT": str(out)})
    assert proc.returncode == 0, proc.stderr
    assert outputs(out) == {"tag": previous}


def _notes(installers: dict[str, Any], tmp_path: Path, **env: str) -> tuple[int, str, str]:
    step = step_named(_notes_job(installers), "Package diff against the previous release")
    proc = run_script(step["run"], cwd=tmp_path, env=env, path_first=python_shim(tmp_path / "bin"))
    notes = (tmp_path / "release-notes" / "notes.md").read_text(encoding="utf-8")
    return proc.returncode, proc.stdout + proc.stderr, notes


@linux_only
def test_release_notes_say_when_there_is_no_diff_and_why(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    code, _, notes = _notes(installers, tmp_path, PREVIOUS="", RECORD="")
    assert code == 0
    assert "First release: there is no earlier release to compare with" in notes
    assert "<installer>.cdx.json" in notes

    code, _, notes = _notes(installers, tmp_path, PREVIOUS="v2026.09", RECORD="false")
    assert code == 0
    assert "the previous release, v2026.09, has no build-record.tar.gz" in notes

    # A diff that cannot be made is said in the notes and warned about; it does not hold back
    # installers that passed verification.
    (tmp_path / "previous").mkdir()
    (tmp_path / "dist").mkdir()
    code, log, notes = _notes(installers, tmp_path, PREVIOUS="v2026.09", RECORD="true")
    assert code == 0, log
    assert "::warning title=package diff::" in log
    assert "The package diff against v2026.09 could not be computed" in notes
    assert not (tmp_path / "release-notes" / "package-diff.json").exists()


@linux_only
def test_the_build_record_is_the_dist_tree_without_the_installers(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    require_tool("jq")
    art = _artifact(tmp_path, "dist", [("linux-64", "sh", "A-Linux-x86_64.sh")])
    step = step_named(_notes_job(installers), "Write this release's build record")
    proc = run_script(step["run"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(tmp_path / "release-notes" / "build-record.tar.gz") as tar:
        names = {n.removeprefix("./") for n in tar.getnames()}
    assert {"manifest.json", "linux-64/A-Linux-x86_64.sh.cdx.json"} <= names
    assert "linux-64/lockfile.base.txt" in names
    assert "linux-64/A-Linux-x86_64.sh" not in names
    assert (art / "linux-64" / "A-Linux-x86_64.sh").is_file()  # dist/ itself is untouched


# --- release --------------------------------------------------------------------------------


def _collect(installers: dict[str, Any], cwd: Path) -> subprocess.CompletedProcess[str]:
    step = step_named(_job(installers, "gh release create"), "Collect the installers")
    return run_script(step["run"], cwd=cwd)


@linux_only
def test_release_collects_installers_and_sboms_and_checks_them(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    require_tool("jq")
    sha256sum = require_tool("sha256sum")
    _two_artifacts(tmp_path)
    _artifact(tmp_path / "artifacts", "installers-exe-win-64", [("win-64", "exe", "A.exe")])
    proc = _collect(installers, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    release = tmp_path / "release"
    names = sorted(p.name for p in release.iterdir())
    installer_names = ["A-Linux-x86_64.sh", "A-MacOSX-arm64.pkg", "A-MacOSX-arm64.sh", "A.exe"]
    assert names == sorted(
        [*installer_names, *(f"{n}.cdx.json" for n in installer_names), "SHA256SUMS"]
    )
    sums = (release / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split("  ")[1] for line in sums) == installer_names
    check = subprocess.run(
        [sha256sum, "--check", "--strict", "SHA256SUMS"], cwd=release, capture_output=True
    )
    assert check.returncode == 0, check.stdout

    # A file that differs from what its build recorded stops the release.
    release.rename(tmp_path / "release-1")
    tampered = tmp_path / "artifacts" / "installers-exe-win-64" / "win-64" / "A.exe"
    tampered.write_bytes(b"something else")
    proc = _collect(installers, tmp_path)
    assert proc.returncode != 0
    assert "FAILED" in proc.stdout + proc.stderr


@linux_only
def test_release_refuses_an_installer_without_its_sbom(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    require_tool("jq")
    art = _artifact(tmp_path / "artifacts", "installers-sh", [("linux-64", "sh", "A.sh")])
    manifest = json.loads((art / "manifest.json").read_text())
    del manifest["installers"][0]["sbom"]
    (art / "manifest.json").write_text(json.dumps(manifest))
    proc = _collect(installers, tmp_path)
    assert proc.returncode != 0
    manifest_path = "artifacts/installers-sh/manifest.json"
    assert f"::error::no SBOM listed in {manifest_path} for: linux-64/A.sh" in proc.stdout


@linux_only
def test_release_adds_the_record_the_diff_and_the_config_package(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    step = step_named(_job(installers, "gh release create"), "Add the build record")
    (tmp_path / "release").mkdir()
    notes = tmp_path / "release-notes"
    notes.mkdir()
    (notes / "build-record.tar.gz").write_bytes(b"record")
    (notes / "notes.md").write_text("notes")
    proc = run_script(step["run"], cwd=tmp_path)  # first release, no config package
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "release").iterdir()) == ["build-record.tar.gz"]

    (notes / "package-diff.md").write_text("diff")
    (notes / "package-diff.json").write_text("{}")
    (tmp_path / "config-package" / "noarch").mkdir(parents=True)
    (tmp_path / "config-package" / "noarch" / "acme-corp-conda-config-1-0.conda").write_bytes(b"")
    proc = run_script(step["run"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "release").iterdir()) == [
        "acme-corp-conda-config-1-0.conda",
        "build-record.tar.gz",
        "package-diff.json",
        "package-diff.md",
    ]


# --- signing --------------------------------------------------------------------------------


def test_signing_probe_reports_true_false_and_never_the_secret(
    installers: dict[str, Any], tmp_path: Path
) -> None:
    probe = step_by_id(_job(installers, "python build.py build"), "signing")
    secret = "s3cr3t-VALUE-42"
    out = tmp_path / "out"
    env = {name: "" for name in probe["env"]}
    env.update(
        GITHUB_OUTPUT=str(out), MACOS_APPLICATION_CERTIFICATE=secret, WINDOWS_CERTIFICATE=secret
    )
    proc = run_script(probe["run"], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    written = out.read_text(encoding="utf-8")
    assert secret not in proc.stdout + proc.stderr + written
    assert outputs(out) == {"macos": "true", "windows_pfx": "true", "azure": "false"}


# --- ci.yml: the e2e job fails when every e2e test skipped ----------------------------------


def _junit(tmp_path: Path, body: str) -> Path:
    """A JUnit report made by a real pytest run of a small test file."""
    test_file = tmp_path / "test_sample.py"
    test_file.write_text("import pytest\n\n" + body)
    report = tmp_path / "e2e-junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file),
         f"--junitxml={report}", "--rootdir", str(tmp_path), "-c", "/dev/null"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
        timeout=120,
    )  # fmt: skip
    assert report.is_file()
    return report


def test_e2e_guard_fails_when_every_e2e_test_skipped(tmp_path: Path) -> None:
    guard = step_named(load(CI)["jobs"][job_running(load(CI), "python -m pytest -m e2e")], "ran")
    shim = python_shim(tmp_path / "bin")
    skipped = tmp_path / "skipped"
    skipped.mkdir()
    _junit(skipped, "def test_a():\n    pytest.skip('no constructor')\n\n\ndef test_b():\n"
           "    pytest.skip('no constructor')\n")  # fmt: skip
    proc = run_script(guard["run"], cwd=skipped, path_first=shim)
    assert proc.returncode == 1
    assert "::error::every e2e test was skipped on this runner" in proc.stdout

    ran = tmp_path / "ran"
    ran.mkdir()
    _junit(ran, "def test_a():\n    pytest.skip('no wine')\n\n\ndef test_b():\n    pass\n")
    proc = run_script(guard["run"], cwd=ran, path_first=shim)
    assert proc.returncode == 0, proc.stdout
    assert "e2e tests run (not skipped): 1" in proc.stdout
