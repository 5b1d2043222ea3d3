"""Walk the plan: write build/, run constructor for each installer, check, publish dist/.

Effects only; every decision was made by ``resolve`` and ``plan``. Nothing in dist/ changes
unless every step succeeded: installers are built into ``dist/.staging`` and the
configuration package into ``build/org-config/channel``, and both are moved into place at the
end. Each step's log stays in ``build/<subdir>/constructor.log`` either way.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, render, stage
from .configpkg.channel import channel_tree, index_channel, package_parts, remove_paths
from .errors import BuildError, OrgcondaError
from .plan import InstallerStep, Plan
from .render import RenderedPlatform
from .resolve import CONFIG_CHANNEL, CONFIG_DIR, Resolved
from .runner import Runner
from .stage import sha256_file

if TYPE_CHECKING:
    from .tools import Prepared

MANIFEST = "manifest.json"
STAGING = ".staging"
VERIFY_DIR = "verify"
INSTALLER_EXTS = {"sh": ".sh", "pkg": ".pkg", "exe": ".exe"}
PACKAGE_LISTS = ("lockfile.base.txt", "pkg-list.base.txt")
SBOM_SUFFIX = ".cdx.json"


@dataclass(frozen=True)
class RenderResult:
    rendered: tuple[RenderedPlatform, ...]
    directories: tuple[Path, ...]
    config_channel: Path | None
    schema: Path | None
    seconds: float


def render_to_disk(resolved: Resolved, constructor: Path | None = None) -> RenderResult:
    """Render and check every platform in memory, then write them all (or nothing):
    ``build/<subdir>/`` and, with the configuration package, ``build/org-config/channel/``.
    ``constructor``: the one that will build (its schema checks the rendered files)."""
    start = time.perf_counter()
    schema_path = render.find_construct_schema(constructor)
    schema = render.load_schema(schema_path) if schema_path else None
    rendered = render.render_platforms(resolved, schema)
    trees: dict[str, Mapping[str, str | bytes | Path]] = {r.subdir: r.files for r in rendered}
    if resolved.config_package is not None:
        channel = {
            f"{CONFIG_CHANNEL}/{name}": data
            for name, data in channel_tree(resolved.config_package).items()
        }
        trees[CONFIG_DIR] = channel
    dirs = stage.stage_platforms(trees, resolved.options.build_dir)
    return RenderResult(
        tuple(rendered),
        tuple(dirs[: len(rendered)]),
        resolved.config_channel if resolved.config_package is not None else None,
        schema_path,
        time.perf_counter() - start,
    )


@dataclass
class StepOutcome:
    step: InstallerStep
    seconds: float = 0.0
    error: OrgcondaError | None = None
    installers: list[dict[str, Any]] = field(default_factory=list)


def execute(
    plan: Plan,
    resolved: Resolved,
    runner: Runner,
    *,
    jobs: int,
    prepared: Prepared | None = None,
    on_done: Callable[[StepOutcome], None] | None = None,
) -> list[StepOutcome]:
    """Run every planned installer step (in parallel), check the results, publish dist/.
    ``prepared``: the tools (constructor, each target's conda-standalone, the environment);
    None runs each step's command as planned."""
    if not plan.installers:
        return []
    if plan.config.cache_removals:
        for path in plan.config.cache_removals:
            runner.log(f"removing {path} from constructor's cache (same name, other bytes)")
        remove_paths(list(plan.config.cache_removals))
    staging_root = plan.installers[0].staging_dir.parent
    shutil.rmtree(staging_root, ignore_errors=True)
    staging_root.mkdir(parents=True)

    def one(step: InstallerStep) -> StepOutcome:
        outcome = StepOutcome(step)
        step.log.unlink(missing_ok=True)
        step.staging_dir.mkdir(parents=True, exist_ok=True)
        argv: list[str] = list(step.argv)
        env = None
        if prepared is not None:
            argv[0] = str(prepared.tools.constructor)
            if step.subdir in prepared.conda_exes:
                argv += ["--conda-exe", str(prepared.conda_exes[step.subdir])]
            env = prepared.env
        try:
            label = f"constructor ({step.subdir})"
            result = runner.run(argv, log_path=step.log, env=env, label=label)
            outcome.seconds = result.seconds
        except OrgcondaError as exc:
            outcome.error = exc
        if on_done:
            on_done(outcome)
        return outcome

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            outcomes = list(pool.map(one, plan.installers))
        failed = [o for o in outcomes if o.error is not None]
        if failed:
            text = "\n\n".join(str(o.error) for o in failed)
            raise BuildError(
                f"{len(failed)} of {len(outcomes)} platform build(s) failed; nothing in "
                f"{plan.dist_root} was changed.\n\n{text}"
            )
        for o in outcomes:
            write_sboms(o.step, resolved)
            o.installers = collect_installers(o, plan.dist_root, resolved.expect)
            if not o.installers:
                raise BuildError(
                    f"constructor ({o.step.subdir}) exited 0 but wrote no installer into "
                    f"{o.step.staging_dir}; see {o.step.log}"
                )
            check_package_lists(o.step)
        publish(plan, resolved, outcomes)
        return outcomes
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


def publish(plan: Plan, resolved: Resolved, outcomes: Sequence[StepOutcome]) -> None:
    """Move the installers into dist/<subdir>/, add the configuration package to
    dist/channel/, write the manifest, and drop a verify report of earlier installers."""
    for o in outcomes:
        # constructor leaves an empty tmp/ beside the installers
        tmp = o.step.staging_dir / "tmp"
        if tmp.is_dir() and not any(tmp.iterdir()):
            tmp.rmdir()
    stage.replace_dirs((o.step.staging_dir, o.step.output_dir) for o in outcomes)
    pkg = resolved.config_package
    if pkg is not None and plan.config.action == "write":
        built = resolved.config_channel / "noarch" / pkg.filename
        channel = plan.dist_root / "channel"
        stage.atomic_write_bytes(channel / "noarch" / pkg.filename, built.read_bytes())
        index_channel(channel)
    write_manifest(plan.dist_root, resolved, [i for o in outcomes for i in o.installers])
    shutil.rmtree(plan.dist_root / VERIFY_DIR, ignore_errors=True)


def write_sboms(step: InstallerStep, resolved: Resolved) -> None:
    """A CycloneDX SBOM next to each installer: its packages (from constructor's outputs,
    or the lock it was built from) and the installer itself as the root component."""
    from .sbom import write_sbom

    stamp = os.environ.get("SOURCE_DATE_EPOCH", "")
    timestamp = (
        datetime.datetime.fromtimestamp(int(stamp), datetime.timezone.utc)
        if stamp.isdigit()
        else None
    )
    remap = next(p.channels_remap for p in resolved.platforms if p.subdir == step.subdir)
    for installer in sorted(step.staging_dir.iterdir()):
        if installer.suffix in INSTALLER_EXTS.values() and installer.is_file():
            write_sbom(
                installer,
                step.subdir,
                step.staging_dir,
                lock=resolved.options.locks.get(step.subdir),
                name=resolved.profile.name,
                version=resolved.profile.version,
                timestamp=timestamp,
                remap=remap,
            )


def check_package_lists(step: InstallerStep) -> None:
    """An installer that lists a package twice cannot install ("Duplicate packages found in
    'explicit_packages'"): refuse it instead of publishing it."""
    for name in PACKAGE_LISTS:
        path = step.staging_dir / name
        if not path.is_file():
            continue
        seen: dict[str, str] = {}
        dupes = []
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith(("#", "@")):
                continue
            filename = line.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            parts = package_parts(filename)
            if parts is None:
                continue
            if parts[0] in seen:
                dupes.append(f"{parts[0]}: {seen[parts[0]]} and {line}")
            seen[parts[0]] = line
        if dupes:
            raise BuildError(
                f"constructor ({step.subdir}) made an installer that lists a package twice, "
                f"which cannot install (see {path}):\n  "
                + "\n  ".join(dupes)
                + "\nclear constructor's package cache (`constructor --clean`) and build again"
            )


def collect_installers(
    outcome: StepOutcome, dist_root: Path, expect: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Describe the installers one step produced, with paths as they will be under dist/."""
    step = outcome.step
    files = sorted(p for p in step.staging_dir.iterdir() if p.is_file())
    final = step.output_dir.relative_to(dist_root).as_posix()
    installers = []
    for itype in step.installer_types:
        for p in files:
            if p.suffix != INSTALLER_EXTS[itype]:
                continue
            outputs = [
                f"{final}/{q.name}"
                for q in files
                if q != p and q.suffix not in (".sh", ".pkg", ".exe")
            ]
            sbom = p.with_name(p.name + SBOM_SUFFIX)
            installers.append(
                {
                    "path": f"{final}/{p.name}",
                    "platform": step.subdir,
                    "type": itype,
                    "sha256": sha256_file(p),
                    "size": p.stat().st_size,
                    "seconds": round(outcome.seconds, 1),
                    "outputs": outputs,
                    "sbom": f"{final}/{sbom.name}" if sbom.is_file() else None,
                    "expect": dict(expect),
                }
            )
    return installers


def write_manifest(dist_root: Path, resolved: Resolved, installers: list[dict[str, Any]]) -> Path:
    """dist/manifest.json: this build's installers plus earlier entries for other platforms
    whose files are still there (so building one platform at a time accumulates)."""
    profile = resolved.profile
    path = dist_root / MANIFEST
    built = {i["platform"] for i in installers}
    kept: list[dict[str, Any]] = []
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if old.get("name") == profile.name and old.get("version") == profile.version:
                kept = [
                    i
                    for i in old.get("installers", [])
                    if i.get("platform") not in built and (dist_root / i["path"]).is_file()
                ]
        except (OSError, ValueError, KeyError, TypeError):
            kept = []
    pkg = resolved.config_package
    doc = {
        "format": 1,
        "generator": f"orgconda {__version__}",
        "name": profile.name,
        "version": profile.version,
        "profile": render._rel(profile.path),
        "config_package": (
            {
                "path": f"channel/noarch/{pkg.filename}",
                "sha256": sha256_file(resolved.config_channel / "noarch" / pkg.filename),
            }
            if pkg is not None
            else None
        ),
        "installers": sorted([*kept, *installers], key=lambda i: (i["platform"], i["type"])),
    }
    stage.atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
    return path


def summary_table(outcomes: Sequence[StepOutcome], dist_root: Path) -> str:
    rows = [("installer", "platform", "size", "seconds")]
    for o in outcomes:
        for i in o.installers:
            rows.append((i["path"], i["platform"], _size(i["size"]), f"{i['seconds']:.1f}"))
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    out = []
    for n, r in enumerate(rows):
        out.append(
            "  ".join(r[c].ljust(widths[c]) if c < 2 else r[c].rjust(widths[c]) for c in range(4))
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append(f"manifest: {dist_root / MANIFEST}")
    return "\n".join(out)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))
