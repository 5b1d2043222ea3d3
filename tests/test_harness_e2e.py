"""End to end: build the default profile for this host with the real constructor, then
verify the installer like a user would. Runs where constructor (and its conda-standalone)
is installed, e.g. CI; skipped with the reason elsewhere. No stand-in programs."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import DEFAULT_PROFILE, REPO, require_tool

from orgconda.platforms import host_subdir


@pytest.mark.e2e
def test_build_then_verify_the_default_profile(tmp_path: Path) -> None:
    require_tool("constructor")
    host = host_subdir()
    if host is None:
        pytest.skip("this host is not a conda platform")
    dist, build, reports = tmp_path / "dist", tmp_path / "build", tmp_path / "verify"
    built = subprocess.run(
        [
            sys.executable,
            str(REPO / "build.py"),
            "build",
            "--profile",
            str(DEFAULT_PROFILE),
            "--platform",
            host,
            "--build-dir",
            str(build),
            "--dist-dir",
            str(dist),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    manifest = json.loads((dist / "manifest.json").read_text())
    assert any(i["platform"] == host for i in manifest["installers"])

    verified = subprocess.run(
        [
            sys.executable,
            str(REPO / "build.py"),
            "verify",
            "--dist",
            str(dist),
            "--report-dir",
            str(reports),
            "--allow-pkg",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads((reports / "report.json").read_text())
    assert report["ok"] is True and report["installers"]
    for installer in report["installers"]:
        ids = {c["id"]: c["status"] for c in installer["checks"]}
        for must in ("agent.o", "agent.i", "agent.m", "wire.matches", "lock.env_override"):
            assert ids[must] == "pass", (installer["name"], must)
        assert not Path(installer["prefix"]).exists() or installer["type"] == "exe"
    junit = ET.parse(reports / "junit.xml").getroot()
    assert junit.get("failures") == "0"
