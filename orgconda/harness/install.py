"""One verification: install like a user would, run the installed conda, record, check, clean.

Everything runs through ``orgconda.runner.Runner`` in an environment scrubbed of conda's own
variables, with a throwaway HOME, a timeout per step and the output of every step in
``<report-dir>/<installer file name>/`` (the layout of the recorded fixtures, see
``observation.FILES``). The checks then read that folder. The pieces: ``environment`` (the
clean environment, the prefix), ``installers`` (running and removing an installer),
``conda_steps`` (the conda commands), ``prefix_files`` (what the install left), ``host``
(system files put back afterwards).
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..runner import Runner
from ..stage import sha256_file as sha256_of
from .checks import CheckResult, run_checks
from .checks_ca import HTTPS_OPTIONS
from .checks_install import check_install
from .conda_steps import FIRST, CondaRun, conda_steps
from .environment import (
    conda_executable,
    make_workdir,
    pkg_prefix,
    prefix_for,
    scrubbed_env,
)
from .expect import Expectation, describe
from .host import Snapshot
from .installers import TOOL_HINTS, remove_install, required_tool, run_installer
from .observation import (
    FILES,
    NOT_REQUESTED,
    NOT_RUN_INSTALL,
    STEPS_FILE,
    load_observation,
)
from .prefix_files import record_files

DEFAULT_TIMEOUT = 900.0
HTTPS_NOT_REQUESTED = (
    f"{NOT_REQUESTED}: pass {HTTPS_OPTIONS} (a server certificate for 127.0.0.1 signed by the "
    "bundled CA) to prove the installed conda trusts it"
)


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
    https_context: ssl.SSLContext | None = None  # --https-cert/--https-key, loaded
    system_dirs: tuple[Path, ...] = ()  # put back after each install (host.system_dirs)
    jobs: int | None = None  # conda commands at once after the first; None: all of them


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
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return Path(self.installer).name

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


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
        self.timings: dict[str, float] = {}

    def _write_json(self, name: str, data: object) -> None:
        text = json.dumps(data, indent=2) + "\n"
        (self.outputs / FILES.get(name, name)).write_text(text, encoding="utf-8")

    def run(self) -> InstallerReport:
        started = time.monotonic()
        snapshot = Snapshot.take(self.options.system_dirs)  # before anything is installed
        if self.outputs.exists():
            shutil.rmtree(self.outputs)
        self.outputs.mkdir(parents=True)
        work = make_workdir(windows=self.windows)
        home = work / "home"
        home.mkdir()
        kind = self.target.installer_type
        prefix, prefix_note = prefix_for(work, kind, self.target.name, windows=self.windows)
        env = scrubbed_env(self.environ, home, windows=self.windows)
        self.runner.log(f"verify {self.target.installer.name}: prefix {prefix} ({prefix_note})")
        try:
            install = run_installer(
                self.runner,
                kind=kind,
                installer=self.target.installer,
                prefix=prefix,
                env=env,
                work=work,
                outputs=self.outputs,
                log=self.log,
                timeout=self.options.timeout,
                windows=self.windows,
            )
            self.timings["install"] = install["seconds"]
            install["installer_sha256"] = sha256_of(self.target.installer)
            install["prefix_note"] = f"{prefix_note}: {prefix}"
            self._write_json("install", install)
            self._run_conda(prefix, env, home, work)
            self.steps.update(record_files(prefix, home, self.target.expect, self.outputs))
            self._write_json(STEPS_FILE, self.steps)
            observation = load_observation(self.outputs, prefix=str(prefix))
            checks = run_checks(observation, self.target.expect)
        finally:
            if self.options.keep:
                self.notes.append(f"kept: prefix {prefix}, home {home} (--keep)")
                self.notes.extend(
                    f"kept on this host (--keep): {line}" for line in snapshot.changes()
                )
            else:
                self.notes.extend(
                    remove_install(
                        self.runner,
                        kind=kind,
                        prefix=prefix,
                        work=work,
                        env=env,
                        log=self.log,
                        timeout=self.options.timeout,
                        windows=self.windows,
                    )
                )
                self.notes.extend(f"host: {line}" for line in snapshot.restore())
        return InstallerReport(
            installer=str(self.target.installer),
            installer_type=kind,
            platform=self.target.platform,
            prefix=str(prefix),
            prefix_note=prefix_note,
            outputs_dir=str(self.outputs),
            kept=self.options.keep,
            seconds=round(time.monotonic() - started, 1),
            expect=describe(self.target.expect),
            checks=checks,
            notes=self.notes,
            timings=self.timings,
        )

    def _run_conda(self, prefix: Path, env: Mapping[str, str], home: Path, work: Path) -> None:
        expect = self.target.expect
        https = self.options.https_context is not None
        rest = conda_steps(ca_expected=expect.ca_certificate is not None, https=https)
        names = [FIRST.name, *(s.name for s in rest)]
        if not https:
            self.steps["https_wire"] = HTTPS_NOT_REQUESTED
        install = load_observation(self.outputs, prefix=str(prefix))
        conda = conda_executable(prefix, windows=self.windows)
        if not check_install(install).ok:  # one cause: the install (see run_checks)
            self.steps.update({name: NOT_RUN_INSTALL for name in names})
            return
        outcome = CondaRun(
            runner=self.runner,
            conda=conda,
            env=env,
            home=home,
            work=work,
            outputs=self.outputs,
            log=self.log,
            timeout=self.options.timeout,
            windows=self.windows,
            https_context=self.options.https_context,
        ).run(rest, jobs=self.options.jobs)
        self.steps.update(outcome.problems)
        self.timings.update(outcome.seconds)


def verify_target(target: Target, options: VerifyOptions, runner: Runner) -> InstallerReport:
    return Verification(target, options, runner).run()
