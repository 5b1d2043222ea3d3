"""post_install/pre_install.bat and post_install.bat, run for real by cmd.exe under wine.

Run as constructor's NSIS installer runs them: ``cmd /D /C <prefix>\\pkgs\\<hook>.bat`` with the
installer's variables in the environment. wine maps the Unix root to drive Z:, so a Unix path
``/x/y`` is ``Z:\\x\\y`` for the scripts. Wine has no working PowerShell or Windows Python, so a
generated token can't come out here: those paths are tested for their error message, and a
supplied or kept token everywhere else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PureWindowsPath

import pytest
from conftest import require_tool
from hooks_util import (
    BAD_VALUES,
    HOOKS_DIR,
    INSTALLER_TOKEN,
    ORG_TOKEN,
    check_record,
    check_refusal,
    hook_vars,
    make_immutable,
    read_record,
    shared_block,
    snapshot,
    undo_immutable,
)

PRE = HOOKS_DIR / "pre_install.bat"
POST = HOOKS_DIR / "post_install.bat"
MACHINE = "mdm-0001_asset-77"
ENV_TOKEN = "q6z46wY4a0kRcfrvCdh7GA"


def win(path: Path) -> str:
    """The wine (drive Z:) name of an absolute Unix path."""
    return str(PureWindowsPath("Z:\\", *path.parts[1:]))


def run_captured(
    argv: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run with stdout and stderr in files, not pipes: wine's background processes inherit the
    handles, and a pipe would only reach its end when they exit, a minute later."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        done = subprocess.run(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            timeout=timeout,
            check=False,
        )
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            argv,
            done.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


@pytest.fixture(scope="session")
def wine() -> Iterator[dict[str, str]]:
    """A started wine prefix, and the base environment for running cmd.exe in it."""
    wine = require_tool("wine")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "WINEDEBUG": "-all",
        # wine decodes the Unix environment with the locale's charset: in the C locale a
        # non-ASCII value would reach cmd.exe already turned into ASCII look-alikes.
        "LANG": "C.UTF-8",
    }
    if "WINEPREFIX" in os.environ:
        env["WINEPREFIX"] = os.environ["WINEPREFIX"]
    # The first start creates the wine prefix (slow); keep its server up between the runs
    # (it stops by itself 60 s after the last one).
    server = shutil.which("wineserver")
    if server:
        subprocess.run(
            [server, "-p60"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
    started = run_captured([wine, "cmd", "/c", "echo", "ready"], env, timeout=300)
    if "ready" not in started.stdout:
        pytest.skip(f"wine cannot run cmd.exe here: {started.stdout}{started.stderr}")
    env["WINE"] = wine
    yield env


def run_bat(
    wine: dict[str, str], script: Path, prefix: Path, **overrides: str | None
) -> subprocess.CompletedProcess[str]:
    """Copy ``script`` to <prefix>\\pkgs (as NSIS does) and run it with ``cmd /D /C``."""
    pkgs = prefix / "pkgs"
    pkgs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(script, pkgs / script.name)
    env = {k: v for k, v in wine.items() if k != "WINE"}
    env.update(hook_vars(win(prefix), "EXE", **overrides))
    result = run_captured([wine["WINE"], "cmd", "/D", "/C", win(pkgs / script.name)], env)
    (pkgs / script.name).unlink()
    return result


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
def test_post_install_writes_prefix_tokens(wine: dict[str, str], tmp_path: Path, name: str) -> None:
    prefix = just_me(tmp_path / name / "AcmeConda")
    result = run_bat(wine, POST, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE)
    assert_ok(result)
    check_token_file(prefix / ".installer_token", INSTALLER_TOKEN)
    check_token_file(prefix / "org_token", ORG_TOKEN)
    check_token_file(prefix / "machine_token", MACHINE)
    assert MACHINE not in result.stdout + result.stderr

    record = read_record(prefix)
    check_record(record, MACHINE)
    assert record["scope"] == "prefix"
    assert record["token_dir"] == win(prefix)
    assert record["files"] == [
        win(prefix / ".installer_token"),
        win(prefix / "org_token"),
        win(prefix / "machine_token"),
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


def test_reinstall_keeps_machine_token(wine: dict[str, str], tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    (prefix / "machine_token").write_bytes(b"\r\n  dev-42_X  \r\nsecond line\r\n")
    result = run_bat(wine, POST, prefix, INSTALLER_UNATTENDED="0")
    assert_ok(result)
    check_token_file(prefix / "machine_token", "dev-42_X")
    record = read_record(prefix)
    assert record["machine_token_source"] == "kept"
    assert record["unattended"] is False

    assert_ok(run_bat(wine, POST, prefix))
    check_token_file(prefix / "machine_token", "dev-42_X")
    assert read_record(prefix)["machine_token_source"] == "kept"


def test_supplied_machine_token_wins(wine: dict[str, str], tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    (prefix / "machine_token").write_bytes(b"old-identity\r\n")
    assert_ok(run_bat(wine, POST, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE))
    check_token_file(prefix / "machine_token", MACHINE)
    assert read_record(prefix)["machine_token_source"] == "supplied"


def test_generating_a_token_needs_a_csprng(wine: dict[str, str], tmp_path: Path) -> None:
    """No supplied or valid existing machine token: PowerShell's RNG, else the prefix's Python."""
    prefix = just_me(tmp_path / "AcmeConda")
    (prefix / "machine_token").write_bytes(b"two words\r\n")
    before = snapshot(tmp_path)
    result = run_bat(wine, POST, prefix)
    if result.returncode == 0:  # a wine with a working PowerShell
        token = (prefix / "machine_token").read_bytes()
        assert len(token) == 24 and token.endswith(b"\r\n")
        assert read_record(prefix)["machine_token_source"] == "generated"
        return
    assert "cannot generate a random token" in result.stderr
    assert "ORGCONDA_MACHINE_TOKEN" in result.stderr
    assert snapshot(tmp_path) == before


def test_all_users_install_seeds_env_token(wine: dict[str, str], tmp_path: Path) -> None:
    """No .nonadmin: All Users. A valid etc\\aau_token is kept and rewritten without line end."""
    prefix = tmp_path / "AcmeConda"
    (prefix / "etc").mkdir(parents=True)
    (prefix / "etc" / "aau_token").write_bytes(ENV_TOKEN.encode() + b"\r\n")
    assert_ok(run_bat(wine, POST, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE))
    check_token_file(prefix / "etc" / "aau_token", ENV_TOKEN, newline=b"")
    record = read_record(prefix)
    assert record["all_users"] is True
    assert record["env_token_seeded"] is True
    assert record["files"][-1] == win(prefix / "etc" / "aau_token")


def test_all_users_install_without_env_token_needs_a_csprng(
    wine: dict[str, str], tmp_path: Path
) -> None:
    prefix = tmp_path / "AcmeConda"
    (prefix / "pkgs").mkdir(parents=True)
    before = snapshot(tmp_path)
    result = run_bat(wine, POST, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE)
    if result.returncode == 0:  # a wine with a working PowerShell
        assert len((prefix / "etc" / "aau_token").read_bytes()) == 22
        return
    assert "cannot generate a random token" in result.stderr
    assert snapshot(tmp_path) == before


def test_record_metadata_is_reduced_to_safe_characters(
    wine: dict[str, str], tmp_path: Path
) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    result = run_bat(
        wine,
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


def test_system_scope_writes_to_the_system_directory(wine: dict[str, str], tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    system = tmp_path / "ProgramData" / "conda"
    result = run_bat(
        wine,
        POST,
        prefix,
        ORGCONDA_TOKEN_SCOPE="system",
        ORGCONDA_SYSTEM_TOKEN_DIR=win(system),
        ORGCONDA_MACHINE_TOKEN=MACHINE,
    )
    assert_ok(result)
    check_token_file(system / ".installer_token", INSTALLER_TOKEN)
    check_token_file(system / "org_token", ORG_TOKEN)
    check_token_file(system / "machine_token", MACHINE)
    assert not (prefix / "org_token").exists()
    record = read_record(prefix)
    assert record["scope"] == "system"
    assert record["token_dir"] == win(system)


def test_system_scope_defaults_to_programdata(wine: dict[str, str], tmp_path: Path) -> None:
    """Without the override the tokens go to %ProgramData%\\conda (C:\\ProgramData\\conda)."""
    winepath = require_tool("winepath")
    env = {k: v for k, v in wine.items() if k != "WINE"}
    found = subprocess.run(
        [winepath, "-u", "C:\\ProgramData"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    system = Path(found.stdout.strip()) / "conda"
    if system.exists():
        pytest.skip(f"{system} exists already in this wine prefix; not touching it")
    prefix = just_me(tmp_path / "AcmeConda")
    try:
        result = run_bat(
            wine, POST, prefix, ORGCONDA_TOKEN_SCOPE="system", ORGCONDA_MACHINE_TOKEN=MACHINE
        )
        assert_ok(result)
        check_token_file(system / "org_token", ORG_TOKEN)
        assert read_record(prefix)["token_dir"] == "C:\\ProgramData\\conda"
    finally:
        shutil.rmtree(system, ignore_errors=True)


def test_empty_scope_means_prefix(wine: dict[str, str], tmp_path: Path) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    assert_ok(run_bat(wine, POST, prefix, ORGCONDA_TOKEN_SCOPE="", ORGCONDA_MACHINE_TOKEN=MACHINE))
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
    wine: dict[str, str], tmp_path: Path, script: Path
) -> None:
    cases = CASES if script == POST else CASES[: len(BAD_VALUES)]

    def attempt(case: tuple[str, str]) -> str | None:
        variable, label = case
        root = tmp_path / f"{variable}-{label}"
        prefix = just_me(root / "AcmeConda")
        (prefix / "machine_token").write_bytes(b"keep-me\r\n")
        before = snapshot(root)
        result = run_bat(wine, script, prefix, **{variable: BAD_VALUES[label]})
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
    wine: dict[str, str], tmp_path: Path, script: Path
) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    before = snapshot(tmp_path)
    result = run_bat(
        wine,
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
def test_read_only_prefix_gives_a_clear_error(
    wine: dict[str, str], tmp_path: Path, script: Path
) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    before = snapshot(tmp_path)
    make_immutable(prefix)
    try:
        result = run_bat(wine, script, prefix, ORGCONDA_MACHINE_TOKEN=MACHINE)
    finally:
        undo_immutable(prefix)
    assert result.returncode != 0
    assert "cannot write the installation's tokens and record to" in result.stderr
    assert "is not writable" in result.stderr
    assert snapshot(tmp_path) == before


def test_system_directory_that_cannot_be_created_is_refused(
    wine: dict[str, str], tmp_path: Path
) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    before = snapshot(tmp_path)
    result = run_bat(
        wine,
        PRE,
        prefix,
        ORGCONDA_TOKEN_SCOPE="system",
        ORGCONDA_SYSTEM_TOKEN_DIR=win(blocker / "conda"),
    )
    assert result.returncode != 0
    assert "is not a directory; ORGCONDA_TOKEN_SCOPE=system needs admin rights" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("value", ["", "relative\\dir", 'C:\\a"b'])
def test_bad_prefix_is_refused(wine: dict[str, str], tmp_path: Path, value: str) -> None:
    prefix = just_me(tmp_path / "AcmeConda")
    result = run_bat(wine, PRE, prefix, PREFIX=value)
    assert result.returncode != 0
    assert "::error:: orgconda pre_install: PREFIX" in result.stderr


# --- pre_install.bat ------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["prefix", "system"])
def test_pre_install_accepts_good_input_and_writes_nothing(
    wine: dict[str, str], tmp_path: Path, scope: str
) -> None:
    prefix = just_me(tmp_path / "with space" / "AcmeConda")
    before = snapshot(tmp_path)
    result = run_bat(
        wine,
        PRE,
        prefix,
        ORGCONDA_TOKEN_SCOPE=scope,
        ORGCONDA_SYSTEM_TOKEN_DIR=win(tmp_path / "ProgramData" / "conda"),
        ORGCONDA_MACHINE_TOKEN=MACHINE,
    )
    assert_ok(result)
    assert f"inputs OK: scope {scope}" in result.stdout
    assert snapshot(tmp_path) == before


# --- the files themselves ---------------------------------------------------------------------


def test_bat_files_are_crlf_ascii_without_bom() -> None:
    for path in (PRE, POST):
        data = path.read_bytes()
        data.decode("ascii")
        assert not data.startswith(b"\xef\xbb\xbf")
        assert data.count(b"\n") == data.count(b"\r\n") > 0, f"{path}: not CRLF throughout"
        assert data.startswith(b"@echo off\r\n")
        assert b"setlocal EnableExtensions DisableDelayedExpansion\r\n" in data


def test_bat_shared_blocks_are_identical() -> None:
    begin = "rem --- shared with pre_install.bat: begin"
    end = "rem --- shared with pre_install.bat: end"
    assert shared_block(PRE.read_text(), begin, end) == shared_block(POST.read_text(), begin, end)


def test_bat_never_uses_random_for_tokens() -> None:
    """%RANDOM% only ever names temporary files."""
    for path in (PRE, POST):
        for line in path.read_text().splitlines():
            if "%RANDOM%" in line:
                assert ".tmp" in line or "probe" in line.lower(), line
