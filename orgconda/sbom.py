"""A CycloneDX SBOM per installer: ``<installer>.cdx.json`` next to it.

Every package of the installer's base environment is a component with its purl
(``pkg:conda/<name>@<version>?build=...&channel=...&subdir=...&type=conda|tar.bz2``), its
download URL, its checksums and its license; the installer itself is the root component
(``metadata.component``) with its own sha256, and the dependency graph links them.

Where each package's sha256 comes from, first found wins (recorded per component in the
``orgconda:sha256-source`` property):

1. ``lock``: the lock the installer was built from (``build --locked``). A package whose
   sha256 in constructor's records differs from the lock is an error, not an SBOM entry.
2. ``repodata``: ``sha256`` in constructor's ``info.json`` records, which come from the
   channel's repodata; conda checks every download against it.
3. ``package-cache``: the package file constructor downloaded
   (``_all_pkg_records[].package_tarball_full_path``), hashed here when it still exists.

A package none of these covers gets its md5 only (constructor always records one).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .errors import BuildError
from .lockfile import Lock, Package, dependency_name
from .pkgsets import INFO_JSON, InfoJson, channel_name, read_info_json, read_outputs
from .stage import sha256_file

SBOM_SUFFIX = ".cdx.json"


def sbom_path(installer_path: Path) -> Path:
    return installer_path.with_name(installer_path.name + SBOM_SUFFIX)


def purl(pkg: Package) -> str:
    from packageurl import PackageURL

    qualifiers = {
        "build": pkg.build,
        "channel": channel_name(pkg.channel) if pkg.channel else "",
        "subdir": pkg.subdir,
        "type": pkg.package_type,
    }
    return str(
        PackageURL(
            type="conda",
            name=pkg.name,
            version=pkg.version,
            qualifiers={k: v for k, v in qualifiers.items() if v},
        )
    )


def resolve_hashes(
    packages: Sequence[Package],
    lock: Lock | None,
    cache_files: Mapping[str, Path],
    where: str,
) -> dict[str, tuple[str | None, str]]:
    """``{file name: (sha256 or None, source)}`` for every package (see the module doc)."""
    locked = {p.fn: p.sha256 for p in lock.packages} if lock else {}
    out: dict[str, tuple[str | None, str]] = {}
    mismatched = []
    for p in packages:
        if p.fn in locked:
            if p.sha256 and p.sha256 != locked[p.fn]:
                mismatched.append(f"{p.fn}: {p.sha256} in {where}, {locked[p.fn]} in the lock")
            out[p.fn] = (locked[p.fn], "lock")
        elif p.sha256:
            out[p.fn] = (p.sha256, "repodata")
        elif p.fn in cache_files and cache_files[p.fn].is_file():
            out[p.fn] = (sha256_file(cache_files[p.fn]), "package-cache")
        else:
            out[p.fn] = (None, "unavailable")
    if mismatched:
        raise BuildError(
            "the installer's packages do not match the lock "
            f"{lock.path if lock else ''}:\n" + "\n".join(mismatched)
        )
    return out


def remapped(pkg: Package, remap: Sequence[tuple[str, str]]) -> Package:
    """``pkg`` with its channel and URL seen through channels_remap (first match wins)."""
    for src, dest in remap:
        src, dest = src.rstrip("/"), dest.rstrip("/")
        if pkg.channel.rstrip("/") == src or pkg.channel.startswith(src + "/"):
            url = pkg.url
            if url is not None and url.startswith(src + "/"):
                url = dest + url[len(src) :]
            return dataclasses.replace(
                pkg, channel=dest + pkg.channel.rstrip("/")[len(src) :], url=url
            )
    return pkg


def _cache_files(outputs_dir: Path) -> dict[str, Path]:
    """Package files in constructor's cache, from info.json's ``_all_pkg_records``."""
    import json

    try:
        data = json.loads((outputs_dir / INFO_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for r in data.get("_all_pkg_records") or ():
        path = r.get("package_tarball_full_path") if isinstance(r, dict) else None
        if isinstance(path, str) and path:
            out[Path(path).name] = Path(path)
    return out


def _license(text: str | None) -> list[Any]:
    if not text or not text.strip():
        return []
    from cyclonedx.contrib.license.factories import LicenseFactory

    return [LicenseFactory().make_from_string(text.strip())]


def build_bom(
    installer_name: str,
    subdir: str,
    packages: Sequence[Package],
    hashes: Mapping[str, tuple[str | None, str]],
    *,
    name: str,
    version: str,
    installer_sha256: str,
    timestamp: datetime,
) -> Any:
    """The CycloneDX ``Bom`` (pure: everything it needs is passed in)."""
    from cyclonedx.model import (
        ExternalReference,
        ExternalReferenceType,
        HashAlgorithm,
        HashType,
        Property,
        XsUri,
    )
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.dependency import Dependency

    root = Component(
        name=name,
        version=version,
        type=ComponentType.APPLICATION,
        bom_ref=f"installer:{installer_name}",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=installer_sha256)],
        properties=[
            Property(name="orgconda:installer-file", value=installer_name),
            Property(name="orgconda:platform", value=subdir),
        ],
    )
    components: dict[str, Component] = {}
    for p in sorted(packages, key=lambda q: q.name):
        sha256, source = hashes.get(p.fn, (p.sha256, "repodata"))
        digests = []
        if sha256:
            digests.append(HashType(alg=HashAlgorithm.SHA_256, content=sha256))
        if p.md5:
            digests.append(HashType(alg=HashAlgorithm.MD5, content=p.md5))
        refs = []
        if p.url:
            refs.append(
                ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(p.url))
            )
        ref = purl(p)
        components[p.name.lower()] = Component(
            name=p.name,
            version=p.version,
            type=ComponentType.LIBRARY,
            bom_ref=ref,
            purl=_purl_object(ref),
            hashes=digests,
            licenses=_license(p.license),
            external_references=refs,
            properties=[Property(name="orgconda:sha256-source", value=source)],
        )
    deps = [
        Dependency(
            ref=root.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in components.values()]
        )
    ]
    for p in packages:
        names = {dependency_name(d) for d in p.depends} - {None, p.name.lower()}
        on = [components[n] for n in sorted(n for n in names if n is not None and n in components)]
        deps.append(
            Dependency(
                ref=components[p.name.lower()].bom_ref,
                dependencies=[Dependency(ref=c.bom_ref) for c in on],
            )
        )
    tool = Component(name="orgconda", version=__version__, type=ComponentType.APPLICATION)
    metadata = BomMetaData(component=root, timestamp=timestamp)
    metadata.tools.components.add(tool)
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"orgconda-sbom:{installer_sha256}")
    return Bom(
        components=components.values(),
        metadata=metadata,
        dependencies=deps,
        serial_number=serial,
    )


def _purl_object(text: str) -> Any:
    from packageurl import PackageURL

    return PackageURL.from_string(text)


def render_sbom(bom: Any) -> str:
    """The BOM as CycloneDX 1.6 JSON, checked against the CycloneDX schema."""
    from cyclonedx.output.json import JsonV1Dot6
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = str(JsonV1Dot6(bom).output_as_string(indent=2)) + "\n"
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise BuildError(f"the SBOM does not validate against CycloneDX 1.6: {error}")
    return text


def sbom_text(
    installer_name: str,
    installer_sha256: str,
    subdir: str,
    outputs_dir: Path,
    *,
    lock: Lock | None = None,
    name: str | None = None,
    version: str | None = None,
    timestamp: datetime | None = None,
    remap: Sequence[tuple[str, str]] = (),
) -> str:
    """The SBOM of the installer file ``installer_name`` (whose sha256 is given) from
    constructor's outputs in ``outputs_dir`` (info.json, else the lockfile or package list).
    ``remap``: the build's channels_remap (src, dest), so packages name the channel installs
    record, not the build machine's mirror."""
    files = sorted(p for p in outputs_dir.iterdir() if p.is_file()) if outputs_dir.is_dir() else []
    packages, source = read_outputs(files, str(outputs_dir))
    packages = tuple(remapped(p, remap) for p in packages)
    info: InfoJson | None = read_info_json(source) if source.name == INFO_JSON else None
    if info is not None and info.platform and info.platform != subdir:
        raise BuildError(f"{source} describes a {info.platform} installer, not {subdir}")
    bom = build_bom(
        installer_name,
        subdir,
        packages,
        resolve_hashes(packages, lock, _cache_files(outputs_dir), str(source)),
        name=name or (info.name if info else None) or Path(installer_name).stem,
        version=version or (info.version if info else None) or "unknown",
        installer_sha256=installer_sha256,
        timestamp=timestamp or datetime.now(timezone.utc),
    )
    return render_sbom(bom)


def write_sbom(
    installer_path: Path,
    subdir: str,
    outputs_dir: Path,
    *,
    lock: Lock | None = None,
    name: str | None = None,
    version: str | None = None,
    timestamp: datetime | None = None,
    remap: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write ``<installer>.cdx.json`` next to the installer and return its path.

    ``outputs_dir`` holds constructor's outputs for this installer; ``lock`` is the lock it
    was built from, if any. ``name`` and ``version`` default to info.json's; ``timestamp`` to
    now (pass one, e.g. from SOURCE_DATE_EPOCH, for reproducible bytes).
    """
    if not installer_path.is_file():
        raise BuildError(f"{installer_path}: no installer there to describe")
    text = sbom_text(
        installer_path.name,
        sha256_file(installer_path),
        subdir,
        outputs_dir,
        lock=lock,
        name=name,
        version=version,
        timestamp=timestamp,
        remap=remap,
    )
    from .stage import atomic_write_text

    out = sbom_path(installer_path)
    atomic_write_text(out, text)
    return out
