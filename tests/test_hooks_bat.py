"""pre_install.bat and post_install.bat as installers ship them, run for real by cmd.exe.

Run as constructor's NSIS installer runs them: ``cmd /D /C <prefix>\\pkgs\\<hook>.bat`` with the
installer's variables in the environment; on Windows by its own cmd.exe, elsewhere under wine,
which maps the Unix root to drive Z:. Wine has no working PowerShell (its powershell.exe is a
stub) and no Windows Python, so the tests that need a generated token skip there, saying so,
and the refusal without a random source runs there instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import require_tool
from hooks_util import (
    BAD_VALUES,
    INSTALLER_TOKEN,
    ORG_TOKEN,
    WINE_POWERSHELL_REASON,
    Cmd,
    check_record,
    check_refusal,
    make_immutable,
    read_record,
    snapshot,
    staged,
    start_cmd,
    token_line,
    undo_immutable,
)

PRE = staged("pre_install.bat")
POST = staged("post_install.bat")
MACHINE = "mdm-0001_asset-77"
ENV_TOKEN = "q6z46wY4a0kRcfrvCdh7GA"


@pytest.fixture(scope="session")
def cmd() -> Iterator[Cmd]:
    yield start_cmd()


@pytest.fixture(scope="session")
def powershell(cmd: Cmd, tmp_path_factory: pytest.TempPathFactory) -> bool:
    """Whether a working Windows PowerShell answers where the hook looks for it."""
    return cmd.powershell_works(tmp_path_factory.mktemp("probe"))


def just_me(path: Path) -> Path:
    """A prefix as NSIS leaves it before the hooks of a Just Me install (.nonadmin, pkgs)."""
    (path / "pkgs").mkdir(parents=True, exist_ok=True)
    (path / ".nonadmin").touch()
    return path


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error::" not in result.stdout + result.stderr


def check_token_file(path: Path, token: str, newline: bytes = b"\r\n") -> None:
    data = path.read_bytes()
    assert data == token.encode("ascii") + newline, (path, data)


# --- what post_install.bat writes ---------------------------------------------------------


@pytest.mark.parametrize("name", ["prefix", "with space"])
def test_post_install_writes_prefix_tokens(cmd: Cmd, tmp_path: Path, name: str) -> None:
    prefix = just_me(tmp_path / name / "AcmeConda")
    result = cmd.run_hook(POST, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE)
    assert_ok(result)
    check_token_file(prefix / ".installer_token", INSTALLER_TOKEN)
    check_token_file(prefix / "org_token", ORG_TOKEN)
    check_token_file(prefix / "machine_token", MACHINE)
    assert MACHINE not in result.stdout + result.stderr

    record = read_record(prefix)
    check_record(record, MACHINE)
    assert record["scope"] == "prefix"
    assert record["token_dir"] == cmd.path(prefix)
    assert record["files"] == [
        cmd.path(prefix / ".installer_token"),
        cmd.path(prefix / "org_token"),
        cmd.path(prefix / "machine_token"),
    ]
    assert record["installer_type"] == "EXE"
    assert record["installer_name"] == "AcmeConda"
    assert record["installer_version"] == "2026.11"
    assert record["installer_platform"] == "win-64"
    assert record["machine_token_source"] == "supplied"
    assert record["all_users"] is False
    assert record["env_token_seeded"] is False
    assert record["unattended"] is True
    assert not (prefix / "etc" / "aau_token").exists()
    leftovers = {p.name for p in prefix.iterdir()}
    assert leftovers == {
        ".nonadmin",
        "pkgs",
        ".installer_token",
        "org_token",
        "machine_token",
        "etc",
    }


def test_reinstall_keeps_machine_token(cmd: Cmd, tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    (prefix / "machine_token").write_bytes(b"\r\n  dev-42_X  \r\nsecond line\r\n")
    result = cmd.run_hook(POST, prefix, INSTALLER_UNATTENDED="0")
    assert_ok(result)
    check_token_file(prefix / "machine_token", "dev-42_X")
    record = read_record(prefix)
    assert record["machine_token_source"] == "kept"
    assert record["unattended"] is False

    assert_ok(cmd.run_hook(POST, prefix))
    check_token_file(prefix / "machine_token", "dev-42_X")
    assert read_record(prefix)["machine_token_source"] == "kept"


def test_supplied_machine_token_wins(cmd: Cmd, tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    (prefix / "machine_token").write_bytes(b"old-identity\r\n")
    assert_ok(cmd.run_hook(POST, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE))
    check_token_file(prefix / "machine_token", MACHINE)
    assert read_record(prefix)["machine_token_source"] == "supplied"


def test_a_machine_token_is_generated_where_powershell_works(
    cmd: Cmd, powershell: bool, tmp_path: Path
) -> None:
    """No supplied or valid existing machine token: 22 characters from PowerShell's CSPRNG."""
    if not powershell:
        pytest.skip(WINE_POWERSHELL_REASON)
    prefix = just_me(tmp_path / "AcmeConda")
    (prefix / "machine_token").write_bytes(b"two words\r\n")
    result = cmd.run_hook(POST, prefix)
    assert_ok(result)
    token = token_line((prefix / "machine_token").read_bytes(), b"\r\n")
    assert len(token) == 22
    assert token not in result.stdout + result.stderr
    record = read_record(prefix)
    check_record(record, token)
    assert record["machine_token_source"] == "generated"
    assert_ok(cmd.run_hook(POST, prefix))  # a second run keeps it
    assert (prefix / "machine_token").read_bytes() == token.encode() + b"\r\n"


