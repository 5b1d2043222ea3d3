"""What the end-to-end tests share: the channel they build from, and a profile for it.

They run wherever the real tools are: constructor (or a channel to provision it from) and a
channel named by ``ORGCONDA_E2E_CHANNEL`` (``conda-forge`` in CI, a local mirror elsewhere),
and skip with the reason otherwise. No stand-in programs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import default_profile_data, run_build_py, write_profile

CHANNEL_ENV = "ORGCONDA_E2E_CHANNEL"
PYTHON_ENV = "ORGCONDA_E2E_PYTHON"  # optional python constraint the channel can satisfy


def e2e_channel() -> str:
    channel = os.environ.get(CHANNEL_ENV, "").strip()
    if not channel:
        pytest.skip(
            f"{CHANNEL_ENV} is not set: name the channel the e2e tests build from "
            "(conda-forge, or a local mirror URL)"
        )
    return channel


def set_field(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value


def e2e_profile(directory: Path, host: str, **changes: Any) -> Path:
    """The default profile, built from the e2e channel for ``host`` only, with a local
    publish channel (``<directory>/publish``, indexed, empty) that installs read; ``a__b``
    keyword names set ``a.b``."""
    channel = e2e_channel()
    publish = directory / "publish"
    (publish / "noarch").mkdir(parents=True, exist_ok=True)
    index(publish)
    data = default_profile_data()
    data["platforms"] = [host]
    data["channels"] = [channel]
    data["condarc"]["channels"] = [publish.as_uri(), channel]
    data["specs"]["extra"] = []
    python = os.environ.get(PYTHON_ENV)
    set_field(data, "specs.python", python or None)
    data.setdefault("config_package", {})["publish_channel"] = publish.as_uri()
    for key, value in changes.items():
        set_field(data, key.replace("__", "."), value)
    return write_profile(directory, data)


def index(channel: Path) -> None:
    from orgconda.configpkg.channel import index_channel

    index_channel(channel)


def build(profile: Path, work: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_build_py(
        "build",
        "--profile",
        str(profile),
        "--build-dir",
        str(work / "build"),
        "--dist-dir",
        str(work / "dist"),
        *extra,
        timeout=3600,
    )


def verify(dist: Path, report: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_build_py(
        "verify", "--dist", str(dist), "--report-dir", str(report), *extra, timeout=3600
    )


def installer(dist: Path) -> Path:
    manifest = json.loads((dist / "manifest.json").read_text())
    (entry,) = [i for i in manifest["installers"] if i["type"] == "sh"]
    return dist / entry["path"]


def install(sh: Path, prefix: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``bash X.sh -b -p PREFIX`` as a user would, with a throwaway HOME and no conda
    variables of the calling environment."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA", "_CE_", "MAMBA"))}
    env["HOME"] = str(home)
    return subprocess.run(
        ["bash", str(sh), "-b", "-p", str(prefix)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def conda(prefix: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA", "_CE_", "MAMBA"))}
    env["HOME"] = str(home)
    exe = prefix / ("Scripts/conda.exe" if sys.platform == "win32" else "bin/conda")
    return subprocess.run(
        [str(exe), *args], env=env, capture_output=True, text=True, timeout=900, check=False
    )


def listed(prefix: Path, home: Path, name: str) -> dict[str, Any]:
    proc = conda(prefix, home, "list", "-n", "base", "--json", name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (record,) = [p for p in json.loads(proc.stdout) if p["name"] == name]
    return dict(record)
