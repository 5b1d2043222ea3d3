"""The installed conda's commands, and what each one records.

The first ``conda info --json`` runs alone: it creates anaconda-anon-usage's client token
(``~/.conda/aau_token``) and environment token (``<prefix>/etc/aau_token``), and commands
started before those exist would each make their own. Every other command is independent of
the rest, so they then run together. Those that would interfere get their own HOME, a copy
of the shared one made after the first command (so ``c/`` stays the same): the user-condarc
opt-out (its ``~/.condarc`` must not reach the others) and the two channel probes (each with
its own capture server). Each step's output goes to its file in the recorded layout
(``observation.FILES``); a step that fails leaves the reason in ``steps.json`` instead.
"""

from __future__ import annotations

import json
import shutil
import ssl
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import OrgcondaError
from ..runner import Result, Runner, tail
from .capture import CaptureServer, format_wire_log, tls_notes
from .environment import with_home
from .observation import FILES

NO_SUCH_PACKAGE = "nosuchpkg"
USER_OPT_OUT = "anaconda_anon_usage: false\n"
TIMINGS_FILE = "timings.json"
_PARTS = "verify.log.parts"


@dataclass(frozen=True)
class CondaStep:
    """One command of the installed conda."""

    name: str  # the observation.FILES key of its output
    args: tuple[str, ...]
    extra_env: tuple[tuple[str, str], ...] = ()
    home: str | None = None  # its own HOME, a copy of the shared one; None: the shared HOME
    user_condarc: str | None = None  # written to its own HOME's .condarc
    channel: str | None = None  # "http" or "https": search a loopback capture server

    def shown(self, url: str = "") -> str:
        words = ["conda", *self.args]
        if self.channel:
            words += ["-c", url or f"{self.channel}://127.0.0.1:PORT/", NO_SUCH_PACKAGE]
        env = [f"{k}={v}" for k, v in self.extra_env]
        return " ".join([*env, *words])


FIRST = CondaStep("info", ("info", "--json"))


def conda_steps(*, ca_expected: bool, https: bool) -> tuple[CondaStep, ...]:
    """The steps after the first, in the order their logs are kept."""
    steps = [
        CondaStep("info_run2", ("info", "--json")),
        CondaStep("info_text", ("info",)),
        CondaStep("show_sources", ("config", "--show-sources")),
        CondaStep(
            "disabled_by_env",
            ("info", "--json"),
            extra_env=(("CONDA_ANACONDA_ANON_USAGE", "no"),),
        ),
        CondaStep(
            "disabled_by_user_condarc",
            ("info", "--json"),
            home="opt-out",
            user_condarc=USER_OPT_OUT,
        ),
        CondaStep("wire", ("search", "--override-channels"), home="wire", channel="http"),
        CondaStep("conda_list", ("list", "-n", "base", "--json")),
    ]
    if ca_expected:
        steps.append(CondaStep("ssl_verify", ("config", "--show", "ssl_verify", "--json")))
    if https:
        steps.append(
            CondaStep(
                "https_wire", ("search", "--override-channels"), home="https", channel="https"
            )
        )
    return tuple(steps)


@dataclass(frozen=True)
class StepsOutcome:
    problems: dict[str, str]  # step name -> why its output is missing
    seconds: dict[str, float]  # step name -> wall-clock seconds


