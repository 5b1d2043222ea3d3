"""``python build.py config-package``: build only the configuration package, to publish a
configuration change without rebuilding installers. Needs nothing but Python."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import stage
from ..errors import UsageError
from ..profile import display_path, load_profile
from ..resolve import REPO, RunOptions, resolve
from .channel import index_channel
from .inspect import config_step, constructor_cache_dirs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dist-dir",
        type=Path,
        default=REPO / "dist",
        help="the package goes to DIST/channel/ (default: dist/)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be written, write nothing"
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="do not look the build up in config_package.publish_channel",
    )


def run(args: argparse.Namespace) -> int:
    """Exit codes as for `build`: 2 bad profile, or a build that would give a published name
    other bytes."""
    profile = load_profile(args.profile, args.set)
    if not profile.config_package.enabled:
        raise UsageError(
            f"config_package.enabled is false in {display_path(profile.path)}, so installers do "
            "not carry the package and publishing one would change nothing; set it to true"
        )
    resolved = resolve(profile, (), RunOptions())
    pkg = resolved.config_package
    assert pkg is not None
    step = config_step(
        resolved,
        args.dist_dir,
        cache_dirs=constructor_cache_dirs(),
        check_published=not (args.offline or args.dry_run),
    )
    channel = args.dist_dir / "channel"
    target = channel / "noarch" / pkg.filename
    _say(f"{pkg.name} {pkg.version} {pkg.build_string}: sha256 {step.sha256}")
    if step.published is not None:
        _say(f"publish channel: {step.published.state}: {step.published.detail}")
    if step.action == "reuse":
        _say(
            f"{display_path(target)} already holds this configuration; nothing to write (to "
            "publish a change, change the profile and bump config_package.build_number)"
        )
    elif args.dry_run:
        _say(f"would write {display_path(target)} and index {display_path(channel)}")
        return 0
    else:
        stage.atomic_write_bytes(target, pkg.archive)
        index_channel(channel)
        _say(f"wrote {display_path(target)} and indexed {display_path(channel)}")
    publish = profile.config_package.publish_channel or "your internal channel"
    _say(f"next: upload {display_path(target)} to {publish}")
    _say("(README: Changing configuration on existing installs)")
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stdout, flush=True)
