"""Running an installer silently, and removing what it installed: one function per way.

``.sh``: ``bash X.sh -b -p PREFIX``. ``.exe``: a .bat around ``start /wait X.exe /S ...
/D=PREFIX`` (NSIS wants ``/D=`` last and unquoted). ``.pkg``: ``installer -pkg X.pkg -target
CurrentUserHomeDirectory``. Every command runs through ``orgconda.runner.Runner``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..runner import Runner, format_command, tail
from .environment import conda_executable, read_text

TOOLS = {"sh": "bash", "exe": "cmd", "pkg": "installer"}
TOOL_HINTS = {
    "bash": "`.sh` installers run with bash; install it (it is on every Linux and macOS host)",
    "cmd": "`.exe` installers are verified on Windows, where cmd.exe is always present",
    "installer": "`.pkg` installers are verified on macOS with /usr/sbin/installer",
}
INSTALLER_LOG = "installer-install.log"  # an .exe's own install.log, copied to the outputs
_LOG_ERROR = re.compile(r"^\s*(error\b|.*\bfailed to\b|.*\babort)", re.IGNORECASE)


def required_tool(installer_type: str) -> str:
    return TOOLS[installer_type]


def sh_install_argv(bash: str, installer: Path, prefix: Path) -> list[str]:
    return [bash, str(installer), "-b", "-p", str(prefix)]


def exe_install_script(installer: Path, prefix: Path) -> str:
    """A .bat file: NSIS wants ``/D=`` last and unquoted, which a quoted argv cannot give.
    ``/AddToPath=0 /RegisterPython=0`` keep the verifying machine's PATH and registry as
    they were; ``/CheckPathLength=0`` because the temporary prefix may be long."""
    return (
        "@echo off\r\n"
        f'start "" /wait "{installer}" /S /InstallationType=JustMe /AddToPath=0 '
        f"/RegisterPython=0 /CheckPathLength=0 /D={prefix}\r\n"
        "exit /b 0\r\n"
    )


def exe_uninstall_script(uninstaller: Path, prefix: Path) -> str:
    return f'@echo off\r\nstart "" /wait "{uninstaller}" /S _?={prefix}\r\nexit /b 0\r\n'


def pkg_install_argv(tool: str, installer: Path) -> list[str]:
    return [tool, "-pkg", str(installer), "-target", "CurrentUserHomeDirectory"]


def install_log_errors(text: str) -> list[str]:
    """Error lines of an .exe installer's log (``Error ...``, ``Failed to ...``, aborts)."""
    return [line.strip() for line in text.splitlines() if _LOG_ERROR.match(line)][:20]


def run_installer(
    runner: Runner,
    *,
    kind: str,
    installer: Path,
    prefix: Path,
    env: Mapping[str, str],
    work: Path,
    outputs: Path,
    log: Path,
    timeout: float,
    windows: bool,
) -> dict[str, Any]:
    """Install; what ``install-result.json`` records (judged by ``install.completed``)."""
    installer = installer.resolve()
    tool = runner.which(required_tool(kind), hint=TOOL_HINTS[required_tool(kind)])
    if kind == "sh":
        argv = sh_install_argv(tool, installer, prefix)
    elif kind == "exe":
        script = work / "install.bat"
        script.write_text(exe_install_script(installer, prefix), encoding="utf-8")
        argv = [tool, "/d", "/c", str(script)]
        # constructor's documented switch: without it a silent install ignores a failing
        # pre/post-install script; with it the install aborts (judged by the record anyway)
        env = {**env, "NSIS_SCRIPTS_RAISE_ERRORS": "1"}
    else:
        argv = pkg_install_argv(tool, installer)
    shown = format_command(argv)
    if kind == "exe":  # show what the .bat runs, not only its name
        shown = exe_install_script(installer, prefix).splitlines()[1]
    result = runner.run(
        argv,
        log_path=log,
        env=env,
        cwd=work,
        timeout=timeout,
        check=False,
        label=f"{kind} install",
    )
    log_errors: list[str] = []
    if kind == "exe":
        text = read_text(prefix / "install.log")
        if text is not None:
            (outputs / INSTALLER_LOG).write_text(text, encoding="utf-8")
            log_errors = install_log_errors(text)
    return {
        "installer_type": kind,
        "command": shown,
        "returncode": result.returncode,
        "seconds": round(result.seconds, 2),
        "conda_found": conda_executable(prefix, windows=windows).is_file(),
        "history_found": (prefix / "conda-meta" / "history").is_file(),
        "hook_record_found": (prefix / "etc" / "orgconda" / "install.json").is_file(),
        "log_errors": log_errors,
        "output_tail": tail(result.stdout + result.stderr, 30),
    }


def remove_install(
    runner: Runner,
    *,
    kind: str,
    prefix: Path,
    work: Path,
    env: Mapping[str, str],
    log: Path,
    timeout: float,
    windows: bool,
) -> list[str]:
    """Uninstall (Windows: the installer's own uninstaller), delete the prefix and the
    temporary folder; notes for whatever could not be removed."""
    if windows:
        for uninstaller in sorted(prefix.glob("Uninstall-*.exe"))[:1]:
            script = work / "uninstall.bat"
            script.write_text(exe_uninstall_script(uninstaller, prefix), encoding="utf-8")
            runner.run(
                [runner.which("cmd"), "/d", "/c", str(script)],
                log_path=log,
                env=env,
                cwd=work,
                timeout=timeout,
                check=False,
                label="uninstall",
            )
    if kind == "pkg" and prefix.exists():
        shutil.rmtree(prefix, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return [f"could not remove {p} completely" for p in (prefix, work) if p.exists()]
