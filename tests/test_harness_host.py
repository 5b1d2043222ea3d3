"""verify leaves the host as it found it (issue 9): what counts as a dirty host, the refusal
(exit 2) and --allow-dirty-host, and the system files put back after an install.

Every system location here is under a temporary root (``system_root`` / ``root``), never the
real /etc/conda.
"""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from test_harness_command import clean_environ, entry, parser, write_dist

from orgconda.errors import UsageError
from orgconda.harness import command
from orgconda.harness.expect import Expectation
from orgconda.harness.host import (
    Snapshot,
    find_distortions,
    system_dirs,
)
from orgconda.harness.install import Target, Verification, VerifyOptions
from orgconda.platforms import host_subdir
from orgconda.runner import Runner

DIRTY_ENV = {
    "CONDA_PKGS_DIRS": "/big/disk/pkgs",
    "ANACONDA_ANON_USAGE_ORG_TOKEN": "acme-ci",
    "CONDA_ANACONDA_ANON_USAGE": "no",
    # set by `conda activate` in the verifier's own shell: not settings, not reported
    "CONDA_PREFIX": "/opt/miniforge/envs/orgconda",
    "CONDA_PREFIX_1": "/opt/miniforge",
    "CONDA_SHLVL": "2",
    "CONDA_DEFAULT_ENV": "orgconda",
    "CONDA_EXE": "/opt/miniforge/bin/conda",
    "CONDA_PYTHON_EXE": "/opt/miniforge/bin/python",
    "CONDA_PROMPT_MODIFIER": "(orgconda) ",
    "CONDA_PKGS_DIR": "/home/runner/conda_pkgs_dir",  # setup-miniconda's; conda does not read it
    "ORGCONDA_SIGNING_CERTIFICATE_FILE": "/tmp/x",
}


def unix_with_bash() -> str:
    host = host_subdir()
    if host is None or host.startswith("win") or shutil.which("bash") is None:
        pytest.skip(f"needs a Unix host with bash (host: {host})")
    return host


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# ---------------------------------------------------------------- what is dirty


def test_system_dirs_under_a_root_and_the_hook_override(tmp_path: Path) -> None:
    assert system_dirs({}, windows=False) == [Path("/etc/conda"), Path("/var/lib/conda")]
    assert system_dirs({}, windows=True) == [Path("C:/ProgramData/conda")]
    assert system_dirs({}, windows=False, root=tmp_path) == [
        tmp_path / "etc" / "conda",
        tmp_path / "var" / "lib" / "conda",
    ]
    assert system_dirs({}, windows=True, root=tmp_path) == [tmp_path / "C/ProgramData/conda"]
    override = {"ORGCONDA_SYSTEM_TOKEN_DIR": str(tmp_path / "tokens")}
    assert system_dirs(override, windows=False, root=tmp_path)[-1] == tmp_path / "tokens"


def test_findings_name_files_directories_and_variables(tmp_path: Path) -> None:
    etc, var = tmp_path / "etc" / "conda", tmp_path / "var" / "lib" / "conda"
    etc.mkdir(parents=True)
    (var / "condarc.d").mkdir(parents=True)
    for name in ("org_token", ".machine_token", ".condarc"):
        (etc / name).write_text("x\n")
    (etc / "unrelated.txt").write_text("not read by conda or the plugin\n")
    (var / "condarc.d" / "org.yml").write_text("channels: [x]\n")
    findings = find_distortions(system_dirs({}, windows=False, root=tmp_path), DIRTY_ENV)
    assert findings == [
        f"file {etc / 'org_token'}",
        f"file {etc / '.machine_token'}",
        f"file {etc / '.condarc'}",
        f"directory {var / 'condarc.d'}",
        "variable ANACONDA_ANON_USAGE_ORG_TOKEN",
        "variable CONDA_ANACONDA_ANON_USAGE",
        "variable CONDA_PKGS_DIRS",
    ]
    assert find_distortions(system_dirs({}, windows=False, root=tmp_path / "none"), {}) == []


