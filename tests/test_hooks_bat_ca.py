"""The bundled CA certificate without the configuration package (DESIGN item 3), .bat hooks,
run by cmd.exe (on Windows, or under wine: see tests/test_hooks_bat.py)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from hooks_util import (
    BAD_CA_FILES,
    CA_RULE_TEXT,
    Cmd,
    check_record,
    read_record,
    snapshot,
    staged,
    start_cmd,
)

PRE = staged("pre_install.bat")
POST = staged("post_install.bat")
CA_FILE = "etc/orgconda/acme-root.pem"
PEM = b"-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n"
MACHINE = "mdm-0001_asset-77"


@pytest.fixture(scope="session")
def cmd() -> Iterator[Cmd]:
    yield start_cmd()


def installed(prefix: Path, data: bytes | None = PEM) -> Path:
    """A Just Me prefix as NSIS leaves it for post_install: the certificate in place."""
    (prefix / "pkgs").mkdir(parents=True, exist_ok=True)
    (prefix / ".nonadmin").touch()
    ca = prefix / "etc" / "orgconda" / "acme-root.pem"
    ca.parent.mkdir(parents=True, exist_ok=True)
    if data is not None:
        ca.write_bytes(data)
    return ca


def test_ca_setting_names_the_certificate_by_its_windows_path(cmd: Cmd, tmp_path: Path) -> None:
    prefix = tmp_path / "O'Brien co" / "AcmeConda"
    ca = installed(prefix)
    result = cmd.run_hook(POST, prefix, ORGCONDA_CA_FILE=CA_FILE, ORGCONDA_MACHINE_TOKEN=MACHINE)
    assert result.returncode == 0, result.stdout + result.stderr

    setting = prefix / "condarc.d" / "orgconda-ca.yml"
    windows_path = cmd.path(ca)
    assert "'" in windows_path and "\\etc\\orgconda\\acme-root.pem" in windows_path
    quoted = windows_path.replace("'", "''")
    assert setting.read_bytes() == f"ssl_verify: '{quoted}'\r\n".encode()
    assert yaml.safe_load(setting.read_bytes()) == {"ssl_verify": windows_path}
    assert [p.name for p in setting.parent.iterdir()] == ["orgconda-ca.yml"]
    assert ca.read_bytes() == PEM

    record = read_record(prefix)
    check_record(record, MACHINE)
    assert record["ca_certificate"] == windows_path
    assert f'wrote "{cmd.path(setting)}": ssl_verify is "{windows_path}"' in result.stdout


def test_a_reinstall_without_a_ca_removes_the_old_setting(cmd: Cmd, tmp_path: Path) -> None:
    prefix = tmp_path / "AcmeConda"
    installed(prefix)
    setting = prefix / "condarc.d" / "orgconda-ca.yml"
    first = cmd.run_hook(POST, prefix, ORGCONDA_CA_FILE=CA_FILE, ORGCONDA_MACHINE_TOKEN=MACHINE)
    assert first.returncode == 0, first.stderr
    assert setting.is_file()
    again = cmd.run_hook(POST, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE)
    assert again.returncode == 0, again.stderr
    assert not setting.exists()
    assert read_record(prefix)["ca_certificate"] is None
    assert f'removed "{cmd.path(setting)}"' in again.stdout


def test_pre_install_checks_the_value_only(cmd: Cmd, tmp_path: Path) -> None:
    prefix = tmp_path / "AcmeConda"
    installed(prefix, data=None)
    before = snapshot(tmp_path)
    result = cmd.run_hook(PRE, prefix, ORGCONDA_CA_FILE=CA_FILE)
    assert result.returncode == 0, result.stderr
    assert f"CA certificate {CA_FILE} (post_install checks the file)" in result.stdout
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
def test_bad_ca_file_values_are_refused_and_nothing_is_written(
    cmd: Cmd, tmp_path: Path, script: Path
) -> None:
    """Every bad value for pre_install; a spread for post_install, which runs the same check
    (lib/common.bat): each run costs a second or two under wine."""
    labels = list(BAD_CA_FILES)
    if script == POST:
        labels = ["absolute", "dot-dot", "subdirectory", "unicode", "ampersand"]

    def attempt(label: str) -> str | None:
        root = tmp_path / label
        installed(root / "AcmeConda")
        before = snapshot(root)
        value = BAD_CA_FILES[label]
        result = cmd.run_hook(
            script, root / "AcmeConda", ORGCONDA_CA_FILE=value, ORGCONDA_MACHINE_TOKEN=MACHINE
        )
        try:
            assert result.returncode == 1, result.stdout
            assert "::error:: orgconda" in result.stderr
            assert "ORGCONDA_CA_FILE " in result.stderr, result.stderr
            assert CA_RULE_TEXT in result.stderr, result.stderr
            assert snapshot(root) == before, "files changed"
        except AssertionError as exc:
            return f"ORGCONDA_CA_FILE={value!r} ({label}): {exc}"
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(attempt, labels) if f]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "which is not a file"), (b"", "which is empty")],
    ids=["missing", "empty"],
)
def test_post_install_refuses_a_missing_or_empty_certificate(
    cmd: Cmd, tmp_path: Path, content: bytes | None, problem: str
) -> None:
    prefix = tmp_path / "AcmeConda"
    ca = installed(prefix, data=content)
    before = snapshot(tmp_path)
    result = cmd.run_hook(
        POST,
        prefix,
        ORGCONDA_CA_FILE=CA_FILE,
        ORGCONDA_MACHINE_TOKEN=MACHINE,
        ORGCONDA_ORG_TOKEN=None,
    )
    assert result.returncode == 1
    # Every problem at once: the certificate, and the organization token.
    assert f'ORGCONDA_CA_FILE names "{cmd.path(ca)}", {problem}' in result.stderr
    assert "ORGCONDA_ORG_TOKEN" in result.stderr
    assert snapshot(tmp_path) == before
