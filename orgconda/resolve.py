"""Resolve a profile and this run's options into what every platform's installer is made of.

Pure: one function, ``resolve``, takes the loaded profile, the selected platforms and the run's
options and returns frozen data: the configuration package (or why there is none), each
platform's constructor inputs, and what a verifier should expect. Rendering, planning and
execution only read it; nothing downstream adjusts it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import condarc, configpkg, hooks, platforms
from .condarc import CA_PREFIX_DIR
from .configpkg.package import ConfigPackage
from .lockfile import Lock, explicit_text
from .platforms import Platform
from .profile import Profile

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = "org-config"  # build/org-config/
CONFIG_CHANNEL = "channel"  # build/org-config/channel/: the channel constructor reads


@dataclass(frozen=True)
class RunOptions:
    """Per-run choices that are not part of the profile."""

    build_dir: Path = REPO / "build"
    channels: tuple[str, ...] = ()  # --channel: replaces the profile's channels for this build
    # per subdir: the installer types to render (what this host builds, or --installer-type)
    installer_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # per subdir: the lock constructor installs exactly (build --locked)
    locks: Mapping[str, Lock] = field(default_factory=dict)
    # per subdir: more script_env_variables (a cross-built target's conda-standalone needs
    # CONDA_RESTRICT_RC_SEARCH_PATH=1, see standalone.for_constructor)
    script_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedPlatform:
    """Everything constructor gets for one platform."""

    plat: Platform
    installer_types: tuple[str, ...]
    channels: tuple[str, ...]
    channels_remap: tuple[tuple[str, str], ...]
    specs: tuple[str, ...]
    environment_file: str | None  # the explicit lock text, when building --locked
    condarc: str | None  # <prefix>/.condarc; None when the package carries the settings
    files: Mapping[str, str | Path]  # build/<subdir>/ name -> text, or a file to copy
    extra_files: tuple[tuple[str, str], ...]  # (file in build/<subdir>, path in the prefix)
    license_file: str | None
    hooks: tuple[str, ...]  # hook file names staged in build/<subdir>/
    script_env: Mapping[str, str]
    post_install_desc: str | None
    conclusion_text: str
    signing: Mapping[str, str]

    @property
    def subdir(self) -> str:
        return self.plat.subdir


@dataclass(frozen=True)
class Resolved:
    profile: Profile
    options: RunOptions
    config_package: ConfigPackage | None
    config_reason: str  # why there is no package, or what it carries
    platforms: tuple[ResolvedPlatform, ...]
    expect: Mapping[str, Any]

    @property
    def config_channel(self) -> Path:
        return self.options.build_dir / CONFIG_DIR / CONFIG_CHANNEL

    @property
    def subdirs(self) -> tuple[str, ...]:
        return tuple(p.subdir for p in self.platforms)


def resolve(profile: Profile, subdirs: Sequence[str], options: RunOptions) -> Resolved:
    pkg = configpkg.describe(profile) if profile.config_package.enabled else None
    reason = (
        f"{pkg.name} {pkg.version} {pkg.build_string} carries the org condarc"
        if pkg
        else "config_package.enabled is false: the org condarc is baked into each installer"
    )
    resolved = [_platform(profile, platforms.get(s), options, pkg) for s in subdirs]
    return Resolved(
        profile=profile,
        options=options,
        config_package=pkg,
        config_reason=reason,
        platforms=tuple(resolved),
        expect=expectations(profile, pkg),
    )


def config_channel_url(options: RunOptions) -> str:
    return (options.build_dir / CONFIG_DIR / CONFIG_CHANNEL).resolve().as_uri()


def _platform(
    profile: Profile, plat: Platform, options: RunOptions, pkg: ConfigPackage | None
) -> ResolvedPlatform:
    files: dict[str, str | Path] = {}
    staged = hooks.staged_hooks(plat.hook_ext)
    files.update(staged)
    extra_files: list[tuple[str, str]] = []
    script_env = {
        "ORGCONDA_INSTALLER_TOKEN": profile.telemetry.installer_token,
        "ORGCONDA_ORG_TOKEN": profile.telemetry.org_token,
        "ORGCONDA_TOKEN_SCOPE": profile.telemetry.token_scope,
        **options.script_env.get(plat.subdir, {}),
    }
    ca = profile.condarc.ca_certificate
    if ca is not None and pkg is None:
        # The package carries the certificate when there is one; otherwise the installer
        # does, and its post-install hook points ssl_verify at it (the path is known only then).
        files[ca.name] = ca
        extra_files.append((ca.name, f"{CA_PREFIX_DIR}/{ca.name}"))
        script_env["ORGCONDA_CA_FILE"] = f"{CA_PREFIX_DIR}/{ca.name}"
    license_name = None
    if profile.license_file is not None:
        license_name = profile.license_file.name
        files[license_name] = profile.license_file

    channels = list(options.channels or profile.channels)
    remap = list(profile.channels_remap)
    specs = list(profile.specs)
    if pkg is not None:
        url = config_channel_url(options)
        channels.insert(0, url)
        publish = profile.config_package.publish_channel
        if publish:
            # installs record the publish channel, which their condarc reads
            remap.insert(0, (url, publish))
        specs.append(pkg.spec)
    environment = None
    lock = options.locks.get(plat.subdir)
    if lock is not None:
        extra = []
        if pkg is not None:
            sha = hashlib.sha256(pkg.archive).hexdigest()
            extra.append(f"{config_channel_url(options)}/noarch/{pkg.filename}#sha256:{sha}")
        environment = explicit_text(lock, extra)
    desc, conclusion = _texts(profile)
    return ResolvedPlatform(
        plat=plat,
        installer_types=tuple(
            options.installer_types.get(plat.subdir) or profile.installer_types[plat.os]
        ),
        channels=tuple(dict.fromkeys(channels)),
        channels_remap=tuple(remap),
        specs=tuple(specs),
        environment_file=environment,
        condarc=None if pkg is not None else condarc.render_condarc(profile),
        files=files,
        extra_files=tuple(extra_files),
        license_file=license_name,
        hooks=tuple(sorted(staged)),
        script_env=script_env,
        post_install_desc=desc if profile.hook_checkbox else None,
        conclusion_text=conclusion,
        signing=_signing(profile, plat),
    )


def _signing(profile: Profile, plat: Platform) -> dict[str, str]:
    keys = {
        "osx": ("signing_identity_name", "notarization_identity_name"),
        "win": ("windows_signing_tool", "signing_certificate"),
    }.get(plat.os, ())
    return {k: getattr(profile.signing, k) for k in keys if getattr(profile.signing, k)}


def expectations(profile: Profile, pkg: ConfigPackage | None) -> dict[str, Any]:
    """What a verifier should find after installing one of this profile's installers,
    computed once from the resolved profile."""
    text = pkg.condarc if pkg is not None else condarc.render_condarc(profile)
    ca = profile.condarc.ca_certificate
    return {
        "org_token": profile.telemetry.org_token,
        "installer_token": profile.telemetry.installer_token,
        "enabled": profile.telemetry.enabled,
        "locked": profile.telemetry.locked,
        "heartbeat": profile.telemetry.heartbeat,
        "anaconda_anon_usage_spec": profile.aau_spec,
        "token_scope": profile.telemetry.token_scope,
        "condarc": condarc.expected_settings(text, ca_bundled=ca is not None),
        "condarc_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "config_package": (
            configpkg.expectation(pkg, profile.config_package.publish_channel) if pkg else None
        ),
        "ca_certificate": (
            {
                "path": condarc.ca_file(profile),
                "sha256": hashlib.sha256(ca.read_bytes()).hexdigest(),
            }
            if ca is not None
            else None
        ),
    }


def _texts(profile: Profile) -> tuple[str, str]:
    t = profile.telemetry
    state = "on" if t.enabled else "off"
    lock = (
        f"{profile.company} has locked this setting, so it cannot be turned off."
        if t.locked
        else "You can turn it off with `conda config --set anaconda_anon_usage off`."
    )
    where = (
        "the installation folder"
        if t.token_scope == "prefix"
        else "the system conda folder (/etc/conda, or C:\\ProgramData\\conda on Windows)"
    )
    desc = (
        f"Write {profile.company}'s usage tokens (organization {t.org_token}, installer "
        f"{t.installer_token}, and a random machine token) to {where}. conda sends them, "
        "with random anonymous client, session and environment tokens, in its User-Agent."
    )
    if t.enabled:
        body = (
            f"Anonymous usage tokens are {state}: with every request, conda sends random client, "
            f"session and environment tokens (anaconda-anon-usage) plus {profile.company}'s "
            f"organization token ({t.org_token}), this installer's token ({t.installer_token}) "
            f"and a random token for this machine. No names, host names or file paths are "
            f"sent. {lock}"
        )
    else:
        body = (
            f"{profile.company} has turned anonymous usage tokens off: conda sends only the "
            "anaconda-anon-usage version in its User-Agent."
        )
    return desc, f"{profile.name} {profile.version} is installed\n{body}\n"
