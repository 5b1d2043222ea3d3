"""pre_install.sh and post_install.sh as installers ship them, run for real by dash and bash:
the token files, the record, who owns what, and refusals that write nothing."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_tool
from hooks_util import (
    BAD_VALUES,
    INSTALLER_TOKEN,
    ORG_TOKEN,
    TOKEN_VARS,
    assert_ok,
    check_record,
    check_refusal,
    make_immutable,
    read_record,
    run_sh,
    running_as_root,
    snapshot,
    staged,
    token_line,
    undo_immutable,
)

from orgconda.tokens import TOKEN_RE

PRE = staged("pre_install.sh")
POST = staged("post_install.sh")
NOBODY = 65534

needs_root = pytest.mark.skipif(
    not running_as_root(), reason="needs root: it changes owners and runs as another user"
)


@pytest.fixture(params=["dash", "bash"])
def shell(request: pytest.FixtureRequest) -> str:
    return require_tool(request.param)


@pytest.fixture(params=["prefix", "with space", "O'Brien"])
def prefix(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / request.param / "AcmeConda"
    path.mkdir(parents=True)
    return path


def owner(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory other users can reach (pytest's own are mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix="orgconda-hooks-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- post_install.sh: what it writes -------------------------------------------------------


def test_post_install_writes_prefix_tokens(shell: str, prefix: Path) -> None:
    result = run_sh(shell, POST, prefix)
    assert_ok(result)

    assert (prefix / ".installer_token").read_bytes() == f"{INSTALLER_TOKEN}\n".encode()
    assert (prefix / "org_token").read_bytes() == f"{ORG_TOKEN}\n".encode()
    machine = token_line((prefix / "machine_token").read_bytes(), b"\n")
    assert len(machine) == 22
    for name in (".installer_token", "org_token", "machine_token"):
        assert stat.S_IMODE((prefix / name).stat().st_mode) == 0o644, name
    assert machine not in result.stdout + result.stderr

    record = read_record(prefix)
    check_record(record, machine)
    assert record["scope"] == "prefix"
    assert record["token_dir"] == str(prefix)
    assert record["installer_type"] == "SH"
    assert record["installer_name"] == "AcmeConda"
    assert record["installer_version"] == "2026.11"
    assert record["installer_platform"] == "linux-64"
    assert record["machine_token_source"] == "generated"
    assert record["unattended"] is True
    expected_files = [str(prefix / n) for n in (".installer_token", "org_token", "machine_token")]
    assert record["files"][:3] == expected_files
    assert stat.S_IMODE((prefix / "etc" / "orgconda" / "install.json").stat().st_mode) == 0o644
    # Nothing else is left behind (no temporary files).
    names = {p.name for p in prefix.iterdir()}
    assert names == {".installer_token", "org_token", "machine_token", "etc"}


@needs_root
def test_all_users_install_seeds_env_token(shell: str, prefix: Path) -> None:
    """Root on a root-owned prefix is an all-users install: etc/aau_token is seeded."""
    first = run_sh(shell, POST, prefix)
    assert_ok(first)
    aau = prefix / "etc" / "aau_token"
    data = aau.read_bytes()
    assert len(data) == 22 and TOKEN_RE.fullmatch(data.decode("ascii")), data
    assert stat.S_IMODE(aau.stat().st_mode) == 0o644
    record = read_record(prefix)
    assert record["all_users"] is True
    assert record["env_token_seeded"] is True
    assert record["files"][-1] == str(aau)
    assert f"seeded {aau} with a new environment token" in first.stdout
    assert "kept" not in first.stdout

    # A reinstall (-u) keeps the environment token, and says so (issue 17, item 7).
    again = run_sh(shell, POST, prefix)
    assert_ok(again)
    assert aau.read_bytes() == data
    assert f"kept the environment token in {aau} from an earlier install" in again.stdout
    assert "seeded" not in again.stdout


def test_reinstall_keeps_machine_token(shell: str, prefix: Path) -> None:
    assert_ok(run_sh(shell, POST, prefix))
    first = (prefix / "machine_token").read_bytes()
    result = run_sh(shell, POST, prefix, INSTALLER_UNATTENDED="0")
    assert_ok(result)
    assert (prefix / "machine_token").read_bytes() == first
    record = read_record(prefix)
    assert record["machine_token_source"] == "kept"
    assert record["unattended"] is False


def test_existing_machine_token_is_kept_as_the_plugin_reads_it(shell: str, prefix: Path) -> None:
    """First non-blank line, blanks around it ignored (CRLF too): kept and rewritten exactly."""
    (prefix / "machine_token").write_bytes(b"\n  \t\r\n  dev-42_X \r\nsecond line\n")
    assert_ok(run_sh(shell, POST, prefix))
    assert (prefix / "machine_token").read_bytes() == b"dev-42_X\n"
    assert read_record(prefix)["machine_token_source"] == "kept"


@pytest.mark.parametrize("content", [b"two words\n", b"bad/token\n", b"a" * 37 + b"\n", b"\n\n"])
def test_invalid_existing_machine_token_is_replaced(
    shell: str, prefix: Path, content: bytes
) -> None:
    (prefix / "machine_token").write_bytes(content)
    assert_ok(run_sh(shell, POST, prefix))
    token_line((prefix / "machine_token").read_bytes(), b"\n")
    assert read_record(prefix)["machine_token_source"] == "generated"


def test_supplied_machine_token_wins(shell: str, prefix: Path) -> None:
    (prefix / "machine_token").write_bytes(b"old-identity\n")
    result = run_sh(shell, POST, prefix, ORGCONDA_MACHINE_TOKEN="mdm-0001_asset-77")
    assert_ok(result)
    assert (prefix / "machine_token").read_bytes() == b"mdm-0001_asset-77\n"
    record = read_record(prefix)
    check_record(record, "mdm-0001_asset-77")
    assert record["machine_token_source"] == "supplied"
    assert "mdm-0001_asset-77" not in result.stdout + result.stderr


def test_36_character_tokens_are_accepted(shell: str, prefix: Path) -> None:
    longest = "A" * 18 + "z" * 10 + "0-_9" * 2
    assert len(longest) == 36
    result = run_sh(shell, POST, prefix, ORGCONDA_ORG_TOKEN=longest)
    assert_ok(result)
    assert (prefix / "org_token").read_bytes() == longest.encode() + b"\n"


def test_record_escapes_metadata(shell: str, prefix: Path) -> None:
    name = 'Acme "Conda" C:\\path\ttab'
    assert_ok(run_sh(shell, POST, prefix, INSTALLER_NAME=name, INSTALLER_TYPE="PKG"))
    record = read_record(prefix)
    assert record["installer_name"] == 'Acme "Conda" C:\\pathtab'  # control characters dropped
    assert record["installer_type"] == "PKG"


def test_system_scope_writes_to_the_system_directory(shell: str, prefix: Path) -> None:
    system = prefix.parent / "etc" / "conda"  # does not exist yet: the hook creates it
    result = run_sh(
        shell,
        POST,
        prefix,
        ORGCONDA_TOKEN_SCOPE="system",
        ORGCONDA_SYSTEM_TOKEN_DIR=str(system),
        ORGCONDA_MACHINE_TOKEN="m-1",
    )
    assert_ok(result)
    assert (system / ".installer_token").read_bytes() == f"{INSTALLER_TOKEN}\n".encode()
    assert (system / "org_token").read_bytes() == f"{ORG_TOKEN}\n".encode()
    assert (system / "machine_token").read_bytes() == b"m-1\n"
    assert stat.S_IMODE(system.stat().st_mode) == 0o755
    for name in (".installer_token", "org_token", "machine_token"):
        assert stat.S_IMODE((system / name).stat().st_mode) == 0o644
        assert not (prefix / name).exists()
    record = read_record(prefix)
    assert record["scope"] == "system"
    assert record["token_dir"] == str(system)
    assert record["files"][:3] == [
        str(system / n) for n in (".installer_token", "org_token", "machine_token")
    ]


def test_system_scope_keeps_the_machine_token_of_the_system_directory(
    shell: str, prefix: Path
) -> None:
    """A reinstall with scope system keeps the machine token found in the system directory,
    never one in the prefix (issue 15): the two hold different valid tokens here."""
    system = prefix.parent / "etc" / "conda"
    system.mkdir(parents=True)
    (system / "machine_token").write_bytes(b"system-machine-1\n")
    (prefix / "machine_token").write_bytes(b"prefix-machine-2\n")
    result = run_sh(
        shell, POST, prefix, ORGCONDA_TOKEN_SCOPE="system", ORGCONDA_SYSTEM_TOKEN_DIR=str(system)
    )
    assert_ok(result)
    assert (system / "machine_token").read_bytes() == b"system-machine-1\n"
    assert (prefix / "machine_token").read_bytes() == b"prefix-machine-2\n"  # not touched
    assert read_record(prefix)["machine_token_source"] == "kept"


def test_empty_scope_means_prefix(shell: str, prefix: Path) -> None:
    assert_ok(run_sh(shell, POST, prefix, ORGCONDA_TOKEN_SCOPE=""))
    assert read_record(prefix)["scope"] == "prefix"
    assert (prefix / "org_token").is_file()


# --- refusals: nothing is written ----------------------------------------------------------


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
@pytest.mark.parametrize("variable", TOKEN_VARS)
@pytest.mark.parametrize("value", [*BAD_VALUES.values(), "a\nb"], ids=[*BAD_VALUES, "newline"])
def test_bad_value_is_refused_and_nothing_is_written(
    shell: str, tmp_path: Path, script: Path, variable: str, value: str
) -> None:
    prefix = tmp_path / "AcmeConda"
    prefix.mkdir()
    (prefix / "machine_token").write_bytes(b"keep-me\n")
    before = snapshot(tmp_path)
    result = run_sh(shell, script, prefix, **{variable: value})
    check_refusal(result, variable)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
@pytest.mark.parametrize("variable", ["ORGCONDA_INSTALLER_TOKEN", "ORGCONDA_ORG_TOKEN"])
def test_missing_token_is_refused(shell: str, tmp_path: Path, script: Path, variable: str) -> None:
    before = snapshot(tmp_path)
    result = run_sh(shell, script, tmp_path, **{variable: None})
    check_refusal(result, variable)
    assert "is not set" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
@pytest.mark.parametrize("scope", ["System", "global", "prefix ", "$(x)"])
def test_bad_scope_is_refused(shell: str, tmp_path: Path, script: Path, scope: str) -> None:
    before = snapshot(tmp_path)
    result = run_sh(shell, script, tmp_path, ORGCONDA_TOKEN_SCOPE=scope)
    assert result.returncode != 0
    assert "ORGCONDA_TOKEN_SCOPE must be 'prefix' or 'system'" in result.stderr
    assert snapshot(tmp_path) == before


def test_all_problems_are_reported_at_once(shell: str, tmp_path: Path) -> None:
    result = run_sh(
        shell,
        PRE,
        tmp_path,
        ORGCONDA_INSTALLER_TOKEN="a b",
        ORGCONDA_ORG_TOKEN="",
        ORGCONDA_MACHINE_TOKEN="x/y",
        ORGCONDA_TOKEN_SCOPE="nope",
    )
    assert result.returncode != 0
    for expected in (
        "ORGCONDA_INSTALLER_TOKEN contains characters outside",
        "ORGCONDA_ORG_TOKEN is empty",
        "ORGCONDA_MACHINE_TOKEN contains characters outside",
        "ORGCONDA_TOKEN_SCOPE must be",
    ):
        assert expected in result.stderr


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
def test_missing_or_relative_prefix_is_refused(shell: str, tmp_path: Path, script: Path) -> None:
    result = run_sh(shell, script, tmp_path, PREFIX="")
    assert result.returncode != 0 and "PREFIX is not set" in result.stderr
    result = run_sh(shell, script, tmp_path, PREFIX="relative/dir")
    assert result.returncode != 0 and "PREFIX must be an absolute path" in result.stderr


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
def test_read_only_prefix_gives_a_clear_error(shell: str, tmp_path: Path, script: Path) -> None:
    """An immutable prefix (chattr +i) cannot be written even by root."""
    prefix = tmp_path / "AcmeConda"
    prefix.mkdir()
    before = snapshot(tmp_path)
    make_immutable(prefix)
    try:
        result = run_sh(shell, script, prefix)
    finally:
        undo_immutable(prefix)
    assert result.returncode != 0
    assert f"cannot write the installation's tokens and record to {prefix}" in result.stderr
    assert "is not writable" in result.stderr
    assert snapshot(tmp_path) == before


@needs_root
@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
def test_prefix_the_user_cannot_write_gives_a_clear_error(
    shell: str, open_tmp: Path, script: Path
) -> None:
    prefix = open_tmp / "AcmeConda"
    prefix.mkdir(mode=0o755)  # root's, so not writable by nobody
    before = snapshot(open_tmp)
    result = run_sh(shell, script, prefix, as_user=NOBODY)
    assert result.returncode != 0
    assert f"{prefix} is not writable by uid {NOBODY}" in result.stderr
    assert snapshot(open_tmp) == before


@needs_root
@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
def test_system_scope_without_admin_rights_is_refused(
    shell: str, open_tmp: Path, script: Path
) -> None:
    prefix = open_tmp / "AcmeConda"
    prefix.mkdir()
    os.chown(prefix, NOBODY, NOBODY)
    system = open_tmp / "etc" / "conda"
    system.parent.mkdir()  # root's: a normal user cannot create conda/ in it
    before = snapshot(open_tmp)
    result = run_sh(
        shell,
        script,
        prefix,
        as_user=NOBODY,
        ORGCONDA_TOKEN_SCOPE="system",
        ORGCONDA_SYSTEM_TOKEN_DIR=str(system),
    )
    assert result.returncode != 0
    assert "ORGCONDA_TOKEN_SCOPE=system needs admin rights" in result.stderr
    assert f"cannot write the system tokens to {system}" in result.stderr
    assert snapshot(open_tmp) == before


# --- who owns what --------------------------------------------------------------------------


@needs_root
def test_root_on_a_user_prefix_gives_files_the_prefix_owner(shell: str, prefix: Path) -> None:
    """PKG installers run hooks as root even for a prefix in the user's home."""
    os.chown(prefix, NOBODY, NOBODY)
    assert_ok(run_sh(shell, POST, prefix))
    created = [
        prefix / ".installer_token",
        prefix / "org_token",
        prefix / "machine_token",
        prefix / "etc",
        prefix / "etc" / "orgconda",
        prefix / "etc" / "orgconda" / "install.json",
    ]
    for path in created:
        assert owner(path) == (NOBODY, NOBODY), path
    record = read_record(prefix)
    assert record["all_users"] is False
    assert record["env_token_seeded"] is False
    assert not (prefix / "etc" / "aau_token").exists()


