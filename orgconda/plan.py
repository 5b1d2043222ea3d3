"""The build plan: every step as data, in order (pure).

render -> configuration package (write, reuse or skip, with the reason) -> each installer
(or why this host cannot build it) -> check the installers -> publish dist/ and the manifest.
``--dry-run`` prints exactly this plan; ``orgconda.execute`` walks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import platforms
from .configpkg.channel import Published
from .profile import Profile
from .runner import format_command

if TYPE_CHECKING:
    from .standalone import StandaloneSource


@dataclass(frozen=True)
class ConfigStep:
    """What happens to the configuration package in this build."""

    action: str  # write | reuse | skip
    reason: str
    filename: str | None = None
    sha256: str | None = None
    published: Published | None = None
    cache_removals: tuple[Path, ...] = ()  # constructor-cache entries with other bytes
    cache_dirs: tuple[Path, ...] = ()

    def lines(self) -> list[str]:
        out = [
            f"config    {self.action:<6} {self.filename or ''}".rstrip(),
            f"          {self.reason}",
        ]
        if self.published is not None:
            out.append(
                f"          publish channel: {self.published.state}: {self.published.detail}"
            )
        if self.cache_removals:
            for path in self.cache_removals:
                out.append(f"          remove from constructor's cache (other bytes): {path}")
        elif self.action != "skip" and self.cache_dirs:
            where = ", ".join(str(d) for d in self.cache_dirs)
            out.append(f"          constructor's cache ({where}): no other file under this name")
        return out


@dataclass(frozen=True)
class InstallerStep:
    subdir: str
    installer_types: tuple[str, ...]
    argv: tuple[str, ...]
    build_dir: Path  # build/<subdir>: the rendered constructor input
    staging_dir: Path  # where constructor writes; moved to output_dir when every step passed
    output_dir: Path  # dist/<subdir>
    log: Path  # build/<subdir>/constructor.log
    conda_exe_source: str = "the conda-standalone installed beside constructor"
    own_conda_exe: bool = False  # --conda-exe <this target's conda-standalone> (execute adds it)

    def shown(self) -> str:
        extra = [f"<conda-standalone {self.subdir}>"] if self.own_conda_exe else []
        return format_command([*self.argv, *(["--conda-exe", *extra] if extra else [])])


@dataclass(frozen=True)
class Skip:
    subdir: str
    installer_type: str
    reason: str


@dataclass(frozen=True)
class Plan:
    host: str | None
    render_dirs: tuple[Path, ...]
    config: ConfigStep
    installers: tuple[InstallerStep, ...]
    skipped: tuple[Skip, ...]
    dist_root: Path
    tools: tuple[str, ...] = field(default_factory=tuple)  # where each tool comes from

    @property
    def buildable_types(self) -> dict[str, tuple[str, ...]]:
        return {s.subdir: s.installer_types for s in self.installers}

    def describe(self) -> str:
        """The plan as printed by ``build`` (and alone by ``build --dry-run``)."""
        lines = [f"Build plan (host: {self.host or 'unknown'}):"]
        lines += [f"tool      {t}" for t in self.tools]
        shown = ", ".join(_rel(d) for d in self.render_dirs)
        lines.append(f"render    {shown}")
        lines += self.config.lines()
        for s in self.installers:
            types = ", ".join(f".{t}" for t in s.installer_types)
            lines.append(f"build     {s.subdir:<14} {types:<11} $ {s.shown()}")
            lines.append(f"          conda-standalone: {s.conda_exe_source}")
        for k in self.skipped:
            lines.append(f"skip      {k.subdir:<14} .{k.installer_type:<10} {k.reason}")
        if not self.installers:
            lines.append("          (nothing this host can build)")
        else:
            lines.append("check     each installer's package list: one build per package name")
            lines.append("sbom      <installer>.cdx.json beside each installer (CycloneDX)")
            published = [_rel(s.output_dir) for s in self.installers]
            if self.config.action != "skip":
                published.append(_rel(self.dist_root / "channel"))
            lines.append(
                f"publish   {', '.join(published)}, {_rel(self.dist_root / 'manifest.json')}"
            )
        return "\n".join(lines)


def installer_steps(
    profile: Profile,
    subdirs: Sequence[str],
    *,
    build_root: Path,
    host: str | None,
    standalones: Mapping[str, StandaloneSource],
    dist_root: Path,
    staging_root: Path,
    wanted_types: Sequence[str] = (),
    constructor: str = "constructor",
) -> tuple[tuple[InstallerStep, ...], tuple[Skip, ...]]:
    """Which installers this host can make, with which command, or why not."""
    steps: list[InstallerStep] = []
    skipped: list[Skip] = []
    for subdir in subdirs:
        plat = platforms.get(subdir)
        ok: list[str] = []
        for itype in profile.installer_types[plat.os]:
            if wanted_types and itype not in wanted_types:
                skipped.append(Skip(subdir, itype, "not asked for (--installer-type)"))
                continue
            reason = platforms.build_blocker(itype, subdir, host, subdir in standalones)
            if reason is None:
                ok.append(itype)
            else:
                skipped.append(Skip(subdir, itype, reason))
        if not ok:
            continue
        build_dir = build_root / subdir
        staging = staging_root / subdir
        argv = [constructor, str(build_dir), "--platform", subdir, "--output-dir", str(staging)]
        own = standalones.get(subdir)
        source = own.describe() if own else "the conda-standalone installed beside constructor"
        steps.append(
            InstallerStep(
                subdir=subdir,
                installer_types=tuple(ok),
                argv=tuple(argv),
                build_dir=build_dir,
                staging_dir=staging,
                output_dir=dist_root / subdir,
                log=build_dir / "constructor.log",
                conda_exe_source=source,
                own_conda_exe=own is not None,
            )
        )
    return tuple(steps), tuple(skipped)


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
