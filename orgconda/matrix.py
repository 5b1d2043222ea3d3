"""`build.py matrix`: the CI matrix for the profile, as JSON for GitHub Actions.

One entry per platform of the profile, in the profile's order, every value read from the
platform table (``orgconda.platforms``) and the profile. The installers workflow feeds the
output to ``strategy.matrix`` with ``fromJSON``, so the workflow itself names no platform
and no runner label: adding a platform to the profile adds a CI job.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from . import platforms
from .profile import Profile, load_profile
from .render import select_platforms

# `build.py verify` runs .pkg installers only with this flag: they install into the real home
# and run conda init, which is fine on a disposable CI runner and nowhere else.
ALLOW_PKG_FLAG = "--allow-pkg"


def matrix_entry(profile: Profile, subdir: str) -> dict[str, Any]:
    """The matrix row that builds and verifies ``subdir``'s installers on its own runner."""
    plat = platforms.get(subdir)
    types = list(profile.installer_types[plat.os])
    return {
        "platform": plat.subdir,
        "subdir": plat.subdir,
        "runner": plat.ci_runner,
        "os": plat.os,
        "installer_types": types,
        "verify_flags": ALLOW_PKG_FLAG if "pkg" in types else "",
    }


def matrix_for(profile: Profile, only: Sequence[str] = ()) -> dict[str, Any]:
    """The GitHub Actions matrix (``{"include": [...]}``) for the profile's platforms.

    ``only`` narrows it to some of the profile's platforms (same rules and errors as
    ``build --platform``); the profile's order is kept either way.
    """
    chosen = set(select_platforms(profile, only))
    return {"include": [matrix_entry(profile, s) for s in profile.platforms if s in chosen]}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="SUBDIR",
        help="only this platform (repeatable; default: all of the profile's platforms)",
    )
    parser.add_argument(
        "--pretty",
        action="store_true",
        help="indent the JSON (the default is one line, as $GITHUB_OUTPUT needs)",
    )


def run(args: argparse.Namespace) -> int:
    matrix = matrix_for(load_profile(args.profile, args.set), args.platform)
    print(json.dumps(matrix, indent=2 if args.pretty else None))
    return 0
