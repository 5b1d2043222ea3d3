"""`build.py diff OLD NEW`: the package changes between two builds or two lock sets.

Per platform: added, removed, upgraded, downgraded (versions compared by conda's rules,
through py-rattler's ``Version``), rebuilt (same version, another build) and changed (same
file, other channel or other checksum: worth a look). Markdown for release notes, or JSON.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError
from .lockfile import Package
from .pkgsets import PackageSet, channel_name, load_package_set

KINDS = ("added", "removed", "upgraded", "downgraded", "rebuilt", "changed")


@dataclass
class PlatformDiff:
    platform: str
    status: str = "both"  # "both", "added" (only in NEW), "removed" (only in OLD)
    changes: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    unchanged: int = 0

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.changes.values())


def _describe(p: Package) -> dict[str, Any]:
    out: dict[str, Any] = {"version": p.version, "build": p.build}
    if p.channel:
        out["channel"] = channel_name(p.channel)
    if p.subdir:
        out["subdir"] = p.subdir
    return out


def _version_order(old: str, new: str) -> int:
    """-1, 0 or 1 as conda orders the versions; plain string order if one does not parse."""
    from rattler import Version

    try:
        a, b = Version(old), Version(new)
    except Exception:
        return (old > new) - (old < new)
    return (a > b) - (a < b)


def _same_file_differs(a: Package, b: Package) -> str | None:
    reasons = []
    if a.channel and b.channel and channel_name(a.channel) != channel_name(b.channel):
        reasons.append("channel")
    if a.sha256 and b.sha256 and a.sha256 != b.sha256:
        reasons.append("sha256")
    elif a.md5 and b.md5 and a.md5 != b.md5 and not (a.sha256 and b.sha256):
        reasons.append("md5")
    return ", ".join(reasons) or None


def diff_platform(platform: str, old: Sequence[Package], new: Sequence[Package]) -> PlatformDiff:
    out = PlatformDiff(platform)
    before = {p.name: p for p in old}
    after = {p.name: p for p in new}
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a is None and b is not None:
            out.changes["added"].append({"name": name, "new": _describe(b)})
            continue
        if b is None and a is not None:
            out.changes["removed"].append({"name": name, "old": _describe(a)})
            continue
        assert a is not None and b is not None
        entry = {"name": name, "old": _describe(a), "new": _describe(b)}
        order = _version_order(a.version, b.version)
        if order < 0:
            out.changes["upgraded"].append(entry)
        elif order > 0:
            out.changes["downgraded"].append(entry)
        elif a.build != b.build:
            out.changes["rebuilt"].append(entry)
        elif reason := _same_file_differs(a, b):
            out.changes["changed"].append({**entry, "differs": reason})
        else:
            out.unchanged += 1
    return out


def diff_sets(old: PackageSet, new: PackageSet) -> list[PlatformDiff]:
    out = []
    for platform in sorted(old.platforms.keys() | new.platforms.keys()):
        d = diff_platform(
            platform, old.platforms.get(platform, ()), new.platforms.get(platform, ())
        )
        if platform not in old.platforms:
            d.status = "added"
        elif platform not in new.platforms:
            d.status = "removed"
        out.append(d)
    return out


def to_json(old: PackageSet, new: PackageSet, diffs: Sequence[PlatformDiff]) -> dict[str, Any]:
    return {
        "format": 1,
        "old": {"label": old.label, "sources": dict(old.sources)},
        "new": {"label": new.label, "sources": dict(new.sources)},
        "changed": any(d.count for d in diffs),
        "platforms": {
            d.platform: {"status": d.status, **d.changes, "unchanged": d.unchanged} for d in diffs
        },
    }


def _cell(side: dict[str, Any] | None, channel: bool) -> str:
    """``version (build)``, and ``[channel]`` where it matters (added, removed, moved)."""
    if side is None:
        return ""
    text = f"{side['version']} ({side['build']})"
    return f"{text} [{side['channel']}]" if channel and side.get("channel") else text


def to_markdown(old: PackageSet, new: PackageSet, diffs: Sequence[PlatformDiff]) -> str:
    lines = [f"## Package changes: {old.label} → {new.label}", ""]
    if not diffs:
        lines.append("No platforms in either input.")
    for d in diffs:
        lines.append(f"### {d.platform}")
        lines.append("")
        if d.status != "both":
            side = "the new" if d.status == "added" else "the old"
            lines += [f"Only in {side} build.", ""]
        if not d.count:
            lines += [f"No package changes ({d.unchanged} packages).", ""]
            continue
        counts = ", ".join(f"{len(d.changes[k])} {k}" for k in KINDS if d.changes[k])
        lines += [f"{counts}; {d.unchanged} unchanged.", ""]
        lines += ["| change | package | old | new |", "|---|---|---|---|"]
        for kind in KINDS:
            for c in d.changes[kind]:
                note = f" ({c['differs']} differs)" if "differs" in c else ""
                was, now = c.get("old"), c.get("new")
                moved = not was or not now or was.get("channel") != now.get("channel")
                old_cell, new_cell = _cell(was, moved), _cell(now, moved)
                lines.append(f"| {kind}{note} | `{c['name']}` | {old_cell} | {new_cell} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "old", type=Path, metavar="OLD", help="a dist/ tree, its manifest.json, or a locks dir"
    )
    parser.add_argument("new", type=Path, metavar="NEW", help="the same kinds of input as OLD")
    parser.add_argument(
        "--format",
        choices=("markdown", "json"),
        default="markdown",
        help="markdown for release notes (default) or json",
    )
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="write here instead of standard output"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def run(args: argparse.Namespace) -> int:
    old, new = load_package_set(args.old), load_package_set(args.new)
    diffs = diff_sets(old, new)
    if args.format == "json":
        text = json.dumps(to_json(old, new, diffs), indent=2) + "\n"
    else:
        text = to_markdown(old, new, diffs)
    if args.output is None:
        print(text, end="")
        return 0
    from .stage import atomic_write_text

    try:
        atomic_write_text(args.output, text)
    except OSError as exc:
        raise UsageError(f"--output {args.output}: cannot write it ({exc})") from None
    print(f"wrote {args.output}")
    return 0
