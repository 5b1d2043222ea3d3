"""Load, validate and resolve an org profile into frozen dataclasses.

The flow: read the file -> ``yamlload`` (data and each field's line, duplicate keys, alias
bounds) -> ``overrides`` (``--set``) -> ``validate`` (schema and every other rule, all problems
at once) -> ``resolve`` (defaults applied, paths made absolute). Any problem raises one
ProfileError (exit code 2) listing each as `` `dotted.field` (line N): message ``.

For render-time problems, the renderer calls ``format_problem(profile, field_path, message)``
so they read the same way and point at the profile, not at the rendered file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import platforms, problems
from .condarc_keys import MANAGED_CONDARC_KEYS
from .errors import ProfileError
from .matchspec import AAU_DEFAULT_SPEC, AAU_PACKAGE
from .overrides import apply_sets, parse_sets
from .problems import FieldPath, Problem, SetFlag
from .semantics import derived_slug
from .tokens import derive_installer_token
from .validate import SCHEMA_PATH, profile_schema, validate
from .yamlload import YamlError, load_yaml

__all__ = [
    "AAU_DEFAULT_SPEC",
    "AAU_PACKAGE",
    "CERT_PACKAGES",
    "DEFAULT_PROFILE",
    "MANAGED_CONDARC_KEYS",
    "SCHEMA_PATH",
    "Profile",
    "ProfileError",
    "display_path",
    "format_problem",
    "load_profile",
    "parse_profile",
    "profile_error",
    "profile_schema",
]

DEFAULT_PROFILE = Path(__file__).resolve().parents[1] / "construct" / "org.yaml"
# conda's default aggressive_update_packages: setting the key replaces that list, so keep them.
CERT_PACKAGES = ("ca-certificates", "certifi", "openssl")


@dataclass(frozen=True)
class Condarc:
    channels: tuple[str, ...]
    default_channels: tuple[str, ...]
    channel_alias: str | None
    custom_channels: Mapping[str, str]
    proxy_servers: Mapping[str, str]
    ssl_verify: bool
    ca_certificate: Path | None
    report_errors: bool | None
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class Telemetry:
    enabled: bool
    locked: bool
    heartbeat: bool | str
    org_token: str
    installer_token: str
    installer_token_derived: bool
    token_scope: str


@dataclass(frozen=True)
class Signing:
    signing_identity_name: str | None = None
    notarization_identity_name: str | None = None
    windows_signing_tool: str | None = None
    signing_certificate: str | None = None


@dataclass(frozen=True)
class ConfigPackage:
    enabled: bool
    slug: str
    build_number: int
    publish_channel: str | None
    add_to_channels: bool = True

    @property
    def name(self) -> str:
        return f"{self.slug}-conda-config"


@dataclass(frozen=True)
class Profile:
    path: Path
    name: str
    version: str
    company: str
    license_file: Path | None
    default_prefix: str | None
    default_prefix_all_users: str | None
    initialize_conda: bool
    keep_pkgs: bool
    hook_checkbox: bool
    platforms: tuple[str, ...]
    installer_types: Mapping[str, tuple[str, ...]]
    specs: tuple[str, ...]
    aau_spec: str
    channels: tuple[str, ...]
    channels_remap: tuple[tuple[str, str], ...]
    mirrored_channels: Mapping[str, tuple[str, ...]]
    condarc: Condarc
    telemetry: Telemetry
    signing: Signing
    config_package: ConfigPackage
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)
    specs_conda_standalone: str | None = None  # a version constraint, or None: any
    # field path -> line in the profile file, for messages about rendered values
    lines: Mapping[FieldPath, int] = field(repr=False, compare=False, default_factory=dict)
    # the --set overrides applied, as (field, value) pairs
    sets: tuple[tuple[str, Any], ...] = ()
    set_flags: tuple[SetFlag, ...] = field(repr=False, compare=False, default=())
    # things worth saying that are not problems (a certificate's expiry date)
    notes: tuple[str, ...] = ()

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def format_problem(profile: Profile, field_path: Sequence[Any], message: str) -> str:
    """`` `dotted.field` (line N): message `` for a problem found after loading (e.g. while
    rendering), naming the --set flag instead of the line when one set the value."""
    return problems.format_problem(tuple(field_path), message, profile.lines, profile.set_flags)


def profile_error(profile: Profile, found: Sequence[tuple[Sequence[Any], str]]) -> ProfileError:
    """One ProfileError for ``(field_path, message)`` pairs found after loading."""
    return ProfileError(
        display_path(profile.path), [format_problem(profile, p, m) for p, m in found]
    )


def load_profile(
    path: Path,
    sets: Sequence[str] = (),
    *,
    now: datetime | None = None,
) -> Profile:
    """Read, validate and resolve the profile at ``path`` with ``--set`` overrides ``sets``
    (``FIELD=VALUE`` texts); raise ProfileError listing every problem."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(
            shown, ["the profile file does not exist; create it or pass --profile PATH"]
        ) from None
    except IsADirectoryError:
        raise ProfileError(
            shown, ["is a directory; pass the profile file with --profile"]
        ) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ProfileError(
            shown, [f"line {line}: not UTF-8 text ({exc.reason}); save the file as UTF-8"]
        ) from None
    except OSError as exc:
        raise ProfileError(shown, [f"cannot read the profile: {exc.strerror}"]) from None
    return parse_profile(text, path, sets, now=now)


