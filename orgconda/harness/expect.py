"""What an installer promises: read from a ``dist/manifest.json`` entry, or from the command
line for an installer built elsewhere. Command-line values replace manifest values.

Keys added after the first manifests (``ca_certificate``, ``config_package.publish_channel``)
may be absent: absent means null."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import UsageError
from ..tokens import token_problem
from .spec import SpecError, check_spec

TOKEN_SCOPES = ("prefix", "system")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class ConfigPackageExpect:
    name: str
    version: str
    build_number: int
    condarc_file: str  # relative to the prefix, e.g. condarc.d/acme.yml
    condarc_sha256: str
    publish_channel: str | None = None  # where the org publishes new builds
    # conda's prefix placeholder in the shipped condarc (a bundled CA's ssl_verify): conda
    # writes the install prefix in its place, so the installed bytes are compared with it
    # put back
    prefix_placeholder: str | None = None


@dataclass(frozen=True)
class CaExpect:
    """The bundled root CA: ``path`` relative to the prefix (``etc/orgconda/<file>``, forward
    slashes) and the sha256 of its PEM bytes."""

    path: str
    sha256: str


@dataclass(frozen=True)
class Expectation:
    org_token: str | None  # None: no o/ expected
    installer_token: str | None  # None: no i/ expected
    enabled: bool = True  # anaconda_anon_usage: true in the org condarc
    locked: bool = True  # ... pinned with #!final
    aau_spec: str | None = None  # e.g. ">=0.8.1"; None: any version
    token_scope: str = "prefix"
    condarc: Mapping[str, Any] | None = None  # the org condarc, parsed; None: not known
    config_package: ConfigPackageExpect | None = None
    ca_certificate: CaExpect | None = None
    sha256: str | None = None  # of the installer file, from the manifest
    sources: Mapping[str, str] = field(default_factory=dict)  # field -> "manifest" | "--flag"
    from_manifest: bool = True  # False: no manifest entry, only the command line's promises


@dataclass(frozen=True)
class Overrides:
    """``--expect-org``, ``--expect-installer``, ``--locked/--unlocked`` (None: not given)."""

    org_token: str | None = None
    installer_token: str | None = None
    locked: bool | None = None

    def problems(self) -> list[str]:
        found = []
        for flag, value in (
            ("--expect-org", self.org_token),
            ("--expect-installer", self.installer_token),
        ):
            if value is not None:
                why = token_problem(value)
                if why:
                    found.append(f"{flag} {value!r} {why}")
        return found


def _config_package(raw: object, where: str, problems: list[str]) -> ConfigPackageExpect | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"{where}.config_package must be null or an object")
        return None
    channel = raw.get("publish_channel")
    if channel is not None and not isinstance(channel, str):
        problems.append(f"{where}.config_package.publish_channel must be a string or null")
        channel = None
    try:
        return ConfigPackageExpect(
            name=str(raw["name"]),
            version=str(raw["version"]),
            build_number=int(raw["build_number"]),
            condarc_file=str(raw["condarc_file"]),
            condarc_sha256=str(raw["condarc_sha256"]),
            publish_channel=channel or None,
            prefix_placeholder=(
                str(raw["prefix_placeholder"]) if raw.get("prefix_placeholder") else None
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"{where}.config_package is incomplete or invalid: {exc}")
        return None


def _ca_certificate(raw: object, where: str, problems: list[str]) -> CaExpect | None:
    if raw is None:
        return None
    field_ = f"{where}.ca_certificate"
    if not isinstance(raw, Mapping):
        problems.append(f"{field_} must be null or an object with `path` and `sha256`")
        return None
    path, digest = raw.get("path"), raw.get("sha256")
    before = len(problems)
    if not isinstance(path, str) or not path:
        problems.append(f"{field_}.path must be a path relative to the prefix")
    elif path.startswith("/") or "\\" in path or ":" in path or ".." in path.split("/"):
        problems.append(
            f"{field_}.path {path!r} must be relative to the prefix, with forward slashes "
            "and no `..` (e.g. etc/orgconda/root-ca.pem)"
        )
    if not isinstance(digest, str) or _SHA256.match(digest) is None:
        problems.append(f"{field_}.sha256 must be 64 hexadecimal characters")
    if len(problems) > before:
        return None
    return CaExpect(path=str(path), sha256=str(digest).lower())


def from_manifest(expect: Mapping[str, Any], *, sha256: str | None, where: str) -> Expectation:
    """Read an entry's ``expect`` object; UsageError lists every problem at once."""
    problems: list[str] = []

    def optional_str(key: str) -> str | None:
        value = expect.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"{where}.{key} must be a string or null")
            return None
        return value

    def boolean(key: str, default: bool) -> bool:
        value = expect.get(key, default)
        if not isinstance(value, bool):
            problems.append(f"{where}.{key} must be true or false")
            return default
        return value

    spec = optional_str("anaconda_anon_usage_spec")
    if spec is not None:
        try:
            check_spec(spec)
        except SpecError as exc:
            problems.append(f"{where}.anaconda_anon_usage_spec: {exc}")
    scope = expect.get("token_scope", "prefix")
    if scope not in TOKEN_SCOPES:
        problems.append(f"{where}.token_scope must be one of {', '.join(TOKEN_SCOPES)}")
        scope = "prefix"
    condarc = expect.get("condarc")
    if condarc is not None and not isinstance(condarc, Mapping):
        problems.append(f"{where}.condarc must be an object (the parsed org condarc)")
        condarc = None
    result = Expectation(
        org_token=optional_str("org_token"),
        installer_token=optional_str("installer_token"),
        enabled=boolean("enabled", True),
        locked=boolean("locked", True),
        aau_spec=spec,
        token_scope=str(scope),
        condarc=condarc,
        config_package=_config_package(expect.get("config_package"), where, problems),
        ca_certificate=_ca_certificate(expect.get("ca_certificate"), where, problems),
        sha256=sha256,
        sources={
            k: "manifest"
            for k in (
                "org_token",
                "installer_token",
                "enabled",
                "locked",
                "condarc",
                "config_package",
                "ca_certificate",
            )
            if k in expect
        },
    )
    if problems:
        raise UsageError("\n".join(["the manifest's expectations are invalid:", *problems]))
    return result


