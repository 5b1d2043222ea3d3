#!/usr/bin/env python3
"""Benchmark: a bare silent install against `build.py verify` of the same installer.

    python bench/verify.py [INSTALLER.sh] [--dist DIST] [--runs N] [-- VERIFY ARGS...]

Times `bash X.sh -b -p PREFIX` (fresh prefix, throwaway HOME, the same clean environment verify
uses) and `python build.py verify X.sh` side by side, N times each, alternating, and prints the
medians, the ratio and where verify's time went (report.json's timings: the install, each
conda command, the whole verification of the installer). Target (issue 13): verify
within 1.3x of the bare install.

The installer: the one named, else this host's .sh in <dist>/manifest.json. An installer
without a manifest entry needs its promises after `--` (`-- --expect-org acme-corp
--expect-installer AcmeConda-2026_11 --locked`). Skips (exit 0) with the reason when there is
no installer (building one needs constructor) or it is not a .sh this host can run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from orgconda.harness.environment import scrubbed_env  # noqa: E402
from orgconda.platforms import host_subdir  # noqa: E402


def skip(reason: str) -> int:
    print(f"skipped: {reason}")
    return 0


def find_installer(dist: Path, host: str | None) -> Path | None:
    manifest = dist / "manifest.json"
    if not manifest.is_file():
        return None
    data = json.loads(manifest.read_text(encoding="utf-8"))
    for entry in data.get("installers", []):
        if entry.get("platform") == host and entry.get("type") == "sh":
            return dist / entry["path"]
    return None


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare_install(installer: Path, bash: str) -> tuple[float, float]:
    work = Path(tempfile.mkdtemp(prefix="ocb-", dir="/tmp"))
    try:
        home = work / "home"
        home.mkdir()
        env = scrubbed_env(os.environ, home, windows=False)
        started, cpu = time.perf_counter(), children_cpu()
        subprocess.run(
            [bash, str(installer), "-b", "-p", str(work / "prefix")],
            env=env,
            cwd=work,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - started, children_cpu() - cpu
    finally:
        shutil.rmtree(work, ignore_errors=True)


def verify(
    installer: Path, dist: Path, extra: list[str]
) -> tuple[float, float, int, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="ocb-report-") as reports:
        argv = [
            sys.executable,
            str(REPO / "build.py"),
            "verify",
            str(installer),
            "--dist",
            str(dist),
            "--report-dir",
            reports,
            *extra,
        ]
        started, cpu = time.perf_counter(), children_cpu()
        done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
        seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
        if done.returncode not in (0, 1):
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"verify exited {done.returncode}")
        report_file = Path(reports) / "report.json"
        timings: dict[str, float] = {}
        if report_file.is_file():
            entry = json.loads(report_file.read_text())["installers"][0]
            timings = {**entry.get("timings", {}), "verification": entry["seconds"]}
        return seconds, cpu, done.returncode, timings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("installer", nargs="?", type=Path)
    ap.add_argument("--dist", type=Path, default=REPO / "dist")
    ap.add_argument("--runs", type=int, default=1)
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = ap.parse_args(argv[:cut])
    extra = argv[cut + 1 :]
    host = host_subdir()
    installer = args.installer or find_installer(args.dist, host)
    if installer is None:
        return skip(
            f"no installer named and no .sh for {host} in {args.dist / 'manifest.json'}; "
            "build one with `python build.py build` (needs constructor)"
        )
    if not installer.is_file():
        return skip(f"{installer} does not exist")
    if installer.suffix != ".sh" or host is None or host.startswith("win"):
        return skip(f"{installer.name}: the bare install is timed for .sh installers on Unix")
    bash = shutil.which("bash")
    if bash is None:
        return skip("bash is not on PATH")

    bare_times: list[float] = []
    bare_cpu: list[float] = []
    verify_times: list[float] = []
    verify_cpu: list[float] = []
    codes: list[int] = []
    timings: dict[str, float] = {}
    for _ in range(args.runs):
        seconds, cpu = bare_install(installer, bash)
        bare_times.append(seconds)
        bare_cpu.append(cpu)
        seconds, cpu, code, timings = verify(installer, args.dist, extra)
        verify_times.append(seconds)
        verify_cpu.append(cpu)
        codes.append(code)
    bare, checked = statistics.median(bare_times), statistics.median(verify_times)
    cpu_bare, cpu_checked = statistics.median(bare_cpu), statistics.median(verify_cpu)
    size = installer.stat().st_size / 1e6
    print(f"installer: {installer} ({size:.1f} MB), medians of {args.runs} runs")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"bare silent install (bash X.sh -b -p P): {bare:6.1f} s (CPU {cpu_bare:5.1f} s)")
    print(f"build.py verify:                         {checked:6.1f} s (CPU {cpu_checked:5.1f} s)")
    print(f"ratio: {checked / bare:.2f}x (target 1.3x); CPU ratio {cpu_checked / cpu_bare:.2f}x")
    if timings:
        steps = ", ".join(f"{name} {took:.1f}" for name, took in timings.items())
        print(f"last verify's steps (s): {steps}")
    if any(codes):
        print("note: some checks failed (verify exited 1); the times still count")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
