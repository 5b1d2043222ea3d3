"""What the configuration package holds, computed purely from the profile.

The package is ``<slug>-conda-config``, ``noarch: generic``, version = the installer version
(conda's reading of it), build string ``h<content hash>_<build number>``. It installs the org
condarc as ``condarc.d/<slug>.yml``, a record of it as ``etc/orgconda/config.json`` and the
bundled CA certificate, if any, at ``etc/orgconda/<file>``. With a certificate, the condarc's
``ssl_verify`` holds conda's prefix placeholder, recorded in ``info/paths.json``, so conda
(and the installers' conda-standalone) writes the real prefix into it at install.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .. import condarc
from ..profile import Profile, profile_error

CONFIG_JSON = "etc/orgconda/config.json"
CONFIG_FORMAT = 1
# conda's own text placeholder (conda.base.constants.PREFIX_PLACEHOLDER): conda replaces it
# with the install prefix in files whose paths.json entry names it (forward slashes on Windows).
PREFIX_PLACEHOLDER = "/opt/anaconda1anaconda2" + "anaconda3"
EXTENSION = ".conda"
# Bump when the archive layout changes: it joins the content hash, so a new layout never
# reuses an old file name.
ARCHIVE_LAYOUT = 1

# conda's naming rules (CEP "Names in conda packages and channels"): lowercase ASCII letters,
# digits and `-` `_` `.`; starting with a letter or digit; no two separators in a row.
_NAME = re.compile(r"[a-z0-9]([a-z0-9]|[-_.](?=[a-z0-9]))*")
_NAME_MAX = 128
# A conda version after mapping: components split at `.` and `_`, each non-empty, from
# lowercase letters and digits (conda compares versions case-insensitively).
_VERSION_COMPONENT = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class PackageFile:
    """One file the package installs: its bytes, and the placeholder conda rewrites in it."""

    data: bytes
    placeholder: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ConfigPackage:
    """Everything about one build of the package (pure, from the profile)."""

    name: str
    version: str
    build_number: int
    build_string: str  # h<content hash>_<build number>
    condarc_file: str  # condarc.d/<slug>.yml, relative to the prefix
    condarc: str  # the text it ships (with the placeholder, if any)
    files: Mapping[str, PackageFile]  # prefix-relative path -> content
    about: Mapping[str, str]
    ca_file: str | None  # etc/orgconda/<file> when a certificate is bundled

    @property
    def condarc_sha256(self) -> str:
        return hashlib.sha256(self.condarc.encode("utf-8")).hexdigest()

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}-{self.build_string}{EXTENSION}"

    @property
    def spec(self) -> str:
        """Exactly this build, for construct.yaml's ``specs`` (one line, no trailing `]`)."""
        return f"{self.name} =={self.version} {self.build_string}"

    @functools.cached_property
    def archive(self) -> bytes:
        """The package file's bytes, made once per build (resolve's lock line, the plan's
        checks and the rendered channel all need them)."""
        from .archive import archive_bytes

        return archive_bytes(self)

    @property
    def placeholder(self) -> str | None:
        return PREFIX_PLACEHOLDER if self.ca_file else None


def conda_version(installer_version: str) -> str:
    """The conda package version for an installer version.

    conda reads `1.0-rc1` as `1.0_rc1` (its VersionOrder turns dashes into underscores), so
    that is the mapping, lowercased like conda's comparison: `2026.11_rc1` sorts before
    `2026.11`, and `2026.11_1` after it.
    """
    return installer_version.replace("-", "_").lower()


def package_problems(profile: Profile) -> list[tuple[tuple[str, ...], str]]:
    """Every reason conda or this package's layout would refuse the profile, as
    (profile field, message) pairs."""
    cp = profile.config_package
    out: list[tuple[tuple[str, ...], str]] = []
    derived = "slug" not in _dict(profile.raw.get("config_package"))
    origin = (
        f" (derived from telemetry.org_token {profile.telemetry.org_token!r}; set "
        "config_package.slug to choose another)"
        if derived
        else ""
    )
    name = cp.name
    if len(name) > _NAME_MAX or not _NAME.fullmatch(name):
        out.append(
            (
                ("config_package", "slug"),
                f"the package name {name!r}{origin} is not a valid conda package name: "
                f"{_name_problem(name)}; use lowercase letters and digits with single `-` or "
                "`_` between them, e.g. slug: acme-corp",
            )
        )
    version = conda_version(profile.version)
    if any(not _VERSION_COMPONENT.fullmatch(c) for c in re.split(r"[._]", version)):
        out.append(
            (
                ("installer", "version"),
                f"{profile.version!r} cannot be a conda package version (as {version!r} it has "
                "an empty component: two separators in a row, or one at the start or end); "
                "the configuration package takes the installer version, so use single `.` or "
                '`_` between parts (e.g. "2026.11.1"), or set config_package.enabled: false',
            )
        )
    ca = profile.condarc.ca_certificate
    if ca is not None and f"{condarc.CA_PREFIX_DIR}/{ca.name}" == CONFIG_JSON:
        out.append(
            (
                ("condarc", "ca_certificate"),
                f"the file name {ca.name!r} clashes with {CONFIG_JSON}; rename the certificate",
            )
        )
    return out


