"""Write rendered platform directories atomically.

Everything is written into a temporary directory beside the target first; only when every
platform has been written is each ``build/<subdir>`` swapped in. A failure leaves the old
contents (or nothing) in place, never a half-written directory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path


def write_tree(files: Mapping[str, str | bytes | Path], target: Path) -> None:
    """Write ``files`` (text, bytes, or a Path to copy byte for byte) into the new dir
    ``target``."""
    target.mkdir(parents=True, exist_ok=False)
    for name, content in files.items():
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, dest)
            shutil.copymode(content, dest)
        elif isinstance(content, bytes):
            dest.write_bytes(content)
        else:
            # newline="" keeps the text's own line endings (LF for construct.yaml).
            with open(dest, "w", encoding="utf-8", newline="") as fh:
                fh.write(content)


def replace_dirs(pairs: Iterable[tuple[Path, Path]]) -> None:
    """Move each fully written ``new`` dir onto ``dest``, replacing what was there."""
    for new, dest in pairs:
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            os.replace(dest, old)
        os.replace(new, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def stage_platforms(
    trees: Mapping[str, Mapping[str, str | bytes | Path]], root: Path
) -> list[Path]:
    """Write ``{subdir: files}`` under ``root`` atomically; return the final directories."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".render-", dir=root))
    try:
        pairs = []
        for subdir, files in trees.items():
            write_tree(files, tmp / subdir)
            pairs.append((tmp / subdir, root / subdir))
        replace_dirs(pairs)
        return [dest for _, dest in pairs]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
