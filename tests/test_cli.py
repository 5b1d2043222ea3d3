"""build.py as a user runs it: render, build --dry-run, missing constructor, bad arguments."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SCHEMA
from helpers import run_build_py

from orgconda import execute, platforms
from orgconda.errors import BuildError
from orgconda.plan import ConfigStep, InstallerStep, Plan
from orgconda.profile import load_profile
from orgconda.resolve import RunOptions, resolve
from orgconda.runner import Runner


def test_render_writes_five_valid_platform_dirs(tmp_path: Path) -> None:
    build = tmp_path / "build"
    proc = run_build_py("render", "--build-dir", str(build))
    assert proc.returncode == 0, proc.stderr
    if not SCHEMA.is_file() and not shutil.which("constructor"):
        pytest.skip(f"no constructor schema here ({SCHEMA}); the schema check cannot be shown")
    assert "validated against " in proc.stdout
    # the five platforms, plus the config package's channel (config_package is on by default)
    assert sorted(p.name for p in build.iterdir()) == sorted([*platforms.SUBDIRS, "org-config"])
    for subdir in platforms.SUBDIRS:
        data = yaml.safe_load((build / subdir / "construct.yaml").read_text())
        assert data["name"] == "AcmeConda"
        for key in ("license_file", "pre_install", "post_install"):
            assert (build / subdir / data[key]).is_file(), (subdir, key)
    channel = build / "org-config" / "channel" / "noarch"
    repodata = json.loads((channel / "repodata.json").read_text())
    (name,) = repodata["packages.conda"]
    assert name.startswith("acme-corp-conda-config-2026.11-h") and (channel / name).is_file()


def test_render_without_a_schema_says_so(tmp_path: Path) -> None:
    proc = run_build_py(
        "render", "--build-dir", str(tmp_path / "b"), env={"ORGCONDA_CONSTRUCT_SCHEMA": ""}
    )
    if shutil.which("constructor"):
        pytest.skip("an installed constructor provides the schema")
    assert proc.returncode == 0, proc.stderr
    assert "was not found" in proc.stdout


def test_build_dry_run_renders_and_prints_the_plan(tmp_path: Path) -> None:
    proc = run_build_py(
        "build", "--dry-run", "--build-dir", str(tmp_path / "b"), "--dist-dir", str(tmp_path / "d")
    )
    assert proc.returncode == 0, proc.stderr
    host = platforms.host_subdir()
    assert "Build plan (host:" in proc.stdout
    rows = [line.split()[:2] for line in proc.stdout.splitlines()]
    assert ["build", host] in rows
    assert ["skip", "win-64"] in rows or host == "win-64"
    assert ["config", "write"] in rows
    assert not (tmp_path / "d").exists()


def _path_without_constructor() -> str:
    import os

    return os.pathsep.join(
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not (Path(d) / "constructor").exists()
    )


def test_no_provision_without_constructor_says_how_to_get_it_and_exits_3(tmp_path: Path) -> None:
    proc = run_build_py(
        "--no-provision",
        "--build-dir",
        str(tmp_path / "b"),
        "--dist-dir",
        str(tmp_path / "d"),
        env={"PATH": _path_without_constructor(), "ORGCONDA_CACHE_DIR": str(tmp_path / "c")},
    )
    assert proc.returncode == 3, proc.stderr
    assert "constructor" in proc.stderr and "environment.yml" in proc.stderr
    assert "Build plan" in proc.stdout  # the plan was still shown
    assert "constructor: missing" in proc.stdout and "--no-provision" in proc.stdout
    assert not (tmp_path / "d").exists() and not (tmp_path / "c" / "toolchains").exists()


def test_provisioning_from_an_unreachable_channel_exits_3_with_the_fix(tmp_path: Path) -> None:
    proc = run_build_py(
        "--channel",
        "http://127.0.0.1:9/unreachable",
        "--platform",
        platforms.host_subdir() or "linux-64",
        "--build-dir",
        str(tmp_path / "b"),
        "--dist-dir",
        str(tmp_path / "d"),
        env={"PATH": _path_without_constructor(), "ORGCONDA_CACHE_DIR": str(tmp_path / "c")},
    )
    if platforms.host_subdir() is None:
        pytest.skip("this host is not a conda platform: nothing is provisioned")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "constructor: provision" in proc.stdout
    assert "cannot provision" in proc.stderr and "127.0.0.1:9" in proc.stderr
    assert "conda env create -f environment.yml" in proc.stderr
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["render", "--platform", "linux-65"], "not a platform"),
        (["build", "--dry-run", "--conda-exe", "osx-arm64"], "SUBDIR=PATH"),
        (["build", "--dry-run", "--conda-exe", "osx-arm64=/nonexistent/conda.exe"], "not a file"),
        (["build", "--dry-run", "--jobs", "0"], "--jobs"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = run_build_py(*args, "--build-dir", str(tmp_path / "b"))
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr


def test_platform_not_in_profile_names_the_fix(tmp_path: Path) -> None:
    profile = tmp_path / "org.yaml"
    data = yaml.safe_load((REPO / "construct" / "org.yaml").read_text())
    data["platforms"] = ["linux-64"]
    data["installer"]["license_file"] = str(REPO / "construct" / "LICENSE.txt")
    profile.write_text(yaml.safe_dump(data))
    proc = run_build_py(
        "render",
        "--profile",
        str(profile),
        "--platform",
        "win-64",
        "--build-dir",
        str(tmp_path / "b"),
    )
    assert proc.returncode == 2
    assert "not in the profile's platforms" in proc.stderr


def test_a_failing_build_step_leaves_dist_untouched_and_shows_the_log_tail(tmp_path: Path) -> None:
    """The executor with a real command that fails (no stand-in for constructor: the step's
    command is plain python printing and exiting 5)."""
    dist = tmp_path / "dist"
    (dist / "linux-64").mkdir(parents=True)
    (dist / "linux-64" / "keep.txt").write_text("earlier build")
    build_dir = tmp_path / "build" / "linux-64"
    build_dir.mkdir(parents=True)
    step = InstallerStep(
        subdir="linux-64",
        installer_types=("sh",),
        argv=(
            sys.executable,
            "-c",
            "print('solving...'); print('PackagesNotFoundError: nope'); raise SystemExit(5)",
        ),
        build_dir=build_dir,
        staging_dir=dist / ".staging" / "linux-64",
        output_dir=dist / "linux-64",
        log=build_dir / "constructor.log",
    )
    profile = load_profile(REPO / "construct" / "org.yaml")
    resolved = resolve(profile, ("linux-64",), RunOptions(build_dir=tmp_path / "build"))
    plan = Plan("linux-64", (build_dir,), ConfigStep("write", "new"), (step,), (), dist)
    lines: list[str] = []
    with pytest.raises(BuildError) as info:
        execute.execute(plan, resolved, Runner(echo=lines.append), jobs=2)
    message = str(info.value)
    assert "exit code 5" in message and "PackagesNotFoundError: nope" in message
    assert "command: " in message and str(step.log) in message
    assert f"nothing in {dist} was changed" in message
    assert sorted(p.name for p in dist.iterdir()) == ["linux-64"]  # no channel, no manifest
    assert (dist / "linux-64" / "keep.txt").read_text() == "earlier build"
    assert not (dist / ".staging").exists()
    assert "PackagesNotFoundError: nope" in step.log.read_text()
    assert lines and lines[0].startswith("$ ")


def test_manifest_keeps_other_platforms_from_earlier_builds(tmp_path: Path) -> None:
    profile = load_profile(REPO / "construct" / "org.yaml")
    resolved = resolve(profile, ("linux-64",), RunOptions(build_dir=tmp_path / "build"))
    execute.render_to_disk(resolved)
    dist = tmp_path / "dist"
    (dist / "win-64").mkdir(parents=True)
    (dist / "win-64" / "A.exe").write_bytes(b"x")
    old = {
        "installers": [
            {"path": "win-64/A.exe", "platform": "win-64", "type": "exe"},
            {"path": "osx-64/gone.sh", "platform": "osx-64", "type": "sh"},
        ],
        "name": profile.name,
        "version": profile.version,
    }
    (dist / "manifest.json").write_text(json.dumps(old))
    new = [{"path": "linux-64/B.sh", "platform": "linux-64", "type": "sh"}]
    execute.write_manifest(dist, resolved, new)
    doc = json.loads((dist / "manifest.json").read_text())
    assert [i["path"] for i in doc["installers"]] == ["linux-64/B.sh", "win-64/A.exe"]
    assert doc["format"] == 1 and doc["name"] == "AcmeConda"
    pkg = resolved.config_package
    assert pkg is not None
    assert doc["config_package"]["path"] == f"channel/noarch/{pkg.filename}"


def test_an_installer_listing_a_package_twice_is_refused(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "lockfile.base.txt").write_text(
        "# platform: linux-64\n@EXPLICIT\n"
        "file:///old/channel/noarch/acme-corp-conda-config-2026.11-h1_0.conda#aaa\n"
        "https://conda.anaconda.org/conda-forge/linux-64/python-3.12.1-h1_0.conda#bbb\n"
        "file:///new/channel/noarch/acme-corp-conda-config-2026.11-h1_0.conda#ccc\n"
    )
    step = InstallerStep("linux-64", ("sh",), (), tmp_path, staging, tmp_path / "out", tmp_path)
    with pytest.raises(BuildError) as info:
        execute.check_package_lists(step)
    assert "acme-corp-conda-config" in str(info.value) and "cannot install" in str(info.value)
    assert "python" not in str(info.value).split("cannot install")[1]


@pytest.mark.e2e
def test_e2e_build_default_profile_for_this_host(tmp_path: Path) -> None:
    """Builds a real installer with the real constructor from the e2e channel; skipped with
    the reason elsewhere."""
    from e2e_util import build, e2e_profile

    host = platforms.host_subdir()
    if host is None:
        pytest.skip("this host is not a conda platform")
    profile = e2e_profile(tmp_path / "p", host)
    dist = tmp_path / "dist"
    proc = build(profile, tmp_path, "--platform", host)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((dist / "manifest.json").read_text())
    entries = [i for i in manifest["installers"] if i["platform"] == host]
    assert entries
    for entry in entries:
        installer = dist / entry["path"]
        assert installer.is_file() and installer.stat().st_size == entry["size"]
        assert execute.sha256_file(installer) == entry["sha256"]
        # constructor's own hash output agrees
        sha_file = installer.with_name(installer.name + ".sha256")
        assert sha_file.read_text().split()[0] == entry["sha256"]
        assert entry["expect"]["org_token"] == "acme-corp"
        sbom = json.loads((dist / entry["sbom"]).read_text())
        assert sbom["metadata"]["component"]["hashes"][0]["content"] == entry["sha256"]
        names = {c["name"] for c in sbom["components"]}
        assert {"python", "conda", "anaconda-anon-usage", "acme-corp-conda-config"} <= names
    assert (dist / host / "lockfile.base.txt").is_file()


def test_render_dry_run_checks_and_writes_nothing(tmp_path: Path) -> None:
    proc = run_build_py("render", "--dry-run", "--build-dir", str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    assert "would write" in proc.stdout and "usage:" not in proc.stdout + proc.stderr
    assert not (tmp_path / "b").exists()


def test_publishing_drops_constructors_empty_tmp_and_an_old_verify_report(tmp_path: Path) -> None:
    """A rebuild must not leave a verify report about the previous installers, nor the empty
    tmp/ constructor leaves beside the installers."""
    profile = load_profile(REPO / "construct" / "org.yaml")
    resolved = resolve(profile, ("linux-64",), RunOptions(build_dir=tmp_path / "build"))
    execute.render_to_disk(resolved)
    dist = tmp_path / "dist"
    (dist / "verify" / "Old.sh").mkdir(parents=True)
    (dist / "verify" / "summary.txt").write_text("RESULT: all checks passed (old installer)")
    staging = dist / ".staging" / "linux-64"
    (staging / "tmp").mkdir(parents=True)
    (staging / "AcmeConda-2026.11-Linux-x86_64.sh").write_bytes(b"#!/bin/sh\n")
    step = InstallerStep(
        "linux-64", ("sh",), (), tmp_path, staging, dist / "linux-64", tmp_path / "log"
    )
    outcome = execute.StepOutcome(step)
    outcome.installers = execute.collect_installers(outcome, dist, resolved.expect)
    plan = Plan("linux-64", (), ConfigStep("write", "new"), (step,), (), dist)
    execute.publish(plan, resolved, [outcome])
    assert not (dist / "verify").exists()
    assert sorted(p.name for p in (dist / "linux-64").iterdir()) == [
        "AcmeConda-2026.11-Linux-x86_64.sh"
    ]
    pkg = resolved.config_package
    assert pkg is not None and (dist / "channel" / "noarch" / pkg.filename).is_file()
    manifest = json.loads((dist / "manifest.json").read_text())
    assert manifest["installers"][0]["path"] == "linux-64/AcmeConda-2026.11-Linux-x86_64.sh"
