"""Decide the configuration package's step of a build by looking at where it lives:
``dist/channel/``, the publish channel and constructor's package cache (reads only)."""

from __future__ import annotations

import os
from pathlib import Path

from ..plan import ConfigStep
from ..profile import profile_error
from ..resolve import Resolved
from .channel import cache_conflicts, local_conflicts, published_status, sha256_bytes

CACHE_ENV = "CONSTRUCTOR_CACHE"


def constructor_cache_dirs(environ: dict[str, str] | None = None) -> tuple[Path, ...]:
    """constructor's package cache: $CONSTRUCTOR_CACHE, else ~/.conda/constructor (its
    default in 3.16); each holds one folder per platform."""
    env = os.environ if environ is None else environ
    return (Path(env.get(CACHE_ENV) or "~/.conda/constructor").expanduser(),)


def config_step(
    resolved: Resolved,
    dist_root: Path,
    *,
    cache_dirs: tuple[Path, ...],
    check_published: bool,
) -> ConfigStep:
    """write / reuse / skip, with the reason; ProfileError when the build would give a
    published name other bytes."""
    pkg = resolved.config_package
    if pkg is None:
        return ConfigStep("skip", resolved.config_reason)
    profile = resolved.profile
    sha = sha256_bytes(pkg.archive)
    same, problems = local_conflicts(pkg, sha, dist_root / "channel")
    published = None
    if check_published:
        published = published_status(pkg, sha, profile.config_package.publish_channel)
        if published.state == "different":
            problems.append(published.detail)
    if problems:
        field = ("config_package", "build_number")
        raise profile_error(profile, [(field, p) for p in problems])
    if same is not None:
        action, reason = "reuse", f"{same} holds these exact bytes (sha256 {sha})"
    else:
        action, reason = "write", f"new in {dist_root / 'channel'}: sha256 {sha}"
    return ConfigStep(
        action=action,
        reason=reason,
        filename=pkg.filename,
        sha256=sha,
        published=published,
        cache_removals=tuple(cache_conflicts(pkg, sha, list(cache_dirs))),
        cache_dirs=cache_dirs,
    )
