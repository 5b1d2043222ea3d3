"""Version constraints and match specs, read with py-rattler (conda's MatchSpec semantics).

Every form conda accepts is parsed, not pattern-matched: ``channel::name``, ``channel/subdir::``,
``name[version='>=0.7']``, ``name=0.7``, ``name ==0.7``, ``,`` (and) and ``|`` (or), so the
anaconda-anon-usage floor and the reserved names hold whatever the spec's form.

The floor check. py-rattler's VersionSpec answers one question, ``matches(version)``; it has
no interval algebra. But a constraint is a boolean combination of comparisons with the version
literals written in it, so its answer can only change at those literals. The check therefore
asks it about the versions where the answer can change: every literal in the constraint, the
versions just below and above each (pre-releases, one more component, the previous number),
plus the released versions of the package's history and the floor's own neighbours. A probe
below the floor that matches is a witness, and the message names it ("`>=0.7` admits 0.8.0").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rattler import MatchSpec, Version, VersionSpec

from .channels import channel_problem
from .problems import shown

AAU_PACKAGE = "anaconda-anon-usage"
AAU_FLOOR = "0.8.1"
AAU_DEFAULT_SPEC = ">=0.8.1"
# anaconda-anon-usage releases before the floor (plus round numbers), tried first so that a
# witness is a version people recognise.
KNOWN_BELOW = ("0.8.0", "0.7.5", "0.7.3", "0.7.1", "0.7.0", "0.5.0", "0.4.4", "0.4.0", "0.1", "0")
PACKAGE_FILE_SUFFIXES = (".conda", ".tar.bz2")
_LITERAL = re.compile(r"[0-9A-Za-z_+!][0-9A-Za-z_.+!*-]*")
_EXAMPLES = '"3.12.*", ">=25.1" or ">=3.11,<3.13"'


@dataclass(frozen=True)
class Spec:
    """What a match spec says, as conda reads it."""

    name: str  # normalised (lower case)
    version: str | None
    channel: str | None  # the text before `::`, if any


def constraint_problem(value: str, package: str) -> str | None:
    """Why ``value`` is not a version constraint for ``package`` that conda reads; or None."""
    text = value.strip()
    if not text:
        return None
    if "#" in text:
        return "holds `#`, which starts a comment in a match spec (conda ignores the rest)"
    if any(c.isspace() for c in text):
        if re.match(r"[A-Za-z_][\w.-]*\s", text + " ") and not re.match(r"[<>=!~]", text):
            return (
                f"is a version constraint only (the field names the package); write e.g. "
                f"{_example(package)}, not {shown(value)}"
            )
        return (
            f"holds a space: conda reads `{package} {shorten(text)}` as a version plus a build "
            'string; write it without spaces, e.g. ">=3.11,<3.13"'
        )
    if text != "*" and not any(c.isdigit() for c in text):
        return f"is not a version constraint; write e.g. {_example(package)}"
    try:
        spec = VersionSpec(text)
    except Exception as exc:
        return f"is not a version constraint ({_first_line(exc)}); write e.g. {_EXAMPLES}"
    try:
        full = MatchSpec(f"{package} {text}", extras=False, conditionals=False, flags=False)
    except Exception as exc:
        return f"does not make a match spec with {package} ({_first_line(exc)})"
    if full.build is not None or str(full.version) != str(spec):
        return f"is read by conda as more than a version constraint; write e.g. {_EXAMPLES}"
    return None


def parse_spec(value: str) -> tuple[Spec | None, str | None]:
    """(the spec, None), or (None, why it is not a match spec conda reads)."""
    text = value.strip()
    if not text:
        return None, "is empty; write a match spec, e.g. pip or requests >=2.32"
    if "#" in text:
        return None, "holds `#`, which starts a comment in a match spec (conda ignores the rest)"
    if text.endswith(PACKAGE_FILE_SUFFIXES) or ("://" in text and "::" not in text):
        return None, (
            "names a package file or URL; list the package by name (and its channel in "
            "`channels`), e.g. pip or conda-forge::pip"
        )
    try:
        ms = MatchSpec(text, extras=False, conditionals=False, flags=False)
    except Exception as exc:
        return None, (
            f"is not a conda match spec ({_first_line(exc)}); "
            'write e.g. "pip", "requests >=2.32", "conda-forge::numpy 2.*"'
        )
    if ms.build is not None and any(c.isspace() for c in ms.build):
        return None, (
            "has more than three parts (name, version, build); conda refuses it: "
            'write e.g. "numpy 2.1.* py312*"'
        )
    channel = text.split("::", 1)[0] if "::" in text else None
    if channel is not None:
        why = channel_problem(channel)
        if why:
            return None, f"names the channel {shown(channel)}, which {why}"
    name = ms.name.normalized if ms.name is not None else ""
    version = str(ms.version) if ms.version is not None else None
    return Spec(name=name, version=version, channel=channel), None


def floor_witness(constraint: str | None, floor: str = AAU_FLOOR) -> str | None:
    """A version below ``floor`` that ``constraint`` admits (None: it admits none).

    An empty or missing constraint admits every version, so the witness is the highest
    known version below the floor."""
    lowest = Version(floor)
    text = (constraint or "").strip()
    if not text or text == "*":
        return KNOWN_BELOW[0]
    try:
        spec = VersionSpec(text)
    except Exception:
        return None  # not a constraint at all: reported by constraint_problem
    for probe in _probes(text, floor):
        version = _version(probe)
        if version is not None and version < lowest and spec.matches(version):
            return probe
    return None


def _probes(text: str, floor: str) -> list[str]:
    """Versions where the answer of ``text`` can change, recognisable ones first."""
    literals = [floor]
    for raw in _LITERAL.findall(text):
        literal = raw.rstrip("*").rstrip(".")
        if literal:
            literals.append(literal)
    near: list[str] = []
    for literal in dict.fromkeys(literals):
        near += _neighbours(literal)
    return list(dict.fromkeys([*KNOWN_BELOW, *near]))


@cache
def _neighbours(literal: str) -> list[str]:
    out = [literal, f"{literal}.0", f"{literal}.1", f"{literal}.0.1", f"{literal}.99999"]
    out += [f"{literal}{tag}" for tag in ("a0", "rc1", "dev0", ".dev0", "_a0")]
    parts = literal.split(".")
    for i in range(1, len(parts)):
        out.append(".".join(parts[:i]))
    last = parts[-1]
    if last.isdigit() and int(last) > 0:
        previous = ".".join([*parts[:-1], str(int(last) - 1)])
        out += [previous, f"{previous}.99999", f"{previous}.1"]
    if last.isdigit():
        following = ".".join([*parts[:-1], str(int(last) + 1)])
        out += [following, f"{following}a0", f"{following}.dev0"]
    return out


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except Exception:
        return None


def _example(package: str) -> str:
    return {
        "python": '"3.12.*"',
        "conda": '">=25.1"',
        AAU_PACKAGE: f'"{AAU_DEFAULT_SPEC}"',
    }.get(package, '">=1.0"')


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return shorten(text)


def shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