@needs_root
def test_unprivileged_user_install(shell: str, open_tmp: Path) -> None:
    prefix = open_tmp / "AcmeConda"
    prefix.mkdir()
    os.chown(prefix, NOBODY, NOBODY)
    assert_ok(run_sh(shell, PRE, prefix, as_user=NOBODY))
    assert_ok(run_sh(shell, POST, prefix, as_user=NOBODY))
    assert owner(prefix / "machine_token") == (NOBODY, NOBODY)
    assert stat.S_IMODE((prefix / "machine_token").stat().st_mode) == 0o644
    record = read_record(prefix)
    assert record["all_users"] is False
    assert not (prefix / "etc" / "aau_token").exists()


# --- pre_install.sh -----------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["prefix", "system"])
def test_pre_install_accepts_good_input_and_writes_nothing(
    shell: str, prefix: Path, scope: str
) -> None:
    system = prefix.parent / "etc" / "conda"
    before = snapshot(prefix.parent)
    result = run_sh(
        shell,
        PRE,
        prefix,
        ORGCONDA_TOKEN_SCOPE=scope,
        ORGCONDA_SYSTEM_TOKEN_DIR=str(system),
        ORGCONDA_MACHINE_TOKEN="mdm-7",
    )
    assert_ok(result)
    assert "inputs OK" in result.stdout
    assert snapshot(prefix.parent) == before


