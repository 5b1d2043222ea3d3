"""Load and validate an org profile into frozen dataclasses.

Pure apart from reading the profile (and checking that the files it names exist): every
problem is collected, each naming the file, the field path (with its line) and the fix,
and raised together as one ProfileError (exit code 2).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from . import platforms
from .errors import ProfileError
from .tokens import derive_installer_token, token_problem

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "construct" / "org.schema.json"
DEFAULT_PROFILE = Path(__file__).resolve().parents[1] / "construct" / "org.yaml"

AAU_PACKAGE = "anaconda-anon-usage"
AAU_DEFAULT_SPEC = ">=0.8.1"
AAU_FLOOR = (0, 8, 1)
# conda's default aggressive_update_packages: setting the key replaces that list, so keep them.
CERT_PACKAGES = ("ca-certificates", "certifi", "openssl")
# condarc keys orgconda writes itself; `condarc.extra` may not set them.
MANAGED_CONDARC_KEYS = {
    "anaconda_anon_usage": "telemetry.enabled / telemetry.locked",
    "anaconda_heartbeat": "telemetry.heartbeat",
    "mirrored_channels": "mirrored_channels (top level)",
}
_SPEC_NAME = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)")
_URL = re.compile(r"^https?://[^\s]+$")


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

    @property
    def base_dir(self) -> Path:
        return self.path.parent


@cache
def profile_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def load_profile(path: Path) -> Profile:
    """Read, validate and resolve the profile at ``path``; raise ProfileError on any problem."""
    shown = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(
            shown, ["the profile file does not exist; create it or pass --profile PATH"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(shown, [f"cannot read the profile: {exc}"]) from None
    return parse_profile(text, path)


def parse_profile(text: str, path: Path) -> Profile:
    shown = _display(path)
    try:
        data = yaml.safe_load(text)
        lines = _line_index(yaml.compose(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ProfileError(
            shown, [f"{where}not valid YAML ({_one_line(exc)}); fix the syntax"]
        ) from None
    if not isinstance(data, dict):
        raise ProfileError(shown, ["the profile must be a YAML mapping (key: value lines)"])
    problems = [_format(p, lines) for p in _schema_problems(data)]
    problems += [_format(p, lines) for p in _semantic_problems(data, path.parent)]
    if problems:
        raise ProfileError(shown, problems)
    return _resolve(data, path)


# --- validation -------------------------------------------------------------------------


Problem = tuple[tuple[Any, ...], str]  # (field path, message)


def _schema_problems(data: dict[str, Any]) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(profile_schema())
    out: list[Problem] = []
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        out.extend(_explain(err))
    return out


def _explain(err: jsonschema.ValidationError) -> list[Problem]:
    path = tuple(err.path)
    kind = err.validator
    schema = err.schema if isinstance(err.schema, dict) else {}
    if kind == "additionalProperties" and isinstance(err.instance, dict):
        known = sorted(schema.get("properties", {}))
        out = []
        for key in err.instance:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}"
            where = f"`{_dotted(path)}`" if path else "the top level"
            out.append(((*path, key), f"unknown key `{key}` in {where}; {hint}"))
        return out
    if kind == "required":
        missing = str(err.message).split("'")[1] if "'" in err.message else err.message
        return [(path, f"missing required key `{missing}`; add it (see construct/org.yaml)")]
    if kind == "pattern" and path and str(path[-1]).endswith("_token"):
        return [(path, f"token {err.instance!r} {token_problem(err.instance)}")]
    if kind == "pattern" and path and path[-1] in ("name", "version"):
        return [
            (
                path,
                f"{err.instance!r} is not allowed: use letters, digits, `_`, `-` and `.`, "
                "not starting or ending with `-` or `.` (constructor's rule)",
            )
        ]
    if kind == "pattern" and path and path[-1] == "slug":
        return [
            (
                path,
                f"{err.instance!r} cannot name a conda package: use 1-41 lower-case letters, "
                "digits, `_` or `-`, starting with a letter or digit (e.g. `acme`)",
            )
        ]
    if kind == "pattern":
        return [(path, f"{err.instance!r} does not match {schema.get('pattern')}")]
    if kind == "enum":
        choices = [c for c in schema.get("enum", []) if c is not None]
        close = difflib.get_close_matches(str(err.instance), [str(c) for c in choices], n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        listed = ", ".join(map(str, choices))
        return [(path, f"{err.instance!r} is not allowed; {hint}choose from {listed}")]
    if kind == "type":
        want = schema.get("type")
        fix = ""
        if want == "string" or (isinstance(want, list) and "string" in want):
            fix = '; quote the value, e.g. "2026.11"' if path and path[-1] == "version" else ""
        got = type(err.instance).__name__ if err.instance is not None else "nothing"
        return [(path, f"must be {_type_words(want)}, got {got} {err.instance!r}{fix}")]
    if kind == "minItems":
        return [(path, f"must list at least {schema.get('minItems')} item(s); it is empty")]
    if kind == "uniqueItems":
        return [(path, "lists the same item twice; remove the duplicate")]
    if kind == "minLength":
        return [(path, "must not be empty")]
    if kind == "minimum":
        return [(path, f"must be at least {schema.get('minimum')}, got {err.instance!r}")]
    return [(path, err.message)]


def _semantic_problems(data: dict[str, Any], base: Path) -> list[Problem]:
    out: list[Problem] = []
    installer = _dict(data.get("installer"))
    for key in ("license_file",):
        out += _file_problem(installer.get(key), ("installer", key), base)
    condarc = _dict(data.get("condarc"))
    out += _file_problem(condarc.get("ca_certificate"), ("condarc", "ca_certificate"), base)
    if condarc.get("ca_certificate") and condarc.get("ssl_verify") is False:
        out.append(
            (
                ("condarc", "ssl_verify"),
                "is false but condarc.ca_certificate is set; remove one (the certificate is only "
                "used when verification is on)",
            )
        )
    extra = _dict(condarc.get("extra"))
    typed = set(_dict(profile_schema()["properties"]["condarc"]["properties"])) - {"extra"}
    for key in extra:
        if key in MANAGED_CONDARC_KEYS:
            out.append(
                (("condarc", "extra", key), f"is set by orgconda; use {MANAGED_CONDARC_KEYS[key]}")
            )
        elif key in typed:
            out.append((("condarc", "extra", key), f"has its own field; move it to condarc.{key}"))
    if "aggressive_update_packages" in extra and not _str_list(extra["aggressive_update_packages"]):
        out.append(
            (
                ("condarc", "extra", "aggressive_update_packages"),
                "must be a list of package names (orgconda adds anaconda-anon-usage and the "
                "certificate packages itself)",
            )
        )

    specs = _dict(data.get("specs"))
    for key in ("python", "conda", "anaconda_anon_usage"):
        value = specs.get(key)
        if isinstance(value, str):
            out += _constraint_problems(value, ("specs", key))
    aau = specs.get("anaconda_anon_usage", AAU_DEFAULT_SPEC)
    if isinstance(aau, str) and not _allows_only_floor(aau):
        out.append(
            (
                ("specs", "anaconda_anon_usage"),
                f"{aau!r} allows versions older than 0.8.1, which lack the installer and "
                f"machine tokens; use {AAU_DEFAULT_SPEC!r} or a higher floor",
            )
        )
    reserved = {"python", "conda", AAU_PACKAGE}
    for i, spec in enumerate(specs.get("extra") or []):
        if not isinstance(spec, str):
            continue
        out += _spec_problems(spec, ("specs", "extra", i))
        m = _SPEC_NAME.match(spec)
        if m and m.group(1).lower() in reserved:
            field_name = m.group(1).lower().replace("-", "_")
            out.append(
                (("specs", "extra", i), f"{m.group(1)} has its own field; set specs.{field_name}")
            )

    for i, ch in enumerate(data.get("channels") or []):
        if isinstance(ch, str):
            out += _line_safety(ch, ("channels", i))
    telemetry = _dict(data.get("telemetry"))
    hb = telemetry.get("heartbeat")
    if isinstance(hb, str) and not _URL.match(hb):
        out.append(
            (("telemetry", "heartbeat"), f"{hb!r} is not an http(s) URL; use true, false or a URL")
        )
    return out


def _file_problem(value: object, path: tuple[Any, ...], base: Path) -> list[Problem]:
    if not isinstance(value, str) or not value:
        return []
    target = (base / value).resolve()
    if not target.is_file():
        return [
            (
                path,
                f"file {value!r} not found (looked for {target}); fix the path or remove the key",
            )
        ]
    return []


def _constraint_problems(value: str, path: tuple[Any, ...]) -> list[Problem]:
    if value and not re.fullmatch(r"[A-Za-z0-9_.*,<>=!~| ]+", value):
        return [(path, f'{value!r} is not a version constraint (e.g. "3.12.*", ">=25.1")')]
    return _line_safety(value, path)


def _spec_problems(spec: str, path: tuple[Any, ...]) -> list[Problem]:
    if not _SPEC_NAME.match(spec) or "#" in spec:
        return [(path, f'{spec!r} is not a conda match spec (e.g. "pip", "requests >=2.32")')]
    return _line_safety(spec, path)


def _line_safety(value: str, path: tuple[Any, ...]) -> list[Problem]:
    # constructor's selector pass treats a line ending in `]` as a selector; `#` starts a comment.
    if value.rstrip().endswith("]"):
        return [
            (path, f"{value!r} ends with `]`, which constructor reads as a selector; rewrite it")
        ]
    if "\n" in value:
        return [(path, "must be a single line")]
    return []


def _allows_only_floor(spec: str) -> bool:
    """True unless ``spec`` plainly admits an anaconda-anon-usage older than 0.8.1."""
    spec = spec.replace(" ", "")
    if not spec:
        return False
    parts = spec.split("|")
    return all(_part_has_floor(p) for p in parts)


def _part_has_floor(part: str) -> bool:
    floors = []
    for clause in part.split(","):
        m = re.fullmatch(r"(>=|==|>|=|~=)?([0-9][0-9A-Za-z.*]*)", clause)
        if not m:
            continue
        op, ver = m.group(1) or "==", m.group(2)
        if op in (">=", "==", ">", "=", "~="):
            floors.append(_vtuple(ver.rstrip(".*")))
    return any(f >= AAU_FLOOR for f in floors)


def _vtuple(ver: str) -> tuple[int, ...]:
    nums = []
    for piece in ver.split("."):
        m = re.match(r"\d+", piece)
        nums.append(int(m.group()) if m else 0)
    while len(nums) < 3:
        nums.append(0)
    return tuple(nums)


# --- resolution -------------------------------------------------------------------------


def _resolve(data: dict[str, Any], path: Path) -> Profile:
    base = path.parent
    inst = _dict(data["installer"])
    name, version = inst["name"], inst["version"]
    types_raw = _dict(data.get("installer_types"))
    installer_types = {
        os_: tuple(types_raw.get(os_) or _default_types(os_)) for os_ in platforms.OS_FAMILIES
    }
    specs_raw = _dict(data.get("specs"))
    aau_spec = specs_raw.get("anaconda_anon_usage", AAU_DEFAULT_SPEC) or AAU_DEFAULT_SPEC
    specs = tuple(
        s
        for s in (
            _spec("python", specs_raw.get("python", "")),
            _spec("conda", specs_raw.get("conda", "")),
            _spec(AAU_PACKAGE, aau_spec),
            *specs_raw.get("extra", []),
        )
    )
    remap = tuple((r["src"], r["dest"]) for r in data.get("channels_remap") or [])
    channels = tuple(data["channels"])
    rc = _dict(data.get("condarc"))
    remap_map = dict(remap)
    condarc = Condarc(
        channels=tuple(rc.get("channels") or [remap_map.get(c, c) for c in channels]),
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
    tel = _dict(data["telemetry"])
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
    cp = _dict(data.get("config_package"))
    config_package = ConfigPackage(
        enabled=cp.get("enabled", True),
        slug=cp.get("slug") or _slug(telemetry.org_token),
        build_number=cp.get("build_number", 0),
        publish_channel=cp.get("publish_channel"),
    )
    lic = inst.get("license_file")
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


def _slug(token: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]", "-", token.lower()).strip("-_") or "org"
    return slug[:40]


# --- helpers ----------------------------------------------------------------------------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _dotted(path: Iterable[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _type_words(want: object) -> str:
    words = {
        "string": "a string",
        "boolean": "true or false",
        "integer": "a whole number",
        "object": "a mapping",
        "array": "a list",
        "null": "empty (null)",
    }
    if isinstance(want, list):
        return " or ".join(words.get(str(w), str(w)) for w in want)
    return words.get(str(want), str(want))


def _format(problem: Problem, lines: dict[tuple[Any, ...], int]) -> str:
    path, message = problem
    line = None
    probe = tuple(path)
    while probe and line is None:
        line = lines.get(probe)
        probe = probe[:-1]
    where = f"`{_dotted(path)}`" if path else "(top level)"
    at = f" (line {line})" if line else ""
    return f"{where}{at}: {message}"


def _line_index(node: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    """Map each field path to the 1-based line where it appears in the YAML text."""
    index: dict[tuple[Any, ...], int] = {}

    def walk(n: yaml.Node, path: tuple[Any, ...]) -> None:
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                p = (*path, key.value)
                index[p] = key.start_mark.line + 1
                walk(value, p)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                p = (*path, i)
                index[p] = item.start_mark.line + 1
                walk(item, p)

    if node is not None:
        walk(node, ())
    return index


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