def test_an_env_token_is_generated_where_powershell_works(
    cmd: Cmd, powershell: bool, tmp_path: Path
) -> None:
    if not powershell:
        pytest.skip(WINE_POWERSHELL_REASON)
    prefix = tmp_path / "AcmeConda"
    (prefix / "pkgs").mkdir(parents=True)
    result = cmd.run_hook(POST, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE)
    assert_ok(result)
    aau = prefix / "etc" / "aau_token"
    token = token_line(aau.read_bytes(), b"")
    assert len(token) == 22
    assert read_record(prefix)["env_token_seeded"] is True
    assert f'seeded "{cmd.path(aau)}" with a new environment token' in result.stdout


@pytest.mark.parametrize("case", ["machine", "env"])
def test_without_a_random_source_the_hook_refuses(
    cmd: Cmd, powershell: bool, tmp_path: Path, case: str
) -> None:
    """No PowerShell and no Python in the prefix: no token from RANDOM, an error instead."""
    if powershell:
        pytest.skip("a working Windows PowerShell is here: the hook would generate the token")
    overrides: dict[str, str | None] = {}
    if case == "machine":
        prefix = just_me(tmp_path / "AcmeConda")
        (prefix / "machine_token").write_bytes(b"two words\r\n")
    else:
        prefix = tmp_path / "AcmeConda"  # All Users: no .nonadmin
        (prefix / "pkgs").mkdir(parents=True)
        overrides["ORGCONDA_MACHINE_TOKEN"] = MACHINE
    assert not (prefix / "python.exe").exists()
    before = snapshot(tmp_path)
    result = cmd.run_hook(POST, prefix, **overrides)
    assert result.returncode == 1
    assert "cannot generate a random token" in result.stderr
    assert "supply the machine token in ORGCONDA_MACHINE_TOKEN" in result.stderr
    assert snapshot(tmp_path) == before


def test_all_users_install_keeps_a_valid_env_token(cmd: Cmd, tmp_path: Path) -> None:
    """No .nonadmin: All Users. A valid etc\\aau_token is kept, rewritten without line end,
    and the hook says it kept it (issue 17, item 7)."""
    prefix = tmp_path / "AcmeConda"
    (prefix / "etc").mkdir(parents=True)
    aau = prefix / "etc" / "aau_token"
    aau.write_bytes(ENV_TOKEN.encode() + b"\r\n")
    result = cmd.run_hook(POST, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE)
    assert_ok(result)
    check_token_file(aau, ENV_TOKEN, newline=b"")
    record = read_record(prefix)
    assert record["all_users"] is True
    assert record["env_token_seeded"] is True
    assert record["files"][-1] == cmd.path(aau)
    kept = f'kept the environment token in "{cmd.path(aau)}" from an earlier install'
    assert kept in result.stdout
    assert "seeded" not in result.stdout


