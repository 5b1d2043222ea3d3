"""Shared pieces of the install-time hook tests (tests/test_hooks_*.py).

The hooks are run for real, as installers ship them (assembled by ``orgconda.hooks``): by dash
and bash, and by cmd.exe (on Windows, or under wine).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest
from conftest import REPO

from orgconda.harness.checks import HOOK_RECORD_KEYS
from orgconda.hooks import staged_hooks
from orgconda.tokens import TOKEN_RE

HOOKS_DIR = REPO / "post_install"

INSTALLER_TOKEN = "AcmeConda-2026_11"
ORG_TOKEN = "acme-corp"

RULE_TEXT = "^[A-Za-z0-9_-]{1,36}$"

# Values every hook must refuse (each for every token variable).
BAD_VALUES: dict[str, str] = {
    "space": "acme corp",
    "leading-space": " acme",
    "slash": "acme/corp",
    "37-chars": "a" * 37,
    "empty": "",
    "unicode": "acme-c\u00f6rp",
    "semicolon": "a;b",
    "command-substitution": "$(x)",
    "backtick": "`x`",
    "percent": "%x%",
    "percent-path": "%PATH%",
    "ampersand": "a&b",
    "pipe": "a|b",
    "bang": "a!b",
    "double-quote": 'a"b',
    "single-quote": "a'b",
    "caret": "a^b",
    "redirect": "a<b>c",
    "parens": "(x)",
    "equals": "=x",
}

TOKEN_VARS = ("ORGCONDA_INSTALLER_TOKEN", "ORGCONDA_ORG_TOKEN", "ORGCONDA_MACHINE_TOKEN")


def hook_vars(prefix: str, installer_type: str, **overrides: str | None) -> dict[str, str]:
    """The environment an installer gives its hooks (plus ``overrides``; None removes a key)."""
    env = {
        "PREFIX": prefix,
        "INSTALLER_NAME": "AcmeConda",
        "INSTALLER_VER": "2026.11",
        "INSTALLER_PLAT": "linux-64" if installer_type != "EXE" else "win-64",
        "INSTALLER_TYPE": installer_type,
        "INSTALLER_UNATTENDED": "1",
        "ORGCONDA_INSTALLER_TOKEN": INSTALLER_TOKEN,
        "ORGCONDA_ORG_TOKEN": ORG_TOKEN,
        "ORGCONDA_TOKEN_SCOPE": "prefix",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file and directory under ``root``: mode and content, to prove nothing changed."""
    found: dict[str, tuple[int, bytes]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(st.st_mode) else b""
        found[str(path.relative_to(root))] = (st.st_mode, content)
    return found


def read_record(prefix: Path) -> dict[str, Any]:
    """The hook's record, parsed strictly (its bytes must be UTF-8 JSON)."""
    raw = (prefix / "etc" / "orgconda" / "install.json").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "install.json starts with a BOM"
    record = json.loads(raw.decode("utf-8"))
    assert isinstance(record, dict)
    return record


# The keys the verifier reads, plus ca_certificate (DESIGN item 3; the verifier does not read
# it yet): the hooks must write exactly these.
RECORD_KEYS = {*HOOK_RECORD_KEYS, "ca_certificate"}


@functools.cache
def _staged_dir() -> Path:
    # Other users must be able to read the scripts: some tests run them as nobody.
    path = Path(tempfile.mkdtemp(prefix="orgconda-staged-hooks-"))
    path.chmod(0o755)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def staged(name: str) -> Path:
    """The hook ``name`` (e.g. ``post_install.sh``) as installers ship it, in a file."""
    ext = name.rsplit(".", 1)[-1]
    text = staged_hooks(ext)[name]
    path = _staged_dir() / name
    path.write_bytes(text.encode("ascii"))
    path.chmod(0o755)
    return path


def check_record(record: dict[str, Any], machine_token: str) -> None:
    """Checks every record shares: its keys, types, and that the machine token is not in it."""
    assert set(record) == RECORD_KEYS
    assert record["format"] == 1
    assert record["hook"] == "post_install"
    assert record["installer_token"] == INSTALLER_TOKEN
    assert record["org_token"] == ORG_TOKEN
    assert record["machine_token_source"] in {"generated", "kept", "supplied"}
    for key in ("env_token_seeded", "all_users", "unattended"):
        assert isinstance(record[key], bool), key
    assert isinstance(record["files"], list)
    assert record["ca_certificate"] is None or isinstance(record["ca_certificate"], str)
    assert machine_token not in json.dumps(record), "the record must not hold the machine token"


def token_line(data: bytes, newline: bytes) -> str:
    """The token in a token file that must be exactly ``<token><newline>``, ASCII."""
    assert data.endswith(newline), data
    value = data[: -len(newline)] if newline else data
    text = value.decode("ascii")
    assert TOKEN_RE.fullmatch(text), text
    return text


def check_refusal(result: subprocess.CompletedProcess[str], variable: str) -> None:
    """A refused input: non-zero exit, and a message naming the variable and the rule."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert variable in output, output
    assert RULE_TEXT in output, output


def make_immutable(path: Path) -> None:
    """Make ``path`` unwritable even for root (chattr +i); skip when the filesystem can't."""
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("`chattr` is not on PATH: a directory root cannot write is needed here")
    done = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(
            f"chattr +i is not possible on {path} ({done.stderr.strip()}): "
            "a directory root cannot write is needed for this test"
        )


def undo_immutable(path: Path) -> None:
    subprocess.run(
        [shutil.which("chattr") or "chattr", "-i", str(path)], capture_output=True, check=False
    )


def find_jinja_markers(text: str) -> list[str]:
    """The Jinja openers a PKG installer would trip over."""
    return re.findall(r"\{[{%#]", text)


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# ORGCONDA_CA_FILE values every hook must refuse (the form is checked by pre and post alike).
BAD_CA_FILES: dict[str, str] = {
    "absolute": "/etc/orgconda/acme-root.pem",
    "dot-dot": "etc/orgconda/../acme-root.pem",
    "dot-dot-in-name": "etc/orgconda/acme..pem",
    "elsewhere": "etc/acme-root.pem",
    "no-file": "etc/orgconda/",
    "dot": "etc/orgconda/.",
    "subdirectory": "etc/orgconda/certs/acme-root.pem",
    "space": "etc/orgconda/acme root.pem",
    "backslashes": "etc\\orgconda\\acme-root.pem",
    "semicolon": "etc/orgconda/a;b.pem",
    "quote": "etc/orgconda/a'b.pem",
    "percent": "etc/orgconda/%PATH%.pem",
    "ampersand": "etc/orgconda/a&b.pem",
    "unicode": "etc/orgconda/acme-r\u00f6ot.pem",
    "129-chars": "etc/orgconda/" + "a" * 129,
}

CA_RULE_TEXT = "it must be etc/orgconda/ followed by a file name of 1 to 128 characters"


# --- running the .sh hooks ---------------------------------------------------------------------


def run_sh(
    shell: str,
    script: Path,
    prefix: Path,
    as_user: int | None = None,
    **overrides: str | None,
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with ``shell`` as an installer does: its variables, cwd the prefix."""
    env = {"PATH": "/usr/bin:/bin", **hook_vars(str(prefix), "SH", **overrides)}
    argv = [shell, str(script)]
    if as_user is not None:
        env["HOME"] = "/"
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("`setpriv` is not on PATH; this test runs the hook as another user")
        argv = [setpriv, f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *argv]
    return subprocess.run(
        argv,
        env=env,
        cwd=prefix if prefix.is_dir() else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


# --- running the .bat hooks: cmd.exe on Windows, or under wine -----------------------------------

# Run by the probe: does a working Windows PowerShell answer where the hook looks for it?
POWERSHELL_PROBE = (
    "@echo off\r\n"
    'set "PS=%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"\r\n'
    'if not exist "%PS%" exit /b 3\r\n'
    '"%PS%" -NoLogo -NoProfile -NonInteractive'
    ' -Command "Write-Output orgconda-powershell-works"\r\n'
)


class Cmd:
    """cmd.exe, as constructor's NSIS installer runs the hooks: ``cmd /D /C <script>``.

    On Windows the real one; elsewhere wine's, which sees the Unix root as drive Z:.
    """

    def __init__(self, argv0: list[str], env: dict[str, str], native: bool) -> None:
        self.argv0 = argv0
        self.env = env
        self.native = native

    def path(self, path: Path) -> str:
        """The Windows name of an absolute path."""
        if self.native:
            return str(path)
        return str(PureWindowsPath("Z:\\", *path.parts[1:]))

    def run(
        self, script: Path, env: dict[str, str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        argv = [*self.argv0, "/D", "/C", self.path(script)]
        return run_captured(argv, {**self.env, **env}, timeout)

    def run_hook(
        self, script: Path, prefix: Path, **overrides: str | None
    ) -> subprocess.CompletedProcess[str]:
        """Copy ``script`` to <prefix>\\pkgs (as NSIS does) and run it there."""
        pkgs = prefix / "pkgs"
        pkgs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(script, pkgs / script.name)
        try:
            return self.run(pkgs / script.name, hook_vars(self.path(prefix), "EXE", **overrides))
        finally:
            (pkgs / script.name).unlink()

    def powershell_works(self, workdir: Path, **env: str) -> bool:
        probe = workdir / "orgconda-powershell-probe.bat"
        probe.write_bytes(POWERSHELL_PROBE.encode("ascii"))
        try:
            done = self.run(probe, env)
        finally:
            probe.unlink()
        return "orgconda-powershell-works" in done.stdout


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


def start_cmd() -> Cmd:
    """The cmd.exe to run the .bat hooks with; skips (with the reason) when there is none."""
    if sys.platform == "win32":
        base = {k: v for k, v in os.environ.items() if not k.upper().startswith("ORGCONDA_")}
        return Cmd([os.environ.get("COMSPEC", "cmd.exe")], base, native=True)
    wine = shutil.which("wine")
    if wine is None:
        pytest.skip("`wine` is not on PATH; the .bat hooks need cmd.exe (Windows, or wine)")
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
    return Cmd([wine, "cmd"], env, native=False)


WINE_POWERSHELL_REASON = (
    "no working Windows PowerShell here (wine's powershell.exe is a stub that prints nothing), "
    "so the .bat hooks' token generator cannot run; it runs where Windows PowerShell exists "
    "(the Windows runners)"
)
