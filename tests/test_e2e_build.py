"""End to end, with the real constructor and conda: a clean rebuild that still installs
(issue 14), and a configuration update that reaches an existing install (issue 17). Skipped
with the reason unless a channel is named by ORGCONDA_E2E_CHANNEL and the host is a conda
platform; constructor comes from PATH or is provisioned from that channel."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from e2e_util import build, e2e_channel, e2e_profile, index, install, installer, listed, verify
from helpers import run_build_py

from orgconda import configpkg
from orgconda.platforms import host_subdir
from orgconda.profile import load_profile

pytestmark = pytest.mark.e2e
NAME = "acme-corp-conda-config"


@pytest.fixture
def host() -> str:
    e2e_channel()
    found = host_subdir()
    if found is None:
        pytest.skip("this host is not a conda platform")
    return found


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_clean_rebuild_ships_the_same_package_and_installs(tmp_path: Path, host: str) -> None:
    """build; rm -rf dist build; build again with the same constructor cache: the second
    installer installs and passes verify, and the configuration package has one sha256."""
    profile = e2e_profile(tmp_path / "p", host)
    pkg = configpkg.describe(load_profile(profile))
    first = build(profile, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    built = tmp_path / "dist" / "channel" / "noarch" / pkg.filename
    sha_first = _sha(built)
    shutil.rmtree(tmp_path / "dist")
    shutil.rmtree(tmp_path / "build")
    second = build(profile, tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _sha(built) == sha_first
    lockfile = (tmp_path / "dist" / host / "lockfile.base.txt").read_text()
    assert lockfile.count(f"/{pkg.filename}") == 1
    checked = verify(tmp_path / "dist", tmp_path / "report")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    ids = {c["id"]: c["status"] for c in report["installers"][0]["checks"]}
    assert ids["install.completed"] == ids["config_package.installed"] == "pass"


def test_a_new_configuration_build_reaches_an_existing_install(tmp_path: Path, host: str) -> None:
    """Publish build 0, install; publish build 1; `conda update -n base <pkg>` takes it and
    its settings are in effect at once."""
    work = tmp_path / "w"
    profile = e2e_profile(tmp_path / "p", host, config_package__build_number=0)
    built = build(profile, work)
    assert built.returncode == 0, built.stdout + built.stderr
    publish = tmp_path / "p" / "publish"
    for f in (work / "dist" / "channel" / "noarch").glob(f"{NAME}-*.conda"):
        shutil.copy2(f, publish / "noarch" / f.name)
    index(publish)
    prefix, home = tmp_path / "prefix", tmp_path / "home"
    installed = install(installer(work / "dist"), prefix, home)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    record = listed(prefix, home, NAME)
    assert record["build_number"] == 0
    assert record["channel"].rstrip("/").endswith(publish.name), record  # the publish channel

    changed = e2e_profile(
        tmp_path / "p", host, config_package__build_number=1, condarc__report_errors=True
    )
    out = run_build_py(
        "config-package", "--profile", str(changed), "--dist-dir", str(publish.parent / "d1")
    )
    assert out.returncode == 0, out.stdout + out.stderr
    for f in (publish.parent / "d1" / "channel" / "noarch").glob(f"{NAME}-*.conda"):
        shutil.copy2(f, publish / "noarch" / f.name)
    index(publish)
    from e2e_util import conda

    updated = conda(prefix, home, "update", "-n", "base", "-y", NAME)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert listed(prefix, home, NAME)["build_number"] == 1
    shown = conda(prefix, home, "config", "--show", "report_errors", "--json")
    assert json.loads(shown.stdout)["report_errors"] is True


def test_a_python_only_machine_provisions_builds_and_verifies(tmp_path: Path, host: str) -> None:
    """issue 16: with no constructor on PATH, `build` provisions its own toolchain from the
    channel (py-rattler), builds, and the installer passes verify; the second build reuses
    the toolchain."""
    import os
    import time

    path = os.pathsep.join(
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not (Path(d) / "constructor").exists() and not (Path(d) / "conda").exists()
    )
    env = {"PATH": path, "ORGCONDA_CACHE_DIR": str(tmp_path / "cache")}
    profile = e2e_profile(tmp_path / "p", host)

    def build_once(dist: str) -> tuple[float, str]:
        start = time.monotonic()
        proc = run_build_py(
            "build",
            "--profile",
            str(profile),
            "--build-dir",
            str(tmp_path / "build"),
            "--dist-dir",
            str(tmp_path / dist),
            env=env,
            timeout=3600,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return time.monotonic() - start, proc.stdout + proc.stderr

    first, out = build_once("dist")
    assert "constructor: provision" in out
    second, out = build_once("dist2")
    assert "constructor: cache" in out and "downloaded" not in out
    print(f"first build (provisioning) {first:.1f} s, warm {second:.1f} s")
    checked = verify(tmp_path / "dist", tmp_path / "report")
    assert checked.returncode == 0, checked.stdout + checked.stderr


UNIX = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64")


def test_one_linux_host_builds_every_unix_sh(tmp_path: Path, host: str) -> None:
    """issue 12: one command on linux-64 builds the .sh installers of every Unix platform,
    each with a conda-standalone of its own architecture (fetched and header-checked), and the
    host's own installer passes verify. Needs a channel with conda-standalone for every Unix
    subdir (conda-forge)."""
    import os
    import re

    from orgconda.binaries import check_executable

    if host != "linux-64":
        pytest.skip(f"this test cross-builds from linux-64 (host: {host})")
    cache = tmp_path / "cache"
    profile = e2e_profile(tmp_path / "p", host, platforms=list(UNIX))
    proc = run_build_py(
        "build",
        "--profile",
        str(profile),
        "--installer-type",
        "sh",
        "--build-dir",
        str(tmp_path / "build"),
        "--dist-dir",
        str(tmp_path / "dist"),
        env={"ORGCONDA_CACHE_DIR": str(cache)},
        timeout=3600,
    )
    out = proc.stdout + proc.stderr
    if proc.returncode == 3 and "conda-standalone" in out:
        pytest.skip(f"the e2e channel has no conda-standalone for every Unix subdir: {out[-400:]}")
    assert proc.returncode == 0, out
    times = dict(re.findall(r"^(\S+): constructor done in ([0-9.]+) s", out, re.MULTILINE))
    print("build seconds per platform:", times)
    manifest = json.loads((tmp_path / "dist" / "manifest.json").read_text())
    assert sorted(i["platform"] for i in manifest["installers"]) == sorted(UNIX)
    for subdir in UNIX:
        if subdir == host:
            continue
        (exe,) = (cache / "standalone" / subdir).glob("*/standalone_conda/_conda")
        check_executable(exe, subdir)  # the right architecture, or UsageError
        (entry,) = [i for i in manifest["installers"] if i["platform"] == subdir]
        payload = (tmp_path / "dist" / entry["path"]).read_bytes()
        with open(exe, "rb") as fh:
            head = fh.read(1 << 20)
        assert head in payload, f"{entry['path']} does not carry {exe}"
        assert os.path.getsize(exe) > len(head) // 2
    checked = verify(tmp_path / "dist", tmp_path / "report")
    assert checked.returncode == 0, checked.stdout + checked.stderr
