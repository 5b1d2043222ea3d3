"""End to end, with real constructor and conda-standalone packages from the channel named by
ORGCONDA_E2E_CHANNEL: provisioning from a Python-only environment, fetching a conda-standalone,
and what constructor does with a conda-standalone it cannot run (and how orgconda fixes it).

Skipped, with the reason, unless ORGCONDA_E2E_CHANNEL names a channel holding constructor and
conda-standalone (README: Developing orgconda)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

from orgconda import platforms
from orgconda.netconfig import NetSettings
from orgconda.standalone import PAYLOAD_NAME, for_constructor, obtain, standalone_for
from orgconda.toolchain import read_pins

CHANNEL = os.environ.get("ORGCONDA_E2E_CHANNEL", "")
HOST = platforms.host_subdir()
NO_CHANNEL = "ORGCONDA_E2E_CHANNEL is not set (a channel with constructor and conda-standalone)"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHANNEL, reason=NO_CHANNEL),
    pytest.mark.skipif(HOST is None, reason="this host is not a conda platform"),
]
PROVISION = """
import json, sys, time
from pathlib import Path
from orgconda.netconfig import NetSettings
from orgconda.provision import provision, tool_sources
from orgconda.toolchain import read_pins
pins, cache, host, channel = read_pins(), Path(sys.argv[1]), sys.argv[2], sys.argv[3]
plan = tool_sources(pins, host=host, channels=[channel], cache_root=cache)
start = time.monotonic()
paths = provision(pins, host=host, channels=[channel], settings=NetSettings(), cache_root=cache)
print(json.dumps({"plan": {k: v.kind for k, v in plan.items()},
                  "seconds": time.monotonic() - start,
                  "constructor": str(paths.constructor),
                  "conda_standalone": str(paths.conda_standalone)}))
"""


def python_only_env(home: Path) -> dict[str, str]:
    """What a machine with only Python has: the interpreter's directory and the system's."""
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
    }


@pytest.fixture(scope="module")
def toolchain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("e2e-provision")
    env = python_only_env(base / "home")
    (base / "home").mkdir()
    assert shutil.which("constructor", path=env["PATH"]) is None, "constructor is on PATH"
    runs = []
    for _ in range(2):  # first run, then warm run
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", PROVISION, str(base / "cache"), str(HOST), CHANNEL],
            env=env, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout.splitlines()[-1])
        result["wall"] = time.monotonic() - start
        runs.append(result)
    print(f"\nprovisioning: first run {runs[0]['wall']:.1f} s, warm run {runs[1]['wall']:.1f} s")
    return {"first": runs[0], "warm": runs[1], "env": env, "base": base}


def test_provisioning_from_python_only_then_constructor_runs(toolchain: dict) -> None:
    first, warm = toolchain["first"], toolchain["warm"]
    assert first["plan"] == {"constructor": "provision", "conda-standalone": "provision"}
    assert warm["plan"] == {"constructor": "cache", "conda-standalone": "cache"}
    assert warm["seconds"] < first["seconds"] / 3  # reused, not rebuilt
    ctor = Path(first["constructor"])
    assert ctor == Path(warm["constructor"])
    pins = read_pins()
    out = subprocess.run([ctor, "--version"], env=toolchain["env"], capture_output=True,
                         text=True, timeout=300, check=True)  # fmt: skip
    assert out.stdout.strip() == f"constructor {pins.constructor}"
    exe = Path(first["conda_standalone"])
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == f"conda {pins.conda_standalone}"
    meta = {p.name for p in (ctor.parent.parent / "conda-meta").glob("*.json")}
    assert any(n.startswith(f"constructor-{pins.constructor}-") for n in meta)
    assert any(n.startswith(f"conda-standalone-{pins.conda_standalone}-") for n in meta)


def test_fetching_a_real_conda_standalone(tmp_path: Path) -> None:
    assert HOST is not None
    source = standalone_for(HOST, [CHANNEL], "==26.7.1", tmp_path, reason="e2e")
    exe = obtain(source, settings=NetSettings(), cache_root=tmp_path)
    assert exe.name == PAYLOAD_NAME
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "conda 26.7.1"
    again = standalone_for(HOST, [CHANNEL], "==26.7.1", tmp_path, reason="e2e")
    assert again.kind == "cache" and again.exe == exe


CONSTRUCT = """name: Probe
version: 1.0.0
channels:
  - {channel}
specs:
  - python 3.11.*
installer_type: sh
"""


def build_and_install(
    toolchain: dict, work: Path, name: str, exe: Path, script_env: dict[str, str]
) -> Path:
    """constructor with ``--conda-exe exe``, then a silent install by a user whose condarc says
    ``always_softlink: true`` (a setting constructor's --no-rc keeps out of the install)."""
    src = work / name
    src.mkdir()
    text = CONSTRUCT.format(channel=CHANNEL)
    if script_env:
        text += "script_env_variables:\n" + "".join(
            f"  {k}: '{v}'\n" for k, v in script_env.items()
        )
    (src / "construct.yaml").write_text(text)
    env = {**toolchain["env"], "CONSTRUCTOR_CACHE": str(work / "ctor-cache")}
    ctor = toolchain["first"]["constructor"]
    subprocess.run([ctor, str(src), "--output-dir", str(work / f"out-{name}"),
                    "--conda-exe", str(exe)], env=env, check=True, capture_output=True,
                   timeout=900)  # fmt: skip
    (installer,) = (work / f"out-{name}").glob("*.sh")
    home = work / f"home-{name}"
    home.mkdir()
    (home / ".condarc").write_text("always_softlink: true\n")
    prefix = work / f"prefix-{name}"
    subprocess.run(["bash", str(installer), "-b", "-p", str(prefix)],
                   env={"PATH": "/usr/bin:/bin", "HOME": str(home)}, check=True,
                   capture_output=True, timeout=900)  # fmt: skip
    return prefix


def dangling(prefix: Path) -> list[Path]:
    return [p for p in prefix.rglob("*") if p.is_symlink() and not p.exists()]


def test_a_conda_standalone_constructor_cannot_run(toolchain: dict, tmp_path: Path) -> None:
    """A conda-standalone constructor cannot run (a foreign one; here the host's own, without
    its execute bit) is not identified: the installer extracts it under its file name and
    runs its install without --no-rc, so the installing user's condarc applies. Named
    ``_conda`` and with CONDA_RESTRICT_RC_SEARCH_PATH=1, the installed prefix is whole."""
    assert HOST is not None
    real = Path(toolchain["first"]["conda_standalone"])
    plain = tmp_path / "as-is" / "conda.exe"
    plain.parent.mkdir()
    shutil.copyfile(real, plain)  # shutil.copyfile: no execute bit
    before = build_and_install(toolchain, tmp_path, "unhandled", plain, {})
    assert (before / "conda.exe").is_file() and (before / "_conda").is_symlink()
    assert len(dangling(before)) > 100  # ~/.condarc's always_softlink linked into pkgs/

    foreign_host = "osx-arm64" if HOST != "osx-arm64" else "linux-64"
    named = tmp_path / "named" / PAYLOAD_NAME
    named.parent.mkdir()
    shutil.copyfile(real, named)
    handling = for_constructor(named, HOST, foreign_host)
    assert handling.foreign
    after = build_and_install(toolchain, tmp_path, "handled", handling.path,
                              dict(handling.script_env))  # fmt: skip
    assert (after / "_conda").is_file() and not (after / "_conda").is_symlink()
    assert not (after / "conda.exe").exists()
    assert dangling(after) == []