def test_pre_install_works_before_the_prefix_exists(shell: str, tmp_path: Path) -> None:
    result = run_sh(shell, PRE, tmp_path / "not" / "yet")
    assert_ok(result)
    assert list(tmp_path.iterdir()) == []


# --- the random source --------------------------------------------------------------------------


def test_1000_generated_machine_tokens_are_valid_and_distinct(shell: str) -> None:
    """Runs the hook's own gen_token22 function (cut from post_install.sh) 1,000 times."""
    text = POST.read_text()
    match = re.search(r"^gen_token22\(\) \{\n.*?^\}\n", text, flags=re.M | re.S)
    assert match, "gen_token22 not found in post_install.sh"
    driver = match.group(0) + 'i=0\nwhile [ "$i" -lt 1000 ]; do gen_token22; i=$((i + 1)); done\n'
    result = subprocess.run(
        [shell, "-c", driver],
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    tokens = result.stdout.split("\n")
    assert tokens[-1] == ""
    tokens = tokens[:-1]
    assert len(tokens) == 1000
    assert all(len(t) == 22 and TOKEN_RE.fullmatch(t) for t in tokens)
    assert len(set(tokens)) == 1000
    # 16 random bytes: every character but the last (which carries 2 bits) varies.
    assert len({t[0] for t in tokens}) > 40
    assert {t[-1] for t in tokens} <= set("AQgw")