def test_dirty_host_stops_verify_before_installing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc" / "conda").mkdir(parents=True)
    (root / "etc" / "conda" / "machine_token").write_text("left-behind\n")
    dist = tmp_path / "dist"
    write_dist(dist, [entry("linux-64/Broken-1.0.sh", "sh", "linux-64")])
    args = parser().parse_args([str(dist / "linux-64" / "Broken-1.0.sh"), "--dist", str(dist)])
    environ = {**clean_environ(), **DIRTY_ENV}
    with pytest.raises(UsageError) as info:
        command.run(args, environ=environ, system_root=root)
    message = str(info.value)
    assert info.value.exit_code == 2
    assert f"  - file {root / 'etc' / 'conda' / 'machine_token'}\n" in message
    assert "  - variable CONDA_PKGS_DIRS\n" in message
    assert "CONDA_PREFIX" not in message and "CONDA_SHLVL" not in message
    assert "--allow-dirty-host" in message
    assert not (dist / "verify").exists()  # nothing installed, nothing written


def test_allow_dirty_host_goes_on_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = unix_with_bash()
    root = tmp_path / "root"
    (root / "var" / "lib" / "conda").mkdir(parents=True)
    (root / "var" / "lib" / "conda" / "org_token").write_text("someone-else\n")
    dist = tmp_path / "dist"
    write_dist(dist, [entry(f"{host}/Broken-1.0.sh", "sh", host)])
    args = parser().parse_args(["--dist", str(dist), "--allow-dirty-host", "--timeout", "60"])
    environ = {**clean_environ(), "ANACONDA_ANON_USAGE_MACHINE_TOKEN": "ci-7"}
    assert command.run(args, environ=environ, system_root=root) == 1  # the installer fails
    expected = [
        f"file {root / 'var' / 'lib' / 'conda' / 'org_token'}",
        "variable ANACONDA_ANON_USAGE_MACHINE_TOKEN",
    ]
    report = json.loads((dist / "verify" / "report.json").read_text())
    assert report["host_findings"] == expected
    out = capsys.readouterr().out
    assert "host not clean (went on with --allow-dirty-host):" in out
    assert f"  - {expected[0]}" in out
    assert (root / "var" / "lib" / "conda" / "org_token").read_text() == "someone-else\n"


# ---------------------------------------------------------------- snapshot and restore


def test_restore_puts_back_bytes_and_modes_and_removes_what_was_created(tmp_path: Path) -> None:
    etc, var = tmp_path / "etc" / "conda", tmp_path / "var" / "lib" / "conda"
    etc.mkdir(parents=True)
    kept, changed, deleted = etc / "condarc", etc / "org_token", etc / ".machine_token"
    kept.write_bytes(b"channels: [a]\n")
    kept.chmod(0o644)
    changed.write_bytes(b"acme-corp\r\n")
    changed.chmod(0o640)
    deleted.write_bytes(b"abc\n")
    (etc / "condarc.d").mkdir(mode=0o750)
    (etc / "condarc.d").chmod(0o750)
    snapshot = Snapshot.take(system_dirs({}, windows=False, root=tmp_path))
    assert snapshot.changes() == []

    # what a system-scope install (and a careless one) might do
    changed.write_bytes(b"other-org\n")
    changed.chmod(0o600)
    kept.chmod(0o666)
    deleted.unlink()
    (etc / "installer_token").write_text("AcmeConda-2026_11\n")
    (etc / "condarc.d" / "org.yml").write_text("ssl_verify: false\n")
    var.mkdir(parents=True)
    (var / "machine_token").write_text("generated\n")
    assert snapshot.changes() == [
        f"created {etc / 'condarc.d' / 'org.yml'}",
        f"created {etc / 'installer_token'}",
        f"created {var}",
        f"created {var / 'machine_token'}",
        f"deleted {deleted}",
        f"changed the mode of {kept}",
        f"changed {changed}",
    ]

    done = snapshot.restore()
    assert changed.read_bytes() == b"acme-corp\r\n" and mode(changed) == 0o640
    assert kept.read_bytes() == b"channels: [a]\n" and mode(kept) == 0o644
    assert deleted.read_bytes() == b"abc\n"
    assert not (etc / "installer_token").exists() and not var.exists()
    assert sorted(p.name for p in (etc / "condarc.d").iterdir()) == []
    assert mode(etc / "condarc.d") == 0o750
    assert f"removed {var} (created by the install)" in done
    assert f"put back the content of {changed}" in done
    assert snapshot.changes() == [] and snapshot.restore() == []


