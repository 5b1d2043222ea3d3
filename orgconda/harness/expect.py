"""What an installer promises: read from a ``dist/manifest.json`` entry, or from the command
line for an installer built elsewhere. Command-line values replace manifest values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import UsageError
from ..tokens import token_problem
from .spec import SpecError, check_spec

TOKEN_SCOPES = ("prefix", "system")


@dataclass(frozen=True)
class ConfigPackageExpect:
    name: str
    version: str
    build_number: int
    condarc_file: str  # relative to the prefix, e.g. condarc.d/acme.yml
    condarc_sha256: str


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
    sha256: str | None = None  # of the installer file, from the manifest
    sources: Mapping[str, str] = field(default_factory=dict)  # field -> "manifest" | "--flag"


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
    try:
        return ConfigPackageExpect(
            name=str(raw["name"]),
            version=str(raw["version"]),
            build_number=int(raw["build_number"]),
            condarc_file=str(raw["condarc_file"]),
            condarc_sha256=str(raw["condarc_sha256"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"{where}.config_package is incomplete or invalid: {exc}")
        return None


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
        sha256=sha256,
        sources={
            k: "manifest"
            for k in ("org_token", "installer_token", "enabled", "locked", "condarc")
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
    return apply_overrides(Expectation(org_token=None, installer_token=None, sources={}), overrides)


def describe(expect: Expectation) -> dict[str, Any]:
    """A JSON-ready view for the report."""
    cp = expect.config_package
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
        },
        "sha256": expect.sha256,
        "sources": dict(expect.sources),
    }
