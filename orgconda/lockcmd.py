"""`build.py lock`: solve every platform of the profile and write ``locks/<subdir>.txt``.

The API for ``build --locked`` is ``current_lock`` (read a platform's lock and refuse it
when the profile changed since it was written) plus ``lockfile.explicit_text``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from . import lock
from .errors import UsageError
from .lockfile import Lock, LockError, lock_path, read_lock
from .profile import Profile, load_profile
from .render import select_platforms


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="SUBDIR",
        help="only this platform (repeatable; default: all of the profile's platforms)",
    )
    parser.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="URL",
        help="solve against these channels instead of the profile's (repeatable); the lock "
        "records the override, and `build --locked` then needs the same --channel",
    )
    parser.add_argument(
        "--virtual-package",
        action="append",
        default=[],
        metavar="[SUBDIR:]NAME=VERSION[=BUILD]",
        help="the system a platform's lock assumes, e.g. __glibc=2.17 or osx-64:__osx=11.0 "
        "(repeatable; defaults: see README)",
    )
    parser.add_argument(
        "--locks-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the locks go (default: locks/ next to the profile)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="solve nothing: check that every selected platform's lock exists and is current "
        "for the profile (exit 2 when not)",
    )


def current_lock(
    profile: Profile,
    subdir: str,
    channels: Sequence[str] = (),
    locks_dir: Path | None = None,
) -> Lock:
    """The lock ``build --locked`` builds ``subdir`` from; LockError (exit 2) naming the lock
    file and `python build.py lock` when it is missing, malformed or out of date."""
    found = read_lock(lock_path(profile.path, subdir, locks_dir))
    problem = lock.lock_problem(found, profile, subdir, channels)
    if problem:
        raise LockError(problem)
    return found


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile, args.set)
    subdirs = select_platforms(profile, args.platform)
    bad = [c for c in args.channel if not c.strip() or any(ch.isspace() for ch in c)]
    if bad:
        raise UsageError(f"--channel {bad[0]!r}: give a channel URL or name without spaces")
    if args.check:
        return _check(profile, subdirs, args)
    vps = lock.parse_virtual_packages(args.virtual_package, subdirs)
    inputs = [lock.solve_inputs(profile, s, args.channel, vps[s]) for s in subdirs]
    channels = ", ".join(inputs[0].solve_channels)
    print(f"solving {len(inputs)} platform(s) with {lock.solver_version()} from {channels}")
    solved, seconds = lock.timed_solve(inputs)
    texts = {
        lock_path(profile.path, i.subdir, args.locks_dir): lock.lock_text(
            i, solved[i.subdir], profile
        )
        for i in inputs
    }
    states = lock.write_locks(texts)
    for i, (path, state) in zip(inputs, states.items(), strict=True):
        print(f"{_rel(path)}: {len(solved[i.subdir])} packages ({state})")
    print(f"solved in {seconds:.1f} s; commit the lock files and review their changes")
    return 0


def _check(profile: Profile, subdirs: Sequence[str], args: argparse.Namespace) -> int:
    problems = []
    for s in subdirs:
        try:
            found = current_lock(profile, s, args.channel, args.locks_dir)
        except LockError as exc:
            problems.append(str(exc))
            continue
        print(f"{_rel(found.path)}: current ({len(found.packages)} packages)")
    if problems:
        raise LockError("\n".join(problems))
    return 0


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
