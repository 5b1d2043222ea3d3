#!/usr/bin/env python3
"""Benchmark: render + validate all five platforms, in-process and as a whole command.

    python bench/render.py [--runs N]

Prints medians. Target: the whole command under 0.3 s. Uses constructor's schema from an
installed constructor or ORGCONDA_CONSTRUCT_SCHEMA (else ../shared/schemas when present).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    shared_schema = REPO.parent / "shared" / "schemas" / "construct.schema.json"
    if not os.environ.get("ORGCONDA_CONSTRUCT_SCHEMA") and shared_schema.is_file():
        os.environ["ORGCONDA_CONSTRUCT_SCHEMA"] = str(shared_schema)

    from orgconda import execute, render
    from orgconda.profile import DEFAULT_PROFILE, load_profile
    from orgconda.resolve import RunOptions, resolve

    def render_once(build: Path) -> None:
        profile = load_profile(DEFAULT_PROFILE)
        execute.render_to_disk(resolve(profile, profile.platforms, RunOptions(build_dir=build)))

    schema_path = render.find_construct_schema()
    print(f"schema: {schema_path or 'none (schema validation skipped)'}")

    with tempfile.TemporaryDirectory() as tmp:
        cold = time.perf_counter()
        render_once(Path(tmp) / "cold")
        cold = time.perf_counter() - cold

        in_process = []
        for i in range(args.runs):
            t = time.perf_counter()
            render_once(Path(tmp) / f"b{i}")
            in_process.append(time.perf_counter() - t)

        whole = []
        for i in range(args.runs):
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, str(REPO / "build.py"), "render", "--build-dir", f"{tmp}/c{i}"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            whole.append(time.perf_counter() - t)

    print(f"platforms: {len(load_profile(DEFAULT_PROFILE).platforms)}, runs: {args.runs}")
    print(f"in-process, first call (cold templates/schema): {cold * 1000:7.1f} ms")
    med_in = statistics.median(in_process) * 1000
    med_whole = statistics.median(whole) * 1000
    print(f"in-process render+validate+write, median:       {med_in:7.1f} ms")
    print(f"whole command `build.py render`, median:        {med_whole:7.1f} ms")
    print(f"whole command, max:                             {max(whole) * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
