"""Plan a build (pure): which installers this host can make, with which command, or why not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import platforms
from .profile import Profile
from .runner import format_command


@dataclass(frozen=True)
class BuildStep:
    subdir: str
    installer_types: tuple[str, ...]
    argv: tuple[str, ...]
    build_dir: Path  # build/<subdir>: the rendered constructor input
    staging_dir: Path  # where constructor writes; moved to output_dir when every step passed
    output_dir: Path  # dist/<subdir>
    log: Path  # build/<subdir>/constructor.log


@dataclass(frozen=True)
class Skip:
    subdir: str
    installer_type: str
    reason: str


@dataclass(frozen=True)
class Plan:
    host: str | None
    steps: tuple[BuildStep, ...]
    skipped: tuple[Skip, ...]

    @property
    def buildable_types(self) -> dict[str, tuple[str, ...]]:
        return {s.subdir: s.installer_types for s in self.steps}

    def describe(self, first: Sequence[str] = ()) -> str:
        """The plan as printed; ``first`` lists steps that run before the installers."""
        lines = [f"Build plan (host: {self.host or 'unknown'}):", *first]
        for s in self.steps:
            types = ", ".join(f".{t}" for t in s.installer_types)
            lines.append(f"  build {s.subdir:<14} {types:<11} $ {format_command(s.argv)}")
        for k in self.skipped:
            lines.append(f"  skip  {k.subdir:<14} .{k.installer_type:<10} {k.reason}")
        if not self.steps:
            lines.append("  (nothing this host can build)")
        return "\n".join(lines)


def plan_build(
    profile: Profile,
    subdirs: Sequence[str],
    *,
    host: str | None,
    conda_exes: Mapping[str, Path],
    build_root: Path,
    dist_root: Path,
    staging_root: Path,
    constructor: str = "constructor",
) -> Plan:
    steps: list[BuildStep] = []
    skipped: list[Skip] = []
    for subdir in subdirs:
        plat = platforms.get(subdir)
        wanted = profile.installer_types[plat.os]
        ok: list[str] = []
        for itype in wanted:
            reason = platforms.build_blocker(itype, subdir, host, subdir in conda_exes)
            if reason is None:
                ok.append(itype)
            else:
                skipped.append(Skip(subdir, itype, reason))
        if not ok:
            continue
        build_dir = build_root / subdir
        staging = staging_root / subdir
        argv = [
            constructor,
            str(build_dir),
            "--platform",
            subdir,
            "--output-dir",
            str(staging),
        ]
        if subdir in conda_exes:
            argv += ["--conda-exe", str(conda_exes[subdir])]
        steps.append(
            BuildStep(
                subdir=subdir,
                installer_types=tuple(ok),
                argv=tuple(argv),
                build_dir=build_dir,
                staging_dir=staging,
                output_dir=dist_root / subdir,
                log=build_dir / "constructor.log",
            )
        )
    return Plan(host=host, steps=tuple(steps), skipped=tuple(skipped))