def _name_problem(name: str) -> str:
    if len(name) > _NAME_MAX:
        return f"longer than {_NAME_MAX} characters"
    if name != name.lower():
        return "it has uppercase letters"
    if re.search(r"[^a-z0-9._-]", name):
        return "it has characters other than a-z 0-9 - _ ."
    if re.search(r"[-_.]{2}", name):
        return "it has two separators in a row"
    return "it must start and end with a letter or digit"


def describe(profile: Profile) -> ConfigPackage:
    """The package for ``profile`` (pure); ProfileError lists every rule it breaks."""
    problems = package_problems(profile)
    if problems:
        raise profile_error(profile, problems)
    cp = profile.config_package
    name, version = cp.name, conda_version(profile.version)
    ca = profile.condarc.ca_certificate
    ca_file = f"{condarc.CA_PREFIX_DIR}/{ca.name}" if ca is not None else None
    ssl_verify = f"{PREFIX_PLACEHOLDER}/{ca_file}" if ca_file else None
    text = condarc.render_condarc(
        profile, org_settings=True, extra_aggressive=(name,), ssl_verify=ssl_verify
    )
    condarc_file = f"condarc.d/{cp.slug}.yml"
    record = {
        "format": CONFIG_FORMAT,
        "profile": profile.name,
        "installer_version": profile.version,
        "name": name,
        "version": version,
        "build_number": cp.build_number,
        "condarc_file": condarc_file,
        "condarc_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "ca_certificate": ca_file,
    }
    files: dict[str, PackageFile] = {
        condarc_file: PackageFile(text.encode("utf-8"), PREFIX_PLACEHOLDER if ca_file else None),
        CONFIG_JSON: PackageFile((json.dumps(record, indent=2) + "\n").encode("utf-8")),
    }
    if ca is not None and ca_file is not None:
        # Rotating the certificate is a package update like any other setting.
        files[ca_file] = PackageFile(ca.read_bytes())
    about = _about(profile)
    digest = _content_hash(name, version, cp.build_number, about, files)
    return ConfigPackage(
        name=name,
        version=version,
        build_number=cp.build_number,
        build_string=f"h{digest[:8]}_{cp.build_number}",
        condarc_file=condarc_file,
        condarc=text,
        files=files,
        about=about,
        ca_file=ca_file,
    )


def _content_hash(
    name: str, version: str, number: int, about: Mapping[str, str], files: Mapping[str, PackageFile]
) -> str:
    """A hash of everything that ends up in the package, so the build string (and the file
    name) changes whenever the content does."""
    doc = {
        "layout": ARCHIVE_LAYOUT,
        "name": name,
        "version": version,
        "build_number": number,
        "about": dict(about),
        "files": {p: [f.sha256, f.placeholder] for p, f in sorted(files.items())},
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _about(profile: Profile) -> dict[str, str]:
    return {
        "summary": f"{profile.company} conda configuration for {profile.name}",
        "description": (
            f"Installs condarc.d/{profile.config_package.slug}.yml (the organization's conda "
            f"settings) and {CONFIG_JSON}. Installers list this package in "
            "aggressive_update_packages, so conda updates it whenever it changes the base "
            "environment."
        ),
    }


def expectation(pkg: ConfigPackage, publish_channel: str | None) -> dict[str, object]:
    """What a verifier should find of the package in an installed prefix."""
    return {
        "name": pkg.name,
        "version": pkg.version,
        "build_number": pkg.build_number,
        "condarc_file": pkg.condarc_file,
        "condarc_sha256": pkg.condarc_sha256,
        "prefix_placeholder": pkg.placeholder,
        "publish_channel": publish_channel,
    }


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}
