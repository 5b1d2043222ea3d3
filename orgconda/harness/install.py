"""Install one installer like a user would, run the installed conda, record what it said.

Everything runs through ``orgconda.runner.Runner`` in an environment scrubbed of conda's
own variables, with a throwaway HOME, a timeout per step and the output of every step in
``<report-dir>/<installer file name>/`` (the layout of the recorded fixtures, see
``observation.FILES``). The checks then read that folder; nothing here judges anything.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..runner import Result, Runner, format_command, tail
from .capture import CaptureServer, format_wire_log
from .checks import CheckResult, run_checks
from .expect import Expectation, describe
from .observation import FILES, STEPS_FILE, load_observation, normalize_path, path_within

DEFAULT_TIMEOUT = 900.0
NO_SUCH_PACKAGE = "nosuchpkg"
SCRUB_PREFIXES = ("CONDA_", "ANACONDA_ANON_USAGE_", "_CE_", "MAMBA_")
SCRUB_NAMES = frozenset({"CONDARC", "MAMBARC", "PYTHONPATH", "PYTHONHOME", "XDG_CONFIG_HOME"})
PROXY_NAMES = frozenset({"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"})
LOOPBACK = "127.0.0.1,localhost"
# Outputs of the installed conda (observation.FILES names), in the order they are made.
CONDA_OUTPUTS = (
    "info",
    "info_run2",
    "info_text",
    "show_sources",
    "disabled_by_env",
    "disabled_by_user_condarc",
    "wire",
    "conda_list",
)
TOOLS = {"sh": "bash", "exe": "cmd", "pkg": "installer"}
TOOL_HINTS = {
    "bash": "`.sh` installers run with bash; install it (it is on every Linux and macOS host)",
    "cmd": "`.exe` installers are verified on Windows, where cmd.exe is always present",
    "installer": "`.pkg` installers are verified on macOS with /usr/sbin/installer",
}
SPACE_FREE_NOTE = (
    "Unix: installed into a space-free temporary prefix, because constructor .sh installers "
    "with conda in base refuse a prefix containing a space (and constructor will not build "
    "one that allows it)"
)
SPACED_NOTE = "Windows: installed into a prefix whose path contains a space"
PKG_NOTE = (
    "macOS .pkg: installed with `installer -target CurrentUserHomeDirectory` into "
    "~/<name in lower case> (the location is fixed by the package); it is removed afterwards "
    "unless --keep"
)
_LOG_ERROR = re.compile(r"^\s*(error\b|.*\bfailed to\b|.*\babort)", re.IGNORECASE)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Target:
    """One installer to verify and what it promises."""

    installer: Path
    installer_type: str  # sh | exe | pkg
    platform: str
    name: str  # the installer's product name (the .pkg prefix and uninstaller use it)
    expect: Expectation


@dataclass(frozen=True)
class VerifyOptions:
    report_dir: Path
    keep: bool = False
    timeout: float = DEFAULT_TIMEOUT


@dataclass
class InstallerReport:
    installer: str
    installer_type: str
    platform: str
    prefix: str
    prefix_note: str
    outputs_dir: str
    kept: bool
    seconds: float
    expect: dict[str, Any]
    checks: list[CheckResult]
    notes: list[str]

    @property
    def name(self) -> str:
        return Path(self.installer).name

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


# ---------------------------------------------------------------- pure helpers


def scrubbed_env(environ: Mapping[str, str], home: Path, *, windows: bool) -> dict[str, str]:
    """The environment for the installer and the installed conda.

    Drops conda's own variables (CONDA_*, CONDARC, ...), the plugin's token variables,
    PYTHONPATH/PYTHONHOME, XDG_CONFIG_HOME (a token and condarc search location) and proxy
    variables (every request goes to loopback); drops PATH entries of other conda
    installations; points HOME (and USERPROFILE on Windows) at the throwaway home."""
    upper_env = {k.upper(): v for k, v in environ.items()}  # Windows names ignore case
    roots = [upper_env.get(k, "") for k in ("CONDA_PREFIX", "CONDA_ROOT")]
    conda_exe = normalize_path(upper_env.get("CONDA_EXE", ""))
    if conda_exe:
        roots.append(conda_exe.rsplit("/", 2)[0])  # <root>/bin/conda -> <root>
    env: dict[str, str] = {}
    for key, value in environ.items():
        upper = key.upper()
        if upper in SCRUB_NAMES or upper in PROXY_NAMES or upper.startswith(SCRUB_PREFIXES):
            continue
        if upper == "PATH":
            sep = ";" if windows else ":"
            kept = [
                entry
                for entry in value.split(sep)
                if entry
                and normalize_path(entry).rsplit("/", 1)[-1].lower() != "condabin"
                and not any(root and path_within(entry, root) for root in roots)
            ]
            value = sep.join(kept)
        env[key] = value
    env["HOME"] = str(home)
    if windows:
        env["USERPROFILE"] = str(home)
    env["NO_PROXY"] = env["no_proxy"] = LOOPBACK
    return env


def conda_executable(prefix: Path, *, windows: bool) -> Path:
    return prefix / "Scripts" / "conda.exe" if windows else prefix / "bin" / "conda"


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


def real_home() -> Path:
    """The user's home from the account database (where .pkg installs), not $HOME."""
    try:
        import pwd

        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError, AttributeError):
        return Path.home()