@dataclass
class CondaRun:
    """Runs the steps of one verification; see the module docstring."""

    runner: Runner
    conda: Path
    env: Mapping[str, str]
    home: Path
    work: Path
    outputs: Path
    log: Path
    timeout: float
    windows: bool
    https_context: ssl.SSLContext | None = None
    lifetime: float = 0.0  # of the capture servers; 0: timeout + 60

    def run(self, rest: Sequence[CondaStep], jobs: int | None = None) -> StepsOutcome:
        problems: dict[str, str] = {}
        seconds: dict[str, float] = {}
        first = self._step(FIRST, self.log)
        _merge(first, problems, seconds)
        parts = self.outputs / _PARTS
        parts.mkdir(exist_ok=True)
        logs = [parts / f"{i:02d}-{step.name}.log" for i, step in enumerate(rest)]
        workers = max(1, min(len(rest), jobs or len(rest)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="conda") as pool:
            done = list(pool.map(self._step, rest, logs))
        for outcome in done:
            _merge(outcome, problems, seconds)
        with open(self.log, "a", encoding="utf-8") as merged:  # in step order, not finish order
            for part in logs:
                if part.is_file():
                    merged.write(part.read_text(encoding="utf-8"))
        shutil.rmtree(parts, ignore_errors=True)
        (self.outputs / TIMINGS_FILE).write_text(
            json.dumps({k: round(v, 2) for k, v in seconds.items()}, indent=2) + "\n",
            encoding="utf-8",
        )
        return StepsOutcome(problems, seconds)

    # -- one step (runs in a worker thread; touches only its own files)

    def _step(self, step: CondaStep, log: Path) -> tuple[str, str | None, float]:
        try:
            env = {**self.env, **dict(step.extra_env)}
            cwd = self.home
            if step.home is not None:
                cwd = self._own_home(step)
                env = with_home(env, cwd, windows=self.windows)
            if step.channel is not None:
                return self._probe(step, env, cwd, log)
            result = self._run([str(self.conda), *step.args], env, cwd, log, step.name)
        except (OrgcondaError, OSError) as exc:
            return step.name, f"`{step.shown()}` could not run: {exc}", 0.0
        if result.returncode == 0:
            self._write(step.name, result.stdout)
            return step.name, None, result.seconds
        why = (
            f"`{step.shown()}` exited {result.returncode}: {tail(result.stdout + result.stderr, 5)}"
        )
        return step.name, why, result.seconds

    def _own_home(self, step: CondaStep) -> Path:
        home = self.work / f"home-{step.home}"
        if home.exists():
            shutil.rmtree(home)
        shutil.copytree(self.home, home, symlinks=True)  # ~/.conda/aau_token: the same c/
        if step.user_condarc is not None:
            (home / ".condarc").write_text(step.user_condarc, encoding="utf-8")
        return home

    def _probe(
        self, step: CondaStep, env: Mapping[str, str], cwd: Path, log: Path
    ) -> tuple[str, str | None, float]:
        context = self.https_context if step.channel == "https" else None
        if step.channel == "https" and context is None:
            return step.name, "not requested: no server certificate for the HTTPS probe", 0.0
        lifetime = self.lifetime or self.timeout + 60
        with CaptureServer(lifetime=lifetime, ssl_context=context) as server:
            argv = [str(self.conda), *step.args, "-c", server.url, NO_SUCH_PACKAGE]
            run_env = {**env, "CONDA_LOCAL_REPODATA_TTL": "0"}
            result = self._run(argv, run_env, cwd, log, step.name)
            url, requests = server.url, server.requests
            notes = tls_notes(server.handshakes, server.tls_errors) if context else []
        self._write(
            step.name,
            format_wire_log(
                requests,
                command=step.shown(url),
                address=url.split("//", 1)[1].rstrip("/"),
                exit_code=result.returncode,
                stdout=result.stdout,
                stderr=result.stderr,
                notes=notes,
            ),
        )
        return step.name, None, result.seconds

    def _run(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path, name: str
    ) -> Result:
        return self.runner.run(
            argv,
            log_path=log,
            env=env,
            cwd=cwd,
            timeout=self.timeout,
            check=False,
            label=f"conda ({name})",
        )

    def _write(self, name: str, text: str) -> None:
        (self.outputs / FILES[name]).write_text(text, encoding="utf-8")


def _merge(
    outcome: tuple[str, str | None, float], problems: dict[str, str], seconds: dict[str, float]
) -> None:
    name, why, took = outcome
    seconds[name] = took
    if why is not None:
        problems[name] = why
