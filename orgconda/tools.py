"""The build's tools as steps of the plan: where constructor and each target's
conda-standalone come from (PATH, the cache, a download, ``--conda-exe``), and getting them.

``plan_tools`` only reads PATH and the cache (and asks the host's conda-standalone its
version), so ``--dry-run`` downloads and provisions nothing; ``prepare_tools`` does the work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import platforms
from .condafetch import default_cache_dir
from .errors import MissingToolError
from .netconfig import NetSettings, load_settings, resolve_channels
from .progress import Progress
from .provision import ToolPaths, ToolSource, provision, tool_sources
from .runner import INSTALL_HINTS, Runner
from .standalone import (
    NO_RC_ENV,
    StandaloneSource,
    for_constructor,
    host_version,
    obtain,
    plan_standalones,
)
from .toolchain import Pins, read_pins


@dataclass(frozen=True)
class ToolPlan:
    host: str | None
    pins: Pins
    sources: Mapping[str, ToolSource]  # "constructor", "conda-standalone"
    standalones: Mapping[str, StandaloneSource]  # per target that needs its own
    settings: NetSettings
    channels: tuple[str, ...]  # URLs the tools come from
    cache_root: Path

    @property
    def constructor(self) -> Path | None:
        """constructor when it is already there (PATH or an earlier provisioning)."""
        source = self.sources["constructor"]
        return source.path if source.kind in ("path", "cache") else None

    @property
    def foreign(self) -> frozenset[str]:
        """Targets whose conda-standalone constructor cannot run on this host."""
        return frozenset(s for s in self.standalones if s != self.host)

    def script_env(self, subdir: str) -> Mapping[str, str]:
        """What a target's installer must export for its conda-standalone (see
        ``standalone.for_constructor``)."""
        return NO_RC_ENV if subdir in self.foreign else {}

    def lines(self) -> list[str]:
        out = [self.sources[t].describe() for t in ("constructor", "conda-standalone")]
        out += [f"network: {line}" for line in self.settings.describe()]
        return out


def plan_tools(
    subdirs: Sequence[str],
    sh_targets: Sequence[str],
    *,
    host: str | None,
    channels: Sequence[str],
    flags: Mapping[str, Path],
    profile_constraint: str | None,
    allow_provision: bool,
    offline: bool,
    runner: Runner,
) -> ToolPlan:
    """``sh_targets``: the selected platforms with a .sh installer wanted (the only type built
    for another platform)."""
    pins = read_pins()
    found = _on_path("constructor")
    settings = load_settings(root_prefix=found.resolve().parent.parent if found else None)
    urls = tuple(resolve_channels(channels, settings))
    cache_root = default_cache_dir()
    sources = tool_sources(
        pins,
        host=host or "unknown",
        channels=urls,
        cache_root=cache_root,
        allow_provision=allow_provision and host is not None,
    )
    targets = [s for s in subdirs if s in flags or (s in sh_targets and s != host)]
    version = None
    if any(t not in flags for t in targets) and not profile_constraint:
        # ask the host's conda-standalone its version only when a fetch follows it
        exe = sources["conda-standalone"]
        version = host_version(exe.kind, exe.path, pins.conda_standalone, runner)
    standalones = plan_standalones(
        targets,
        host=host,
        channels=urls,
        cache_root=cache_root,
        profile_constraint=profile_constraint,
        host_version=version,
        pinned=pins.conda_standalone,
        flags=flags,
        offline=offline or settings.offline,
    )
    return ToolPlan(host, pins, sources, standalones, settings, urls, cache_root)


@dataclass(frozen=True)
class Prepared:
    tools: ToolPaths
    conda_exes: Mapping[str, Path]  # per target: the file constructor gets as --conda-exe
    env: Mapping[str, str]  # constructor's environment


def prepare_tools(plan: ToolPlan, runner: Runner, *, locked: bool) -> Prepared:
    """Provision the toolchain if it is missing, fetch every target's conda-standalone."""
    source = plan.sources["constructor"]
    if source.kind == "missing":
        raise MissingToolError(f"`constructor` was not found.\n{INSTALL_HINTS['constructor']}")
    progress = Progress()
    if source.kind == "path" and source.path is not None:
        tools = ToolPaths.on_path(source.path)
    else:
        if plan.host is None:
            raise MissingToolError("this host is not a conda platform; install constructor")
        runner.log(f"provisioning constructor {plan.pins.constructor} with py-rattler ...")
        tools = provision(
            plan.pins,
            host=plan.host,
            channels=plan.channels,
            settings=plan.settings,
            cache_root=plan.cache_root,
            progress=progress,
        )
        runner.log(f"toolchain ready in {tools.seconds:.1f} s: {tools.constructor}")
    exes: dict[str, Path] = {}
    for subdir, standalone in plan.standalones.items():
        path = obtain(
            standalone, settings=plan.settings, cache_root=plan.cache_root, progress=progress
        )
        exes[subdir] = for_constructor(path, subdir, plan.host).path
    env = tools.env(os.environ)
    if locked and plan.foreign:
        # constructor solves an environment_file with $CONDA_EXE, falling back to its own
        # conda-standalone only for the host's platform
        env["CONDA_EXE"] = str(tools.conda_standalone)
    return Prepared(tools, exes, env)


def _on_path(name: str) -> Path | None:
    import shutil

    found = shutil.which(name)
    return Path(found) if found else None


def sh_targets(profile_types: Mapping[str, Sequence[str]], subdirs: Sequence[str]) -> list[str]:
    return [s for s in subdirs if "sh" in profile_types[platforms.get(s).os]]
