"""One validation pass over a loaded profile: the schema, then every rule the schema cannot say.

Pure apart from reading the files the profile names (license, CA certificate) and, for a
``condarc.extra`` key conda 26.7.1 does not know, asking the conda on PATH. Every problem is
collected; nothing stops at the first. Each value that reaches constructor's YAML is checked
here, against the field that holds it, so render-time problems become rare.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from . import semantics
from .problems import FieldPath, Problem, dotted, shown, type_name
from .tokens import token_problem

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "construct" / "org.schema.json"

# Fields whose value is a version: a number there is YAML's reading of an unquoted version.
VERSION_FIELDS = {
    ("installer", "version"): '"2026.11"',
    ("specs", "python"): '"3.12.*"',
    ("specs", "conda"): '">=25.1"',
    ("specs", "anaconda_anon_usage"): '">=0.8.1"',
    ("specs", "conda_standalone"): '">=25.1"',
}
# No name, path, URL or spec comes near this; installers carry some values in fixed buffers.
MAX_VALUE_CHARACTERS = 10_000
# constructor's selector pass (constructor/construct.py `sel_pat`) reads a line ending in
# `[...]`, or one with `#` followed by `[...]`, as a platform selector.
_BRACKETS = re.compile(r"\[[^\[\]]+\]")
_BREAK = re.compile("[\n\r\x0b\x0c\x85\u2028\u2029]")  # what YAML or a text editor breaks at
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass
class Result:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@cache
def profile_schema() -> dict[str, Any]:
    data = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def validate(
    data: dict[str, Any],
    base: Path,
    *,
    now: datetime | None = None,
    installed_keys: Callable[[], Any] | None = None,
) -> Result:
    """Every problem with ``data`` (a loaded profile, --set applied), and notes."""
    result = Result()
    schema = schema_problems(data)
    bad = {p.path for p in schema}
    safety = line_safety_problems(data)
    unsafe = {p.path for p in safety}
    checks = semantics.Checks(data, base, now=now, installed_keys=installed_keys, skip=unsafe)
    semantic = checks.run()
    result.problems = schema + [p for p in safety if not _under(p.path, bad)]
    result.problems += [p for p in semantic if not _under(p.path, bad)]
    result.notes = checks.notes
    return result


def _under(path: FieldPath, roots: set[FieldPath]) -> bool:
    return any(tuple(path[:n]) in roots for n in range(len(path) + 1))


# --- the schema ---------------------------------------------------------------------------


def schema_problems(data: dict[str, Any]) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(profile_schema())
    out: list[Problem] = []
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        out.extend(_explain(err))
    return out


def _explain(err: jsonschema.ValidationError) -> list[Problem]:
    path = tuple(err.path)
    kind = err.validator
    schema = err.schema if isinstance(err.schema, dict) else {}
    value = err.instance
    if kind == "additionalProperties" and isinstance(value, dict):
        known = sorted(schema.get("properties", {}))
        out = []
        for key in value:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}"
            inside = f"`{dotted(path)}`" if path else "the top level"
            out.append(Problem((*path, key), f"unknown key {shown(key)} in {inside}; {hint}"))
        return out
    if kind == "required":
        names = schema.get("required", [])
        missing = next((str(n) for n in names if isinstance(value, dict) and n not in value), "")
        return [
            Problem((*path, missing), "is missing; add it (see construct/org.yaml for an example)")
        ]
    if kind == "pattern" and path and str(path[-1]).endswith("_token"):
        return [Problem(path, f"token {shown(value)} {token_problem(value)}")]
    if kind == "pattern" and path and path[-1] in ("name", "version"):
        return [Problem(path, f"{shown(value)} {_name_problem(str(value))}")]
    if kind == "pattern" and path and path[-1] == "slug":
        return [
            Problem(
                path,
                f"{shown(value)} cannot name a conda package: use 1-41 lower-case letters, "
                "digits, `_` or `-`, starting with a letter or digit (e.g. `acme`)",
            )
        ]
    if kind == "pattern":
        return [Problem(path, f"{shown(value)} does not match {schema.get('pattern')}")]
    if kind == "enum":
        choices = [c for c in schema.get("enum", []) if c is not None]
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        listed = ", ".join(map(str, choices))
        return [Problem(path, f"{shown(value)} is not allowed; {hint}choose from {listed}")]
    if kind == "type":
        return [Problem(path, _type_message(path, value, schema.get("type")))]
    if kind == "minItems":
        return [Problem(path, f"must list at least {schema.get('minItems')} item(s); it is empty")]
    if kind == "uniqueItems":
        return [Problem(path, "lists the same item twice; remove the duplicate")]
    if kind == "minLength":
        return [Problem(path, "must not be empty")]
    if kind == "maxLength":
        limit = schema.get("maxLength")
        size = len(value) if isinstance(value, str) else "too many"
        return [Problem(path, f"is {size} characters long; the limit is {limit}")]
    if kind == "minimum":
        return [Problem(path, f"must be at least {schema.get('minimum')}, got {shown(value)}")]
    return [Problem(path, f"{shown(value)} is not allowed here ({kind})")]


def _type_message(path: FieldPath, value: Any, want: Any) -> str:
    words = {
        "string": "a string",
        "boolean": "true or false",
        "integer": "a whole number",
        "object": "a mapping",
        "array": "a list",
        "null": "empty (null)",
    }
    kinds = want if isinstance(want, list) else [want]
    wanted = " or ".join(words.get(str(w), str(w)) for w in kinds)
    message = f"must be {wanted}, got {type_name(value)} {shown(value)}"
    example = VERSION_FIELDS.get(tuple(path))
    if example and isinstance(value, (int, float)) and not isinstance(value, bool):
        message += f"; quote the value, e.g. {example} (unquoted, YAML reads 3.10 as 3.1)"
    elif "string" in kinds and value is not None and not isinstance(value, (list, dict)):
        message += "; quote the value"
    return message


def _name_problem(value: str) -> str:
    if "\n" in value or "\r" in value:
        return "holds a line break; write it on one line"
    return (
        "is not allowed: use letters, digits, `_`, `-` and `.`, not starting or ending with "
        "`-` or `.` (constructor's rule)"
    )


# --- values that reach constructor's YAML -----------------------------------------------------


def walk_strings(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, str, bool]]:
    """(path, text, is_key) for every string in ``value``, keys included."""
    if isinstance(value, str):
        yield path, value, False
    elif isinstance(value, dict):
        for k, v in value.items():
            if not path and k == "$schema":
                continue
            yield (*path, k), str(k), True
            yield from walk_strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_strings(v, (*path, i))


def line_problem(text: str) -> str | None:
    """Why ``text`` cannot be one line of constructor's construct.yaml as it is; or None."""
    if len(text) > MAX_VALUE_CHARACTERS:
        return (
            f"is {len(text)} characters long; a profile value takes at most {MAX_VALUE_CHARACTERS}"
        )
    if _BREAK.search(text):
        if not _BREAK.search(text.rstrip("\r\n")):
            return "ends with a line break (a `|` block keeps one: use `|-`, or a plain value)"
        return "holds a line break; it must be one line (constructor's YAML takes it as is)"
    control = _CONTROL.search(text)
    if control:
        return f"holds the control character U+{ord(control.group()):04X}; remove it"
    if text.rstrip().endswith("]"):
        return (
            "ends with `]`, and constructor reads a line ending in `[...]` as a platform "
            "selector (dropping or breaking the line); rewrite it, e.g. with ( ) instead of [ ]"
        )
    hash_at = text.find("#")
    if hash_at >= 0 and _BRACKETS.search(text, hash_at):
        return (
            "holds `#` followed by `[...]`, which constructor reads as a platform selector; "
            "remove the `#` or the brackets"
        )
    return None


