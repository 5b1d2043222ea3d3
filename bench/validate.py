#!/usr/bin/env python3
"""Benchmark: validating big profiles, and the default profile's `render` as a whole command.

    python bench/validate.py [--runs N]

Targets (issue 10): a 5 MB profile validates in under 2 s and 200 MB; `build.py render` of the
default profile takes under 0.3 s as a whole command. Each big profile is validated in a fresh
process, so its peak resident memory (ru_maxrss) is its own; tracemalloc's peak (Python
allocations) is printed too. Uses constructor's schema from an installed constructor or
ORGCONDA_CONSTRUCT_SCHEMA (else ../shared/schemas when present).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MB = 1024 * 1024

# one process per profile: load_profile, timed, and the memory it took
CHILD = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from orgconda.errors import ProfileError
from orgconda.profile import load_profile
def run():
    try:
        load_profile(Path(sys.argv[2]))
        return "valid", 0
    except ProfileError as exc:
        return f"{len(exc.problems)} problem(s)", len(str(exc))
start = time.perf_counter()
outcome, size = run()
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()  # a second run, for Python's own allocations (tracemalloc is slow)
run()
_, peak = tracemalloc.get_traced_memory()
print(json.dumps({"seconds": seconds, "peak": peak, "rss_kb": rss,
                  "outcome": outcome, "message_chars": size}))
"""


def _default_text() -> str:
    return (REPO / "construct" / "org.yaml").read_text(encoding="utf-8")


def big_profiles(directory: Path) -> dict[str, Path]:
    """Profiles of about 5 MB, big in different ways, and one as big as the caps allow."""
    text = _default_text()
    out = {}

    value = "A" * (5 * MB) + " [EU]"
    out["one 5 MB value (refused: too long)"] = text.replace(
        "  company: Acme Corp\n", f"  company: {value}\n"
    )

    specs = "".join(f"    - pkg-{i:06d} >=1.{i % 10}\n" for i in range(200_000))
    out["200k specs.extra entries (refused: cap)"] = text.replace(
        "    - pip\n", "    - pip\n" + specs
    )

    # within every cap: 1,000 entries per list or mapping, values up to 10,000 characters
    specs = "".join(f"    - pkg-{i:04d} >=1.{i % 10},<3 *_{i % 7}\n" for i in range(999))
    urls = "".join(
        f"    ch{i:04d}: https://conda.acme.example/{'m' * 4800}/{i:04d}\n" for i in range(1000)
    )
    mirrors = "".join(f"    - https://mirror{i}.acme.example/cf\n" for i in range(1000))
    body = text.replace("    - pip\n", "    - pip\n" + specs)
    body = body.replace(
        "  # channel_alias: https://conda.acme.example\n", "  custom_channels:\n" + urls
    )
    body = body.replace("    - pip\n", "    - pip\n    - mamba\n", 1).replace(
        "    - pkg-0998 >=1.8,<3 *_4\n", ""
    )
    body += "mirrored_channels:\n  conda-forge:\n" + mirrors.replace("    -", "    -", 1)
    out["1,000 specs + 1,000 long URLs + 1,000 mirrors (valid)"] = body

    bad = "".join(f"    - bad spec {i} x y\n" for i in range(999))
    out["999 bad specs (refused, every one)"] = text.replace("    - pip\n", bad)

    paths = {}
    for i, (name, body) in enumerate(out.items()):
        path = directory / f"big{i}" / "org.yaml"
        path.parent.mkdir()
        (path.parent / "LICENSE.txt").write_bytes((REPO / "construct" / "LICENSE.txt").read_bytes())
        path.write_text(body, encoding="utf-8")
        paths[name] = path
    return paths


def bench_big(directory: Path) -> list[dict[str, object]]:
    rows = []
    for name, path in big_profiles(directory).items():
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(REPO), str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(proc.stdout)
        row["name"] = name
        row["mb"] = path.stat().st_size / MB
        rows.append(row)
    return rows


def bench_render(runs: int, directory: Path) -> list[float]:
    times = []
    for i in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(REPO / "build.py"), "render", "--build-dir", f"{directory}/r{i}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=20, help="runs of the whole render command")
    args = ap.parse_args()
    shared_schema = REPO.parent / "shared" / "schemas" / "construct.schema.json"
    if not os.environ.get("ORGCONDA_CONSTRUCT_SCHEMA") and shared_schema.is_file():
        os.environ["ORGCONDA_CONSTRUCT_SCHEMA"] = str(shared_schema)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        print("validating big profiles (each in a fresh process):")
        for row in bench_big(Path(tmp)):
            rss_mb = float(row["rss_kb"]) / 1024  # type: ignore[arg-type]
            seconds = float(row["seconds"])  # type: ignore[arg-type]
            fits = seconds < 2 and rss_mb < 200
            ok &= fits
            print(
                f"  {row['name']:<55} {row['mb']:4.1f} MB  {seconds:5.2f} s  "
                f"peak RSS {rss_mb:5.0f} MB (python allocations {int(row['peak']) / MB:5.0f} MB)"
                f"  -> {row['outcome']}, message {row['message_chars']} chars"
                f"  {'ok' if fits else 'OVER TARGET'}"
            )
        times = bench_render(args.runs, Path(tmp))
    median = statistics.median(times)
    ok &= median < 0.3
    print(
        f"whole command `build.py render` (default profile, {len(times)} runs): "
        f"median {median * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms  {'ok' if median < 0.3 else 'OVER TARGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
