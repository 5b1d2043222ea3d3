"""`build.py matrix`: the CI jobs for the profile, as JSON for GitHub Actions.

Every value comes from the platform table (``orgconda.platforms``) and the profile, so the
installers workflow names no platform and no runner of its own: adding a platform to the
profile adds its jobs. The output is one JSON object::

    {"build":  {"include": [<build entry>, ...]},   # one job per (build host, installer type)
     "verify": {"include": [<verify entry>, ...]},  # one job per platform, on its own runner
     "config_package": true,                        # build the config package once, first
     "locked": false}                               # construct/locks exists: build --locked

Where each installer is built follows constructor's limits (``platforms.TYPE_BUILD_HOSTS``):
a type any host can make (``.sh``) is built for every target of the profile by one job on
the Linux runner (``CROSS_BUILD_HOST``; ``build`` fetches each target's conda-standalone);
a type only one OS can make (``.pkg``, ``.exe``) is built on each target's own runner, with
the conda-standalone installed there (constructor identifies it by running it, which a
foreign binary cannot do), on a runner its verify job needs anyway. Every installer is then
installed and checked by the verify job of its platform, on that platform's runner.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import platforms
from .errors import UsageError
from .profile import Profile, load_profile
from .render import select_platforms

# `build.py verify` runs .pkg installers only with this flag: they install into the real home
# and run conda init, which is fine on a disposable CI runner and nowhere else.
ALLOW_PKG_FLAG = "--allow-pkg"
# The platform whose runner builds the installers any host can build (.sh) for every target.
CROSS_BUILD_HOST = "linux-64"
# `build.py lock` writes <profile dir>/locks/<subdir>.txt; with any there, CI builds --locked.
LOCKS_DIR = "locks"
ARTIFACT_PREFIX = "installers-"


def build_host(installer_type: str, target: str) -> str:
    """The platform whose CI runner builds ``installer_type`` installers for ``target``."""
    allowed = platforms.TYPE_BUILD_HOSTS[installer_type]
    if allowed is None:
        return CROSS_BUILD_HOST
    if platforms.get(target).os not in allowed:  # the platform table allows no such pair
        raise UsageError(f".{installer_type} installers cannot be built for {target}")
    return target


def _job_id(installer_type: str, host: str) -> str:
    # One cross-building job per type needs no platform in its name; native jobs do.
    if platforms.TYPE_BUILD_HOSTS[installer_type] is None:
        return installer_type
    return f"{installer_type}-{host}"


def build_entries(profile: Profile, subdirs: Sequence[str], locked: bool) -> list[dict[str, Any]]:
    """One build job per (host, installer type), in the order the profile first needs them."""
    groups: dict[tuple[str, str], list[str]] = {}
    for subdir in subdirs:
        for kind in profile.installer_types[platforms.get(subdir).os]:
            groups.setdefault((build_host(kind, subdir), kind), []).append(subdir)
    entries = []
    for (host, kind), targets in groups.items():
        job_id = _job_id(kind, host)
        args = [a for t in targets for a in ("--platform", t)]
        args += ["--installer-type", kind, *(["--locked"] if locked else [])]
        entries.append(
            {
                "id": job_id,
                "name": f".{kind} for {', '.join(targets)}",
                "runner": platforms.get(host).ci_runner,
                "host": host,
                "os": platforms.get(host).os,
                "installer_type": kind,
                "platforms": targets,
                "build_args": " ".join(args),
                "artifact": ARTIFACT_PREFIX + job_id,
            }
        )
    return entries


def artifact_pattern(names: Sequence[str]) -> str:
    """A download-artifact `pattern` (a minimatch glob) matching exactly ``names``."""
    if len(names) == 1:
        return names[0]
    return "{" + ",".join(names) + "}"


def verify_entries(
    profile: Profile, subdirs: Sequence[str], builds: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One verify job per platform, on its own runner, naming the build artifacts that hold
    its installers."""
    entries = []
    for subdir in subdirs:
        plat = platforms.get(subdir)
        types = list(profile.installer_types[plat.os])
        artifacts = [b["artifact"] for b in builds if subdir in b["platforms"]]
        entries.append(
            {
                "subdir": subdir,
                "runner": plat.ci_runner,
                "os": plat.os,
                "installer_types": types,
                "artifacts": artifacts,
                "artifact_pattern": artifact_pattern(artifacts),
                "verify_flags": ALLOW_PKG_FLAG if "pkg" in types else "",
            }
        )
    return entries


def locks_dir(profile: Profile) -> Path:
    return profile.base_dir / LOCKS_DIR


def has_locks(profile: Profile) -> bool:
    """Whether the profile has committed locks (`build.py lock`): then CI builds from them."""
    folder = locks_dir(profile)
    return folder.is_dir() and any(p.suffix == ".txt" for p in folder.iterdir())


def matrix_for(
    profile: Profile, only: Sequence[str] = (), locked: bool | None = None
) -> dict[str, Any]:
    """The CI jobs for the profile's platforms (all of them, or ``only`` these).

    ``only`` follows the rules and errors of ``build --platform``; the profile's order is
    kept either way. ``locked`` defaults to whether the profile has committed locks.
    """
    chosen = set(select_platforms(profile, only))
    subdirs = [s for s in profile.platforms if s in chosen]
    locked = has_locks(profile) if locked is None else locked
    builds = build_entries(profile, subdirs, locked)
    return {
        "build": {"include": builds},
        "verify": {"include": verify_entries(profile, subdirs, builds)},
        "config_package": profile.config_package.enabled,
        "locked": locked,
    }


def check_release_tag(profile: Profile, tag: str) -> None:
    """A release tag must be ``v`` + the profile's ``installer.version``.

    The version is not taken from the tag: the committed profile is the whole description
    of a release (checking out the tag and building gives the same names, version and
    installer token), and the installer token derives from the version.
    """
    expected = f"v{profile.version}"
    if tag == expected:
        return
    where = _shown(profile.path)
    if tag.startswith("v") and len(tag) > 1:
        fix = (
            f"tag this commit {expected} instead, or set installer.version: "
            f'"{tag[1:]}" in {where}, commit that, and tag the new commit {tag}'
        )
    else:
        fix = f"release tags are v<installer.version>: tag this commit {expected}"
    raise UsageError(
        f"--release-tag {tag}: does not match installer.version {json.dumps(profile.version)} "
        f"in {where} (expected tag {expected}); {fix}"
    )


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="SUBDIR",
        help="only this platform (repeatable; default: all of the profile's platforms)",
    )
    parser.add_argument(
        "--release-tag",
        metavar="TAG",
        help="the version tag being released: exit 2 unless it is v<installer.version>",
    )
    parser.add_argument(
        "--pretty",
        action="store_true",
        help="indent the JSON (the default is one line, as $GITHUB_OUTPUT needs)",
    )


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile, args.set)
    if args.release_tag is not None:
        check_release_tag(profile, args.release_tag)
    matrix = matrix_for(profile, args.platform)
    print(json.dumps(matrix, indent=2 if args.pretty else None))
    return 0
