"""Render constructor inputs for each platform, then check what was rendered.

Pure: ``render_platforms`` returns the files of each ``build/<subdir>`` in memory (text, or
the path of a file to copy), already parsed back, checked for constructor's selector hazard and
validated against constructor's JSON schema. ``orgconda.stage`` writes them to disk.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import jsonschema
import yaml

from . import platforms
from .errors import OrgcondaError, ProfileError, UsageError
from .hooks import staged_hooks
from .platforms import Platform
from .profile import AAU_PACKAGE, CERT_PACKAGES, Profile

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "construct"
HOOKS_DIR = REPO / "post_install"
CA_PREFIX_DIR = "etc/orgconda"
SCHEMA_ENV = "ORGCONDA_CONSTRUCT_SCHEMA"


class RenderError(OrgcondaError):
    """A rendered file failed its own checks (a bug in a template, or an unsafe value)."""

    exit_code = 2


@dataclass(frozen=True)
class RenderOptions:
    """Per-run choices that are not part of the profile."""

    channels: tuple[str, ...] = ()  # --channel: replaces the profile's channels for this build
    installer_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # per subdir
    hooks_dir: Path = HOOKS_DIR
    extra_channels: tuple[str, ...] = ()  # prepended (e.g. the local config-package channel)
    extra_channels_remap: tuple[tuple[str, str], ...] = ()  # (src, dest), before the profile's
    extra_specs: tuple[str, ...] = ()
    # False when a config package carries the org settings: construct.yaml then gets no
    # `condarc:` and no bundled CA certificate (the package ships both), because a
    # <prefix>/.condarc would win `#!final` contests against the package's file and outlive it.
    org_settings_in_condarc: bool = True


@dataclass(frozen=True)
class RenderedPlatform:
    subdir: str
    construct_yaml: str
    # relative file name -> text to write, or a Path to copy byte for byte
    files: Mapping[str, str | Path]
    data: Mapping[str, Any]  # construct.yaml parsed back

    @property
    def installer_types(self) -> tuple[str, ...]:
        t = self.data["installer_type"]
        return (t,) if isinstance(t, str) else tuple(t)


# --- YAML filters -----------------------------------------------------------------------


class _BlockDumper(yaml.SafeDumper):
    """Block style everywhere, with list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dump(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=_BlockDumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=False,
        width=10_000,
    )


def yaml_scalar(value: Any) -> str:
    text = _dump(value)
    text = text.removesuffix("\n...\n").removesuffix("\n")
    if "\n" in text:
        raise RenderError(f"value {value!r} does not fit on one line")
    return text


