"""A corpus of bad profiles (tests/profile_corpus/bad_profiles.yaml), each a small edit of the
default profile, run through the real command: exit 2, the file, the dotted field and its line
(or the --set flag), the fix, no traceback, and build/ and dist/ left byte for byte as they were.
"""

from __future__ import annotations

import contextlib
import io
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from certs_util import ca_der, ca_pem, private_key_pem
from conftest import DEFAULT_PROFILE, REPO
from helpers import run_build_py

from orgconda import cli

CORPUS = Path(__file__).parent / "profile_corpus" / "bad_profiles.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


def _content(kind: str) -> bytes:
    now = datetime.now(timezone.utc)
    makers = {
        "@pem": lambda: ca_pem(),
        "@der": lambda: ca_der(),
        "@text": lambda: b"Acme Root CA\nask IT for the real file\n",
        "@empty": lambda: b"",
        "@expired": lambda: ca_pem(valid_from=now - timedelta(days=400), valid_days=30),
        "@future": lambda: ca_pem(valid_from=now + timedelta(days=30)),
        "@key": lambda: private_key_pem() + ca_pem(),
    }
    return makers[kind]()


def apply_edits(text: str, edits: list[dict[str, str]]) -> tuple[str, int | None]:
    """The edited profile text, and the line where the first edit's text starts."""
    first: int | None = None  # offset of the first edit's text in the current text
    for edit in edits:
        new = edit["text"]
        if "find" in edit:
            find = edit["find"]
            assert text.count(find) == 1, f"not exactly once in the profile: {find!r}"
            start = text.index(find)
            text = text[:start] + new + text[start + len(find) :]
            if first is not None and start < first:
                first += len(new) - len(find)
        else:
            start = len(text)
            text += new
        if first is None:
            first = start + len(new) - len(new.lstrip("\n"))
    return text, None if first is None else text[:first].count("\n") + 1


def write_case(case: dict[str, Any], root: Path) -> tuple[Path, int | None]:
    text, line = apply_edits(DEFAULT_PROFILE.read_text(encoding="utf-8"), case.get("edits", []))
    directory = root / "profile"
    directory.mkdir(parents=True)
    (directory / "LICENSE.txt").write_bytes((REPO / "construct" / "LICENSE.txt").read_bytes())
    for name, kind in (case.get("files") or {}).items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_content(kind))
    path = directory / "org.yaml"
    path.write_text(text, encoding="utf-8")
    if "line" in case:
        line = case["line"]
    elif line is not None:
        line = line + case.get("at", 0)
    return path, line


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = (
            stat.S_IMODE(st.st_mode),
            p.read_bytes() if p.is_file() else b"",
        )
    return out


def seed_outputs(root: Path) -> tuple[Path, Path]:
    """build/ and dist/ holding an earlier run's files, which a refused run must not touch."""
    build, dist = root / "build", root / "dist"
    (build / "linux-64").mkdir(parents=True)
    (build / "linux-64" / "construct.yaml").write_text("name: Earlier\n")
    (dist / "linux-64").mkdir(parents=True)
    (dist / "manifest.json").write_text('{"installers": []}\n')
    (dist / "linux-64" / "Earlier.sh").write_bytes(b"#!/bin/sh\n")
    return build, dist


def run_main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def check_message(case: dict[str, Any], path: Path, line: int | None, stderr: str) -> None:
    assert stderr.startswith("error: "), stderr
    assert "Traceback" not in stderr and "<unicode string>" not in stderr, stderr
    assert str(path) in stderr or case.get("sets"), stderr  # the file is named
    field = case.get("field")
    flag = case.get("flag")
    if field and flag:
        assert f"`{field}` ({flag})" in stderr, stderr
    elif flag:
        assert f"`{flag}`" in stderr, stderr
    elif field:
        assert f"`{field}` (line {line})" in stderr, stderr
    else:
        assert f"line {line}" in stderr, stderr
    assert case["needle"] in stderr, stderr
    for problem in stderr.splitlines()[1:]:
        assert len(problem) < 600, problem  # values are shortened


def test_the_corpus_is_big_and_distinct() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_profile_exits_2_naming_field_and_line(case: dict[str, Any], tmp_path: Path) -> None:
    path, line = write_case(case, tmp_path)
    build, dist = seed_outputs(tmp_path)
    before = snapshot(tmp_path)
    sets = [a for s in case.get("sets", []) for a in ("--set", s)]
    common = ["--profile", str(path), "--build-dir", str(build), *sets]
    for argv in (["render", *common], ["build", *common, "--dist-dir", str(dist)]):
        code, _out, err = run_main(argv)
        assert code == 2, err
        check_message(case, path, line, err)
    assert snapshot(tmp_path) == before


SUBPROCESS_CASES = [
    "org-token-trailing-newline",
    "telemetry-section-twice",
    "extra-aau-with-channel",
    "restore-free-channel",
    "yaml-alias-bomb",
    "set-version-trailing-dot",
]


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_real_command_exits_2(case_id: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c["id"] == case_id)
    path, line = write_case(case, tmp_path)
    build, _dist = seed_outputs(tmp_path)
    before = snapshot(tmp_path)
    sets = [a for s in case.get("sets", []) for a in ("--set", s)]
    proc = run_build_py("render", "--profile", str(path), "--build-dir", str(build), *sets)
    assert proc.returncode == 2, proc.stderr
    check_message(case, path, line, proc.stderr)
    assert snapshot(tmp_path) == before


def test_problems_in_three_sections_are_reported_together(tmp_path: Path) -> None:
    case = {
        "edits": [
            {"find": "  company: Acme Corp\n", "text": "  company: Acme [EU]\n"},
            {"find": "    - pip\n", "text": "    - anaconda-anon-usage 0.7.*\n"},
            {"find": "  org_token: acme-corp ", "text": '  org_token: "acme-corp\\n" '},
        ]
    }
    path, _ = write_case(case, tmp_path)
    build, dist = seed_outputs(tmp_path)
    before = snapshot(tmp_path)
    code, _out, err = run_main(
        ["build", "--profile", str(path), "--build-dir", str(build), "--dist-dir", str(dist)]
    )
    assert code == 2
    assert f"{path}: 3 problems in the profile" in err
    # in file order, each with its line
    lines = err.splitlines()[1:]
    assert lines[0].startswith("  - `installer.company` (line 12): ")
    assert lines[1].startswith("  - `specs.extra[0]` (line 39): ")
    assert lines[2].startswith("  - `telemetry.org_token` (line 73): ")
    assert snapshot(tmp_path) == before
