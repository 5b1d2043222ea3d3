"""End to end with the real tools: lock against a real channel, build twice from the lock
with constructor (``environment_file``), compare what the two installers hold, and write
and validate the SBOM of a real installer.

Needs constructor (with its conda-standalone) on PATH and ORGCONDA_E2E_CHANNEL (a channel
with python, conda and anaconda-anon-usage); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from condachannel import lock_profile
from conftest import require_tool
from helpers import run_build_py

from orgconda import platforms
from orgconda.lockfile import explicit_text, parse_explicit, read_lock
from orgconda.sbom import write_sbom

pytestmark = pytest.mark.e2e

CONSTRUCT_YAML = """\
name: LockE2E
version: "1.0"
company: Acme Corp
installer_type: sh
environment_file: environment.txt
build_outputs:
  - hash:
      algorithm: sha256
  - lockfile
  - info.json
  - pkgs_list
"""


@pytest.fixture(scope="module")
def e2e_channel() -> str:
    channel = os.environ.get("ORGCONDA_E2E_CHANNEL")
    if not channel:
        pytest.skip("ORGCONDA_E2E_CHANNEL is not set (source /work/toolchain/env.sh or similar)")
    return channel


def _constructor(
    constructor: str, src: Path, out: Path, cache: Path
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_")}
    return subprocess.run(
        [constructor, str(src), "--output-dir", str(out), "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )


def test_build_twice_from_one_lock(tmp_path: Path, e2e_channel: str) -> None:
    constructor = require_tool("constructor")
    host = platforms.host_subdir()
    if host != "linux-64":
        pytest.skip(f"this e2e test builds a linux-64 .sh installer natively (host: {host})")
    profile = lock_profile(tmp_path / "p", e2e_channel, platforms=[host], python="3.11.*", extra=[])
    proc = run_build_py("lock", "--profile", str(profile))
    assert proc.returncode == 0, proc.stderr
    lock = read_lock(tmp_path / "p" / "locks" / f"{host}.txt")

    src = tmp_path / "src"
    src.mkdir()
    (src / "construct.yaml").write_text(CONSTRUCT_YAML, encoding="utf-8")
    (src / "environment.txt").write_text(explicit_text(lock), encoding="utf-8")
    outs = []
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        built = _constructor(constructor, src, out, tmp_path / f"cache{n}")
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        outs.append(out)

    lock_urls = sorted(p.url or "" for p in lock.packages)
    lock_fns = sorted(p.fn for p in lock.packages)
    for out in outs:
        lockfile = parse_explicit((out / "lockfile.base.txt").read_text(encoding="utf-8"), "lf")
        assert sorted(p.url or "" for p in lockfile.packages) == lock_urls
        pkgs = (out / "pkg-list.base.txt").read_text(encoding="utf-8").splitlines()[1:]
        assert sorted(pkgs) == lock_fns
    for name in ("pkg-list.base.txt", "lockfile.base.txt"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name

    # what constructor records per package, which the SBOM reads
    info = json.loads((outs[0] / "info.json").read_text(encoding="utf-8"))
    for record in info["_records"]:
        assert {"name", "version", "build", "subdir", "url", "md5", "sha256", "license"} <= set(
            record
        ), record.get("fn")
    by_fn = {p.fn: p.sha256 for p in lock.packages}
    assert {r["fn"]: r["sha256"] for r in info["_records"]} == by_fn

    installer = next(outs[0].glob("*.sh"))
    sbom = write_sbom(installer, host, outs[0], lock=lock)
    assert sbom == installer.with_name(installer.name + ".cdx.json")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = sbom.read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert doc["metadata"]["component"]["name"] == "LockE2E"
    assert sorted(c["name"] for c in doc["components"]) == sorted(p.name for p in lock.packages)
    props = {p["value"] for c in doc["components"] for p in c["properties"]}
    assert props == {"lock"}

    # constructor's own solve (no lock) of the same specs ships the same package set
    solved = tmp_path / "solved"
    solved.mkdir()
    specs = "".join(f"  - {x}\n" for x in json.loads(lock.header["specs"]))
    unlocked = CONSTRUCT_YAML.replace("environment_file: environment.txt\n", "")
    unlocked += f"channels:\n  - {e2e_channel}\nspecs:\n{specs}"
    (solved / "construct.yaml").write_text(unlocked, encoding="utf-8")
    built = _constructor(constructor, solved, tmp_path / "out-solved", tmp_path / "cache1")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    pkgs = (tmp_path / "out-solved" / "pkg-list.base.txt").read_text(encoding="utf-8")
    assert sorted(pkgs.splitlines()[1:]) == lock_fns

    same = [
        a.read_bytes() == b.read_bytes()
        for a, b in zip(sorted(outs[0].glob("*.sh")), sorted(outs[1].glob("*.sh")), strict=True)
    ]
    print(f"installer bytes identical across the two builds: {same}")