def yaml_value(value: Any, indent: int = 2) -> str:
    """`` scalar`` for scalars, else a newline and the block, indented by ``indent``."""
    if isinstance(value, (list, tuple, dict)):
        if not value:
            raise RenderError("empty lists/mappings are left out rather than rendered as [] or {}")
        value = _plain(value)
        block = _dump(value).rstrip("\n")
        pad = " " * indent
        return "\n" + "\n".join(pad + line if line else line for line in block.splitlines())
    return " " + yaml_scalar(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@cache
def _env(template_dir: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters["yaml_scalar"] = yaml_scalar
    env.filters["yaml_value"] = yaml_value
    return env


def _template(name: str) -> jinja2.Template:
    return _env(str(TEMPLATES)).get_template(name)


# --- condarc ----------------------------------------------------------------------------


def condarc_settings(profile: Profile) -> dict[str, Any]:
    """The org's own condarc keys, in the order they are written (no telemetry keys)."""
    rc = profile.condarc
    ssl_verify: bool | str = rc.ssl_verify
    if rc.ca_certificate is not None:
        # conda expands environment variables in ssl_verify, and sets CONDA_ROOT to its own
        # prefix at start-up, so this finds the bundled certificate wherever the prefix is.
        ssl_verify = "${CONDA_ROOT}/" + f"{CA_PREFIX_DIR}/{rc.ca_certificate.name}"
    settings: dict[str, Any] = {
        "channels": list(rc.channels),
        "default_channels": list(rc.default_channels),
        "channel_alias": rc.channel_alias,
        "custom_channels": dict(rc.custom_channels),
        "mirrored_channels": {k: list(v) for k, v in profile.mirrored_channels.items()},
        "proxy_servers": dict(rc.proxy_servers),
        "ssl_verify": ssl_verify,
        "report_errors": rc.report_errors,
    }
    settings.update({k: v for k, v in rc.extra.items() if k != "aggressive_update_packages"})
    return {k: v for k, v in settings.items() if v is not None and v != [] and v != {}}


def aggressive_update_packages(profile: Profile, extra: Iterable[str] = ()) -> list[str]:
    wanted = [AAU_PACKAGE, *CERT_PACKAGES, *extra]
    wanted += list(profile.condarc.extra.get("aggressive_update_packages") or [])
    return list(dict.fromkeys(wanted))


def render_condarc(
    profile: Profile, *, org_settings: bool = True, extra_aggressive: Iterable[str] = ()
) -> str:
    """The condarc text. ``#!final`` pins the telemetry value when the profile locks it."""
    text = _template("condarc.yaml.j2").render(
        settings=condarc_settings(profile) if org_settings else {},
        telemetry_enabled=profile.telemetry.enabled,
        locked=profile.telemetry.locked,
        heartbeat=profile.telemetry.heartbeat,
        aggressive_update_packages=aggressive_update_packages(profile, extra_aggressive),
    )
    return text.lstrip("\n").rstrip("\n") + "\n"


# --- per platform -----------------------------------------------------------------------


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
    conclusion = f"{profile.name} {profile.version} is installed\n{body}\n"
    return desc, conclusion


def installer_types_for(
    profile: Profile, plat: Platform, options: RenderOptions
) -> tuple[str, ...]:
    if plat.subdir in options.installer_types:
        return tuple(options.installer_types[plat.subdir])
    return tuple(profile.installer_types[plat.os])


def build_context(profile: Profile, plat: Platform, options: RenderOptions) -> dict[str, Any]:
    """Everything the construct.yaml template needs for one platform (pure)."""
    hooks = staged_hooks(plat.hook_ext, options.hooks_dir)  # standalone texts, by file name
    files: dict[str, str | Path] = dict(hooks)
    names = set(hooks)
    pre = f"pre_install.{plat.hook_ext}"
    post = f"post_install.{plat.hook_ext}"
    if post not in names:
        # without the hook no installer, organization or machine token is ever written
        raise RenderError(
            f"{options.hooks_dir / post} is missing: {plat.subdir} installers need it to seed "
            "the tokens (restore it from the repository)"
        )

    extra_files: list[Any] = []
    if profile.condarc.ca_certificate is not None and options.org_settings_in_condarc:
        ca = profile.condarc.ca_certificate
        files[ca.name] = ca
        extra_files.append({ca.name: f"{CA_PREFIX_DIR}/{ca.name}"})
    license_name = None
    if profile.license_file is not None:
        license_name = profile.license_file.name
        files[license_name] = profile.license_file

    config_pkg = [s.split()[0] for s in options.extra_specs]
    condarc = (
        render_condarc(profile, extra_aggressive=config_pkg)
        if options.org_settings_in_condarc
        else None
    )
    desc, conclusion = _texts(profile)
    types = installer_types_for(profile, plat, options)
    signing = {}
    if plat.os == "osx":
        for key in ("signing_identity_name", "notarization_identity_name"):
            if getattr(profile.signing, key):
                signing[key] = getattr(profile.signing, key)
    if plat.os == "win":
        for key in ("windows_signing_tool", "signing_certificate"):
            if getattr(profile.signing, key):
                signing[key] = getattr(profile.signing, key)
    return {
        "profile_path": _rel(profile.path),
        "subdir": plat.subdir,
        "name": profile.name,
        "version": profile.version,
        "company": profile.company,
        "installer_type": types[0] if len(types) == 1 else list(types),
        "channels": list(
            dict.fromkeys([*options.extra_channels, *(options.channels or profile.channels)])
        ),
        "channels_remap": [
            {"src": s, "dest": d}
            for s, d in (*options.extra_channels_remap, *profile.channels_remap)
        ],
        "specs": [*profile.specs, *options.extra_specs],
        "license_file": license_name,
        "extra_files": extra_files,
        "keep_pkgs": profile.keep_pkgs,
        "initialize_conda": profile.initialize_conda,
        "default_prefix": profile.default_prefix if plat.os != "win" else None,
        "default_prefix_all_users": profile.default_prefix_all_users if plat.os == "win" else None,
        "condarc": condarc,
        "pre_install": pre if pre in names else None,
        "post_install": post if post in names else None,
        "post_install_desc": desc if profile.hook_checkbox else None,
        "script_env_variables": {
            "ORGCONDA_INSTALLER_TOKEN": profile.telemetry.installer_token,
            "ORGCONDA_ORG_TOKEN": profile.telemetry.org_token,
            "ORGCONDA_TOKEN_SCOPE": profile.telemetry.token_scope,
        },
        "conclusion_text": conclusion,
        "signing": signing,
        "_files": files,
    }


def render_platform(
    profile: Profile, subdir: str, options: RenderOptions, schema: Mapping[str, Any] | None
) -> RenderedPlatform:
    plat = platforms.get(subdir)
    ctx = build_context(profile, plat, options)
    files = dict(ctx.pop("_files"))
    try:
        text = _template("construct.yaml.j2").render(**ctx)
    except jinja2.UndefinedError as exc:
        raise RenderError(f"construct.yaml.j2 for {subdir}: {exc}") from exc
    text = text.lstrip("\n").rstrip("\n") + "\n"
    data = check_construct_yaml(text, subdir, schema)
    condarc = data.get("condarc")
    if isinstance(condarc, str) and profile.telemetry.locked and "#!final" not in condarc:
        raise RenderError(f"{subdir}: the locked condarc lost its #!final marker")
    files["construct.yaml"] = text
    return RenderedPlatform(subdir=subdir, construct_yaml=text, files=files, data=data)


def selector_hazards(text: str) -> list[str]:
    """Lines constructor's preprocessing would misread: a line ending in `]` is taken as a
    selector, and a line starting with `#` is dropped even inside a block string."""
    out = []
    in_block = False
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.endswith("]"):
            out.append(f"line {no} ends with `]` (read as a selector): {line!r}")
        if in_block and stripped.startswith("#") and line.startswith(" "):
            out.append(f"line {no} starts with `#` inside a block string (dropped): {line!r}")
        if line and not line.startswith(" "):
            in_block = line.rstrip().endswith("|") or line.rstrip().endswith(">")
    return out


def check_construct_yaml(
    text: str, subdir: str, schema: Mapping[str, Any] | None
) -> dict[str, Any]:
    problems = selector_hazards(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RenderError(f"{subdir}/construct.yaml is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RenderError(f"{subdir}/construct.yaml did not render to a mapping")
    if schema is not None:
        validator = jsonschema.Draft202012Validator(schema)
        for err in validator.iter_errors(data):
            where = ".".join(str(p) for p in err.path) or "(top level)"
            problems.append(f"constructor's schema rejects `{where}`: {err.message}")
    if problems:
        raise ProfileError(
            f"build/{subdir}/construct.yaml (rendered)",
            [*problems, "fix the profile value that produced it"],
        )
    return data


# --- constructor's schema ---------------------------------------------------------------


def find_construct_schema() -> Path | None:
    """constructor's own schema: the installed package's, else $ORGCONDA_CONSTRUCT_SCHEMA."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("constructor")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "data" / "construct.schema.json"
        if candidate.is_file():
            return candidate
    env = os.environ.get(SCHEMA_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise UsageError(f"{SCHEMA_ENV}={env} does not name a file")
        return path
    return None


@cache
def load_schema(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- all platforms ----------------------------------------------------------------------


def select_platforms(profile: Profile, wanted: Sequence[str] = ()) -> tuple[str, ...]:
    if not wanted:
        return profile.platforms
    unknown = [w for w in wanted if w not in platforms.BY_SUBDIR]
    if unknown:
        raise UsageError(
            f"--platform {unknown[0]}: not a platform; choose from {', '.join(platforms.SUBDIRS)}"
        )
    missing = [w for w in wanted if w not in profile.platforms]
    if missing:
        raise UsageError(
            f"--platform {missing[0]}: not in the profile's platforms "
            f"({', '.join(profile.platforms)}); add it to `platforms` in {_rel(profile.path)}"
        )
    return tuple(dict.fromkeys(wanted))


def render_platforms(
    profile: Profile,
    subdirs: Sequence[str],
    options: RenderOptions | None = None,
    schema: Mapping[str, Any] | None = None,
) -> list[RenderedPlatform]:
    options = options or RenderOptions()
    return [render_platform(profile, s, options, schema) for s in subdirs]


def expectations(profile: Profile, condarc_text: str | None = None) -> dict[str, Any]:
    """What a verifier should find after installing one of this profile's installers."""
    text = condarc_text if condarc_text is not None else render_condarc(profile)
    return {
        "org_token": profile.telemetry.org_token,
        "installer_token": profile.telemetry.installer_token,
        "enabled": profile.telemetry.enabled,
        "locked": profile.telemetry.locked,
        "heartbeat": profile.telemetry.heartbeat,
        "anaconda_anon_usage_spec": profile.aau_spec,
        "token_scope": profile.telemetry.token_scope,
        "condarc": yaml.safe_load(text),
        "condarc_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "config_package": None,
    }


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return path.as_posix()
