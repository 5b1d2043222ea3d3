"""The verify command: arguments, planning from a manifest, the clean environment, the
install commands, and the whole flow on an installer that fails."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from test_harness_recorded import hook_record, locked_expectation

from orgconda.errors import UsageError
from orgconda.harness import command
from orgconda.harness.environment import conda_executable, pkg_prefix, scrubbed_env
from orgconda.harness.expect import ConfigPackageExpect, Overrides
from orgconda.harness.host import distorting_variables
from orgconda.harness.installers import (
    exe_install_script,
    install_log_errors,
    pkg_install_argv,
    sh_install_argv,
)
from orgconda.harness.observation import load_observation
from orgconda.harness.plan import plan_targets
from orgconda.harness.prefix_files import record_files
from orgconda.platforms import host_subdir

CONDARC = {"channels": ["conda-forge"], "anaconda_anon_usage": True}


def clean_environ() -> dict[str, str]:
    """This process's environment without what would make the host dirty."""
    dirty = set(distorting_variables(os.environ))
    return {k: v for k, v in os.environ.items() if k not in dirty}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="build.py verify")
    command.add_arguments(p)
    return p


def entry(path: str, kind: str, platform: str, **expect: Any) -> dict[str, Any]:
    return {
        "path": path,
        "platform": platform,
        "type": kind,
        "sha256": None,
        "size": 1,
        "seconds": 0.1,
        "outputs": [],
        "expect": {
            "org_token": "acme-corp",
            "installer_token": "AcmeConda-2026_11",
            "enabled": True,
            "locked": True,
            "anaconda_anon_usage_spec": ">=0.8.1",
            "token_scope": "prefix",
            "condarc": CONDARC,
            "config_package": None,
            **expect,
        },
    }


def write_dist(dist: Path, entries: list[dict[str, Any]], make_files: bool = True) -> None:
    dist.mkdir(parents=True, exist_ok=True)
    for e in entries:
        if make_files:
            f = dist / e["path"]
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text("#!/bin/sh\nexit 1\n")
            e["sha256"] = hashlib.sha256(f.read_bytes()).hexdigest()
    manifest = {
        "format": 1,
        "name": "AcmeConda",
        "version": "2026.11",
        "profile": "construct/org.yaml",
        "installers": entries,
    }
    (dist / "manifest.json").write_text(json.dumps(manifest))


ALL = [
    entry("linux-64/AcmeConda-2026.11-Linux-x86_64.sh", "sh", "linux-64"),
    entry("win-64/AcmeConda-2026.11-Windows-x86_64.exe", "exe", "win-64"),
    entry("osx-arm64/AcmeConda-2026.11-MacOSX-arm64.pkg", "pkg", "osx-arm64"),
    entry("osx-arm64/AcmeConda-2026.11-MacOSX-arm64.sh", "sh", "osx-arm64"),
]


# ---------------------------------------------------------------- arguments


def test_arguments_and_defaults() -> None:
    args = parser().parse_args([])
    assert args.installers == [] and args.dist == REPO / "dist" and args.report_dir is None
    assert args.locked is None and not args.allow_pkg and not args.keep and args.timeout > 0
    args = parser().parse_args(
        ["--unlocked", "--expect-org", "o", "--report-dir", "r", "--keep", "a.sh", "b.sh"]
    )
    assert args.locked is False and args.expect_org == "o" and args.report_dir == Path("r")
    assert args.installers == [Path("a.sh"), Path("b.sh")]
    assert parser().parse_args(["--locked"]).locked is True


