"""Where the configuration package lives: the local channel ``dist/channel/``, the
organization's publish channel, and constructor's package cache.

A published build must never change: one name, one sha256. These functions look at each
place and say what the build should do (reuse, write, refuse, clean), with the reason.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from ..lockfile import PACKAGE_EXTS, split_filename
from ..stage import sha256_file
from .package import ConfigPackage

PUBLISHED_TIMEOUT = 10.0


@dataclass(frozen=True)
class Build:
    version: str
    build_string: str
    build_number: int
    path: Path


def package_parts(filename: str) -> tuple[str, str, str] | None:
    """(name, version, build) of a package file name, or None for other files."""
    try:
        return split_filename(filename)
    except ValueError:
        return None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def existing_builds(channel: Path, name: str) -> list[Build]:
    """Every build of ``name`` in the channel's noarch folder."""
    out: list[Build] = []
    noarch = channel / "noarch"
    if not noarch.is_dir():
        return out
    for path in sorted(noarch.iterdir()):
        parts = package_parts(path.name)
        if parts is None or parts[0] != name:
            continue
        number = parts[2].rsplit("_", 1)[-1]
        if number.isdigit():
            out.append(Build(parts[1], parts[2], int(number), path))
    return out


def local_conflicts(
    pkg: ConfigPackage, sha256: str, channel: Path
) -> tuple[Path | None, list[str]]:
    """(the identical file already in ``channel`` or None, problems that forbid this build).

    Refused: the same file name with other bytes, the same version and build number with
    another configuration, a higher build number of the same version (installs that have it
    would never take this one)."""
    same: Path | None = None
    problems: list[str] = []
    for b in existing_builds(channel, pkg.name):
        if b.version != pkg.version:
            continue
        if b.path.name == pkg.filename:
            found = sha256_file(b.path)
            if found == sha256:
                same = b.path
            else:
                problems.append(
                    f"{b.path} has the name of this build but other bytes (sha256 {found}; "
                    f"this profile makes {sha256}), perhaps from an older orgconda; a name "
                    "that may have been published must never change: bump "
                    f"config_package.build_number to {b.build_number + 1}, or delete the file "
                    "if it was never uploaded"
                )
        elif b.build_number == pkg.build_number and b.build_string != pkg.build_string:
            problems.append(
                f"{b.path} is build {b.build_number} of {pkg.version} with a different "
                "configuration; a build that may have been published must never change: set "
                f"config_package.build_number to {b.build_number + 1} (or delete that file if "
                "it was never uploaded)"
            )
        elif b.build_number > pkg.build_number:
            problems.append(
                f"{b.path} is build {b.build_number} of {pkg.version}, newer than build "
                f"{pkg.build_number}: installs that have it would never take this one; set "
                f"config_package.build_number to {b.build_number + 1}"
            )
    return same, list(dict.fromkeys(problems))


def index_channel(channel: Path) -> None:
    """(Re)write the channel's repodata.json with py-rattler's indexer (noarch and any
    platform folders present)."""
    import asyncio

    from rattler.index import index_fs

    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))


def channel_tree(pkg: ConfigPackage) -> dict[str, bytes]:
    """A one-package channel holding ``pkg``, indexed, as ``{relative path: bytes}`` (for
    staging ``build/org-config/channel/`` with the platforms, all or nothing)."""

    with tempfile.TemporaryDirectory(prefix="orgconda-channel-") as tmp:
        channel = Path(tmp)
        (channel / "noarch").mkdir()
        (channel / "noarch" / pkg.filename).write_bytes(pkg.archive)
        index_channel(channel)
        return {
            p.relative_to(channel).as_posix(): p.read_bytes()
            for p in sorted(channel.rglob("*"))
            if p.is_file()
        }


def _record(repodata: Any, filename: str) -> dict[str, Any] | None:
    if not isinstance(repodata, dict):
        return None
    for key in ("packages.conda", "packages"):
        record = (repodata.get(key) or {}).get(filename)
        if isinstance(record, dict):
            return record
    return None


@dataclass(frozen=True)
class Published:
    """What the publish channel holds under this build's name."""

    state: str  # absent | same | different | unreachable | unchecked
    detail: str
    sha256: str | None = None


def published_status(
    pkg: ConfigPackage, sha256: str, channel_url: str | None, timeout: float = PUBLISHED_TIMEOUT
) -> Published:
    """Look the build up in the publish channel's noarch repodata (network or file://)."""
    if not channel_url:
        return Published("unchecked", "no config_package.publish_channel")
    host = urlparse(channel_url).hostname or ""
    if host == "example" or host.endswith(".example"):
        return Published(
            "unchecked", f"{channel_url} is an example address (replace it in the profile)"
        )
    url = channel_url.rstrip("/") + "/noarch/repodata.json"
    try:
        repodata = _fetch_json(url, timeout)
    except (OSError, ValueError, urllib.error.URLError) as exc:
        return Published("unreachable", f"{url}: {exc}")
    record = _record(repodata, pkg.filename)
    if record is None:
        return Published("absent", f"{pkg.filename} is not in {channel_url} yet: upload it")
    theirs = str(record.get("sha256") or "")
    if theirs == sha256:
        return Published("same", f"{channel_url} already has these exact bytes", theirs)
    return Published(
        "different",
        f"{channel_url} publishes {pkg.filename} with sha256 {theirs or '(none recorded)'}, "
        f"but this profile makes sha256 {sha256}: the configuration (or orgconda) changed "
        "since it was published; bump config_package.build_number",
        theirs,
    )


def _fetch_json(url: str, timeout: float) -> Any:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return json.loads(Path(url2pathname(parsed.path)).read_text(encoding="utf-8"))
    request = urllib.request.Request(url, headers={"User-Agent": "orgconda"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def cache_conflicts(pkg: ConfigPackage, sha256: str, cache_dirs: list[Path]) -> list[Path]:
    """Entries of constructor's package cache under this build's name with other bytes
    (an archive, and the folder extracted from it). constructor would list both the cached
    and the new file in the installer, which then cannot install."""
    stem = pkg.filename.removesuffix(".conda")
    out: list[Path] = []
    for cache in cache_dirs:
        if not cache.is_dir():
            continue
        for folder in sorted(p for p in cache.iterdir() if p.is_dir()):
            for ext in PACKAGE_EXTS:
                archive = folder / f"{stem}{ext}"
                if archive.is_file() and (ext != ".conda" or sha256_file(archive) != sha256):
                    out.append(archive)
            extracted = folder / stem
            record = extracted / "info" / "repodata_record.json"
            if extracted.is_dir() and _recorded_sha(record) != sha256:
                out.append(extracted)
    return list(dict.fromkeys(out))


def _recorded_sha(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("sha256") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def remove_paths(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
