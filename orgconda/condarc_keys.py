"""The condarc settings conda reads, so ``condarc.extra`` cannot ship a key conda ignores.

conda ignores unknown condarc keys silently, so a misspelt or removed setting would ship in
every installer and do nothing. The list kept in the repo (``orgconda/data/condarc_keys.json``)
is conda 26.7.1's own, derived from ``conda/base/context.py`` at that tag, with the keys
conda removed and why. A key that is not on it is looked up in the conda on PATH, when there
is one (``context.list_parameters(aliases=True)`` plus the plugin settings under ``plugins:``),
so a newer conda or a plugin's setting is accepted where that conda knows it. The lookup runs
only for such a key: the list covers the conda that installers ship today, and asking a conda
costs most of a second, which ``render`` cannot afford on every run.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .problems import FieldPath, Problem, shown

DATA = Path(__file__).resolve().parent / "data" / "condarc_keys.json"

# condarc keys orgconda writes itself; `condarc.extra` may not set them.
MANAGED_CONDARC_KEYS = {
    "anaconda_anon_usage": "telemetry.enabled / telemetry.locked",
    "anaconda_heartbeat": "telemetry.heartbeat",
    "mirrored_channels": "mirrored_channels (top level)",
}
# Printed as one line by the conda on PATH: its version, parameters (with aliases) and the
# plugin settings. One line, because the runner echoes the command.
_QUERY = (
    "import json,conda;from conda.base.context import context as c;"
    "c.plugin_manager.load_settings();"
    "print(json.dumps({'version':conda.__version__,"
    "'parameters':sorted({n.lstrip('_') for n in c.list_parameters(aliases=True)}),"
    "'plugin_parameters':sorted(c.plugins.list_parameters())}))"
)


@dataclass(frozen=True)
class CondaKeys:
    """The settings one conda reads."""

    source: str  # "conda 26.7.1 (orgconda's list)" or "conda 26.9.0 at /path"
    parameters: frozenset[str]  # names and aliases
    plugin_parameters: frozenset[str]  # keys under `plugins:`
    canonical: Mapping[str, str]  # alias -> name (for "has its own field" checks)


@cache
def repo_data() -> dict[str, Any]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@cache
def repo_keys() -> CondaKeys:
    data = repo_data()
    canonical: dict[str, str] = {}
    for name, aliases in data["parameters"].items():
        canonical[name] = name
        for alias in aliases:
            canonical[alias] = name
    return CondaKeys(
        source=f"conda {data['conda_version']}, as listed in orgconda/data/condarc_keys.json",
        parameters=frozenset(canonical),
        plugin_parameters=frozenset(data["plugin_parameters"]),
        canonical=canonical,
    )


def removed_reason(key: str) -> str | None:
    data = repo_data()
    why = data["removed"].get(key) or data["other_tools"].get(key)
    return str(why) if why else None


def conda_python(which: Callable[[str], str | None] = shutil.which) -> Path | None:
    """The python of the conda on PATH (only if there is one), from its launcher script."""
    env = os.environ.get("CONDA_PYTHON_EXE")
    conda = which("conda")
    if conda is None:
        return None
    if env and Path(env).is_file():
        return Path(env)
    exe = Path(conda).resolve()
    try:
        first = exe.read_bytes()[:512].split(b"\n", 1)[0]
    except OSError:
        first = b""
    if first.startswith(b"#!") and b"python" in first:
        candidate = Path(first[2:].decode(errors="replace").strip().split()[0])
        if candidate.is_file():
            return candidate
    for rel in ("python", "python3", "../bin/python", "../python.exe", "python.exe"):
        candidate = (exe.parent / rel).resolve()
        if candidate.is_file():
            return candidate
    return None


def query_installed(python: Path, run: Callable[[list[str]], str | None]) -> CondaKeys | None:
    """The settings the conda living in ``python``'s environment reads (None if it fails)."""
    out = run([str(python), "-c", _QUERY])
    if not out:
        return None
    try:
        found = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    base = repo_keys()
    params = frozenset(found.get("parameters") or ())
    return CondaKeys(
        source=f"conda {found.get('version')} at {python.parent.parent}",
        parameters=params,
        plugin_parameters=frozenset(found.get("plugin_parameters") or ()),
        canonical={k: v for k, v in base.canonical.items() if k in params},
    )


def _run_quietly(argv: list[str]) -> str | None:
    from .runner import Runner

    result = Runner(echo=lambda _line: None).run(argv, timeout=60, check=False)
    return result.stdout if result.returncode == 0 else None


@cache
def installed_keys() -> CondaKeys | None:
    python = conda_python()
    return query_installed(python, _run_quietly) if python else None


def extra_key_problems(
    extra: Mapping[str, Any],
    typed: frozenset[str],
    installed: Callable[[], CondaKeys | None] = installed_keys,
) -> list[Problem]:
    """Problems with ``condarc.extra``'s keys: managed, typed, removed, or unknown to conda."""
    keys = repo_keys()
    out: list[Problem] = []
    unknown: list[tuple[FieldPath, str, frozenset[str]]] = []
    for key, value in extra.items():
        path: FieldPath = ("condarc", "extra", key)
        name = keys.canonical.get(key, key)
        if key in MANAGED_CONDARC_KEYS:
            out.append(Problem(path, f"is set by orgconda; use {MANAGED_CONDARC_KEYS[key]}"))
        elif name in typed:
            alias = f" (`{key}` is conda's alias of `{name}`)" if name != key else ""
            out.append(Problem(path, f"has its own field{alias}; move it to condarc.{name}"))
        elif key == "plugins":
            if not isinstance(value, Mapping):
                out.append(Problem(path, "must be a mapping of plugin settings (name: value)"))
                continue
            for sub in value:
                if sub not in keys.plugin_parameters:
                    unknown.append(((*path, sub), str(sub), keys.plugin_parameters))
        elif key not in keys.parameters:
            why = removed_reason(key)
            if why:
                out.append(Problem(path, f"is not read by conda: {why}"))
            else:
                unknown.append((path, key, keys.parameters))
    if not unknown:
        return out
    other = installed()
    for path, key, known in unknown:
        is_plugin = len(path) == 4
        if other is not None and key in (
            other.plugin_parameters if is_plugin else other.parameters
        ):
            continue
        out.append(Problem(path, _unknown_message(key, known, is_plugin, typed, keys, other)))
    return out


def _unknown_message(
    key: str,
    known: frozenset[str],
    is_plugin: bool,
    typed: frozenset[str],
    keys: CondaKeys,
    other: CondaKeys | None,
) -> str:
    sources = keys.source + (f", nor {other.source}" if other else "")
    what = "a plugin setting" if is_plugin else "a setting"
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    hint = ""
    if close and close[0] in typed and not is_plugin:
        hint = f"did you mean condarc.{close[0]} (it has its own field)? "
    elif close:
        hint = f"did you mean `{close[0]}`? "
    return (
        f"{shown(key)} is not {what} that conda reads ({sources}), and conda ignores unknown "
        f"keys silently; {hint}remove it or fix the name"
    )
