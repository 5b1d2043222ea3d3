#!/usr/bin/env python3
"""Benchmark: orgconda's build overhead against constructor alone on the same input.

    python bench/build.py [--profile P] [--runs N] [-- BUILD ARGS...]

Builds this host's installer once to warm constructor's cache, then, N times each and
alternating: `python build.py build --platform <host> ...` (validate, render, the config
package, plan, constructor, checks, SBOM, publish) and `constructor build/<host> --platform
<host> --output-dir ...` alone on the input that build rendered. Prints the medians and the
ratio. Target (issue 13): a repeated build within 1.05x of constructor alone. Skips (exit 0)
with the reason when constructor is not on PATH or this host is not a conda platform.
Arguments after `--` go to `build` (e.g. `--channel URL`).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from orgconda.platforms import host_subdir  # noqa: E402


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", type=Path, default=REPO / "construct" / "org.yaml")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    extra = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    constructor = shutil.which("constructor")
    host = host_subdir()
    if constructor is None:
        print("skipped: constructor is not on PATH (this benchmark times the real one)")
        return 0
    if host is None:
        print("skipped: this host is not a conda platform")
        return 0
    with tempfile.TemporaryDirectory(prefix="orgconda-bench-") as tmp:
        work = Path(tmp)
        build = [
            sys.executable,
            str(REPO / "build.py"),
            "build",
            "--profile",
            str(args.profile),
            "--platform",
            host,
            "--build-dir",
            str(work / "build"),
            "--dist-dir",
            str(work / "dist"),
            "--offline",
            *extra,
        ]
        warm = timed(build)  # fills constructor's cache; renders build/<host>
        alone = [constructor, str(work / "build" / host), "--platform", host]
        ours, bare = [], []
        for i in range(args.runs):
            ours.append(timed(build))
            out = work / f"alone-{i}"
            out.mkdir()
            bare.append(timed([*alone, "--output-dir", str(out)]))
    o, b = statistics.median(ours), statistics.median(bare)
    print(f"host {host}, runs {args.runs} (first build, cache warming: {warm:.1f} s)")
    print(f"constructor alone, median:   {b:6.2f} s")
    print(f"build.py build, median:      {o:6.2f} s")
    print(f"ratio: {o / b:.3f} (target 1.05); overhead {o - b:+.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