def line_safety_problems(data: Any) -> list[Problem]:
    out = []
    for path, text, is_key in walk_strings(data):
        why = line_problem(text)
        if why and path[:2] == ("specs", "extra") and text.rstrip().endswith("]"):
            why = (
                "ends with `]`, and constructor reads a line ending in `[...]` as a platform "
                "selector: write the spec without brackets, as name, version and build "
                "(e.g. `numpy >=1.2 py312*` for `numpy[version='>=1.2',build='py312*']`)"
            )
        if why:
            label = f"the key {shown(text)} " if is_key else ""
            out.append(Problem(path, f"{label}{why}"))
    installer = (data.get("installer") or {}) if isinstance(data, dict) else {}
    company = installer.get("company") if isinstance(installer, dict) else None
    if isinstance(company, str) and not any(p.path == ("installer", "company") for p in out):
        why = _company_problem(company)
        if why:
            out.append(Problem(("installer", "company"), why))
    return out


def _company_problem(company: str) -> str | None:
    if company and not company.strip():
        return "is blank; write the organization's name"
    if company.lstrip().startswith("#"):
        return (
            "starts with `#`: it begins a line of the installer's conclusion text, and "
            "constructor drops lines starting with `#`; rewrite it"
        )
    marker = next((m for m in ("{{", "{%", "{#") if m in company), None)
    if marker:
        return (
            f"holds `{marker}`, which the configuration package's recipe would evaluate as "
            "Jinja (the company is in its summary); remove it"
        )
    return None