def test_locked_and_unlocked_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["--locked", "--unlocked"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_run_without_a_manifest_is_a_usage_error(tmp_path: Path) -> None:
    args = parser().parse_args(["--dist", str(tmp_path / "dist")])
    with pytest.raises(UsageError, match=r"python build\.py build"):
        command.run(args)


def test_bad_timeout_and_bad_override_tokens(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--timeout"):
        command.run(parser().parse_args(["--timeout", "0"]))
    write_dist(tmp_path, [ALL[0]])
    args = parser().parse_args(["--dist", str(tmp_path), "--expect-org", "acme corp"])
    with pytest.raises(UsageError, match="--expect-org"):
        command.run(args)


# ---------------------------------------------------------------- planning


def test_plan_keeps_what_this_host_can_run(tmp_path: Path) -> None:
    write_dist(tmp_path, json.loads(json.dumps(ALL)))
    plan = plan_targets(
        dist=tmp_path, installers=[], overrides=Overrides(), host="linux-64", allow_pkg=False
    )
    assert [t.installer.name for t in plan.targets] == ["AcmeConda-2026.11-Linux-x86_64.sh"]
    target = plan.targets[0]
    assert target.installer_type == "sh" and target.name == "AcmeConda"
    assert target.expect.org_token == "acme-corp" and target.expect.locked is True
    assert target.expect.condarc == CONDARC and target.expect.aau_spec == ">=0.8.1"
    assert target.expect.sha256 is not None
    assert len(plan.skipped) == 3
    assert all("cannot run" in s.reason for s in plan.skipped)


def test_plan_pkg_needs_the_opt_in(tmp_path: Path) -> None:
    write_dist(tmp_path, json.loads(json.dumps(ALL)))
    kwargs: dict[str, Any] = {"dist": tmp_path, "installers": [], "overrides": Overrides()}
    plan = plan_targets(**kwargs, host="osx-arm64", allow_pkg=False)
    assert [t.installer_type for t in plan.targets] == ["sh"]
    assert any("--allow-pkg" in s.reason for s in plan.skipped)
    plan = plan_targets(**kwargs, host="osx-arm64", allow_pkg=True)
    assert sorted(t.installer_type for t in plan.targets) == ["pkg", "sh"]
    named = tmp_path / ALL[2]["path"]
    with pytest.raises(UsageError, match="--allow-pkg"):
        plan_targets(**{**kwargs, "installers": [named]}, host="osx-arm64", allow_pkg=False)


def test_plan_overrides_replace_manifest_values(tmp_path: Path) -> None:
    write_dist(tmp_path, [json.loads(json.dumps(ALL[0]))])
    overrides = Overrides(org_token="other-org", installer_token="Other-1", locked=False)
    plan = plan_targets(
        dist=tmp_path, installers=[], overrides=overrides, host="linux-64", allow_pkg=False
    )
    expect = plan.targets[0].expect
    assert (expect.org_token, expect.installer_token, expect.locked) == (
        "other-org",
        "Other-1",
        False,
    )
    assert expect.sources["org_token"] == "--expect-org"
    assert expect.sources["locked"] == "--unlocked"
    assert expect.condarc == CONDARC  # not overridden: still the manifest's


def test_plan_nothing_runnable_or_missing_files(tmp_path: Path) -> None:
    write_dist(tmp_path / "a", [json.loads(json.dumps(ALL[1]))])
    with pytest.raises(UsageError, match=r"nothing in .* can be verified"):
        plan_targets(
            dist=tmp_path / "a",
            installers=[],
            overrides=Overrides(),
            host="linux-64",
            allow_pkg=False,
        )
    write_dist(tmp_path / "b", [json.loads(json.dumps(ALL[0]))], make_files=False)
    with pytest.raises(UsageError, match="does not exist"):
        plan_targets(
            dist=tmp_path / "b",
            installers=[],
            overrides=Overrides(),
            host="linux-64",
            allow_pkg=False,
        )


def test_plan_rejects_invalid_manifests(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {
        "dist": tmp_path,
        "installers": [],
        "overrides": Overrides(),
        "host": "linux-64",
        "allow_pkg": False,
    }
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(UsageError, match="cannot be read"):
        plan_targets(**kwargs)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 2, "installers": []}))
    with pytest.raises(UsageError, match="format-1"):
        plan_targets(**kwargs)
    bad = entry(ALL[0]["path"], "sh", "linux-64", locked="yes", anaconda_anon_usage_spec=">=")
    write_dist(tmp_path, [bad])
    with pytest.raises(UsageError) as info:
        plan_targets(**kwargs)
    assert "locked must be true or false" in str(info.value)
    assert "anaconda_anon_usage_spec" in str(info.value)


