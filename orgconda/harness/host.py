"""Leave the host as verify found it (issue 9).

Before installing: look for what would distort the result on this machine, token and condarc
files in the system locations anaconda-anon-usage and conda read (``/etc/conda``,
``/var/lib/conda``; Windows ``C:/ProgramData/conda``), and conda or plugin variables in the
environment verify was started with. After each install: put back every file the install
created or changed there (a system-scope installer writes its tokens to ``/etc/conda``).

Tests point ``root`` at a temporary folder, so they never touch the real system locations.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

SYSTEM_DIRS_UNIX = ("/etc/conda", "/var/lib/conda")
SYSTEM_DIRS_WINDOWS = ("C:/ProgramData/conda",)  # the literal path the plugin reads
SYSTEM_TOKEN_DIR_VAR = "ORGCONDA_SYSTEM_TOKEN_DIR"  # where a system-scope hook writes instead
DISTORTING_NAMES = (
    ".installer_token",
    "installer_token",
    "org_token",
    ".org_token",
    "machine_token",
    ".machine_token",
    "condarc",
    ".condarc",
    "condarc.d",
)
VARIABLE_PREFIXES = ("CONDA_", "ANACONDA_ANON_USAGE_")
# Set by `conda activate` in the shell verify runs from: they describe that shell, not a
# setting, and verify drops them and that installation's PATH entries anyway. Also
# CONDA_PKGS_DIR, which GitHub's setup-miniconda exports (conda reads CONDA_PKGS_DIRS, not
# it). Every other CONDA_<NAME> is taken for a conda setting.
ACTIVATION_VARIABLES = frozenset(
    {
        "CONDA_PREFIX",
        "CONDA_SHLVL",
        "CONDA_DEFAULT_ENV",
        "CONDA_PROMPT_MODIFIER",
        "CONDA_EXE",
        "CONDA_PYTHON_EXE",
        "CONDA_PKGS_DIR",
    }
)
_STACKED_PREFIX = re.compile(r"^CONDA_PREFIX_\d+$")
MAX_ENTRIES = 5000
MAX_BYTES = 64 << 20
ALLOW_FLAG = "--allow-dirty-host"


def system_dirs(
    environ: Mapping[str, str], *, windows: bool, root: Path | None = None
) -> list[Path]:
    """The system locations, under ``root`` when given (tests), plus the hook's
    ``ORGCONDA_SYSTEM_TOKEN_DIR`` when verify was started with it."""
    dirs = []
    for name in SYSTEM_DIRS_WINDOWS if windows else SYSTEM_DIRS_UNIX:
        if root is None:
            dirs.append(Path(name))
        else:
            dirs.append(root.joinpath(*[p for p in name.replace(":", "").split("/") if p]))
    override = environ.get(SYSTEM_TOKEN_DIR_VAR)
    if override and Path(override) not in dirs:
        dirs.append(Path(override))
    return dirs


def distorting_variables(environ: Mapping[str, str]) -> list[str]:
    found = []
    for key in environ:
        upper = key.upper()
        if not upper.startswith(VARIABLE_PREFIXES):
            continue
        if upper in ACTIVATION_VARIABLES or _STACKED_PREFIX.match(upper):
            continue
        found.append(key)
    return sorted(found)


def distorting_files(dirs: Iterable[Path]) -> list[Path]:
    found = []
    for directory in dirs:
        for name in DISTORTING_NAMES:
            path = directory / name
            if path.exists() or path.is_symlink():
                found.append(path)
    return found


def find_distortions(dirs: Iterable[Path], environ: Mapping[str, str]) -> list[str]:
    """What on this host would distort a verification, one line each (names, no values)."""
    lines = [f"{'directory' if p.is_dir() else 'file'} {p}" for p in distorting_files(dirs)]
    lines += [f"variable {name}" for name in distorting_variables(environ)]
    return lines


def dirty_host_error(findings: Sequence[str]) -> UsageError:
    listed = "\n".join(f"  - {line}" for line in findings)
    return UsageError(
        "this host has token or condarc files in the system locations, or conda variables "
        "in the environment, that would distort the verification (every conda here reads "
        "the system files; the variables say this shell is configured):\n"
        f"{listed}\n"
        f"Remove the files (or verify on a clean machine) and unset the variables, or pass "
        f"{ALLOW_FLAG} to go on and have them listed in the report."
    )


# ---------------------------------------------------------------- snapshot and restore


@dataclass(frozen=True)
class Entry:
    kind: str  # file | dir | link
    mode: int  # permission bits
    uid: int
    gid: int
    data: bytes = b""  # a file's bytes
    target: str = ""  # a link's target


def _entry(path: Path, *, with_data: bool) -> Entry:
    st = path.lstat()
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return Entry("link", mode, st.st_uid, st.st_gid, target=os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return Entry("dir", mode, st.st_uid, st.st_gid)
    data = path.read_bytes() if with_data else b""
    return Entry("file", mode, st.st_uid, st.st_gid, data=data)


def _scan(roots: Iterable[Path], *, with_data: bool) -> dict[Path, Entry]:
    entries: dict[Path, Entry] = {}
    total = 0
    for root in roots:
        if not (root.exists() or root.is_symlink()):
            continue
        pending = [root]
        while pending:
            path = pending.pop()
            entry = _entry(path, with_data=with_data)
            entries[path] = entry
            total += len(entry.data)
            if len(entries) > MAX_ENTRIES or total > MAX_BYTES:
                raise UsageError(
                    f"{root} holds more than {MAX_ENTRIES} entries or {MAX_BYTES >> 20} MB: "
                    "too much to snapshot and restore around an install; is it really a "
                    "conda system folder?"
                )
            if entry.kind == "dir":
                pending.extend(sorted(path.iterdir()))
    return entries


@dataclass(frozen=True)
class Snapshot:
    roots: tuple[Path, ...]
    entries: Mapping[Path, Entry]

    @classmethod
    def take(cls, roots: Iterable[Path]) -> Snapshot:
        found = tuple(roots)
        return cls(found, _scan(found, with_data=True))

    def changes(self) -> list[str]:
        """What differs now, one line each (for --keep: what stays behind)."""
        now = _scan(self.roots, with_data=True)
        lines = [f"created {p}" for p in sorted(set(now) - set(self.entries))]
        for path, before in sorted(self.entries.items()):
            after = now.get(path)
            if after is None:
                lines.append(f"deleted {path}")
            elif after.kind != before.kind or after.data != before.data:
                lines.append(f"changed {path}")
            elif after.mode != before.mode or after.target != before.target:
                lines.append(f"changed the mode of {path}")
        return lines

    def restore(self) -> list[str]:
        """Delete what was created, put back what was changed or deleted (bytes, mode,
        owner when running as root); one line per action."""
        done: list[str] = []
        now = _scan(self.roots, with_data=False)
        for path in sorted(set(now) - set(self.entries), key=lambda p: len(p.parts), reverse=True):
            _remove(path, now[path])
            done.append(f"removed {path} (created by the install)")
        for path, before in sorted(self.entries.items(), key=lambda item: len(item[0].parts)):
            after = now.get(path)
            if after is not None and after.kind != before.kind:
                _remove(path, after)
                after = None
            if after is None:
                _create(path, before)
                done.append(f"put back {path} (deleted or replaced by the install)")
                continue
            if before.kind == "file" and path.read_bytes() != before.data:
                path.write_bytes(before.data)
                done.append(f"put back the content of {path}")
            if before.kind == "link" and after.target != before.target:
                _remove(path, after)
                _create(path, before)
                done.append(f"put back the link {path}")
            elif before.kind != "link" and stat.S_IMODE(path.lstat().st_mode) != before.mode:
                path.chmod(before.mode)
                done.append(f"put back the mode of {path} ({before.mode:o})")
        return done


def _remove(path: Path, entry: Entry) -> None:
    if entry.kind == "dir":
        shutil.rmtree(path)
    else:
        path.unlink()


def _create(path: Path, entry: Entry) -> None:
    if entry.kind == "link":
        path.symlink_to(entry.target)
        return
    if entry.kind == "dir":
        path.mkdir()
    else:
        path.write_bytes(entry.data)
    path.chmod(entry.mode)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(path, entry.uid, entry.gid)
