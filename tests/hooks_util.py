"""Shared pieces of the install-time hook tests (tests/test_hooks_sh.py, tests/test_hooks_bat.py).

The hooks in post_install/ are run for real: by dash and bash, and by cmd.exe under wine.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from orgconda.harness.checks import HOOK_RECORD_KEYS
from orgconda.tokens import TOKEN_RE

HOOKS_DIR = REPO / "post_install"

INSTALLER_TOKEN = "AcmeConda-2026_11"
ORG_TOKEN = "acme-corp"

RULE_TEXT = "^[A-Za-z0-9_-]{1,36}$"

# Values every hook must refuse (each for every token variable).
BAD_VALUES: dict[str, str] = {
    "space": "acme corp",
    "leading-space": " acme",
    "slash": "acme/corp",
    "37-chars": "a" * 37,
    "empty": "",
    "unicode": "acme-c\u00f6rp",
    "semicolon": "a;b",
    "command-substitution": "$(x)",
    "backtick": "`x`",
    "percent": "%x%",
    "percent-path": "%PATH%",
    "ampersand": "a&b",
    "pipe": "a|b",
    "bang": "a!b",
    "double-quote": 'a"b',
    "single-quote": "a'b",
    "caret": "a^b",
    "redirect": "a<b>c",
    "parens": "(x)",
    "equals": "=x",
}

TOKEN_VARS = ("ORGCONDA_INSTALLER_TOKEN", "ORGCONDA_ORG_TOKEN", "ORGCONDA_MACHINE_TOKEN")


def hook_vars(prefix: str, installer_type: str, **overrides: str | None) -> dict[str, str]:
    """The environment an installer gives its hooks (plus ``overrides``; None removes a key)."""
    env = {
        "PREFIX": prefix,
        "INSTALLER_NAME": "AcmeConda",
        "INSTALLER_VER": "2026.11",
        "INSTALLER_PLAT": "linux-64" if installer_type != "EXE" else "win-64",
        "INSTALLER_TYPE": installer_type,
        "INSTALLER_UNATTENDED": "1",
        "ORGCONDA_INSTALLER_TOKEN": INSTALLER_TOKEN,
        "ORGCONDA_ORG_TOKEN": ORG_TOKEN,
        "ORGCONDA_TOKEN_SCOPE": "prefix",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file and directory under ``root``: mode and content, to prove nothing changed."""
    found: dict[str, tuple[int, bytes]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(st.st_mode) else b""
        found[str(path.relative_to(root))] = (st.st_mode, content)
    return found


def read_record(prefix: Path) -> dict[str, Any]:
    """The hook's record, parsed strictly (its bytes must be UTF-8 JSON)."""
    raw = (prefix / "etc" / "orgconda" / "install.json").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "install.json starts with a BOM"
    record = json.loads(raw.decode("utf-8"))
    assert isinstance(record, dict)
    return record


# The keys the verifier reads: the hooks must write exactly these (one contract, one list).
RECORD_KEYS = set(HOOK_RECORD_KEYS)


def check_record(record: dict[str, Any], machine_token: str) -> None:
    """Checks every record shares: its keys, types, and that the machine token is not in it."""
    assert set(record) == RECORD_KEYS
    assert record["format"] == 1
    assert record["hook"] == "post_install"
    assert record["installer_token"] == INSTALLER_TOKEN
    assert record["org_token"] == ORG_TOKEN
    assert record["machine_token_source"] in {"generated", "kept", "supplied"}
    for key in ("env_token_seeded", "all_users", "unattended"):
        assert isinstance(record[key], bool), key
    assert isinstance(record["files"], list)
    assert machine_token not in json.dumps(record), "the record must not hold the machine token"


def token_line(data: bytes, newline: bytes) -> str:
    """The token in a token file that must be exactly ``<token><newline>``, ASCII."""
    assert data.endswith(newline), data
    value = data[: -len(newline)] if newline else data
    text = value.decode("ascii")
    assert TOKEN_RE.fullmatch(text), text
    return text


def check_refusal(result: subprocess.CompletedProcess[str], variable: str) -> None:
    """A refused input: non-zero exit, and a message naming the variable and the rule."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert variable in output, output
    assert RULE_TEXT in output, output


def make_immutable(path: Path) -> None:
    """Make ``path`` unwritable even for root (chattr +i); skip when the filesystem can't."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(
            f"chattr +i is not possible on {path} ({done.stderr.strip()}): "
            "a directory root cannot write is needed for this test"
        )


def undo_immutable(path: Path) -> None:
    subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


def find_jinja_markers(text: str) -> list[str]:
    """The Jinja openers a PKG installer would trip over."""
    return re.findall(r"\{[{%#]", text)


def shared_block(text: str, begin: str, end: str) -> str:
    start = text.index(begin)
    stop = text.index(end, start)
    return text[start:stop]


def running_as_root() -> bool:
    return os.geteuid() == 0
