"""The platform table: the single source of truth for every per-platform fact.

Rendering, build planning, host capability checks and the CI matrix all read this table;
nothing else keeps a list of platforms.
"""

from __future__ import annotations

import platform as _platform
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    subdir: str  # conda subdir, also constructor's --platform value
    os: str  # OS family: linux, osx, win (the profile's installer_types keys)
    selectors: tuple[str, ...]  # constructor selector names true on this platform
    installer_types: tuple[str, ...]  # types constructor can make for it
    default_installer_types: tuple[str, ...]  # used when the profile names none
    hook_ext: str  # "sh" or "bat": which post_install/ scripts it bundles
    ci_runner: str  # GitHub-hosted runner label that builds and verifies it
    installer_suffix: str  # constructor's default file name part, e.g. Linux-x86_64


PLATFORMS: tuple[Platform, ...] = (
    Platform(
        "linux-64",
        "linux",
        ("linux", "unix", "x86_64", "linux64"),
        ("sh",),
        ("sh",),
        "sh",
        "ubuntu-latest",
        "Linux-x86_64",
    ),
    Platform(
        "linux-aarch64",
        "linux",
        ("linux", "unix", "aarch64"),
        ("sh",),
        ("sh",),
        "sh",
        "ubuntu-24.04-arm",
        "Linux-aarch64",
    ),
    Platform(
        "osx-64",
        "osx",
        ("osx", "unix", "x86_64"),
        ("sh", "pkg"),
        ("sh", "pkg"),
        "sh",
        "macos-15-intel",
        "MacOSX-x86_64",
    ),
    Platform(
        "osx-arm64",
        "osx",
        ("osx", "unix", "arm64"),
        ("sh", "pkg"),
        ("sh", "pkg"),
        "sh",
        "macos-latest",
        "MacOSX-arm64",
    ),
    Platform(
        "win-64",
        "win",
        ("win", "win64", "x86_64"),
        ("exe",),
        ("exe",),
        "bat",
        "windows-latest",
        "Windows-x86_64",
    ),
)

BY_SUBDIR: dict[str, Platform] = {p.subdir: p for p in PLATFORMS}
SUBDIRS: tuple[str, ...] = tuple(BY_SUBDIR)
OS_FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(p.os for p in PLATFORMS))
TYPES_BY_OS: dict[str, tuple[str, ...]] = {
    os_: tuple(dict.fromkeys(t for p in PLATFORMS if p.os == os_ for t in p.installer_types))
    for os_ in OS_FAMILIES
}

# Which host OS family can produce each installer type (constructor's own limits):
# .sh for any target on any host (given a conda-standalone for the target), .pkg only on
# macOS (pkgbuild/productbuild), .exe only on Windows (NSIS).
TYPE_BUILD_HOSTS: dict[str, tuple[str, ...] | None] = {
    "sh": None,  # any host
    "pkg": ("osx",),
    "exe": ("win",),
}
# Which host OS family can run (verify) an installer of each type.
TYPE_RUN_HOSTS: dict[str, tuple[str, ...]] = {
    "sh": ("linux", "osx"),
    "pkg": ("osx",),
    "exe": ("win",),
}


def get(subdir: str) -> Platform:
    return BY_SUBDIR[subdir]


def host_subdir(sys_platform: str | None = None, machine: str | None = None) -> str | None:
    """The conda subdir of this host, or None on a host conda does not target."""
    sys_platform = sys.platform if sys_platform is None else sys_platform
    machine = (_platform.machine() if machine is None else machine).lower()
    arch = {"x86_64": "64", "amd64": "64", "aarch64": "aarch64", "arm64": "arm64"}.get(machine)
    if arch is None:
        return None
    if sys_platform.startswith("linux"):
        return "linux-aarch64" if arch in ("aarch64", "arm64") else "linux-64"
    if sys_platform == "darwin":
        return "osx-arm64" if arch in ("aarch64", "arm64") else "osx-64"
    if sys_platform in ("win32", "cygwin"):
        return "win-64" if arch == "64" else None
    return None


def host_os(subdir: str | None) -> str | None:
    return BY_SUBDIR[subdir].os if subdir in BY_SUBDIR else None


def build_blocker(
    installer_type: str, target: str, host: str | None, has_conda_exe: bool
) -> str | None:
    """Why this host cannot build ``installer_type`` for ``target``; None when it can.

    ``has_conda_exe`` says whether a conda-standalone for the target was given with
    ``--conda-exe``. For the host's own subdir constructor uses the conda-standalone
    installed next to it, so none is needed.
    """
    allowed = TYPE_BUILD_HOSTS[installer_type]
    hos = host_os(host)
    if allowed is not None and hos not in allowed:
        where = {"osx": "macOS", "win": "Windows"}
        need = " or ".join(where.get(a, a) for a in allowed)
        return f".{installer_type} installers can only be built on {need} (this host: {host})"
    if target != host and not has_conda_exe:
        return (
            f"cross-building for {target} needs a conda-standalone for it (fetched "
            f"automatically; or pass --conda-exe {target}=PATH/TO/conda.exe)"
        )
    return None


def run_blocker(installer_type: str, target: str, host: str | None) -> str | None:
    """Why this host cannot run (verify) an installer; None when it can."""
    hos = host_os(host)
    if hos not in TYPE_RUN_HOSTS[installer_type]:
        return f".{installer_type} installers cannot run on this host ({host})"
    if target != host and not (target == "osx-64" and host == "osx-arm64"):  # Rosetta 2
        return f"a {target} installer cannot run on this {host} host"
    return None