def test_restore_when_the_folder_did_not_exist(tmp_path: Path) -> None:
    dirs = system_dirs({}, windows=False, root=tmp_path)
    snapshot = Snapshot.take(dirs)
    (tmp_path / "etc" / "conda").mkdir(parents=True)
    (tmp_path / "etc" / "conda" / "org_token").write_text("acme-corp\n")
    assert snapshot.restore() == [
        f"removed {tmp_path / 'etc' / 'conda' / 'org_token'} (created by the install)",
        f"removed {tmp_path / 'etc' / 'conda'} (created by the install)",
    ]
    assert (tmp_path / "etc").is_dir() and not (tmp_path / "etc" / "conda").exists()


# ---------------------------------------------------------------- around a real verification


def _system_scope_target(tmp_path: Path, host: str) -> Target:
    installer = tmp_path / "Broken-1.0.sh"
    installer.write_text("#!/bin/sh\necho 'ERROR: the payload is damaged' >&2\nexit 1\n")
    expect = Expectation(
        org_token="acme-corp", installer_token="AcmeConda-2026_11", token_scope="system"
    )
    return Target(installer, "sh", host, "Broken", expect)


def _writes_system_files_when_the_installer_starts(root: Path) -> Callable[[str], None]:
    """Runner's echo sees each command as it starts: when it is the installer, do what a
    system-scope post_install does (write tokens into /etc/conda), here under ``root``."""

    def echo(line: str) -> None:
        if line.startswith("$ ") and " -b -p " in line:
            system = root / "etc" / "conda"
            system.mkdir(parents=True, exist_ok=True)
            (system / ".installer_token").write_text("AcmeConda-2026_11\n")
            (system / "org_token").write_text("acme-corp\n")
            (system / "machine_token").write_text("UtqJan-wkzEnOekkdFRfvQ\n")

    return echo


@pytest.mark.parametrize("keep", [False, True])
def test_verification_puts_back_system_files_unless_keep(tmp_path: Path, keep: bool) -> None:
    host = unix_with_bash()
    root = tmp_path / "root"
    (root / "var" / "lib" / "conda").mkdir(parents=True)
    (root / "var" / "lib" / "conda" / "condarc").write_text("channels: [corp]\n")
    options = VerifyOptions(
        report_dir=tmp_path / "verify",
        keep=keep,
        timeout=60,
        system_dirs=tuple(system_dirs({}, windows=False, root=root)),
    )
    runner = Runner(echo=_writes_system_files_when_the_installer_starts(root))
    target = _system_scope_target(tmp_path, host)
    report = Verification(target, options, runner, environ=clean_environ()).run()
    checks = {c.id: c for c in report.checks}
    assert checks["install.completed"].status == "fail"
    assert "the installer said: ERROR: the payload is damaged" in checks["install.completed"].actual
    token = root / "etc" / "conda" / "org_token"
    assert (root / "var" / "lib" / "conda" / "condarc").read_text() == "channels: [corp]\n"
    if keep:
        assert token.read_text() == "acme-corp\n"
        assert f"kept on this host (--keep): created {token}" in report.notes
        shutil.rmtree(Path(report.prefix).parent)
    else:
        assert not (root / "etc" / "conda").exists()
        assert f"host: removed {token} (created by the install)" in report.notes
        assert f"host: removed {root / 'etc' / 'conda'} (created by the install)" in report.notes
