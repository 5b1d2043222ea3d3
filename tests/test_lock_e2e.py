"""End to end with the real tools: lock against a real channel, build from the lock with
constructor (``environment_file``), compare what the installers hold, diff two real builds,
and write and validate the SBOM of a real installer.

Needs constructor (with its conda-standalone) on PATH, a linux-64 host and
ORGCONDA_E2E_CHANNEL (a channel with python 3.11, conda and anaconda-anon-usage); skipped
with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from condachannel import lock_profile
from conftest import require_tool
from helpers import run_build_py

from orgconda import platforms
from orgconda.lockfile import Lock, explicit_text, parse_explicit, read_lock
from orgconda.sbom import write_sbom

pytestmark = pytest.mark.e2e

CONSTRUCT_YAML = """\
name: LockE2E
version: "1.0"
company: Acme Corp
installer_type: sh
build_outputs:
  - hash:
      algorithm: sha256
  - lockfile
  - info.json
  - pkgs_list
"""
# a leaf package (depends on python only) to make a second lock differ by exactly one package
EXTRA_LEAF = "attrs"


@dataclass(frozen=True)
class Built:
    root: Path
    channel: str
    constructor: str
    lock: Lock
    outs: tuple[Path, Path]  # two builds from the same lock


def _constructor(constructor: str, src: Path, out: Path, cache: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_")}
    proc = subprocess.run(
        [constructor, str(src), "--output-dir", str(out), "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def _lock(root: Path, channel: str, extra: list[str]) -> subprocess.CompletedProcess[str]:
    profile = lock_profile(root, channel, platforms=["linux-64"], python="3.11.*", extra=extra)
    return run_build_py("lock", "--profile", str(profile))


def _build_from_lock(built_root: Path, name: str, lock: Lock, constructor: str) -> Path:
    src = built_root / f"src-{name}"
    src.mkdir()
    (src / "construct.yaml").write_text(
        CONSTRUCT_YAML + "environment_file: environment.txt\n", encoding="utf-8"
    )
    (src / "environment.txt").write_text(explicit_text(lock), encoding="utf-8")
    return _constructor(constructor, src, built_root / f"out-{name}", built_root / f"cache-{name}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    channel = os.environ.get("ORGCONDA_E2E_CHANNEL")
    if not channel:
        pytest.skip("ORGCONDA_E2E_CHANNEL is not set: name the channel the e2e tests build from")
    constructor = require_tool("constructor")
    host = platforms.host_subdir()
    if host != "linux-64":
        pytest.skip(f"these tests build linux-64 .sh installers natively (host: {host})")
    root = tmp_path_factory.mktemp("lock-e2e")
    proc = _lock(root / "p", channel, [])
    assert proc.returncode == 0, proc.stderr
    lock = read_lock(root / "p" / "locks" / "linux-64.txt")
    outs = (
        _build_from_lock(root, "1", lock, constructor),
        _build_from_lock(root, "2", lock, constructor),
    )
    return Built(root, channel, constructor, lock, outs)


def test_two_builds_from_one_lock_hold_the_same_packages(built: Built) -> None:
    lock_urls = sorted(p.url or "" for p in built.lock.packages)
    lock_fns = sorted(p.fn for p in built.lock.packages)
    for out in built.outs:
        lockfile = parse_explicit((out / "lockfile.base.txt").read_text(encoding="utf-8"), "lf")
        assert sorted(p.url or "" for p in lockfile.packages) == lock_urls
        pkgs = (out / "pkg-list.base.txt").read_text(encoding="utf-8").splitlines()[1:]
        assert sorted(pkgs) == lock_fns
    for name in ("pkg-list.base.txt", "lockfile.base.txt"):
        assert (built.outs[0] / name).read_bytes() == (built.outs[1] / name).read_bytes(), name
    # Measured: the installers' bytes differ only in tar mtimes and conda-meta/history (build
    # time and command line); printed here for the record.
    a, b = (next(out.glob("*.sh")).read_bytes() for out in built.outs)
    print(f"installer bytes identical across two builds from one lock: {a == b}")


def test_constructor_records_what_the_sbom_reads(built: Built) -> None:
    info = json.loads((built.outs[0] / "info.json").read_text(encoding="utf-8"))
    for record in info["_records"]:
        keys = {"name", "version", "build", "subdir", "url", "md5", "sha256", "license"}
        assert keys <= set(record), record.get("fn")
    assert {r["fn"]: r["sha256"] for r in info["_records"]} == {
        p.fn: p.sha256 for p in built.lock.packages
    }


def test_constructors_own_solve_ships_the_locks_packages(built: Built) -> None:
    solved = built.root / "src-solved"
    solved.mkdir()
    specs = "".join(f"  - {x}\n" for x in json.loads(built.lock.header["specs"]))
    text = CONSTRUCT_YAML + f"channels:\n  - {built.channel}\nspecs:\n{specs}"
    (solved / "construct.yaml").write_text(text, encoding="utf-8")
    out = _constructor(built.constructor, solved, built.root / "out-solved", built.root / "cache-1")
    pkgs = (out / "pkg-list.base.txt").read_text(encoding="utf-8").splitlines()[1:]
    assert sorted(pkgs) == sorted(p.fn for p in built.lock.packages)


def test_sbom_of_a_real_installer(built: Built) -> None:
    installer = next(built.outs[0].glob("*.sh"))
    sbom = write_sbom(installer, "linux-64", built.outs[0], lock=built.lock)
    assert sbom == installer.with_name(installer.name + ".cdx.json")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = sbom.read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    root = doc["metadata"]["component"]
    assert (root["name"], root["version"]) == ("LockE2E", "1.0")
    digest = (installer.parent / f"{installer.name}.sha256").read_text().split()[0]
    assert root["hashes"] == [{"alg": "SHA-256", "content": digest}]
    assert sorted(c["name"] for c in doc["components"]) == sorted(
        p.name for p in built.lock.packages
    )
    assert {p["value"] for c in doc["components"] for p in c["properties"]} == {"lock"}


def test_diff_of_two_real_builds_names_the_one_added_package(built: Built) -> None:
    proc = _lock(built.root / "p2", built.channel, [EXTRA_LEAF])
    if proc.returncode == 4:
        pytest.skip(f"the e2e channel has no {EXTRA_LEAF} to add: {proc.stderr[-300:]}")
    assert proc.returncode == 0, proc.stderr
    lock2 = read_lock(built.root / "p2" / "locks" / "linux-64.txt")
    added = {p.name for p in lock2.packages} - {p.name for p in built.lock.packages}
    if added != {EXTRA_LEAF}:
        pytest.skip(f"{EXTRA_LEAF} pulls more than itself from this channel: {sorted(added)}")
    out3 = _build_from_lock(built.root, "3", lock2, built.constructor)
    proc = run_build_py(
        "diff", str(built.outs[0] / "info.json"), str(out3 / "info.json"), "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    linux = json.loads(proc.stdout)["platforms"]["linux-64"]
    assert [c["name"] for c in linux["added"]] == [EXTRA_LEAF]
    others = ("removed", "upgraded", "downgraded", "rebuilt", "changed")
    assert all(linux[k] == [] for k in others), linux
    assert linux["unchanged"] == len(built.lock.packages)