def pkg_prefix(name: str, home: Path | None = None) -> Path:
    if not _SAFE_NAME.match(name):
        raise UsageError(f"cannot derive the .pkg install location from the name {name!r}")
    return (home or real_home()) / name.lower()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def first_token_file(directory: Path, name: str) -> Path:
    """``<dir>/<name>``, else the dotted ``<dir>/.<name>`` (the plugin reads both)."""
    plain = directory / name
    dotted = directory / f".{name}"
    return dotted if not plain.exists() and dotted.exists() else plain


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None


def _read_json_file(path: Path) -> tuple[Any, str | None]:
    text = _read_text(path)
    if text is None:
        return None, f"{path} does not exist"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"{path} is not valid JSON: {exc}"


# ---------------------------------------------------------------- one verification


def required_tool(installer_type: str) -> str:
    return TOOLS[installer_type]


def preflight(targets: Sequence[Target], runner: Runner) -> None:
    """Fail before installing anything: a missing tool (exit 3), a .pkg location in use."""
    for target in targets:
        tool = required_tool(target.installer_type)
        runner.which(tool, hint=TOOL_HINTS[tool])
        if not target.installer.is_file():
            raise UsageError(f"installer not found: {target.installer}")
        if target.installer_type == "pkg":
            location = pkg_prefix(target.name)
            if location.exists():
                raise UsageError(
                    f"{location} already exists; verify installs fresh, so remove it first "
                    f"(the .pkg installs there)"
                )


