"""A small version-spec matcher: enough for the ``anaconda_anon_usage`` spec of a profile.

Supported: ``>=X.Y.Z``, ``>``, ``<=``, ``<``, ``==``, ``!=``, a bare version (exact), ``X.Y.*``
and ``=X.Y`` (prefix match, as conda reads them), conditions joined with ``,`` (and) and
``|`` (or). Versions compare component by component, numbers numerically; a letter part
sorts before a number, so ``1.0rc1 < 1.0``. This is not conda's full VersionOrder, and it
does not need to be: it only judges the plugin's own release numbers.
"""

from __future__ import annotations

import re

_RUN = re.compile(r"\d+|[A-Za-z]+")
_COND = re.compile(r"^\s*(==|!=|>=|<=|>|<|=)?\s*([A-Za-z0-9_.+!*-]+)\s*$")

Key = tuple[tuple[int, int | str], ...]


class SpecError(ValueError):
    """The spec text cannot be parsed."""


def version_key(version: str) -> Key:
    """Sortable key: digit runs as numbers, letter runs as lower-case text (before numbers)."""
    runs = _RUN.findall(version.split("+", 1)[0])
    if not runs:
        raise SpecError(f"not a version: {version!r}")
    return tuple((1, int(r)) if r.isdigit() else (0, r.lower()) for r in runs)


def _compare(a: Key, b: Key) -> int:
    width = max(len(a), len(b))
    pad: tuple[int, int | str] = (1, 0)
    for x, y in zip(a + (pad,) * (width - len(a)), b + (pad,) * (width - len(b)), strict=True):
        if x != y:
            # (0, str) sorts before (1, int); equal kinds compare by value.
            if x[0] != y[0]:
                return -1 if x[0] < y[0] else 1
            xv, yv = x[1], y[1]
            if isinstance(xv, int) and isinstance(yv, int):
                return -1 if xv < yv else 1
            return -1 if str(xv) < str(yv) else 1
    return 0


def _prefix_match(version: Key, prefix: Key) -> bool:
    return version[: len(prefix)] == prefix


def _match_condition(version: Key, cond: str) -> bool:
    found = _COND.match(cond)
    if found is None:
        raise SpecError(f"cannot read the condition {cond!r}")
    op, text = found.group(1) or "", found.group(2)
    wildcard = text.endswith("*")
    bare = text.rstrip("*").rstrip(".")
    if wildcard and not bare:
        return op in ("", "==", "=", ">=", "<=")  # "*" alone matches anything
    target = version_key(bare)
    if (op in ("", "==") and wildcard) or op == "=":
        return _prefix_match(version, target)
    if op == "!=" and wildcard:
        return not _prefix_match(version, target)
    order = _compare(version, target)
    return {
        "": order == 0,
        "==": order == 0,
        "!=": order != 0,
        ">=": order >= 0,
        "<=": order <= 0,
        ">": order > 0,
        "<": order < 0,
    }[op]


def check_spec(spec: str) -> None:
    """Raise SpecError when ``spec`` cannot be parsed."""
    version_matches("0", spec)


def version_matches(version: str, spec: str) -> bool:
    """True when ``version`` satisfies ``spec``; SpecError when either cannot be read."""
    if not spec.strip():
        raise SpecError("empty version spec")
    key = version_key(version)
    results = []
    for alternative in spec.split("|"):
        conditions = alternative.split(",")
        if any(not c.strip() for c in conditions):
            raise SpecError(f"empty condition in {spec!r}")
        results.append(all([_match_condition(key, c) for c in conditions]))
    return any(results)
