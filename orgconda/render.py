"""Render each resolved platform into constructor's input, then check what was rendered.

Pure: ``render_platforms`` returns the files of each ``build/<subdir>`` in memory (text, or
the path of a file to copy), already parsed back, checked for constructor's selector hazards and
validated against constructor's JSON schema. A problem is reported against the profile value
(or the command-line flag) that produced it, for every platform at once. ``orgconda.stage``
writes the result to disk.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from . import platforms
from .errors import ProfileError, UsageError
from .profile import Profile, format_problem
from .resolve import Resolved, ResolvedPlatform
from .yamltext import RenderError, yaml_scalar, yaml_value

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "construct"
SCHEMA_ENV = "ORGCONDA_CONSTRUCT_SCHEMA"
ENVIRONMENT_FILE = "environment.txt"  # build/<subdir>/environment.txt with --locked

# construct.yaml key -> the profile field (or flag) that fills it, for problem reports.
ORIGINS: dict[str, tuple[str, ...]] = {
    "name": ("installer", "name"),
    "version": ("installer", "version"),
    "company": ("installer", "company"),
    "installer_type": ("installer_types",),
    "channels": ("channels",),
    "channels_remap": ("channels_remap",),
    "specs": ("specs",),
    "license_file": ("installer", "license_file"),
    "default_prefix": ("installer", "default_prefix"),
    "default_prefix_all_users": ("installer", "default_prefix_all_users"),
    "condarc": ("condarc",),
    "keep_pkgs": ("installer", "keep_pkgs"),
    "initialize_conda": ("installer", "initialize_conda"),
    "script_env_variables": ("telemetry",),
    "post_install_desc": ("installer", "company"),
    "conclusion_text": ("installer", "company"),
    "signing_identity_name": ("signing", "signing_identity_name"),
    "notarization_identity_name": ("signing", "notarization_identity_name"),
    "windows_signing_tool": ("signing", "windows_signing_tool"),
    "signing_certificate": ("signing", "signing_certificate"),
}


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


def context(resolved: Resolved, rp: ResolvedPlatform) -> dict[str, Any]:
    """The construct.yaml template's values for one platform."""
    profile = resolved.profile
    types = rp.installer_types
    hooks = set(rp.hooks)
    pre, post = f"pre_install.{rp.plat.hook_ext}", f"post_install.{rp.plat.hook_ext}"
    return {
        "profile_path": _rel(profile.path),
        "subdir": rp.subdir,
        "name": profile.name,
        "version": profile.version,
        "company": profile.company,
        "installer_type": types[0] if len(types) == 1 else list(types),
        "channels": list(rp.channels),
        "channels_remap": [{"src": s, "dest": d} for s, d in rp.channels_remap],
        "specs": [] if rp.environment_file is not None else list(rp.specs),
        "environment_file": ENVIRONMENT_FILE if rp.environment_file is not None else None,
        "license_file": rp.license_file,
        "extra_files": [{src: dest} for src, dest in rp.extra_files],
        "keep_pkgs": profile.keep_pkgs,
        "initialize_conda": profile.initialize_conda,
        "default_prefix": profile.default_prefix if rp.plat.os != "win" else None,
        "default_prefix_all_users": (
            profile.default_prefix_all_users if rp.plat.os == "win" else None
        ),
        "condarc": rp.condarc,
        "pre_install": pre if pre in hooks else None,
        "post_install": post if post in hooks else None,
        "post_install_desc": rp.post_install_desc,
        "script_env_variables": dict(rp.script_env),
        "conclusion_text": rp.conclusion_text,
        "signing": dict(rp.signing),
    }


def render_platform(
    resolved: Resolved, rp: ResolvedPlatform, schema: Mapping[str, Any] | None
) -> tuple[RenderedPlatform | None, list[str]]:
    """The platform's files, or the problems (each naming the profile value behind it)."""
    post = f"post_install.{rp.plat.hook_ext}"
    if post not in rp.hooks:
        # without the hook no installer, organization or machine token is ever written
        raise RenderError(
            f"{post} is missing: {rp.subdir} installers need it to seed the tokens "
            "(restore post_install/ from the repository)"
        )
    try:
        text = (
            _env(str(TEMPLATES)).get_template("construct.yaml.j2").render(**context(resolved, rp))
        )
    except jinja2.UndefinedError as exc:
        raise RenderError(f"construct.yaml.j2 for {rp.subdir}: {exc}") from exc
    except RenderError as exc:
        return None, [_problem(resolved, rp.subdir, None, str(exc), ())]
    text = text.lstrip("\n").rstrip("\n") + "\n"
    data, problems = check_construct_yaml(resolved, rp.subdir, text, schema)
    if data is None or problems:
        return None, problems
    condarc = data.get("condarc")
    if isinstance(condarc, str) and resolved.profile.telemetry.locked and "#!final" not in condarc:
        raise RenderError(f"{rp.subdir}: the locked condarc lost its #!final marker")
    files = dict(rp.files)
    files["construct.yaml"] = text
    if rp.environment_file is not None:
        files[ENVIRONMENT_FILE] = rp.environment_file
    return RenderedPlatform(rp.subdir, text, files, data), []