def apply_overrides(expect: Expectation, overrides: Overrides) -> Expectation:
    sources = dict(expect.sources)
    changes: dict[str, Any] = {}
    if overrides.org_token is not None:
        changes["org_token"] = overrides.org_token
        sources["org_token"] = "--expect-org"
    if overrides.installer_token is not None:
        changes["installer_token"] = overrides.installer_token
        sources["installer_token"] = "--expect-installer"
    if overrides.locked is not None:
        changes["locked"] = overrides.locked
        sources["locked"] = "--locked" if overrides.locked else "--unlocked"
    return replace(expect, sources=sources, **changes)


def from_overrides(overrides: Overrides, installer: str) -> Expectation:
    """Expectations for an installer without a manifest entry: every promise must be stated."""
    missing = [
        flag
        for flag, value in (
            ("--expect-org", overrides.org_token),
            ("--expect-installer", overrides.installer_token),
            ("--locked or --unlocked", overrides.locked),
        )
        if value is None
    ]
    if missing:
        raise UsageError(
            f"{installer} has no entry in dist/manifest.json, so say what it promises: "
            f"pass {', '.join(missing)}"
        )
    bare = Expectation(org_token=None, installer_token=None, sources={}, from_manifest=False)
    return apply_overrides(bare, overrides)


def describe(expect: Expectation) -> dict[str, Any]:
    """A JSON-ready view for the report."""
    cp = expect.config_package
    ca = expect.ca_certificate
    return {
        "org_token": expect.org_token,
        "installer_token": expect.installer_token,
        "enabled": expect.enabled,
        "locked": expect.locked,
        "anaconda_anon_usage_spec": expect.aau_spec,
        "token_scope": expect.token_scope,
        "condarc": dict(expect.condarc) if expect.condarc is not None else None,
        "config_package": None
        if cp is None
        else {
            "name": cp.name,
            "version": cp.version,
            "build_number": cp.build_number,
            "condarc_file": cp.condarc_file,
            "condarc_sha256": cp.condarc_sha256,
            "prefix_placeholder": cp.prefix_placeholder,
            "publish_channel": cp.publish_channel,
        },
        "ca_certificate": None if ca is None else {"path": ca.path, "sha256": ca.sha256},
        "sha256": expect.sha256,
        "sources": dict(expect.sources),
        "from_manifest": expect.from_manifest,
    }
