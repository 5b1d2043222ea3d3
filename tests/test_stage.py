"""Staging: build/ is written all or nothing, and single files are replaced atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgconda import stage


def test_write_tree_writes_text_bytes_and_copies(tmp_path: Path) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(b"\x00\x01copy")
    source.chmod(0o755)
    stage.write_tree(
        {"a.txt": "line\r\nkept\n", "sub/b.bin": b"\xff\xfe", "c": source}, tmp_path / "t"
    )
    assert (tmp_path / "t" / "a.txt").read_bytes() == b"line\r\nkept\n"
    assert (tmp_path / "t" / "sub" / "b.bin").read_bytes() == b"\xff\xfe"
    assert (tmp_path / "t" / "c").read_bytes() == b"\x00\x01copy"
    assert (tmp_path / "t" / "c").stat().st_mode & 0o777 == 0o755


def test_a_platform_that_cannot_be_written_leaves_every_platform_as_it_was(
    tmp_path: Path,
) -> None:
    root = tmp_path / "build"
    stage.stage_platforms({"linux-64": {"construct.yaml": "old\n"}}, root)
    before = (root / "linux-64" / "construct.yaml").read_bytes()
    # the second platform's tree cannot be written: a file and a folder of the same name
    with pytest.raises(OSError):
        stage.stage_platforms(
            {
                "linux-64": {"construct.yaml": "new\n"},
                "win-64": {"x": "file", "x/y": "needs x to be a folder"},
            },
            root,
        )
    assert (root / "linux-64" / "construct.yaml").read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["linux-64"]  # nothing half-made left


def test_staging_replaces_whole_directories(tmp_path: Path) -> None:
    root = tmp_path / "build"
    stage.stage_platforms({"linux-64": {"old-only.txt": "x", "construct.yaml": "1\n"}}, root)
    stage.stage_platforms({"linux-64": {"construct.yaml": "2\n"}}, root)
    assert sorted(p.name for p in (root / "linux-64").iterdir()) == ["construct.yaml"]
    assert (root / "linux-64" / "construct.yaml").read_text() == "2\n"


def test_an_interrupted_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    stage.atomic_write_text(target, '{"old": true}\n')
    with pytest.raises(UnicodeEncodeError):
        stage.atomic_write_text(target, "\ud800 cannot be encoded")
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temporary left
    stage.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o644
