"""A refused .sh install does not block its own retry (issue 17, item 6).

constructor 3.16.3's header.sh stops when the prefix exists, unless it is given -f or -u;
otherwise it creates the prefix, unpacks into it and runs pre_install.sh as its child. So when
pre_install.sh refuses, it reads its parent's command line (/proc/<ppid>/cmdline): without -f
and -u the prefix is this attempt's, and it removes it, if it also holds nothing linked and
the payload still waiting to be unpacked (postconda.tar.bz2). Otherwise it says how to retry.

Here the hook's parent is a plain ``sh -c`` whose arguments are the installer's command line:
exactly the evidence the hook reads (it never looks at the parent's code).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from hooks_util import hook_vars, snapshot, staged

PRE = staged("pre_install.sh")
INSTALLER = "AcmeConda-2026.11-Linux-x86_64.sh"

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/cmdline").is_file(),
    reason="no /proc here: the hook cannot read the installer's command line",
)


@pytest.fixture(params=["dash", "bash"])
def shell(request: pytest.FixtureRequest) -> str:
    return require_tool(request.param)


def unpacked(prefix: Path) -> Path:
    """The prefix as header.sh leaves it when pre_install runs on a fresh install."""
    for rel in ("pkgs/urls", "pkgs/pre_install.sh", "conda-meta/initial-state.explicit.txt"):
        (prefix / rel).parent.mkdir(parents=True, exist_ok=True)
        (prefix / rel).write_text("x\n")
    (prefix / "conda-meta" / "history").write_bytes(b"")
    (prefix / "install_tmp").mkdir()
    for name in ("_conda", "postconda.tar.bz2", ".nonadmin", ".installer.info"):
        (prefix / name).write_bytes(b"x")
    return prefix


def run_under(
    shell: str, prefix: Path, options: list[str], **overrides: str | None
) -> subprocess.CompletedProcess[str]:
    """Run pre_install.sh as the child of a process whose arguments are
    ``<installer path> <options>``, like `bash <installer> <options>`."""
    installer = f"/home/user/Downloads/{INSTALLER}"
    env = {
        "PATH": "/usr/bin:/bin",
        **hook_vars(str(prefix), "SH", **{"INSTALLER_PATH": installer, **overrides}),
    }
    # `; exit` keeps the parent alive while the hook runs (no exec of the last command).
    argv = [shell, "-c", f'{shell} "$ORGCONDA_TEST_HOOK"; exit $?', installer, *options]
    return subprocess.run(
        argv,
        env={**env, "ORGCONDA_TEST_HOOK": str(PRE)},
        cwd=prefix,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_proc
@pytest.mark.parametrize("options", [["-b", "-p", "{p}"], ["-bp{p}"], ["-bk", "-p", "{p}"]])
def test_a_refused_fresh_install_removes_its_prefix(
    shell: str, tmp_path: Path, options: list[str]
) -> None:
    prefix = unpacked(tmp_path / "opt" / "acmeconda")
    args = [o.replace("{p}", str(prefix)) for o in options]
    result = run_under(shell, prefix, args, ORGCONDA_MACHINE_TOKEN="bad token")
    assert result.returncode == 1
    assert "ORGCONDA_MACHINE_TOKEN contains characters outside" in result.stderr
    assert not prefix.exists(), "a retry would stop with 'File or directory already exists'"
    assert (tmp_path / "opt").is_dir()  # only the prefix goes
    assert f"removed {prefix}, which this install created" in result.stderr
    assert "run the same command again" in result.stderr


@needs_proc
@pytest.mark.parametrize(
    "options",
    [["-b", "-u", "-p", "{p}"], ["-bu", "-p", "{p}"], ["-bfp", "{p}"], ["-b", "-p", "{p}", "-u"]],
)
def test_an_update_keeps_the_prefix(shell: str, tmp_path: Path, options: list[str]) -> None:
    """-u or -f: the prefix may be an installation (or anything): never removed."""
    prefix = unpacked(tmp_path / "acmeconda")
    before = snapshot(tmp_path)
    args = [o.replace("{p}", str(prefix)) for o in options]
    result = run_under(shell, prefix, args, ORGCONDA_ORG_TOKEN="")
    assert result.returncode == 1
    assert snapshot(tmp_path) == before
    assert "fix the problem above and run the same command again" in result.stderr
    assert f"already emptied {prefix}/conda-meta/history" in result.stderr


@needs_proc
@pytest.mark.parametrize("guard", ["linked", "no-payload", "pkg", "no-installer-path"])
def test_without_proof_the_prefix_stays(shell: str, tmp_path: Path, guard: str) -> None:
    """Each of the other conditions alone keeps the prefix of a fresh-looking run."""
    prefix = unpacked(tmp_path / "acmeconda")
    overrides: dict[str, str | None] = {"ORGCONDA_ORG_TOKEN": ""}
    if guard == "linked":
        (prefix / "conda-meta" / "python-3.12.0-h0_0.json").write_text("{}")
    elif guard == "no-payload":
        (prefix / "postconda.tar.bz2").unlink()
    elif guard == "pkg":
        overrides["INSTALLER_TYPE"] = "PKG"
    else:
        overrides["INSTALLER_PATH"] = None
    before = snapshot(tmp_path)
    result = run_under(shell, prefix, ["-b", "-p", str(prefix)], **overrides)
    assert result.returncode == 1
    assert snapshot(tmp_path) == before
    assert "removed" not in result.stderr


def test_run_directly_the_hook_only_says_how_to_retry(shell: str, tmp_path: Path) -> None:
    """Its parent is not an installer: nothing is removed, and the message says what to do."""
    prefix = unpacked(tmp_path / "acmeconda")
    before = snapshot(tmp_path)
    env = {"PATH": "/usr/bin:/bin", **hook_vars(str(prefix), "SH", ORGCONDA_ORG_TOKEN="")}
    result = subprocess.run(
        [shell, str(PRE)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert snapshot(tmp_path) == before
    assert f"remove it (rm -rf '{prefix}') before running the installer again" in result.stderr
    assert "or add -u to the installer's options" in result.stderr


# --- reading the installer's command line ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bash", f"/dl/{INSTALLER}", "-b", "-p", "/opt/a"], "fresh"),
        (["/bin/sh", f"./{INSTALLER}", "-b"], "fresh"),
        (["bash", "-e", INSTALLER, "-b"], "fresh"),
        (["sh", INSTALLER], "fresh"),
        (["sh", INSTALLER, "-b", "-p", "-u"], "fresh"),  # -u is the prefix here
        (["sh", INSTALLER, "-b", "--", "-u"], "fresh"),  # options end at --
        (["sh", INSTALLER, "-b", "extra", "-u"], "fresh"),  # ... and at the first operand
        (["sh", INSTALLER, "-b", "-u", "-p", "/opt/a"], "update"),
        (["sh", INSTALLER, "-bu"], "update"),
        (["sh", INSTALLER, "-bfp", "/opt/a"], "update"),
        (["sh", INSTALLER, "-bp/opt/a", "-f"], "update"),
        (["sh", INSTALLER, "-x"], "unknown"),  # the installer knows no -x
        (["sh", INSTALLER, "-b", "-p"], "unknown"),  # -p without its value
        (["sh", "Other.sh", "-b"], "unknown"),
        (["python", "-m", "pytest"], "unknown"),
        (["sh", INSTALLER, "-b", "-p", "/opt/a\n-x"], "unknown"),  # a line end in an argument
        ([], "unknown"),
    ],
)
def test_installer_run_reads_the_command_line_like_getopts(
    shell: str, tmp_path: Path, args: list[str], expected: str
) -> None:
    """The hook's own function (cut from the staged pre_install.sh), on /proc-style input."""
    match = re.search(r"^installer_run\(\) \{\n.*?^\}\n", PRE.read_text(), flags=re.M | re.S)
    assert match, "installer_run not found in pre_install.sh"
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"".join(a.encode() + b"\0" for a in args))
    result = subprocess.run(
        [shell, "-c", match.group(0) + 'installer_run "$1" "$2"', "sh", str(cmdline), INSTALLER],
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == f"{expected}\n"


def test_installer_run_without_the_file(shell: str, tmp_path: Path) -> None:
    match = re.search(r"^installer_run\(\) \{\n.*?^\}\n", PRE.read_text(), flags=re.M | re.S)
    assert match
    result = subprocess.run(
        [shell, "-c", match.group(0) + 'installer_run "$1" x.sh', "sh", str(tmp_path / "no")],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "unknown\n"
