"""One profile problem: the field it is about, the message, and where it came from.

Every message names a dotted field (``specs.extra[0]``) and where the value was set: its line
in the profile, or the ``--set`` flag that set it. Values quoted in messages are shortened,
so a 5 MB value gives a one-line error.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FieldPath = tuple[Any, ...]  # ("specs", "extra", 0)

SHOWN_CHARACTERS = 60


@dataclass(frozen=True)
class Problem:
    path: FieldPath
    message: str


@dataclass(frozen=True)
class SetFlag:
    """One ``--set FIELD=VALUE`` override as given on the command line."""

    text: str  # FIELD=VALUE, as typed
    path: FieldPath
    value: Any

    @property
    def flag(self) -> str:
        return f"--set {shorten_text(self.text)}"


_repr = reprlib.Repr()
_repr.maxstring = SHOWN_CHARACTERS + 2
_repr.maxother = SHOWN_CHARACTERS
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6
_repr.maxlevel = 3


def shorten_text(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """``text`` cut to ``limit`` characters plus a count of the rest."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def shown(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """A value for a message: repr() of at most ``limit`` characters plus a count of the rest."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value) - limit} more characters)"
    text = _repr.repr(value)
    return text if len(text) <= limit * 2 else text[: limit * 2] + "..."


def type_name(value: object) -> str:
    if value is None:
        return "nothing (null)"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def dotted(path: Iterable[Any]) -> str:
    """("specs", "extra", 0) -> ``specs.extra[0]`` (a very long key shortened)."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            key = str(p) if len(str(p)) <= SHOWN_CHARACTERS else str(p)[:SHOWN_CHARACTERS] + "..."
            out += f".{key}" if out else key
    return out


def line_of(path: FieldPath, lines: Mapping[FieldPath, int]) -> int | None:
    """The line of ``path``, else of its nearest ancestor that has one."""
    probe = tuple(path)
    while probe:
        line = lines.get(probe)
        if line is not None:
            return line
        probe = probe[:-1]
    return None


def set_flag_for(path: FieldPath, sets: Iterable[SetFlag]) -> SetFlag | None:
    """The --set that produced the value at ``path`` (it set ``path`` or an ancestor)."""
    best: SetFlag | None = None
    for s in sets:
        if tuple(path[: len(s.path)]) == s.path and (best is None or len(s.path) > len(best.path)):
            best = s
    return best


def where(path: FieldPath, lines: Mapping[FieldPath, int], sets: Iterable[SetFlag] = ()) -> str:
    """``(line 12)``, ``(--set installer.version=2026.12)``, or "" when neither is known."""
    sets = tuple(sets)
    flag = set_flag_for(path, sets)
    if flag is not None:
        return f" ({flag.flag})"
    line = line_of(path, lines)
    inner = [s.flag for s in sets if tuple(s.path[: len(path)]) == tuple(path)] if path else []
    at = f"line {line}" if line else ""
    parts = [p for p in (at, *(f"with {f}" for f in inner)) if p]
    return f" ({'; '.join(parts)})" if parts else ""


def format_problem(
    path: FieldPath,
    message: str,
    lines: Mapping[FieldPath, int],
    sets: Iterable[SetFlag] = (),
) -> str:
    """`` `dotted.field` (line N): message `` -- the one format of every profile problem."""
    field = f"`{dotted(path)}`" if path else "(top level)"
    return f"{field}{where(path, lines, sets)}: {message}"
