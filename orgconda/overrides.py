"""``--set FIELD=VALUE``: override profile fields from the command line (CI sets the version).

FIELD is dotted, with list indexes (``specs.extra[0]``); VALUE is read as a YAML scalar or
flow value (``true``, ``3``, ``[pip, numpy]``, ``null``). Where the field takes a string and
YAML would read the value as something else, the text is kept as typed, so
``--set installer.version=2026.12`` sets the string "2026.12", not the number. Overrides apply
to the loaded data before validation, so a bad value is refused like one in the file, and the
message names the flag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .problems import FieldPath, SetFlag, dotted, shorten_text
from .yamlload import YamlError, parse_value

_FIELD = re.compile(r"[^.\[\]=\s][^.\[\]=]*(?:\.[^.\[\]=]+|\[\d+\])*")
_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]=]+)")
_EXAMPLE = "e.g. --set installer.version=2026.12"
_TYPES = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def parse_field(text: str) -> FieldPath | None:
    """``specs.extra[0]`` -> ("specs", "extra", 0); None when it is not a field path."""
    if not _FIELD.fullmatch(text):
        return None
    return tuple(
        int(m.group(1)) if m.group(1) is not None else m.group(2) for m in _PART.finditer(text)
    )


def parse_sets(texts: Sequence[str], schema: Mapping[str, Any]) -> tuple[list[SetFlag], list[str]]:
    """The overrides, and a problem (naming the flag) for each one that cannot be read."""
    flags: list[SetFlag] = []
    problems: list[str] = []
    for text in texts:
        field, sep, raw = text.partition("=")
        shown = f"--set {shorten_text(text)}"
        path = parse_field(field.strip()) if sep else None
        if path is None:
            problems.append(
                f"`{shown}`: use FIELD=VALUE with a dotted field (list items as [0]); {_EXAMPLE}"
            )
            continue
        try:
            value = parse_value(raw) if raw.strip() else None
        except YamlError as exc:
            problems.append(f"`{shown}`: the value is not a YAML value ({exc.message})")
            continue
        value = _as_typed(value, raw, schema_at(schema, path))
        flags.append(SetFlag(text=text, path=path, value=value))
    return flags, problems


def apply_sets(data: dict[str, Any], flags: Sequence[SetFlag]) -> list[str]:
    """Apply ``flags`` to ``data`` in order (creating missing mappings); problems naming them."""
    problems = []
    for flag in flags:
        why = _apply(data, flag.path, flag.value)
        if why:
            problems.append(f"`{flag.flag}`: {why}")
    return problems


def _apply(data: dict[str, Any], path: FieldPath, value: Any) -> str | None:
    node: Any = data
    for i, seg in enumerate(path):
        last = i == len(path) - 1
        here = _dotted(path[:i]) or "the profile"
        if isinstance(seg, str):
            if not isinstance(node, dict):
                return f"{here} is not a mapping, so it has no key `{seg}`"
            if last:
                node[seg] = value
            else:
                if node.get(seg) is None:
                    node[seg] = [] if isinstance(path[i + 1], int) else {}
                node = node[seg]
        else:
            if not isinstance(node, list):
                return f"{here} is not a list, so it has no item [{seg}]"
            if seg > len(node) or (seg == len(node) and not last):
                return f"{here} has {len(node)} item(s); [{seg}] is past its end"
            if seg == len(node):
                node.append(value)
            elif last:
                node[seg] = value
            else:
                node = node[seg]
    return None


def schema_at(schema: Mapping[str, Any], path: FieldPath) -> Mapping[str, Any] | None:
    """The JSON schema of the field at ``path`` (None where the schema does not say)."""
    node: Any = schema
    for seg in path:
        if not isinstance(node, Mapping):
            return None
        if isinstance(seg, int):
            node = node.get("items")
        elif seg in node.get("properties", {}):
            node = node["properties"][seg]
        else:
            node = node.get("additionalProperties")
    return node if isinstance(node, Mapping) else None


def _as_typed(value: Any, raw: str, schema: Mapping[str, Any] | None) -> Any:
    if schema is None or isinstance(value, str):
        return value
    wanted = schema.get("type")
    kinds = [wanted] if isinstance(wanted, str) else list(wanted or [])
    if "enum" in schema:
        if value in schema["enum"]:
            return value
        return raw.strip()
    admitted = tuple(t for k in kinds for t in _TYPES.get(k, ()))
    if "string" in kinds and not (isinstance(value, admitted) and not _bool_as_int(value, kinds)):
        return raw.strip()
    return value


def _bool_as_int(value: Any, kinds: list[str]) -> bool:
    return isinstance(value, bool) and "boolean" not in kinds


def _dotted(path: FieldPath) -> str:
    return f"`{dotted(path)}`" if path else ""
