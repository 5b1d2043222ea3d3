"""Which installers to verify on this host, and what each promises. Pure apart from reading
the manifest and hashing named installers; every problem is a UsageError (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..platforms import BY_SUBDIR, run_blocker
from ..stage import sha256_file as sha256_of
from .expect import Overrides, apply_overrides, from_manifest, from_overrides
from .install import Target

MANIFEST_NAME = "manifest.json"
TYPES_BY_SUFFIX = {".sh": "sh", ".exe": "exe", ".pkg": "pkg"}
PKG_OPT_IN = (
    "a .pkg installs into your real home directory and runs conda init there: "
    "pass --allow-pkg to verify it (meant for disposable CI machines)"
)


@dataclass(frozen=True)
class Skipped:
    installer: str
    reason: str


@dataclass(frozen=True)
class Plan:
    targets: list[Target]
    skipped: list[Skipped] = field(default_factory=list)
    manifest: Path | None = None


def load_manifest(path: Path) -> Mapping[str, Any] | None:
    """The build's manifest, or None when there is none."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(data, Mapping) or data.get("format") != 1:
        raise UsageError(f"{path} is not a format-1 orgconda manifest")
    if not isinstance(data.get("installers"), list):
        raise UsageError(f"{path} has no `installers` list")
    return data


def _entry_fields(entry: Any, index: int, manifest: Path) -> tuple[str, str, str]:
    where = f"{manifest}: installers[{index}]"
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where} is not an object")
    path, kind, platform = entry.get("path"), entry.get("type"), entry.get("platform")
    if not isinstance(path, str) or not path:
        raise UsageError(f"{where} has no `path`")
    if kind not in ("sh", "exe", "pkg"):
        raise UsageError(f"{where}: unknown installer type {kind!r}")
    if platform not in BY_SUBDIR:
        raise UsageError(f"{where}: unknown platform {platform!r}")
    if not isinstance(entry.get("expect"), Mapping):
        raise UsageError(f"{where} has no `expect` object")
    return path, str(kind), str(platform)


def _target_from_entry(
    entry: Mapping[str, Any],
    index: int,
    installer: Path,
    manifest_path: Path,
    manifest: Mapping[str, Any],
    overrides: Overrides,
) -> Target:
    _, kind, platform = _entry_fields(entry, index, manifest_path)
    sha = entry.get("sha256")
    expect = from_manifest(
        entry["expect"],
        sha256=sha if isinstance(sha, str) else None,
        where=f"{manifest_path}: installers[{index}].expect",
    )
    return Target(
        installer=installer,
        installer_type=kind,
        platform=platform,
        name=str(manifest.get("name") or installer.stem),
        expect=apply_overrides(expect, overrides),
    )


def plan_targets(
    *,
    dist: Path,
    installers: Sequence[Path],
    overrides: Overrides,
    host: str | None,
    allow_pkg: bool,
) -> Plan:
    problems = overrides.problems()
    if problems:
        raise UsageError("\n".join(problems))
    manifest_path = dist / MANIFEST_NAME
    manifest = load_manifest(manifest_path)
    if installers:
        return _plan_named(installers, manifest, manifest_path, overrides, host, allow_pkg)
    if manifest is None:
        raise UsageError(
            f"no {manifest_path}: build first (`python build.py build`), point --dist at a "
            "build's output, or name the installer files with --expect-org, "
            "--expect-installer and --locked/--unlocked"
        )
    targets: list[Target] = []
    skipped: list[Skipped] = []
    for index, entry in enumerate(manifest["installers"]):
        rel, kind, platform = _entry_fields(entry, index, manifest_path)
        installer = dist / rel
        blocker = run_blocker(kind, platform, host)
        if blocker is None and kind == "pkg" and not allow_pkg:
            blocker = PKG_OPT_IN
        if blocker is not None:
            skipped.append(Skipped(rel, blocker))
            continue
        if not installer.is_file():
            raise UsageError(f"{manifest_path} lists {rel}, but {installer} does not exist")
        targets.append(
            _target_from_entry(entry, index, installer, manifest_path, manifest, overrides)
        )
    if not targets:
        reasons = "\n".join(f"  - {s.installer}: {s.reason}" for s in skipped) or "  (none)"
        raise UsageError(
            f"nothing in {manifest_path} can be verified on this host ({host}):\n{reasons}"
        )
    return Plan(targets, skipped, manifest_path)


def _plan_named(
    installers: Sequence[Path],
    manifest: Mapping[str, Any] | None,
    manifest_path: Path,
    overrides: Overrides,
    host: str | None,
    allow_pkg: bool,
) -> Plan:
    entries: list[tuple[int, Mapping[str, Any], Path]] = []
    if manifest is not None:
        for index, entry in enumerate(manifest["installers"]):
            rel, _, _ = _entry_fields(entry, index, manifest_path)
            entries.append((index, entry, (manifest_path.parent / rel).resolve()))
    targets = []
    for installer in installers:
        if not installer.is_file():
            raise UsageError(f"installer not found: {installer}")
        kind = TYPES_BY_SUFFIX.get(installer.suffix.lower())
        if kind is None:
            raise UsageError(f"{installer}: not an .sh, .exe or .pkg installer")
        match = _find_entry(installer, entries)
        if match is not None:
            index, entry = match
            target = _target_from_entry(
                entry, index, installer, manifest_path, manifest or {}, overrides
            )
        else:
            target = Target(
                installer=installer,
                installer_type=kind,
                platform=host or "unknown",
                name=installer.name.split("-")[0],
                expect=from_overrides(overrides, str(installer)),
            )
        blocker = run_blocker(target.installer_type, target.platform, host)
        if blocker is None and target.installer_type == "pkg" and not allow_pkg:
            blocker = PKG_OPT_IN
        if blocker is not None:
            raise UsageError(f"{installer}: {blocker}")
        targets.append(target)
    return Plan(targets, [], manifest_path if manifest is not None else None)


def _find_entry(
    installer: Path, entries: Sequence[tuple[int, Mapping[str, Any], Path]]
) -> tuple[int, Mapping[str, Any]] | None:
    """The manifest entry for a named file: the same path, else the same sha256 (a copy)."""
    resolved = installer.resolve()
    for index, entry, path in entries:
        if path == resolved:
            return index, entry
    digest: str | None = None
    for index, entry, _ in entries:
        if isinstance(entry.get("sha256"), str):
            digest = digest or sha256_of(installer)
            if entry["sha256"].lower() == digest:
                return index, entry
    return None