def selector_hazards(text: str) -> list[tuple[int, str, str]]:
    """(line number, line, why) for lines constructor's preprocessing would misread: a line
    ending in `]` is taken as a selector, a line starting with `#` is dropped even inside a
    block string."""
    out = []
    in_block = False
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.endswith("]"):
            out.append((no, line, "ends with `]`, which constructor reads as a selector"))
        if in_block and stripped.startswith("#") and line.startswith(" "):
            out.append((no, line, "starts with `#` inside a block string (constructor drops it)"))
        if line and not line.startswith(" "):
            in_block = line.rstrip().endswith("|") or line.rstrip().endswith(">")
    return out


def check_construct_yaml(
    resolved: Resolved, subdir: str, text: str, schema: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, list[str]]:
    problems = []
    for no, line, why in selector_hazards(text):
        key = _key_at(text, no)
        problems.append(_problem(resolved, subdir, line, f"the rendered line {no} {why}", key))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [*problems, _problem(resolved, subdir, None, f"not valid YAML: {exc}", ())]
    if not isinstance(data, dict):
        raise RenderError(f"{subdir}/construct.yaml did not render to a mapping")
    if schema is not None:
        import jsonschema  # only with a schema to check against (keeps start-up short)

        for err in jsonschema.Draft202012Validator(schema).iter_errors(data):
            where = ".".join(str(p) for p in err.path) or "(top level)"
            key = tuple(str(p) for p in err.path)[:1]
            message = f"constructor's schema rejects `{where}`: {_short(err.message)}"
            problems.append(_problem(resolved, subdir, None, message, key))
    return data, problems


def _key_at(text: str, line_no: int) -> tuple[str, ...]:
    """The top-level construct.yaml key whose block holds line ``line_no``."""
    key: tuple[str, ...] = ()
    for no, line in enumerate(text.splitlines(), 1):
        if line and not line.startswith((" ", "#")) and ":" in line:
            key = (line.split(":", 1)[0],)
        if no == line_no:
            return key
    return key


def _problem(
    resolved: Resolved, subdir: str, line: str | None, message: str, key: tuple[str, ...]
) -> str:
    """Name the profile value (or flag) behind a problem found in a rendered file."""
    profile = resolved.profile
    flag = None
    flags = resolved.options.channels
    if key[:1] == ("channels",) and flags and (line is None or any(c in line for c in flags)):
        flag = "--channel"
    field = _field_of(profile, line) if line else None
    if field is None and key:
        field = ORIGINS.get(key[0])
    where = f"build/{subdir}/construct.yaml"
    if flag:
        return f"{flag}: {message} (in {where}); fix the flag's value"
    if field is None:
        return f"{message} (in {where}); fix the profile value that produced it"
    return format_problem(profile, field, f"{message} (in {where}); change this value")


def _field_of(profile: Profile, line: str) -> tuple[str, ...] | None:
    """The profile field whose value appears in ``line`` (the longest such value)."""
    best: tuple[int, tuple[str, ...]] | None = None
    for path, value in _leaves(profile.raw, ()):
        found = isinstance(value, str) and len(value) >= 2 and value.strip() in line
        if found and (best is None or len(value) > best[0]):
            best = (len(value), path)
    return best[1] if best else None


def _leaves(node: Any, path: tuple[Any, ...]) -> Iterable[tuple[tuple[str, ...], Any]]:
    if isinstance(node, Mapping):
        for k, v in node.items():
            yield from _leaves(v, (*path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    else:
        yield path, node


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more)"


# --- constructor's schema ---------------------------------------------------------------


def find_construct_schema(constructor: Path | None = None) -> Path | None:
    """constructor's own schema: the one of the constructor that will build (importable here,
    else ``constructor``'s or the one on PATH, in its own environment), else
    $ORGCONDA_CONSTRUCT_SCHEMA."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("constructor")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "data" / "construct.schema.json"
        if candidate.is_file():
            return candidate
    found = _schema_beside(str(constructor) if constructor else shutil.which("constructor"))
    if found is not None:
        return found
    env = os.environ.get(SCHEMA_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise UsageError(f"{SCHEMA_ENV}={env} does not name a file")
        return path
    return None


def _schema_beside(executable: str | None) -> Path | None:
    """The schema in the environment that holds a ``constructor`` executable
    (``<env>/bin/constructor`` or ``<env>\\Scripts\\constructor.exe``)."""
    if not executable:
        return None
    env = Path(executable).resolve().parent.parent
    patterns = (
        "lib/python3*/site-packages/constructor/data/construct.schema.json",
        "Lib/site-packages/constructor/data/construct.schema.json",
    )
    for pattern in patterns:
        for candidate in sorted(env.glob(pattern)):
            return candidate
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
    resolved: Resolved, schema: Mapping[str, Any] | None = None
) -> list[RenderedPlatform]:
    """Every platform, or one ProfileError listing every problem of every platform."""
    out: list[RenderedPlatform] = []
    problems: list[str] = []
    for rp in resolved.platforms:
        rendered, found = render_platform(resolved, rp, schema)
        problems += [p for p in found if p not in problems]
        if rendered is not None:
            out.append(rendered)
    if problems:
        raise ProfileError(_rel(resolved.profile.path), problems)
    return out


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return path.as_posix()