def test_plan_named_installers(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    write_dist(dist, [json.loads(json.dumps(ALL[0]))])
    built = dist / ALL[0]["path"]
    copy = tmp_path / "downloaded" / built.name
    copy.parent.mkdir()
    shutil.copyfile(built, copy)
    kwargs: dict[str, Any] = {"dist": dist, "host": "linux-64", "allow_pkg": False}
    # a copy of a built installer finds its manifest entry by sha256
    plan = plan_targets(installers=[copy], overrides=Overrides(), **kwargs)
    assert plan.targets[0].installer == copy and plan.targets[0].expect.org_token == "acme-corp"
    # an installer built elsewhere needs every promise on the command line
    elsewhere = tmp_path / "Other-1.0-Linux-x86_64.sh"
    elsewhere.write_text("#!/bin/sh\nexit 2\n")
    with pytest.raises(UsageError, match="--expect-org, --expect-installer, --locked or"):
        plan_targets(installers=[elsewhere], overrides=Overrides(), **kwargs)
    overrides = Overrides(org_token="o", installer_token="i", locked=True)
    plan = plan_targets(installers=[elsewhere], overrides=overrides, **kwargs)
    expect = plan.targets[0].expect
    assert (expect.org_token, expect.installer_token, expect.condarc) == ("o", "i", None)
    with pytest.raises(UsageError, match="not found"):
        plan_targets(installers=[tmp_path / "nope.sh"], overrides=overrides, **kwargs)
    with pytest.raises(UsageError, match="cannot run on this host"):
        exe = tmp_path / "x.exe"
        exe.write_text("")
        plan_targets(installers=[exe], overrides=overrides, **kwargs)


# ---------------------------------------------------------------- environment and commands


def test_scrubbed_env_unix(tmp_path: Path) -> None:
    environ = {
        "PATH": "/opt/miniconda/condabin:/opt/envs/build/bin:/usr/local/bin:/usr/bin:/bin",
        "CONDA_PREFIX": "/opt/envs/build",
        "CONDA_EXE": "/opt/miniconda/bin/conda",
        "CONDA_ROOT": "/opt/miniconda",
        "CONDARC": "/etc/x",
        "ANACONDA_ANON_USAGE_ORG_TOKEN": "acme-ci",
        "PYTHONPATH": "/src",
        "PYTHONDONTWRITEBYTECODE": "1",  # containers set it; each conda run would recompile
        "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",  # beats conda's ssl_verify
        "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
        "XDG_CONFIG_HOME": "/home/me/.config",
        "https_proxy": "http://proxy:3128",
        "HOME": "/home/me",
        "LANG": "C.UTF-8",
        "_CE_CONDA": "",
    }
    env = scrubbed_env(environ, tmp_path / "home", windows=False)
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"
    assert env["HOME"] == str(tmp_path / "home")
    assert env["LANG"] == "C.UTF-8"
    assert env["NO_PROXY"] == env["no_proxy"] == "127.0.0.1,localhost"
    for gone in ("CONDA_PREFIX", "CONDA_EXE", "CONDARC", "ANACONDA_ANON_USAGE_ORG_TOKEN"):
        assert gone not in env
    for gone in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "XDG_CONFIG_HOME", "https_proxy"):
        assert gone not in env
    assert "_CE_CONDA" not in env
    assert "REQUESTS_CA_BUNDLE" not in env and "SSL_CERT_FILE" not in env
    assert "USERPROFILE" not in env


def test_scrubbed_env_windows(tmp_path: Path) -> None:
    environ = {
        "Path": r"C:\Miniconda3\condabin;C:\Windows\system32;C:\Windows",
        "USERPROFILE": r"C:\Users\me",
        "Conda_Prefix": r"C:\Miniconda3",
    }
    env = scrubbed_env(environ, tmp_path, windows=True)
    assert env["Path"] == r"C:\Windows\system32;C:\Windows"
    assert env["USERPROFILE"] == env["HOME"] == str(tmp_path)
    assert "Conda_Prefix" not in env


def test_install_commands() -> None:
    prefix = Path("/tmp/ocv-1/prefix")
    assert sh_install_argv("/bin/bash", Path("/d/A.sh"), prefix) == [
        "/bin/bash",
        "/d/A.sh",
        "-b",
        "-p",
        "/tmp/ocv-1/prefix",
    ]
    assert pkg_install_argv("/usr/sbin/installer", Path("/d/A.pkg")) == [
        "/usr/sbin/installer",
        "-pkg",
        "/d/A.pkg",
        "-target",
        "CurrentUserHomeDirectory",
    ]
    script = exe_install_script(Path(r"C:\d\A.exe"), Path(r"C:\T\ocv-1\Org Conda"))
    line = script.splitlines()[1]
    assert line.startswith('start "" /wait "C:\\d\\A.exe" /S /InstallationType=JustMe ')
    assert line.endswith(r" /D=C:\T\ocv-1\Org Conda")  # last and unquoted, space and all
    assert "\r\n" in script
    assert conda_executable(prefix, windows=False) == prefix / "bin" / "conda"
    assert conda_executable(prefix, windows=True) == prefix / "Scripts" / "conda.exe"


def test_install_log_errors_and_pkg_prefix(tmp_path: Path) -> None:
    log = "Extract: x\nFailed to run post install script\nError: disk full\nDone: 0 errors\n"
    assert install_log_errors(log) == ["Failed to run post install script", "Error: disk full"]
    assert pkg_prefix("AcmeConda", tmp_path) == tmp_path / "acmeconda"
    for bad in ("", "..", "a/b"):
        with pytest.raises(UsageError):
            pkg_prefix(bad, tmp_path)


