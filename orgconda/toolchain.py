"""The build toolchain's pins, read from the one place they live: ``environment.yml``.

constructor and conda-standalone are pinned there with ``==`` (what `conda env create -f
environment.yml` installs); provisioning installs exactly the same versions, and python with the
spec written there. Nothing else in the repository repeats these versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import UsageError

ENVIRONMENT_YML = Path(__file__).resolve().parents[1] / "environment.yml"

# The packages a build machine needs. constructor brings conda (its solver) and python.
PINNED = ("constructor", "conda-standalone")
_EXACT = re.compile(r"^==\s*([0-9][A-Za-z0-9_.+!]*)$")
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*(.*)$")


@dataclass(frozen=True)
class Pins:
    """The toolchain versions, from ``environment.yml``."""

    constructor: str  # exact version, e.g. "3.16.3"
    conda_standalone: str  # exact version, e.g. "26.7.1"
    python: str  # the python entry's version spec as written ("" when it has none)
    source: Path

    def specs(self) -> tuple[str, ...]:
        """The match specs a provisioned environment is solved from."""
        python = f"python {self.python}".strip()
        return (
            f"constructor =={self.constructor}",
            f"conda-standalone =={self.conda_standalone}",
            python,
        )


def parse_pins(text: str, source: Path) -> Pins:
    """The pins in an environment.yml's text; UsageError naming the entry and the fix."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{source}: not valid YAML: {exc}") from exc
    deps = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(deps, list):
        raise UsageError(f"{source}: `dependencies` must be a list of conda package specs")
    found: dict[str, str] = {}
    for dep in deps:
        if not isinstance(dep, str):
            continue  # the `pip:` sub-list
        m = _ENTRY.match(dep.strip())
        if m:
            found[m.group(1).lower()] = m.group(2).strip()
    exact: dict[str, str] = {}
    for name in PINNED:
        if name not in found:
            raise UsageError(
                f"{source}: `dependencies` has no `{name}` entry; add `- {name} ==VERSION` "
                "(the build toolchain's pin)"
            )
        m = _EXACT.match(found[name])
        if not m:
            raise UsageError(
                f"{source}: `dependencies` entry `{name} {found[name]}`".rstrip()
                + f" is not an exact pin; write `- {name} ==VERSION` (one version, so every "
                "build machine and the provisioned toolchain run the same one)"
            )
        exact[name] = m.group(1)
    return Pins(
        constructor=exact["constructor"],
        conda_standalone=exact["conda-standalone"],
        python=found.get("python", ""),
        source=source,
    )


def read_pins(path: Path = ENVIRONMENT_YML) -> Pins:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the toolchain pins from {path}: {exc.strerror}") from exc
    return parse_pins(text, path)