def test_record_metadata_is_reduced_to_safe_characters(cmd: Cmd, tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    result = cmd.run_hook(
        POST,
        prefix,
        ORGCONDA_MACHINE_TOKEN=MACHINE,
        INSTALLER_NAME='Acme "Conda" & co!',
        INSTALLER_VER="2026.11+b1",
    )
    assert_ok(result)
    record = read_record(prefix)
    assert record["installer_name"] == "Acme _Conda_ _ co_"
    assert record["installer_version"] == "2026.11+b1"


def test_system_scope_writes_to_the_system_directory(cmd: Cmd, tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    system = tmp_path / "ProgramData" / "conda"
    result = cmd.run_hook(
        POST,
        prefix,
        ORGCONDA_TOKEN_SCOPE="system",
        ORGCONDA_SYSTEM_TOKEN_DIR=cmd.path(system),
        ORGCONDA_MACHINE_TOKEN=MACHINE,
    )
    assert_ok(result)
    check_token_file(system / ".installer_token", INSTALLER_TOKEN)
    check_token_file(system / "org_token", ORG_TOKEN)
    check_token_file(system / "machine_token", MACHINE)
    assert not (prefix / "org_token").exists()
    record = read_record(prefix)
    assert record["scope"] == "system"
    assert record["token_dir"] == cmd.path(system)


def test_system_scope_defaults_to_programdata(cmd: Cmd, tmp_path: Path) -> None:
    """Without the override the tokens go to %ProgramData%\\conda (C:\\ProgramData\\conda)."""
    if cmd.native:
        system = Path(os.environ.get("PROGRAMDATA", "C:\\ProgramData")) / "conda"
    else:
        found = subprocess.run(
            [require_tool("winepath"), "-u", "C:\\ProgramData"],
            env=cmd.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        system = Path(found.stdout.strip()) / "conda"
    if system.exists():
        pytest.skip(f"{system} exists already here; not touching it")
    prefix = just_me(tmp_path / "AcmeConda")
    try:
        result = cmd.run_hook(
            POST, prefix, ORGCONDA_TOKEN_SCOPE="system", ORGCONDA_MACHINE_TOKEN=MACHINE
        )
        assert_ok(result)
        check_token_file(system / "org_token", ORG_TOKEN)
        assert read_record(prefix)["token_dir"] == "C:\\ProgramData\\conda"
    finally:
        shutil.rmtree(system, ignore_errors=True)


def test_system_scope_keeps_the_machine_token_of_the_system_directory(
    cmd: Cmd, tmp_path: Path
) -> None:
    """A reinstall with scope system keeps the machine token found in the system folder, never
    one in the prefix (issue 15): the two hold different valid tokens here."""
    prefix = just_me(tmp_path / "AcmeConda")
    system = tmp_path / "ProgramData" / "conda"
    system.mkdir(parents=True)
    (system / "machine_token").write_bytes(b"system-machine-1\r\n")
    (prefix / "machine_token").write_bytes(b"prefix-machine-2\r\n")
    result = cmd.run_hook(
        POST, prefix, ORGCONDA_TOKEN_SCOPE="system", ORGCONDA_SYSTEM_TOKEN_DIR=cmd.path(system)
    )
    assert_ok(result)
    check_token_file(system / "machine_token", "system-machine-1")
    assert (prefix / "machine_token").read_bytes() == b"prefix-machine-2\r\n"  # not touched
    assert read_record(prefix)["machine_token_source"] == "kept"


def test_empty_scope_means_prefix(cmd: Cmd, tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    assert_ok(cmd.run_hook(POST, prefix, ORGCONDA_TOKEN_SCOPE="", ORGCONDA_MACHINE_TOKEN=MACHINE))
    assert read_record(prefix)["scope"] == "prefix"


# --- refusals: nothing is written ------------------------------------------------------------

# Every bad value for the organization token; a spread of them for the other two (each run
# costs about a second under wine, so the matrix runs in parallel).
CASES = [("ORGCONDA_ORG_TOKEN", label) for label in BAD_VALUES] + [
    (variable, label)
    for variable in ("ORGCONDA_INSTALLER_TOKEN", "ORGCONDA_MACHINE_TOKEN")
    for label in ("space", "37-chars", "unicode", "percent", "bang", "double-quote", "ampersand")
]


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
def test_bad_values_are_refused_and_nothing_is_written(
    cmd: Cmd, tmp_path: Path, script: Path
) -> None:
    cases = CASES if script == POST else CASES[: len(BAD_VALUES)]

    def attempt(case: tuple[str, str]) -> str | None:
        variable, label = case
        root = tmp_path / f"{variable}-{label}"
        prefix = just_me(root / "AcmeConda")
        (prefix / "machine_token").write_bytes(b"keep-me\r\n")
        before = snapshot(root)
        result = cmd.run_hook(script, prefix, **{variable: BAD_VALUES[label]})
        try:
            check_refusal(result, variable)
            assert snapshot(root) == before, "files changed"
        except AssertionError as exc:
            return f"{variable}={BAD_VALUES[label]!r} ({label}): {exc}"
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(attempt, cases) if f]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
def test_missing_token_and_bad_scope_are_all_reported(
    cmd: Cmd, tmp_path: Path, script: Path
) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    before = snapshot(tmp_path)
    result = cmd.run_hook(
        script,
        prefix,
        ORGCONDA_INSTALLER_TOKEN=None,
        ORGCONDA_MACHINE_TOKEN="x/y",
        ORGCONDA_TOKEN_SCOPE="System",
    )
    assert result.returncode != 0
    for expected in (
        "::error:: orgconda",
        "ORGCONDA_INSTALLER_TOKEN is not set or empty",
        "ORGCONDA_MACHINE_TOKEN contains characters outside",
        "ORGCONDA_TOKEN_SCOPE must be 'prefix' or 'system'",
    ):
        assert expected in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("script", [PRE, POST], ids=["pre", "post"])
def test_read_only_prefix_gives_a_clear_error(cmd: Cmd, tmp_path: Path, script: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    before = snapshot(tmp_path)
    make_immutable(prefix)
    try:
        result = cmd.run_hook(script, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE)
    finally:
        undo_immutable(prefix)
    assert result.returncode != 0
    assert "cannot write the installation's tokens and record to" in result.stderr
    assert "is not writable" in result.stderr
    assert snapshot(tmp_path) == before


def test_system_directory_that_cannot_be_created_is_refused(cmd: Cmd, tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    before = snapshot(tmp_path)
    result = cmd.run_hook(
        PRE,
        prefix,
        ORGCONDA_TOKEN_SCOPE="system",
        ORGCONDA_SYSTEM_TOKEN_DIR=cmd.path(blocker / "conda"),
    )
    assert result.returncode != 0
    assert "is not a directory; ORGCONDA_TOKEN_SCOPE=system needs admin rights" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("value", ["", "relative\\dir", 'C:\\a"b'])
def test_bad_prefix_is_refused(cmd: Cmd, tmp_path: Path, value: str) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    result = cmd.run_hook(PRE, prefix, PREFIX=value)
    assert result.returncode != 0
    assert "::error:: orgconda pre_install: PREFIX" in result.stderr


# --- pre_install.bat ------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["prefix", "system"])
def test_pre_install_accepts_good_input_and_writes_nothing(
    cmd: Cmd, tmp_path: Path, scope: str
) -> None:
    prefix = just_me(tmp_path / "with space" / "AcmeConda")
    before = snapshot(tmp_path)
    result = cmd.run_hook(
        PRE,
        prefix,
        ORGCONDA_TOKEN_SCOPE=scope,
        ORGCONDA_SYSTEM_TOKEN_DIR=cmd.path(tmp_path / "ProgramData" / "conda"),
        ORGCONDA_MACHINE_TOKEN=MACHINE,
    )
    assert_ok(result)
    assert f"inputs OK: scope {scope}" in result.stdout
    assert snapshot(tmp_path) == before


def test_a_refusal_says_how_to_retry(cmd: Cmd, tmp_path: Path) -> None:
    """The installer refuses a folder that is not empty, and this one now holds what it
    unpacked: the message says to remove it (issue 17, item 6)."""
    prefix = just_me(tmp_path / "with space" / "AcmeConda")
    before = snapshot(tmp_path)
    result = cmd.run_hook(PRE, prefix, ORGCONDA_MACHINE_TOKEN="bad token")
    assert result.returncode == 1
    assert "ORGCONDA_MACHINE_TOKEN contains characters outside" in result.stderr
    assert f'remove it (rmdir /s /q "{cmd.path(prefix)}") and run the installer again' in (
        result.stderr
    )
    assert snapshot(tmp_path) == before
