"""The one place where orgconda starts other programs.

Every command is found on PATH first (a clear message with how to install it when it is
missing), echoed before it runs, its output captured (to a log file when one is given), and a
failure raised with the command and the tail of its output.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError, MissingToolError

INSTALL_HINTS: dict[str, str] = {
    "constructor": (
        "constructor is a conda package: create the build environment with\n"
        "  conda env create -f environment.yml && conda activate orgconda\n"
        "(or `conda install -c conda-forge constructor conda-standalone`)"
    ),
    "conda": "install Miniconda/Miniforge, or run inside the environment from environment.yml",
}

TAIL_LINES = 40


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def format_command(argv: Sequence[str]) -> str:
    if os.name == "nt":
        return subprocess.list2cmdline(list(argv))
    return shlex.join(argv)


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.splitlines()[-lines:])


class Runner:
    """Runs commands and logs each one. ``echo`` receives one line per command started."""

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self._echo = echo or (lambda line: print(line, file=sys.stderr, flush=True))
        self._lock = threading.Lock()

    def log(self, line: str) -> None:
        with self._lock:
            self._echo(line)

    def which(self, name: str, hint: str | None = None, path: str | None = None) -> str:
        found = shutil.which(name, path=path)
        if found is None:
            how = hint or INSTALL_HINTS.get(name, f"install {name} and put it on PATH")
            raise MissingToolError(f"`{name}` was not found on PATH.\n{how}")
        return found

    def run(
        self,
        argv: Sequence[str],
        *,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
        check: bool = True,
        input_text: str | None = None,
        label: str | None = None,
    ) -> Result:
        """Run ``argv``; raise BuildError on a non-zero exit when ``check`` is true."""
        argv = tuple(str(a) for a in argv)
        shown = format_command(argv)
        self.log(f"$ {shown}" + (f"    (log: {log_path})" if log_path else ""))
        start = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                timeout=timeout,
                input=input_text,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                check=False,
            )
            code, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            code = -1
            out = _as_text(exc.stdout)
            err = _as_text(exc.stderr) + f"\n[orgconda] timed out after {timeout} s"
        except FileNotFoundError as exc:
            raise MissingToolError(f"cannot run `{argv[0]}`: {exc.strerror}") from exc
        seconds = time.monotonic() - start
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(f"$ {shown}\n{out}")
                if err:
                    fh.write(f"--- stderr ---\n{err}")
                fh.write(f"\n[exit code {code}, {seconds:.1f} s]\n")
        result = Result(argv, code, out, err, seconds)
        if check and code != 0:
            what = label or Path(argv[0]).name
            where = f"\nfull log: {log_path}" if log_path else ""
            raise BuildError(
                f"{what} failed (exit code {code}).\ncommand: {shown}\n"
                f"--- last lines ---\n{tail(out + err)}{where}"
            )
        return result


def _as_text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data