class Verification:
    """Install ``target``, run the installed conda, record outputs, check, clean up."""

    def __init__(
        self,
        target: Target,
        options: VerifyOptions,
        runner: Runner,
        *,
        environ: Mapping[str, str] | None = None,
        windows: bool | None = None,
    ) -> None:
        self.target = target
        self.options = options
        self.runner = runner
        self.windows = os.name == "nt" if windows is None else windows
        self.environ = dict(os.environ if environ is None else environ)
        self.outputs = options.report_dir / target.installer.name
        self.log = self.outputs / "verify.log"
        self.steps: dict[str, str] = {}
        self.notes: list[str] = []

    # -- paths and environment

    def _make_workdir(self) -> Path:
        base = Path(tempfile.gettempdir())
        if not self.windows and " " in str(base):
            base = Path("/tmp")  # the .sh installer refuses a prefix with a space
        return Path(tempfile.mkdtemp(prefix="ocv-", dir=base))

    def _prefix_for(self, work: Path) -> tuple[Path, str]:
        if self.target.installer_type == "pkg":
            return pkg_prefix(self.target.name), PKG_NOTE
        if self.windows:
            return work / "Org Conda", SPACED_NOTE
        return work / "prefix", SPACE_FREE_NOTE

    # -- steps

    def _run(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, label: str) -> Result:
        return self.runner.run(
            argv,
            log_path=self.log,
            env=env,
            cwd=cwd,
            timeout=self.options.timeout,
            check=False,
            label=label,
        )

    def _write(self, name: str, text: str) -> None:
        (self.outputs / FILES.get(name, name)).write_text(text, encoding="utf-8")

    def _write_json(self, name: str, data: object) -> None:
        self._write(name, json.dumps(data, indent=2, sort_keys=False) + "\n")

    def _install(self, prefix: Path, env: Mapping[str, str], work: Path) -> dict[str, Any]:
        target = self.target
        kind = target.installer_type
        installer = target.installer.resolve()
        tool = self.runner.which(required_tool(kind), hint=TOOL_HINTS[required_tool(kind)])
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
        result = self._run(argv, env, work, f"{kind} install")
        log_errors: list[str] = []
        if kind == "exe":
            own_log = prefix / "install.log"
            text = _read_text(own_log)
            if text is not None:
                (self.outputs / "installer-install.log").write_text(text, encoding="utf-8")
                log_errors = install_log_errors(text)
        return {
            "installer_type": kind,
            "command": shown,
            "returncode": result.returncode,
            "seconds": round(result.seconds, 2),
            "conda_found": conda_executable(prefix, windows=self.windows).is_file(),
            "history_found": (prefix / "conda-meta" / "history").is_file(),
            "hook_record_found": (prefix / "etc" / "orgconda" / "install.json").is_file(),
            "log_errors": log_errors,
            "output_tail": tail(result.stdout + result.stderr, 30),
        }

    def _conda(
        self,
        name: str,
        conda: Path,
        args: Sequence[str],
        env: Mapping[str, str],
        home: Path,
        extra_env: Mapping[str, str] | None = None,
    ) -> Result:
        run_env = {**env, **(extra_env or {})}
        result = self._run([str(conda), *args], run_env, home, f"conda {args[0]}")
        shown = "conda " + " ".join(args)
        if extra_env:
            shown = " ".join(f"{k}={v}" for k, v in extra_env.items()) + " " + shown
        if result.returncode == 0:
            self._write(name, result.stdout)
        else:
            self.steps[name] = (
                f"`{shown}` exited {result.returncode}: {tail(result.stdout + result.stderr, 5)}"
            )
        return result

    def _wire(self, conda: Path, env: Mapping[str, str], home: Path) -> None:
        with CaptureServer(lifetime=self.options.timeout + 60) as server:
            argv = [
                str(conda),
                "search",
                "--override-channels",
                "-c",
                server.url,
                NO_SUCH_PACKAGE,
            ]
            result = self._run(argv, {**env, "CONDA_LOCAL_REPODATA_TTL": "0"}, home, "conda")
            address = f"127.0.0.1:{server.port}"
            requests = server.requests
        self._write(
            "wire",
            format_wire_log(
                requests,
                command=f"conda search --override-channels -c http://{address}/ {NO_SUCH_PACKAGE}",
                address=address,
                exit_code=result.returncode,
                stdout=result.stdout,
                stderr=result.stderr,
            ),
        )

    def _record_files(self, prefix: Path, home: Path) -> None:
        record_path = prefix / "etc" / "orgconda" / "install.json"
        record, why = _read_json_file(record_path)
        if isinstance(record, dict):
            self._write_json("hook_record", record)
        else:
            self.steps["hook_record"] = why or f"{record_path} is not a JSON object"
        token_dir = prefix
        if isinstance(record, dict) and isinstance(record.get("token_dir"), str):
            token_dir = Path(record["token_dir"])
        machine = first_token_file(token_dir, "machine_token")
        self._write_json(
            "tokens",
            {
                "env_token": _read_text(prefix / "etc" / "aau_token"),
                "client_token": _read_text(home / ".conda" / "aau_token"),
                "machine_token": _read_text(machine),
                "machine_token_path": str(machine),
            },
        )
        metas = sorted((prefix / "conda-meta").glob("anaconda-anon-usage-*.json"))
        if metas:
            shutil.copyfile(metas[-1], self.outputs / FILES["aau_meta"])
        else:
            self.steps["aau_meta"] = "no conda-meta/anaconda-anon-usage-*.json in the prefix"
        cp = self.target.expect.config_package
        if cp is not None:
            config, _ = _read_json_file(prefix / "etc" / "orgconda" / "config.json")
            condarc = prefix / cp.condarc_file
            self._write_json(
                "config_files",
                {
                    "record": config if isinstance(config, dict) else None,
                    "condarc_path": str(condarc),
                    "condarc_sha256": sha256_of(condarc) if condarc.is_file() else None,
                },
            )
        self._write_json(
            "host",
            {
                "hostname": socket.gethostname(),
                "username": _username(),
                "prefix": str(prefix),
                "home": str(home),
            },
        )

    def _cleanup(self, work: Path, prefix: Path, env: Mapping[str, str]) -> None:
        if self.windows:
            for uninstaller in sorted(prefix.glob("Uninstall-*.exe"))[:1]:
                script = work / "uninstall.bat"
                script.write_text(exe_uninstall_script(uninstaller, prefix), encoding="utf-8")
                self._run(
                    [self.runner.which("cmd"), "/d", "/c", str(script)], env, work, "uninstall"
                )
        if self.target.installer_type == "pkg" and prefix.exists():
            shutil.rmtree(prefix, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        for leftover in (prefix, work):
            if leftover.exists():
                self.notes.append(f"could not remove {leftover} completely")

    def run(self) -> InstallerReport:
        started = time.monotonic()
        if self.outputs.exists():
            shutil.rmtree(self.outputs)
        self.outputs.mkdir(parents=True)
        work = self._make_workdir()
        home = work / "home"
        home.mkdir()
        prefix, prefix_note = self._prefix_for(work)
        env = scrubbed_env(self.environ, home, windows=self.windows)
        self.runner.log(f"verify {self.target.installer.name}: prefix {prefix} ({prefix_note})")
        try:
            install = self._install(prefix, env, work)
            install["installer_sha256"] = sha256_of(self.target.installer)
            install["prefix_note"] = f"{prefix_note}: {prefix}"
            self._write_json("install", install)
            conda = conda_executable(prefix, windows=self.windows)
            if install["conda_found"]:
                self._run_conda(conda, env, home)
            else:
                for name in CONDA_OUTPUTS:
                    self.steps[name] = f"the install left no conda at {conda}"
            self._record_files(prefix, home)
            (self.outputs / STEPS_FILE).write_text(
                json.dumps(self.steps, indent=2) + "\n", encoding="utf-8"
            )
            observation = load_observation(self.outputs, prefix=str(prefix))
            checks = run_checks(observation, self.target.expect)
        finally:
            if self.options.keep:
                self.notes.append(f"kept: prefix {prefix}, home {home} (--keep)")
            else:
                self._cleanup(work, prefix, env)
        return InstallerReport(
            installer=str(self.target.installer),
            installer_type=self.target.installer_type,
            platform=self.target.platform,
            prefix=str(prefix),
            prefix_note=prefix_note,
            outputs_dir=str(self.outputs),
            kept=self.options.keep,
            seconds=round(time.monotonic() - started, 1),
            expect=describe(self.target.expect),
            checks=checks,
            notes=self.notes,
        )

    def _run_conda(self, conda: Path, env: Mapping[str, str], home: Path) -> None:
        # The order of the recorded fixtures: the first command creates the e/ and c/ files.
        self._conda("info", conda, ["info", "--json"], env, home)
        self._conda("info_run2", conda, ["info", "--json"], env, home)
        self._conda("info_text", conda, ["info"], env, home)
        self._conda("show_sources", conda, ["config", "--show-sources"], env, home)
        self._conda(
            "disabled_by_env",
            conda,
            ["info", "--json"],
            env,
            home,
            extra_env={"CONDA_ANACONDA_ANON_USAGE": "no"},
        )
        user_condarc = home / ".condarc"
        user_condarc.write_text("anaconda_anon_usage: false\n", encoding="utf-8")
        try:
            self._conda("disabled_by_user_condarc", conda, ["info", "--json"], env, home)
        finally:
            user_condarc.unlink()
        self._wire(conda, env, home)
        self._conda("conda_list", conda, ["list", "-n", "base", "--json"], env, home)


def _username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return os.environ.get("USERNAME", os.environ.get("USER", ""))


def verify_target(target: Target, options: VerifyOptions, runner: Runner) -> InstallerReport:
    return Verification(target, options, runner).run()
