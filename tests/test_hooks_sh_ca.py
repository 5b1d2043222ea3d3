"""The bundled CA certificate without the configuration package (DESIGN item 3), .sh hooks.

The build ships the certificate at <prefix>/etc/orgconda/<file> and passes
ORGCONDA_CA_FILE=etc/orgconda/<file>; post_install.sh points conda's ssl_verify at it, by its
absolute path, in <prefix>/condarc.d/orgconda-ca.yml.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from conftest import require_tool
from hooks_util import (
    BAD_CA_FILES,
    CA_RULE_TEXT,
    assert_ok,
    check_record,
    read_record,
    run_sh,
    snapshot,
    staged,
)

PRE = staged("pre_install.sh")
POST = staged("post_install.sh")
CA_FILE = "etc/orgconda/acme-root.pem"
PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
MACHINE = "mdm-0001_asset-77"


@pytest.fixture(params=["dash", "bash"])
def shell(request: pytest.FixtureRequest) -> str:
    return require_tool(request.param)


def with_ca(prefix: Path, data: bytes = PEM) -> Path:
    """A prefix as the installer leaves it for post_install: the certificate in place."""
    path = prefix / CA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("where", ["plain", "with space", "it's", "O'Brien's ''x''"])
def test_ca_setting_names_the_certificate_by_its_absolute_path(
    shell: str, tmp_path: Path, where: str
) -> None:
    prefix = tmp_path / where / "AcmeConda"
    ca = with_ca(prefix)
    result = run_sh(shell, POST, prefix, ORGCONDA_CA_FILE=CA_FILE, ORGCONDA_MACHINE_TOKEN=MACHINE)
    assert_ok(result)

    setting = prefix / "condarc.d" / "orgconda-ca.yml"
    quoted = str(ca).replace("'", "''")
    assert setting.read_bytes() == f"ssl_verify: '{quoted}'\n".encode()
    assert stat.S_IMODE(setting.stat().st_mode) == 0o644
    assert yaml.safe_load(setting.read_bytes()) == {"ssl_verify": str(ca)}
    assert Path(yaml.safe_load(setting.read_text())["ssl_verify"]).read_bytes() == PEM
    # Nothing else in condarc.d (no temporary file left), and the certificate is untouched.
    assert [p.name for p in setting.parent.iterdir()] == ["orgconda-ca.yml"]
    assert ca.read_bytes() == PEM

    record = read_record(prefix)
    check_record(record, MACHINE)
    assert record["ca_certificate"] == str(ca)
    assert str(setting) not in record["files"]  # files lists the token files
    assert f"wrote {setting}: ssl_verify is {ca}" in result.stdout


def test_ca_setting_with_scope_system_stays_in_the_prefix(shell: str, tmp_path: Path) -> None:
    prefix = tmp_path / "AcmeConda"
    ca = with_ca(prefix)
    system = tmp_path / "etc" / "conda"
    result = run_sh(
        shell,
        POST,
        prefix,
        ORGCONDA_CA_FILE=CA_FILE,
        ORGCONDA_TOKEN_SCOPE="system",
        ORGCONDA_SYSTEM_TOKEN_DIR=str(system),
    )
    assert_ok(result)
    assert yaml.safe_load((prefix / "condarc.d" / "orgconda-ca.yml").read_text()) == {
        "ssl_verify": str(ca)
    }
    assert not (system / "condarc.d").exists()


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_no_ca_file_means_no_setting(shell: str, tmp_path: Path, value: str | None) -> None:
    prefix = tmp_path / "AcmeConda"
    prefix.mkdir()
    assert_ok(run_sh(shell, POST, prefix, ORGCONDA_CA_FILE=value))
    assert not (prefix / "condarc.d").exists()
    assert read_record(prefix)["ca_certificate"] is None


def test_a_reinstall_without_a_ca_removes_the_old_setting(shell: str, tmp_path: Path) -> None:
    """The setting is this hook's own file: an installer without a CA takes it away."""
    prefix = tmp_path / "AcmeConda"
    with_ca(prefix)
    assert_ok(run_sh(shell, POST, prefix, ORGCONDA_CA_FILE=CA_FILE))
    setting = prefix / "condarc.d" / "orgconda-ca.yml"
    assert setting.is_file()
    result = run_sh(shell, POST, prefix)
    assert_ok(result)
    assert not setting.exists()
    assert read_record(prefix)["ca_certificate"] is None
    assert f"removed {setting}" in result.stdout


def test_pre_install_checks_the_value_only(shell: str, tmp_path: Path) -> None:
    """The certificate is unpacked after pre_install: its absence is fine there."""
    prefix = tmp_path / "AcmeConda"
    prefix.mkdir()
    before = snapshot(tmp_path)
    result = run_sh(shell, PRE, prefix, ORGCONDA_CA_FILE=CA_FILE)
    assert_ok(result)
    assert f"CA certificate {CA_FILE} (post_install checks the file)" in result.stdout
    assert snapshot(tmp_path) == before


# --- refusals: nothing is written -----------------------------------------------------------


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
@pytest.mark.parametrize("value", list(BAD_CA_FILES.values()), ids=list(BAD_CA_FILES))
def test_bad_ca_file_value_is_refused_and_nothing_is_written(
    shell: str, tmp_path: Path, script: Path, value: str
) -> None:
    prefix = tmp_path / "AcmeConda"
    with_ca(prefix)
    (prefix / "machine_token").write_bytes(b"keep-me\n")
    before = snapshot(tmp_path)
    result = run_sh(shell, script, prefix, ORGCONDA_CA_FILE=value)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: ORGCONDA_CA_FILE " in result.stderr
    assert CA_RULE_TEXT in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "which is not a file"), (b"", "which is empty"), ("dir", "which is not a file")],
    ids=["missing", "empty", "directory"],
)
def test_post_install_refuses_a_missing_or_empty_certificate(
    shell: str, tmp_path: Path, content: bytes | str | None, problem: str
) -> None:
    prefix = tmp_path / "AcmeConda"
    (prefix / "etc" / "orgconda").mkdir(parents=True)
    ca = prefix / CA_FILE
    if content == "dir":
        ca.mkdir()
    elif isinstance(content, bytes):
        ca.write_bytes(content)
    before = snapshot(tmp_path)
    result = run_sh(shell, POST, prefix, ORGCONDA_CA_FILE=CA_FILE)
    assert result.returncode == 1
    assert f"error: ORGCONDA_CA_FILE names {ca}, {problem}" in result.stderr
    assert snapshot(tmp_path) == before


def test_every_problem_is_reported_at_once(shell: str, tmp_path: Path) -> None:
    prefix = tmp_path / "AcmeConda"
    prefix.mkdir()
    result = run_sh(shell, POST, prefix, ORGCONDA_CA_FILE=CA_FILE, ORGCONDA_ORG_TOKEN="a b")
    assert result.returncode == 1
    assert "ORGCONDA_ORG_TOKEN contains characters outside" in result.stderr
    assert "ORGCONDA_CA_FILE names" in result.stderr
    assert list(prefix.iterdir()) == []


def test_a_prefix_with_a_line_end_cannot_be_named(shell: str, tmp_path: Path) -> None:
    prefix = tmp_path / "odd\nname" / "AcmeConda"
    with_ca(prefix)
    before = snapshot(tmp_path)
    result = run_sh(shell, POST, prefix, ORGCONDA_CA_FILE=CA_FILE)
    assert result.returncode == 1
    assert "PREFIX contains a control character" in result.stderr
    assert "ORGCONDA_CA_FILE" in result.stderr
    assert snapshot(tmp_path) == before
