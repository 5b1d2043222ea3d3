"""End to end: build for this host with the real constructor from the channel named by
ORGCONDA_E2E_CHANNEL, then verify the installer like a user would; skipped with the reason
elsewhere. No stand-in programs."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from e2e_util import build as e2e_build
from e2e_util import e2e_profile
from e2e_util import verify as e2e_verify
from helpers import run_build_py

from orgconda.harness.host import Snapshot, find_distortions
from orgconda.platforms import host_subdir


@pytest.mark.e2e
def test_build_then_verify_the_default_profile(tmp_path: Path) -> None:
    """The default profile, built from the e2e channel for this host, then verified."""
    host = host_subdir()
    if host is None:
        pytest.skip("this host is not a conda platform")
    profile = e2e_profile(tmp_path / "p", host)
    dist, reports = tmp_path / "dist", tmp_path / "verify"
    built = e2e_build(profile, tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    manifest = json.loads((dist / "manifest.json").read_text())
    assert any(i["platform"] == host for i in manifest["installers"])
    verified = e2e_verify(dist, reports, "--allow-pkg")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads((reports / "report.json").read_text())
    assert report["ok"] is True and report["installers"]
    for installer in report["installers"]:
        ids = {c["id"]: c["status"] for c in installer["checks"]}
        for must in (
            "agent.o",
            "agent.i",
            "agent.m",
            "wire.matches",
            "lock.env_override",
            "config_package.installed",
            "config_package.channel",
        ):
            assert ids[must] == "pass", (installer["name"], must)
        assert not Path(installer["prefix"]).exists() or installer["type"] == "exe"
    junit = ET.parse(reports / "junit.xml").getroot()
    assert junit.get("failures") == "0"


# ---------------------------------------------------------------- against a local channel


def _build(tmp_path: Path, **changes: Any) -> Path:
    """Build an installer for this host from a small profile on the e2e channel; return
    the dist folder. ``a__b`` keywords set profile fields."""
    host = host_subdir()
    if host is None or host.startswith("win"):
        pytest.skip(f"the e2e verify runs .sh installers on Linux/macOS (host: {host})")
    changes.setdefault("installer__initialize_conda", False)
    profile = e2e_profile(tmp_path / "profile", host, **changes)
    built = e2e_build(profile, tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    return tmp_path / "dist"


def _verify(dist: Path, reports: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    done = run_build_py(
        "verify", "--dist", str(dist), "--report-dir", str(reports), *extra, timeout=1800
    )
    report = json.loads((reports / "report.json").read_text()) if reports.is_dir() else {}
    return done.returncode, report, done.stdout + done.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("package", [True, False], ids=["config-package", "baked-condarc"])
def test_verify_proves_the_bundled_ca_over_https(tmp_path: Path, package: bool) -> None:
    """issue 9: with the configuration package and without it, the installer installs into
    two different prefixes, and from both the installed conda reaches a loopback HTTPS server
    signed by the bundled CA; a server signed by another CA is refused, with the SSL error."""
    from test_harness_https import mint_ca, mint_server_cert

    ca = mint_ca(tmp_path / "pki" / "ca")
    server = mint_server_cert(tmp_path / "pki" / "server", ca)
    other = mint_server_cert(tmp_path / "pki" / "other-server", mint_ca(tmp_path / "pki" / "x"))
    (tmp_path / "profile").mkdir(parents=True)
    shutil.copyfile(ca.cert, tmp_path / "profile" / "acme-root-ca.pem")
    dist = _build(
        tmp_path,
        condarc__ca_certificate="acme-root-ca.pem",
        config_package__enabled=package,
    )
    manifest = json.loads((dist / "manifest.json").read_text())
    assert manifest["installers"][0]["expect"]["ca_certificate"]["path"] == (
        "etc/orgconda/acme-root-ca.pem"
    )
    prefixes = []
    for run in ("first", "second"):
        code, report, output = _verify(
            dist, tmp_path / run, "--https-cert", str(server.cert), "--https-key", str(server.key)
        )
        checks = {c["id"]: c for c in report["installers"][0]["checks"]}
        assert code == 0, output
        assert checks["ca.bundled"]["status"] == "pass" and checks["ca.https"]["status"] == "pass"
        prefixes.append(report["installers"][0]["prefix"])
    assert prefixes[0] != prefixes[1]
    code, report, output = _verify(
        dist, tmp_path / "other", "--https-cert", str(other.cert), "--https-key", str(other.key)
    )
    checks = {c["id"]: c for c in report["installers"][0]["checks"]}
    assert code == 1 and checks["ca.https"]["status"] == "fail", output
    assert "CERTIFICATE_VERIFY_FAILED" in checks["ca.https"]["actual"]


@pytest.mark.e2e
def test_system_scope_verify_leaves_etc_conda_as_it_was(tmp_path: Path) -> None:
    """issue 9: a token_scope system installer, verified as root, passes and leaves the
    system folder exactly as before (created files removed, existing ones untouched)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("a system-scope install writes /etc/conda: run as root (e.g. in CI)")
    system = Path("/etc/conda")
    before = Snapshot.take([system])
    findings = find_distortions([system, Path("/var/lib/conda")], {})
    if findings:
        pytest.skip(f"this host is not clean: {findings}")
    dist = _build(tmp_path, telemetry__token_scope="system")
    code, report, output = _verify(dist, tmp_path / "verify")
    assert code == 0, output
    checks = {c["id"]: c for c in report["installers"][0]["checks"]}
    assert checks["hooks.record"]["status"] == "pass" and checks["agent.m"]["status"] == "pass"
    assert "token_dir /etc/conda" in checks["hooks.record"]["actual"]
    assert before.changes() == [], "verify left /etc/conda changed"