def parse_profile(
    text: str, path: Path, sets: Sequence[str] = (), *, now: datetime | None = None
) -> Profile:
    shown = display_path(path)
    try:
        loaded = load_yaml(text)
    except YamlError as exc:
        raise ProfileError(shown, [exc.message]) from None
    data = loaded.data
    if not isinstance(data, dict):
        got = "empty" if data is None else f"a {type(data).__name__}"
        raise ProfileError(
            shown, [f"the profile must be a YAML mapping (key: value lines); it is {got}"]
        )
    flags, found = parse_sets(sets, profile_schema())
    found += apply_sets(data, flags)
    result = validate(data, path.parent, now=now)
    listed: list[Problem] = [*loaded.problems, *result.problems]
    # in file order (problems from --set values last), so they read top to bottom
    listed.sort(key=lambda p: _order(p.path, loaded.lines, flags))
    found += [problems.format_problem(p.path, p.message, loaded.lines, flags) for p in listed]
    if found:
        raise ProfileError(shown, list(dict.fromkeys(found)))
    return _resolve(data, path, loaded.lines, flags, tuple(result.notes))


def _order(path: FieldPath, lines: Mapping[FieldPath, int], flags: Sequence[SetFlag]) -> int:
    if problems.set_flag_for(path, flags) is not None:
        return 1 << 30
    return problems.line_of(path, lines) or 0


# --- resolution -------------------------------------------------------------------------


