"""Read the package sets of a build: constructor's outputs, dist/manifest.json, lock files.

What constructor 3.16.3 writes next to an installer (``build_outputs``; see its
``build_outputs.py``):

- ``info.json``: its whole ``info`` dict. ``_records`` is the base environment, each a conda
  ``PackageRecord`` dump (name, version, build, build_number, channel, subdir, fn, url, md5,
  sha256 when the channel's repodata has it, license, depends ...); ``_all_pkg_records`` the
  package-cache records of every environment (also ``package_tarball_full_path``,
  ``extracted_package_dir``); ``_urls`` ``[url, md5]`` pairs; ``_dists`` the file names in the
  installer; ``_platform``, ``name``, ``version``.
- ``lockfile.base.txt``: ``@EXPLICIT`` with ``url#md5`` lines (source URLs, not remapped).
- ``pkg-list.base.txt``: one file name a line after a ``# <name> <version>, env=base`` line.

Also read: ``conda list --json`` output and explicit files (``conda list --explicit``, locks).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .lockfile import (
    EXPLICIT_MARKER,
    LockError,
    Package,
    package_from_url,
    parse_explicit,
    split_filename,
)

MANIFEST = "manifest.json"
INFO_JSON = "info.json"
_ALIASES = (("https://conda.anaconda.org/", ""), ("https://repo.anaconda.com/", ""))


class InputError(LockError):
    """An input to diff or SBOM is missing or not what it should be (exit code 2)."""


@dataclass(frozen=True)
class PackageSet:
    """The packages of one build or lock set, per platform."""

    label: str
    platforms: Mapping[str, tuple[Package, ...]]
    sources: Mapping[str, str]  # platform -> the file its packages were read from


@dataclass(frozen=True)
class InfoJson:
    """What orgconda reads from constructor's ``info.json``."""

    path: Path
    name: str | None
    version: str | None
    platform: str | None
    records: tuple[Package, ...]  # the base environment
    raw_records: tuple[Mapping[str, Any], ...]  # the same, as constructor dumped them


def channel_name(base_url: str) -> str:
    """conda's canonical channel name: ``conda-forge`` for https://conda.anaconda.org/conda-forge,
    ``pkgs/main`` for https://repo.anaconda.com/pkgs/main, the URL for any other channel."""
    base = base_url.rstrip("/")
    for prefix, replacement in _ALIASES:
        if base.startswith(prefix):
            return replacement + base[len(prefix) :]
    return base


# --- single files -------------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: cannot read it as JSON ({exc})") from None


def record_package(record: Mapping[str, Any], source: str) -> Package:
    """A Package from a conda record dump (info.json, conda-meta/*.json)."""
    url = record.get("url")
    sha256 = record.get("sha256") or None
    md5 = record.get("md5") or None
    lic = record.get("license") or None
    depends = tuple(record.get("depends") or ())
    if isinstance(url, str) and url:
        try:
            return package_from_url(url, sha256=sha256, md5=md5, license=lic, depends=depends)
        except ValueError:
            pass
    try:
        subdir = str(record.get("subdir") or "")
        channel = str(record.get("channel") or "").rstrip("/")
        if subdir and channel.endswith("/" + subdir):
            channel = channel[: -len(subdir) - 1]
        return Package(
            name=str(record["name"]),
            version=str(record["version"]),
            build=str(record.get("build") or record["build_string"]),
            subdir=subdir,
            channel=channel,
            sha256=sha256,
            md5=md5,
            license=lic,
            depends=depends,
        )
    except KeyError as exc:
        raise InputError(f"{source}: a package record has no {exc.args[0]!r}") from None


def parse_info_json(data: Any, path: Path) -> InfoJson:
    if not isinstance(data, dict) or not ("_records" in data or "_urls" in data):
        raise InputError(
            f"{path}: not constructor's info.json (no `_records` or `_urls`); build with "
            "`build_outputs: [info.json]`"
        )
    raw = [r for r in data.get("_records") or () if isinstance(r, dict)]
    if raw:
        packages = [record_package(r, str(path)) for r in raw]
    else:  # only [url, md5] pairs
        packages = []
        for pair in data.get("_urls") or ():
            try:
                packages.append(package_from_url(str(pair[0]), md5=pair[1] or None))
            except (ValueError, IndexError, TypeError):
                raise InputError(f"{path}: `_urls` holds {pair!r}, not [url, md5]") from None
    return InfoJson(
        path=path,
        name=data.get("name"),
        version=data.get("version"),
        platform=data.get("_platform"),
        records=tuple(packages),
        raw_records=tuple(raw),
    )


def read_info_json(path: Path) -> InfoJson:
    return parse_info_json(_load_json(path), path)


