"""The install-time hooks as installers ship them, assembled from one source per shell.

``post_install/`` holds the hook sources (``pre_install.sh``, ``post_install.sh``,
``pre_install.bat``, ``post_install.bat``) and, in ``post_install/lib/``, one fragment per shell
with the input checks both hooks share (``common.sh``, ``common.bat``). A source includes a
fragment with one marker line:

- ``.sh``:  ``. "$(dirname "$0")/lib/common.sh"`` (a real ``.`` command, so a source also runs
  from the repository, and shellcheck follows it), optionally preceded by its
  ``# shellcheck source=lib/common.sh`` directive;
- ``.bat``: ``rem orgconda-include lib\\common.bat`` (cmd.exe cannot share labels between
  files, so a ``.bat`` source only runs once staged).

``staged_hooks`` replaces each marker with the fragment's text, so every staged script is
standalone; it checks what it assembled (ASCII, the shell's line ends, no Jinja openers, which a
``.pkg`` installer's Jinja pass would trip over) and raises ``HookError`` otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import OrgcondaError

REPO = Path(__file__).resolve().parents[1]
HOOKS_DIR = REPO / "post_install"
HOOK_NAMES = ("pre_install", "post_install")
LINE_ENDS = {"sh": "\n", "bat": "\r\n"}

_NAME = r"[A-Za-z0-9_-]+"
_INCLUDE = {
    "sh": re.compile(rf'^\. "\$\(dirname "\$0"\)/lib/(?P<name>{_NAME}\.sh)"$'),
    "bat": re.compile(rf"^rem orgconda-include lib\\(?P<name>{_NAME}\.bat)$", re.IGNORECASE),
}
# Lines that try to include a fragment another way (they would fail in a staged script).
_LOOSE_INCLUDE = {
    "sh": re.compile(r"^\s*(\.|source)\s.*lib/"),
    "bat": re.compile(r"^\s*(rem\s+orgconda-include|call\s.*lib\\)", re.IGNORECASE),
}
_MARKER_FORM = {
    "sh": '. "$(dirname "$0")/lib/<name>.sh"',
    "bat": "rem orgconda-include lib\\<name>.bat",
}
_SOURCE_DIRECTIVE = re.compile(rf"^# shellcheck source=lib/{_NAME}\.sh( .*)?$")
_FILE_DIRECTIVE = re.compile(r"^# shellcheck (shell|source-path)=")
_JINJA = re.compile(r"\{[{%#]")


class HookError(OrgcondaError):
    """A hook source in post_install/ cannot be assembled (a bug in the repository)."""

    exit_code = 2


def staged_hooks(ext: str, hooks_dir: Path = HOOKS_DIR) -> dict[str, str]:
    """The hooks for one shell (``"sh"`` or ``"bat"``) as installers ship them.

    Returns ``{"pre_install.<ext>": text, "post_install.<ext>": text}`` for the sources present
    in ``hooks_dir`` (pre first), each standalone: fragments included, LF line ends for
    ``sh``, CRLF for ``bat``.
    """
    if ext not in LINE_ENDS:
        raise HookError(f"unknown hook shell {ext!r}: expected one of {', '.join(LINE_ENDS)}")
    staged: dict[str, str] = {}
    for hook in HOOK_NAMES:
        path = hooks_dir / f"{hook}.{ext}"
        if path.is_file():
            text = assemble(path, ext)
            check_staged(path, text, ext)
            staged[path.name] = text
    return staged


def assemble(path: Path, ext: str) -> str:
    """``path``'s text with every include marker replaced by its fragment, in ``ext``'s line
    ends."""
    lines = _read_lines(path)
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        match = _INCLUDE[ext].match(line)
        if match is None:
            out.append(line)
            continue
        if ext == "sh" and out and _SOURCE_DIRECTIVE.match(out[-1]):
            out.pop()  # the directive belongs to the include line, which goes
        fragment = path.parent / "lib" / match.group("name")
        if not fragment.is_file():
            raise HookError(
                f"{path}, line {number}: includes {fragment}, which does not exist "
                "(restore it from the repository)"
            )
        out.extend(_fragment_lines(fragment, ext))
    return LINE_ENDS[ext].join(out) + LINE_ENDS[ext]


def _fragment_lines(fragment: Path, ext: str) -> list[str]:
    """A fragment's lines, framed, without the directives that only make sense at the top of a
    file; a fragment cannot include another."""
    comment = "#" if ext == "sh" else "rem"
    body: list[str] = []
    for number, line in enumerate(_read_lines(fragment), start=1):
        if _INCLUDE[ext].match(line):
            raise HookError(f"{fragment}, line {number}: a fragment cannot include another")
        if ext == "sh" and _FILE_DIRECTIVE.match(line):
            continue
        body.append(line)
    name = f"lib/{fragment.name}"
    return [
        f"{comment} --- begin {name} (shared by the pre_install and post_install hooks) ---",
        *body,
        f"{comment} --- end {name} ---",
    ]


def _read_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise HookError(f"{path}: byte {exc.start} is not ASCII; hooks must be ASCII") from exc
    return text.replace("\r\n", "\n").removesuffix("\n").split("\n")


def check_staged(path: Path, text: str, ext: str) -> None:
    """Refuse an assembled hook that an installer would break or that would break it."""
    found = _JINJA.search(text)
    if found:
        at = text.count("\n", 0, found.start()) + 1
        raise HookError(
            f"{path} (staged), line {at}: {found.group()!r} opens a Jinja block, and .pkg "
            "installers pass their scripts through Jinja; write it another way"
        )
    if "\r" in text.replace("\r\n", "") or (ext == "sh" and "\r" in text):
        raise HookError(f"{path} (staged): stray carriage return")
    for number, line in enumerate(text.splitlines(), start=1):
        if _INCLUDE[ext].match(line) or _LOOSE_INCLUDE[ext].match(line):
            raise HookError(
                f"{path} (staged), line {number}: {line.strip()!r} looks like an include of a "
                "fragment, but not in the one form that is replaced; write it as "
                f"{_MARKER_FORM[ext]}"
            )