def _resolve(
    data: dict[str, Any],
    path: Path,
    lines: Mapping[FieldPath, int],
    flags: Sequence[SetFlag],
    notes: tuple[str, ...],
) -> Profile:
    base = path.parent
    inst = _dict(data["installer"])
    name, version = inst["name"], inst["version"]
    types_raw = _dict(data.get("installer_types"))
    installer_types = {
        os_: tuple(types_raw.get(os_) or _default_types(os_)) for os_ in platforms.OS_FAMILIES
    }
    specs_raw = _dict(data.get("specs"))
    aau_spec = specs_raw.get("anaconda_anon_usage", AAU_DEFAULT_SPEC) or AAU_DEFAULT_SPEC
    specs = (
        _spec("python", specs_raw.get("python", "")),
        _spec("conda", specs_raw.get("conda", "")),
        _spec(AAU_PACKAGE, aau_spec),
        *(s.strip() for s in specs_raw.get("extra") or []),
    )
    remap = tuple((r["src"], r["dest"]) for r in data.get("channels_remap") or [])
    channels = tuple(data["channels"])
    tel = _dict(data["telemetry"])
    cp = _dict(data.get("config_package"))
    config_package = ConfigPackage(
        enabled=cp.get("enabled", True),
        slug=cp.get("slug") or derived_slug(tel["org_token"]),
        build_number=cp.get("build_number", 0),
        publish_channel=cp.get("publish_channel"),
        add_to_channels=cp.get("add_to_channels", True),
    )
    rc = _dict(data.get("condarc"))
    remap_map = dict(remap)
    rc_channels = list(rc.get("channels") or [remap_map.get(c, c) for c in channels])
    publish = config_package.publish_channel
    if config_package.enabled and config_package.add_to_channels and publish:
        # installs take package updates only from a channel their condarc reads
        rc_channels = [publish, *(c for c in rc_channels if c != publish)]
    condarc = Condarc(
        channels=tuple(rc_channels),
        default_channels=tuple(rc.get("default_channels") or ()),
        channel_alias=rc.get("channel_alias"),
        custom_channels=dict(rc.get("custom_channels") or {}),
        proxy_servers=dict(rc.get("proxy_servers") or {}),
        ssl_verify=rc.get("ssl_verify", True),
        ca_certificate=(base / rc["ca_certificate"]).resolve()
        if rc.get("ca_certificate")
        else None,
        report_errors=rc.get("report_errors"),
        extra=dict(rc.get("extra") or {}),
    )
    explicit = tel.get("installer_token")
    telemetry = Telemetry(
        enabled=tel.get("enabled", True),
        locked=tel.get("locked", True),
        heartbeat=tel.get("heartbeat", False),
        org_token=tel["org_token"],
        installer_token=explicit or derive_installer_token(name, version),
        installer_token_derived=not explicit,
        token_scope=tel.get("token_scope", "prefix"),
    )
    lic = inst.get("license_file")
    standalone = (specs_raw.get("conda_standalone") or "").strip() or None
    return Profile(
        path=path,
        name=name,
        version=version,
        company=inst["company"],
        license_file=(base / lic).resolve() if lic else None,
        default_prefix=inst.get("default_prefix"),
        default_prefix_all_users=inst.get("default_prefix_all_users"),
        initialize_conda=inst.get("initialize_conda", True),
        keep_pkgs=inst.get("keep_pkgs", False),
        hook_checkbox=inst.get("hook_checkbox", True),
        platforms=tuple(data["platforms"]),
        installer_types=installer_types,
        specs=specs,
        aau_spec=aau_spec,
        channels=channels,
        channels_remap=remap,
        mirrored_channels={k: tuple(v) for k, v in _dict(data.get("mirrored_channels")).items()},
        condarc=condarc,
        telemetry=telemetry,
        signing=_signing(_dict(data.get("signing")), base),
        config_package=config_package,
        raw=data,
        specs_conda_standalone=standalone,
        lines=dict(lines),
        sets=tuple((problems.dotted(f.path), f.value) for f in flags),
        set_flags=tuple(flags),
        notes=notes,
    )


def _signing(raw: dict[str, Any], base: Path) -> Signing:
    # The certificate is often written by CI just before the build, so it is not required to
    # exist now; a relative path means relative to the profile, like every other path here.
    cert = raw.get("signing_certificate")
    if cert and not Path(cert).is_absolute():
        raw = {**raw, "signing_certificate": str((base / cert).resolve())}
    return Signing(**raw)


def _default_types(os_: str) -> tuple[str, ...]:
    return next(p.default_installer_types for p in platforms.PLATFORMS if p.os == os_)


def _spec(name: str, constraint: str) -> str:
    constraint = (constraint or "").strip()
    return f"{name} {constraint}" if constraint else name


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def display_path(path: Path) -> str:
    """The profile's path as messages show it: relative to the working directory if inside."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