def read_pkgs_list(path: Path) -> tuple[Package, ...]:
    """constructor's ``pkg-list.<env>.txt``: file names only (no channel, no checksum)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from None
    out = []
    for number, line in enumerate(lines, 1):
        fn = line.strip()
        if not fn or fn.startswith("#"):
            continue
        try:
            name, version, build = split_filename(fn)
        except ValueError as exc:
            raise InputError(f"{path}: line {number}: {exc}") from None
        out.append(Package(name=name, version=version, build=build, subdir="", channel=""))
    return tuple(out)


def conda_list_packages(data: Any, path: Path) -> tuple[str, tuple[Package, ...]]:
    """``conda list --json`` output: (the environment's platform, its packages)."""
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(f"{path}: not `conda list --json` output (a list of records)")
    out = []
    for r in data:
        try:
            out.append(
                Package(
                    name=str(r["name"]),
                    version=str(r["version"]),
                    build=str(r["build_string"]),
                    subdir=str(r.get("platform") or ""),
                    channel=str(r.get("base_url") or r.get("channel") or "").rstrip("/"),
                )
            )
        except KeyError as exc:
            raise InputError(f"{path}: a record has no {exc.args[0]!r}") from None
    subdirs = sorted({p.subdir for p in out if p.subdir and p.subdir != "noarch"})
    return (subdirs[0] if len(subdirs) == 1 else "unknown"), tuple(out)


# --- constructor's outputs for one installer ----------------------------------------------


def read_outputs(files: Sequence[Path], where: str) -> tuple[tuple[Package, ...], Path]:
    """The packages of one installer from constructor's outputs, best source first:
    info.json (records with checksums and licenses), the lockfile (URLs and md5), the
    package list (file names only)."""
    by_kind: dict[str, Path] = {}
    for f in files:
        if f.name == INFO_JSON:
            by_kind.setdefault("info", f)
        elif f.name.startswith("lockfile.") and f.suffix == ".txt":
            by_kind.setdefault("lockfile", f)
        elif f.name.startswith("pkg-list.") and f.suffix == ".txt":
            by_kind.setdefault("pkgs_list", f)
    if "info" in by_kind:
        return read_info_json(by_kind["info"]).records, by_kind["info"]
    if "lockfile" in by_kind:
        f = by_kind["lockfile"]
        return _read_explicit(f).packages, f
    if "pkgs_list" in by_kind:
        return read_pkgs_list(by_kind["pkgs_list"]), by_kind["pkgs_list"]
    raise InputError(
        f"{where}: none of constructor's package lists (info.json, lockfile.base.txt, "
        "pkg-list.base.txt) is there; build with `build_outputs` info.json, lockfile, pkgs_list"
    )


def _read_explicit(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from None
    return parse_explicit(text, str(path))


# --- whole inputs -------------------------------------------------------------------------


def read_manifest(path: Path) -> PackageSet:
    """``dist/manifest.json``: every installer's platform and constructor outputs."""
    doc = _load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("installers"), list):
        raise InputError(f"{path}: not an orgconda manifest (no `installers` list)")
    root = path.parent
    platforms: dict[str, tuple[Package, ...]] = {}
    sources: dict[str, str] = {}
    for n, entry in enumerate(doc["installers"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("platform"), str):
            raise InputError(f"{path}: installers[{n}] has no `platform`")
        platform = entry["platform"]
        if platform in platforms:  # .sh and .pkg of one platform share one solve
            continue
        outputs = [root / str(o) for o in entry.get("outputs") or ()]
        outputs = [o for o in outputs if o.is_file()]
        where = f"{path}: installers[{n}] ({entry.get('path', platform)})"
        packages, source = read_outputs(outputs, where)
        platforms[platform] = packages
        sources[platform] = str(source)
    label = " ".join(str(doc[k]) for k in ("name", "version") if doc.get(k)) or str(path)
    return PackageSet(label, platforms, sources)


def read_lock_dir(path: Path) -> PackageSet:
    """A directory of explicit files (``construct/locks``): one platform per file."""
    platforms: dict[str, tuple[Package, ...]] = {}
    sources: dict[str, str] = {}
    for f in sorted(path.glob("*.txt")):
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{f}: cannot read it ({exc})") from None
        if EXPLICIT_MARKER not in text.splitlines():
            continue
        parsed = parse_explicit(text, str(f))
        platform = parsed.header.get("platform") or f.stem
        if platform in platforms:
            raise InputError(f"{f}: a second lock for {platform} (also {sources[platform]})")
        platforms[platform] = parsed.packages
        sources[platform] = str(f)
    if not platforms:
        raise InputError(
            f"{path}: neither a dist/ tree (no {MANIFEST}) nor a directory of lock files "
            "(no *.txt with an @EXPLICIT line)"
        )
    return PackageSet(str(path), platforms, sources)


def load_package_set(path: Path) -> PackageSet:
    """A dist/ tree, a manifest.json, a directory of locks, one explicit file,
    constructor's info.json, or ``conda list --json`` output."""
    if path.is_dir():
        if (path / MANIFEST).is_file():
            return read_manifest(path / MANIFEST)
        return read_lock_dir(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.suffix == ".json":
        data = _load_json(path)
        if isinstance(data, dict) and "installers" in data:
            return read_manifest(path)
        if isinstance(data, list):
            platform, packages = conda_list_packages(data, path)
            return PackageSet(str(path), {platform: packages}, {platform: str(path)})
        info = parse_info_json(data, path)
        platform = info.platform or "unknown"
        label = " ".join(x for x in (info.name, info.version) if x) or str(path)
        return PackageSet(label, {platform: info.records}, {platform: str(path)})
    parsed = _read_explicit(path)
    platform = parsed.header.get("platform") or "unknown"
    return PackageSet(str(path), {platform: parsed.packages}, {platform: str(path)})