# ---------------------------------------------------------------- the whole flow


def test_failing_installer_gives_failed_checks_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a conda stand-in: an installer that exits 1, as a broken build would."""
    host = host_subdir()
    if host is None or host.startswith("win") or shutil.which("bash") is None:
        pytest.skip(f"needs a Unix host with bash (host: {host})")
    dist = tmp_path / "dist"
    write_dist(dist, [entry(f"{host}/Broken-1.0.sh", "sh", host)])
    args = parser().parse_args(["--dist", str(dist), "--timeout", "60"])
    code = command.run(args, environ=clean_environ(), system_root=tmp_path / "root")
    assert code == 1
    out = capsys.readouterr().out
    assert "FAIL install.completed: exit code 1" in out and "RESULT: " in out
    report = json.loads((dist / "verify" / "report.json").read_text())
    checks = {c["id"]: c for c in report["installers"][0]["checks"]}
    assert checks["install.completed"]["status"] == "fail"
    assert checks["installer.sha256"]["status"] == "pass"
    # one cause (issue 17): what depends on the install is not run, not "not observed"
    assert checks["agent.o"]["actual"] == "not run: the install failed"
    assert checks["agent.o"]["status"] == "skip" and checks["agent.o"]["not_run"] is True
    assert "1 check(s) failed" in out
    assert "space-free" in report["installers"][0]["prefix_note"]
    prefix = Path(report["installers"][0]["prefix"])
    assert " " not in str(prefix) and not prefix.parent.exists()  # removed without --keep
    junit = ET.parse(dist / "verify" / "junit.xml").getroot()
    assert junit.get("failures") == str(sum(c["status"] == "fail" for c in checks.values()))
    outputs = dist / "verify" / "Broken-1.0.sh"
    assert (outputs / "install-result.json").is_file() and (outputs / "verify.log").is_file()


def test_recorded_prefix_files_load_as_an_observation(tmp_path: Path, fixtures_dir: Path) -> None:
    """The install step's file recording and the loader agree (a prefix made of data files)."""
    prefix, home = tmp_path / "prefix", tmp_path / "home"
    (prefix / "etc" / "orgconda").mkdir(parents=True)
    (prefix / "conda-meta").mkdir()
    (home / ".conda").mkdir(parents=True)
    (prefix / "etc" / "orgconda" / "install.json").write_text(json.dumps(hook_record(str(prefix))))
    (prefix / "etc" / "aau_token").write_text("7XxelTk5o5cRmcLBLD0WxA")
    (prefix / ".machine_token").write_text("UtqJan-wkzEnOekkdFRfvQ\r\n")  # dotted name, CRLF
    (home / ".conda" / "aau_token").write_text("SND9ZXQLUT4hiDAiwSTVyx")
    meta = fixtures_dir / "locked" / "conda-meta-aau.json"
    shutil.copyfile(meta, prefix / "conda-meta" / "anaconda-anon-usage-0.8.1-py_100.json")
    (prefix / "condarc.d").mkdir()
    (prefix / "condarc.d" / "acme.yml").write_text("channels: [x]\n")
    cp = ConfigPackageExpect("acme-conda-config", "1", 0, "condarc.d/acme.yml", "0" * 64)
    expect = replace(locked_expectation(fixtures_dir), config_package=cp)
    outputs = tmp_path / "verify" / "A.sh"
    outputs.mkdir(parents=True)
    assert record_files(prefix, home, expect, outputs) == {}
    obs = load_observation(outputs, prefix=str(prefix))
    assert obs.hook_record is not None and obs.hook_record["org_token"] == "acme-corp"
    assert obs.tokens is not None
    assert obs.tokens.machine_token_value == "UtqJan-wkzEnOekkdFRfvQ"
    assert obs.tokens.machine_token_path.endswith(".machine_token")
    assert obs.tokens.env_token == "7XxelTk5o5cRmcLBLD0WxA"
    assert obs.tokens.client_token == "SND9ZXQLUT4hiDAiwSTVyx"
    assert obs.aau_meta is not None and obs.aau_meta["build"] == "py_100"
    assert obs.host is not None and obs.host.prefix == str(prefix) and obs.host.hostname
    assert obs.config_files is not None and obs.config_files.record is None
    assert obs.config_files.condarc_sha256 == hashlib.sha256(b"channels: [x]\n").hexdigest()
