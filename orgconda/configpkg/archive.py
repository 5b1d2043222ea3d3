"""Write the configuration package as a byte-reproducible ``.conda`` archive.

Why not conda-build or rattler-build: conda-build stamps the build time into ``index.json``
and the archive, and its prefix placeholder names a timestamped build folder; rattler-build's
recipe builds do the same, and its package assembler is reproducible but records only a
random temporary folder as the placeholder. This package must be both reproducible (one
configuration, one sha256, on any machine and any day: a published name must never carry other
bytes) and relocatable (conda writes the install prefix into ``ssl_verify``). So it is written
here, to the ``.conda`` format conda itself reads (an uncompressed zip holding
``metadata.json`` and two zstd-compressed tar streams, ``pkg-*`` and ``info-*``), with every
variable part fixed: sorted members, one mtime, owner 0/0 with no names, mode 0644, zip entries
dated 1980-01-01, single-threaded zstd at a fixed level. ``info/paths.json`` records conda's
own text placeholder for the files that carry it. Tests read the result back with py-rattler,
and the e2e tests install it with conda and with constructor's conda-standalone.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import zstandard

from ..stage import atomic_write_bytes
from .package import ConfigPackage, PackageFile

MTIME = 315_532_800  # 1980-01-01T00:00:00Z: the earliest time a zip entry can carry
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZSTD_LEVEL = 19
CONDA_FORMAT_VERSION = 2


def index_json(pkg: ConfigPackage) -> dict[str, object]:
    return {
        "arch": None,
        "build": pkg.build_string,
        "build_number": pkg.build_number,
        "depends": [],
        "license": "LicenseRef-organization-configuration",
        "name": pkg.name,
        "noarch": "generic",
        "platform": None,
        "subdir": "noarch",
        "version": pkg.version,
    }


def paths_json(files: Mapping[str, PackageFile]) -> dict[str, object]:
    entries = []
    for path, f in sorted(files.items()):
        entry: dict[str, object] = {
            "_path": path,
            "path_type": "hardlink",
            "sha256": f.sha256,
            "size_in_bytes": len(f.data),
        }
        if f.placeholder is not None:
            entry["file_mode"] = "text"
            entry["prefix_placeholder"] = f.placeholder
        entries.append(entry)
    return {"paths": entries, "paths_version": 1}


def info_files(pkg: ConfigPackage) -> dict[str, bytes]:
    """The ``info/`` members: index.json, paths.json, about.json, and the legacy ``files``
    and ``has_prefix`` lists older tools read."""
    out = {
        "info/index.json": _json(index_json(pkg)),
        "info/paths.json": _json(paths_json(pkg.files)),
        "info/about.json": _json(dict(pkg.about)),
        "info/files": "".join(f"{p}\n" for p in sorted(pkg.files)).encode("utf-8"),
    }
    prefixed = [(p, f.placeholder) for p, f in sorted(pkg.files.items()) if f.placeholder]
    if prefixed:
        out["info/has_prefix"] = "".join(f"{ph} text {p}\n" for p, ph in prefixed).encode()
    return out


def archive_bytes(pkg: ConfigPackage) -> bytes:
    """The whole ``.conda`` file, deterministically (made anew on every call; a build reuses
    ``ConfigPackage.archive``)."""
    stem = pkg.filename.removesuffix(".conda")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        _add(zf, "metadata.json", _json({"conda_pkg_format_version": CONDA_FORMAT_VERSION}))
        payload = {path: f.data for path, f in pkg.files.items()}
        _add(zf, f"pkg-{stem}.tar.zst", _tar_zst(payload.items()))
        _add(zf, f"info-{stem}.tar.zst", _tar_zst(info_files(pkg).items()))
    return buffer.getvalue()


def write_package(pkg: ConfigPackage, directory: Path) -> Path:
    """Write ``<directory>/<filename>`` atomically; return its path."""
    path = directory / pkg.filename
    atomic_write_bytes(path, pkg.archive)
    return path


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3  # Unix, whatever machine writes it
    info.external_attr = 0o100644 << 16
    zf.writestr(info, data)


def _tar_zst(members: Iterable[tuple[str, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=0, write_content_size=True)
    return compressor.compress(raw.getvalue())
