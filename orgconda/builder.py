"""Effects of `render` and `build`: write build/<subdir>, run constructor, write dist/."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, render, stage
from .errors import BuildError, OrgcondaError
from .plan import BuildStep, Plan
from .profile import Profile
from .render import RenderedPlatform, RenderOptions
from .runner import Runner

MANIFEST = "manifest.json"
STAGING = ".staging"
INSTALLER_EXTS = {"sh": ".sh", "pkg": ".pkg", "exe": ".exe"}


@dataclass(frozen=True)
class RenderResult:
    rendered: tuple[RenderedPlatform, ...]
    directories: tuple[Path, ...]
    schema: Path | None
    seconds: float


def render_to_disk(
    profile: Profile,
    subdirs: Sequence[str],
    build_root: Path,
    options: RenderOptions | None = None,
    extra_files: Mapping[str, Mapping[str, str | Path]] | None = None,
) -> RenderResult:
    """Render and check every platform in memory, then write them all (or nothing)."""
    start = time.perf_counter()
    schema_path = render.find_construct_schema()
    schema = render.load_schema(schema_path) if schema_path else None
    rendered = render.render_platforms(profile, subdirs, options, schema)
    trees: dict[str, dict[str, str | Path]] = {r.subdir: dict(r.files) for r in rendered}
    # extra files join their platform's directory; other keys (build/org-config) are staged
    # as directories of their own, in the same all-or-nothing move
    for key, files in (extra_files or {}).items():
        trees.setdefault(key, {}).update(files)
    dirs = stage.stage_platforms(trees, build_root)[: len(rendered)]
    return RenderResult(tuple(rendered), tuple(dirs), schema_path, time.perf_counter() - start)


@dataclass
class StepOutcome:
    step: BuildStep
    seconds: float = 0.0
    error: OrgcondaError | None = None
    installers: list[dict[str, Any]] = field(default_factory=list)


def execute(
    plan: Plan,
    runner: Runner,
    *,
    jobs: int,
    dist_root: Path,
    expect: Mapping[str, Any],
    profile: Profile,
    on_done: Callable[[StepOutcome], None] | None = None,
) -> list[StepOutcome]:
    """Run every planned constructor command (in parallel), then publish to dist/ atomically.

    Nothing in dist/ changes unless every step succeeded; each step's log stays in
    build/<subdir>/constructor.log either way.
    """
    if not plan.steps:
        return []
    staging_root = plan.steps[0].staging_dir.parent
    shutil.rmtree(staging_root, ignore_errors=True)
    staging_root.mkdir(parents=True)

    def one(step: BuildStep) -> StepOutcome:
        outcome = StepOutcome(step)
        step.log.unlink(missing_ok=True)
        step.staging_dir.mkdir(parents=True, exist_ok=True)
        try:
            result = runner.run(step.argv, log_path=step.log, label=f"constructor ({step.subdir})")
            outcome.seconds = result.seconds
        except OrgcondaError as exc:
            outcome.error = exc
        if on_done:
            on_done(outcome)
        return outcome

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            outcomes = list(pool.map(one, plan.steps))
        failed = [o for o in outcomes if o.error is not None]
        if failed:
            text = "\n\n".join(str(o.error) for o in failed)
            raise BuildError(
                f"{len(failed)} of {len(outcomes)} platform build(s) failed; dist/ was not "
                f"changed.\n\n{text}"
            )
        for o in outcomes:
            o.installers = collect_installers(o, dist_root, expect)
            if not o.installers:
                raise BuildError(
                    f"constructor ({o.step.subdir}) exited 0 but wrote no installer into "
                    f"{o.step.staging_dir}; see {o.step.log}"
                )
        stage.replace_dirs((o.step.staging_dir, o.step.output_dir) for o in outcomes)
        write_manifest(dist_root, profile, [i for o in outcomes for i in o.installers])
        return outcomes
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


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
            installers.append(
                {
                    "path": f"{final}/{p.name}",
                    "platform": step.subdir,
                    "type": itype,
                    "sha256": sha256_file(p),
                    "size": p.stat().st_size,
                    "seconds": round(outcome.seconds, 1),
                    "outputs": outputs,
                    "expect": dict(expect),
                }
            )
    return installers


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(dist_root: Path, profile: Profile, installers: list[dict[str, Any]]) -> Path:
    """dist/manifest.json: this build's installers plus earlier entries for other platforms
    whose files are still there (so building one platform at a time accumulates)."""
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
    doc = {
        "format": 1,
        "generator": f"orgconda {__version__}",
        "name": profile.name,
        "version": profile.version,
        "profile": render._rel(profile.path),
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
