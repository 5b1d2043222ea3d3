"""Property-based: random mutations of the default profile never give a traceback or an exit
other than 0 or 2; a profile that loads also renders (validation leaves nothing for render
time to find); and whatever renders has tokens the installer's own pre-install accepts (the
rendered pre_install.sh, run by dash with the rendered script_env_variables)."""

from __future__ import annotations

import contextlib
import copy
import io
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from conftest import DEFAULT_PROFILE, REPO, require_tool
from helpers import default_profile_data
from hooks_util import hook_vars
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgconda import cli
from orgconda.errors import ProfileError
from orgconda.profile import load_profile

DELETE = object()


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        out = [path] if path else []
        for k, v in value.items():
            out += _leaves(v, (*path, k))
        return out
    if isinstance(value, list):
        return [path, *(p for i, v in enumerate(value) for p in _leaves(v, (*path, i)))]
    return [path]


DEFAULT = default_profile_data()
PATHS = sorted(
    set(_leaves(DEFAULT))
    | {
        ("installer", "default_prefix"),
        ("installer", "default_prefix_all_users"),
        ("installer", "keep_pkgs"),
        ("specs", "conda_standalone"),
        ("specs", "extra", 1),
        ("channels", 1),
        ("channels_remap",),
        ("mirrored_channels",),
        ("condarc", "channel_alias"),
        ("condarc", "custom_channels"),
        ("condarc", "default_channels"),
        ("condarc", "proxy_servers"),
        ("condarc", "extra", "solver"),
        ("condarc", "extra", "aggressive_update_packages"),
        ("condarc", "extra", "restore_free_channel"),
        ("telemetry", "installer_token"),
        ("config_package", "slug"),
        ("config_package", "add_to_channels"),
        ("unknown",),
    },
    key=repr,
)

INTERESTING = [
    "",
    " ",
    "acme-corp",
    "acme-corp\n",
    "AcmeConda-2026_11",
    "x" * 36,
    "x" * 37,
    "Acme [EU]",
    "#1 [x]",
    "#x",
    "a]",
    "conda-forge",
    "conda forge",
    "mamba",
    "pip",
    "numpy [x]",
    "a b c d",
    "https://conda.acme.example/cf",
    "ht!tp://x",
    "file:///srv/ch",
    "./local",
    ">=0.7",
    ">=0.8.1",
    "0.8.*",
    "3.12.*",
    "2026.11",
    "1.0.",
    "-x",
    "prefix",
    "system",
    "linux-64",
    "sh",
    "strict",
    "caf\u00e9",
    "a\tb",
    "a\u2028b",
    "acme-corp-conda-config",
    "A" * 201,
    "Acme {{ corp }}",
    "x" * 10_001,
]
TEXT = st.one_of(st.sampled_from(INTERESTING), st.text(max_size=20))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(TEXT, st.one_of(SCALARS, st.lists(TEXT, max_size=2)), max_size=2),
    st.just(DELETE),
)
MUTATIONS = st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3)


def _mutate(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = data
    for i, seg in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, dict):
            if not isinstance(node.get(seg), (dict, list)):
                node[seg] = [] if isinstance(nxt, int) else {}
            node = node[seg]
        elif isinstance(node, list) and isinstance(seg, int) and seg < len(node):
            node = node[seg]
        else:
            return
    last = path[-1]
    if isinstance(node, dict):
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and isinstance(last, int):
        if value is DELETE:
            if last < len(node):
                del node[last]
        elif last < len(node):
            node[last] = value
        else:
            node.append(value)


def _render(text: str, root: Path) -> tuple[int, str, Path, str]:
    """Run `render` on the profile text; a profile that loads must render (exit 0)."""
    profile = root / "org.yaml"
    profile.write_text(text, encoding="utf-8")
    (root / "LICENSE.txt").write_bytes((REPO / "construct" / "LICENSE.txt").read_bytes())
    try:
        loaded = load_profile(profile)
    except ProfileError:
        loaded = None
    subdir = "linux-64"
    if loaded is not None and subdir not in loaded.platforms:
        subdir = next((p for p in loaded.platforms if not p.startswith("win")), "")
        subdir = subdir or loaded.platforms[0]
    build = root / "build"
    out, err = io.StringIO(), io.StringIO()
    argv = ["render", "--profile", str(profile), "--build-dir", str(build), "--platform", subdir]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    assert "Traceback" not in err.getvalue()
    # what validates also renders: no problem is left for render time to find
    assert code == (2 if loaded is None else 0), (code, err.getvalue())
    if code == 2:
        assert err.getvalue().startswith("error: ")
    return code, err.getvalue(), build, subdir


def _pre_install_accepts(build: Path, root: Path, subdir: str) -> None:
    """Run the rendered pre_install.sh with the rendered script_env_variables."""
    construct = yaml.safe_load((build / subdir / "construct.yaml").read_text())
    hook = construct.get("pre_install")
    if not hook or not hook.endswith(".sh"):
        return  # a Windows-only profile: tests/test_hooks_bat.py runs the .bat hooks
    dash = require_tool("dash")
    env = {
        "PATH": "/usr/bin:/bin",
        **hook_vars(str(root / "prefix"), "SH"),
        **{k: str(v) for k, v in construct["script_env_variables"].items()},
        "ORGCONDA_SYSTEM_TOKEN_DIR": str(root / "etc-conda"),
    }
    result = subprocess.run(
        [dash, str(build / subdir / hook)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (construct["script_env_variables"], result.stderr)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(MUTATIONS)
def test_random_field_mutations_exit_0_or_2(mutations: list[tuple[Any, Any]]) -> None:
    data = copy.deepcopy(DEFAULT)
    for path, value in mutations:
        _mutate(data, path, value)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        code, _err, build, subdir = _render(yaml.safe_dump(data, sort_keys=False), root)
        if code == 0:
            _pre_install_accepts(build, root, subdir)


LINES = DEFAULT_PROFILE.read_text(encoding="utf-8").splitlines(keepends=True)
SNIPPETS = ["\t", ":", "[", "]", "{", "}", "&a ", "*a", "#", '"', "'", "|", ">", "\\", "- ", "!!"]
EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(LINES) - 1),
        st.sampled_from(["delete", "duplicate", "indent", "dedent", "insert"]),
        st.integers(min_value=0, max_value=40),
        st.sampled_from(SNIPPETS),
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(EDITS)
def test_random_text_edits_exit_0_or_2(edits: list[tuple[int, str, int, str]]) -> None:
    lines = list(LINES)
    for index, op, column, snippet in edits:
        index %= len(lines)
        line = lines[index]
        if op == "delete":
            del lines[index]
        elif op == "duplicate":
            lines.insert(index, line)
        elif op == "indent":
            lines[index] = "  " + line
        elif op == "dedent":
            lines[index] = line[2:] if line.startswith("  ") else line
        else:
            at = min(column, len(line.rstrip("\n")))
            lines[index] = line[:at] + snippet + line[at:]
        if not lines:
            lines = ["\n"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        code, _err, build, subdir = _render("".join(lines), root)
        if code == 0:
            _pre_install_accepts(build, root, subdir)
