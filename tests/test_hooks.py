"""orgconda.hooks: the hooks are assembled from one source per shell, and ship standalone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO, require_tool
from helpers import run_build_py
from hooks_util import HOOKS_DIR, RULE_TEXT, find_jinja_markers, run_sh, snapshot, staged

from orgconda import platforms
from orgconda.hooks import HookError, staged_hooks

FRAGMENT = {"sh": HOOKS_DIR / "lib" / "common.sh", "bat": HOOKS_DIR / "lib" / "common.bat"}
SOURCES = {
    ext: [HOOKS_DIR / f"{hook}.{ext}" for hook in ("pre_install", "post_install")]
    for ext in ("sh", "bat")
}


def code_lines(text: str, ext: str) -> list[str]:
    """The lines that carry code: not blank, not a comment or directive."""
    comment = "#" if ext == "sh" else "rem"
    lines = text.replace("\r\n", "\n").split("\n")
    return [ln for ln in lines if ln.strip() and not ln.lstrip().startswith(comment)]


def fragment_code(ext: str) -> list[str]:
    return code_lines(FRAGMENT[ext].read_bytes().decode("ascii"), ext)


# --- what staged_hooks returns ----------------------------------------------------------------


@pytest.mark.parametrize("ext", ["sh", "bat"])
def test_staged_hooks_are_the_pair_for_one_shell(ext: str) -> None:
    staged_texts = staged_hooks(ext)
    assert list(staged_texts) == [f"pre_install.{ext}", f"post_install.{ext}"]


@pytest.mark.parametrize("ext", ["sh", "bat"])
def test_shared_checks_have_one_source(ext: str) -> None:
    """The fragment's code is in both staged hooks, whole and once; no source repeats any of
    its subroutines."""
    body = fragment_code(ext)
    assert len(body) > 50, "the fragment holds the shared checks"
    for name, text in staged_hooks(ext).items():
        code = code_lines(text, ext)
        start = code.index(body[0])
        assert code[start : start + len(body)] == body, name
        assert code.count(body[0]) == 1, name
    heads = [ln for ln in body if re.match(r"^([a-z_]+\(\) \{|:[a-z_]+)$", ln)]
    assert len(heads) > 5
    for source in SOURCES[ext]:
        source_code = code_lines(source.read_bytes().decode("ascii"), ext)
        assert not set(heads) & set(source_code), source


@pytest.mark.parametrize("ext", ["sh", "bat"])
def test_staged_hooks_are_standalone(ext: str) -> None:
    """No line of a staged hook reads another file of post_install/."""
    for name, text in staged_hooks(ext).items():
        for line in code_lines(text, ext):
            assert not re.match(r"^\s*(\.|source|call)\s.*lib[/\\]", line, re.I), (name, line)
            assert 'dirname "$0"' not in line and "%~dp0" not in line, (name, line)


def test_sh_hooks_are_lf_ascii_posix_sh() -> None:
    for name, text in staged_hooks("sh").items():
        assert "\r" not in text, name
        text.encode("ascii")
        assert text.startswith("#!/bin/sh\n"), name
    for path in SOURCES["sh"]:
        assert os.access(path, os.X_OK), f"{path} is not executable"


def test_bat_hooks_are_crlf_ascii_without_bom() -> None:
    for name, text in staged_hooks("bat").items():
        data = text.encode("ascii")
        assert data.count(b"\n") == data.count(b"\r\n") > 0, f"{name}: not CRLF throughout"
        assert data.startswith(b"@echo off\r\n")
        assert b"setlocal EnableExtensions DisableDelayedExpansion\r\n" in data


def test_bat_sources_are_crlf_in_the_repository() -> None:
    for path in [*SOURCES["bat"], FRAGMENT["bat"]]:
        data = path.read_bytes()
        assert data.count(b"\n") == data.count(b"\r\n") > 0, f"{path}: not CRLF throughout"


@pytest.mark.parametrize("ext", ["sh", "bat"])
def test_hooks_have_no_jinja_markers(ext: str) -> None:
    """PKG installers pass the hooks through Jinja: no brace-brace, brace-percent, brace-hash."""
    for name, text in staged_hooks(ext).items():
        assert find_jinja_markers(text) == [], name
    for path in sorted(HOOKS_DIR.rglob(f"*.{ext}")):
        assert find_jinja_markers(path.read_bytes().decode("ascii")) == [], path


def test_messages_state_the_rule() -> None:
    for text in staged_hooks("sh").values():
        assert RULE_TEXT in text


def test_bat_never_uses_random_for_tokens() -> None:
    """%RANDOM% only ever names temporary files."""
    for text in staged_hooks("bat").values():
        for line in text.splitlines():
            if "%RANDOM%" in line:
                assert ".tmp" in line or "probe" in line.lower(), line


def test_gitattributes_pins_line_endings() -> None:
    lines = (REPO / ".gitattributes").read_text(encoding="utf-8").splitlines()
    assert "*.sh text eol=lf" in lines
    assert "*.bat text eol=crlf" in lines


# --- shellcheck -----------------------------------------------------------------------------


def test_each_staged_sh_hook_passes_shellcheck_alone(tmp_path: Path) -> None:
    shellcheck = require_tool("shellcheck")
    for name, text in staged_hooks("sh").items():
        path = tmp_path / name
        path.write_text(text, encoding="ascii")
        result = subprocess.run(
            [shellcheck, "-s", "sh", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_every_sh_file_in_the_repo() -> None:
    """As CI runs it (`git ls-files '*.sh' | xargs shellcheck -s sh`): the fragment too."""
    shellcheck = require_tool("shellcheck")
    skip_dirs = {".git", ".venv", "venv", "build", "dist", "node_modules", ".ruff_cache"}
    files = sorted(
        p
        for p in REPO.rglob("*.sh")
        if p.is_file() and not skip_dirs.intersection(p.relative_to(REPO).parts)
    )
    assert {*SOURCES["sh"], FRAGMENT["sh"]} <= set(files)
    result = subprocess.run(
        [shellcheck, "-s", "sh", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_sh_source_also_runs_from_the_repository(tmp_path: Path) -> None:
    """The include line is a real `.` command: a developer can run a source as it is."""
    result = run_sh(require_tool("dash"), HOOKS_DIR / "pre_install.sh", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "inputs OK" in result.stdout


# --- what staged_hooks refuses -----------------------------------------------------------------


@pytest.fixture
def hooks_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "post_install"
    shutil.copytree(HOOKS_DIR, copy)
    return copy


def test_a_jinja_opener_in_a_source_is_refused(hooks_copy: Path) -> None:
    post = hooks_copy / "post_install.sh"
    post.write_text(post.read_text().replace('say "record:', 'say "{% record:'))
    with pytest.raises(HookError) as err:
        staged_hooks("sh", hooks_copy)
    assert str(post) in str(err.value)
    assert "Jinja" in str(err.value)
    assert err.value.exit_code == 2


def test_a_jinja_opener_in_a_fragment_is_refused(hooks_copy: Path) -> None:
    fragment = hooks_copy / "lib" / "common.sh"
    fragment.write_text(fragment.read_text().replace("ERRORS=0", "ERRORS=0 # {#"))
    with pytest.raises(HookError, match="Jinja"):
        staged_hooks("sh", hooks_copy)


def test_a_missing_fragment_is_named(hooks_copy: Path) -> None:
    (hooks_copy / "lib" / "common.bat").unlink()
    with pytest.raises(HookError) as err:
        staged_hooks("bat", hooks_copy)
    assert "common.bat, which does not exist" in str(err.value)
    assert "pre_install.bat, line" in str(err.value)


def test_an_include_in_another_form_is_refused(hooks_copy: Path) -> None:
    post = hooks_copy / "post_install.sh"
    post.write_text(
        post.read_text().replace('. "$(dirname "$0")/lib/common.sh"', ". ./lib/common.sh")
    )
    with pytest.raises(HookError, match="looks like an include"):
        staged_hooks("sh", hooks_copy)


def test_a_fragment_cannot_include_another(hooks_copy: Path) -> None:
    fragment = hooks_copy / "lib" / "common.sh"
    fragment.write_text(fragment.read_text() + '. "$(dirname "$0")/lib/other.sh"\n')
    with pytest.raises(HookError, match="cannot include another"):
        staged_hooks("sh", hooks_copy)


def test_a_non_ascii_source_is_refused(hooks_copy: Path) -> None:
    pre = hooks_copy / "pre_install.bat"
    pre.write_bytes(pre.read_bytes() + "rem caf\u00e9\r\n".encode())
    with pytest.raises(HookError, match="not ASCII"):
        staged_hooks("bat", hooks_copy)


def test_an_unknown_shell_is_refused() -> None:
    with pytest.raises(HookError, match="unknown hook shell 'ps1'"):
        staged_hooks("ps1")


# --- render stages them ---------------------------------------------------------------------------


def test_render_stages_the_assembled_hooks_under_their_names(tmp_path: Path) -> None:
    """`build.py render` writes pre_install.<ext> and post_install.<ext> into build/<subdir>/,
    byte for byte as staged_hooks made them, and construct.yaml names them."""
    build = tmp_path / "build"
    proc = run_build_py("render", "--build-dir", str(build))
    assert proc.returncode == 0, proc.stderr
    for subdir in platforms.SUBDIRS:
        ext = platforms.get(subdir).hook_ext
        data = yaml.safe_load((build / subdir / "construct.yaml").read_text())
        for name, text in staged_hooks(ext).items():
            assert (build / subdir / name).read_bytes() == text.encode("ascii"), (subdir, name)
            assert data[name.split(".")[0]] == name
        assert not (build / subdir / "lib").exists()


def test_the_staged_files_are_what_the_tests_run() -> None:
    for ext in ("sh", "bat"):
        for name, text in staged_hooks(ext).items():
            assert staged(name).read_bytes() == text.encode("ascii")


def test_staging_reads_nothing_but_post_install(hooks_copy: Path) -> None:
    before = snapshot(hooks_copy)
    staged_hooks("sh", hooks_copy)
    staged_hooks("bat", hooks_copy)
    assert snapshot(hooks_copy) == before
