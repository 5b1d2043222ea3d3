"""`build.py diff OLD NEW` on recorded installs, dist/ trees, and lock sets from real solves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from condachannel import base_records, lock_profile, write_channel
from constructor_outputs import write_dist
from helpers import run_build_py

UPGRADED = ["certifi", "charset-normalizer", "packaging", "platformdirs"]


def _diff_json(old: Path, new: Path, *extra: str) -> dict[str, Any]:
    proc = run_build_py("diff", str(old), str(new), "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    return data


def _names(changes: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in changes]


def test_recorded_installs(fixtures_dir: Path) -> None:
    """Two real installs (conda list --json): the second added the config package, four
    newer versions, and 23 rebuilds of the locally built channel."""
    old = fixtures_dir / "locked" / "conda-list.json"
    new = fixtures_dir / "config-package" / "conda-list.json"
    data = _diff_json(old, new)
    assert data["changed"] is True
    linux = data["platforms"]["linux-64"]
    assert _names(linux["added"]) == ["acme-corp-conda-config"]
    assert _names(linux["upgraded"]) == UPGRADED
    assert linux["upgraded"][0]["old"]["version"] == "2026.10.18"
    assert linux["upgraded"][0]["new"]["version"] == "2026.10.19.post1"
    assert linux["removed"] == [] and linux["downgraded"] == [] and linux["changed"] == []
    assert len(linux["rebuilt"]) == 23
    python = next(c for c in linux["rebuilt"] if c["name"] == "python")
    assert python["old"]["build"] == "hb8bdc94_0_cpython"
    assert python["new"]["build"] == "hlocal_0_cpython"
    assert linux["unchanged"] == 1  # anaconda-anon-usage 0.8.1 py_100

    back = _diff_json(new, old)["platforms"]["linux-64"]
    assert _names(back["downgraded"]) == UPGRADED
    assert _names(back["removed"]) == ["acme-corp-conda-config"]


@pytest.mark.parametrize(
    ("kinds", "read"),
    [
        (("info", "lockfile", "pkgs_list"), "info.json"),
        (("lockfile", "pkgs_list"), "lockfile.base.txt"),
        (("pkgs_list",), "pkg-list.base.txt"),
    ],
)
def test_dist_trees(tmp_path: Path, fixtures_dir: Path, kinds: tuple[str, ...], read: str) -> None:
    installer = "AcmeConda-2026.11-Linux-x86_64.sh"
    write_dist(tmp_path / "old", fixtures_dir / "locked", installer, kinds)
    write_dist(tmp_path / "new", fixtures_dir / "config-package", installer, kinds, "2026.12")
    data = _diff_json(tmp_path / "old", tmp_path / "new")
    assert data["old"]["label"] == "AcmeConda 2026.11"
    assert data["new"]["label"] == "AcmeConda 2026.12"
    assert data["new"]["sources"]["linux-64"].endswith(f"linux-64/{read}")
    linux = data["platforms"]["linux-64"]
    assert _names(linux["added"]) == ["acme-corp-conda-config"]
    assert _names(linux["upgraded"]) == UPGRADED
    assert len(linux["rebuilt"]) == 23

    # the manifest itself names the same tree
    same = _diff_json(tmp_path / "old" / "manifest.json", tmp_path / "new")
    assert same["platforms"] == data["platforms"]


def test_same_build_has_no_changes(tmp_path: Path, fixtures_dir: Path) -> None:
    installer = "AcmeConda-2026.11-Linux-x86_64.sh"
    write_dist(tmp_path / "a", fixtures_dir / "locked", installer)
    proc = run_build_py("diff", str(tmp_path / "a"), str(tmp_path / "a"))
    assert proc.returncode == 0
    assert "No package changes (28 packages)." in proc.stdout


def _lock_set(tmp_path: Path, name: str, pip: str, platforms: list[str]) -> Path:
    """Lock against one channel as it is now (pip at ``pip``): the same channel URL each time."""
    channel = write_channel(tmp_path / "channel", base_records(pip_version=pip))
    profile = lock_profile(tmp_path / name, channel, platforms=platforms)
    proc = run_build_py("lock", "--profile", str(profile))
    assert proc.returncode == 0, proc.stderr
    return tmp_path / name / "locks"


def test_lock_sets_differing_in_one_package_name_exactly_that_package(tmp_path: Path) -> None:
    platforms = ["linux-64", "osx-arm64", "win-64"]
    old = _lock_set(tmp_path, "old", "24.2", platforms)
    new = _lock_set(tmp_path, "new", "24.3.1", platforms)
    data = _diff_json(old, new)
    assert sorted(data["platforms"]) == platforms
    for platform in platforms:
        d = data["platforms"][platform]
        changes = {
            k: _names(d[k])
            for k in ("added", "removed", "upgraded", "downgraded", "rebuilt", "changed")
        }
        assert changes == {
            "added": [],
            "removed": [],
            "upgraded": ["pip"],
            "downgraded": [],
            "rebuilt": [],
            "changed": [],
        }
        assert d["upgraded"][0]["old"]["version"] == "24.2"
        assert d["upgraded"][0]["new"]["version"] == "24.3.1"
        assert d["unchanged"] == 5

    proc = run_build_py("diff", str(old), str(new), "--output", str(tmp_path / "notes.md"))
    assert proc.returncode == 0, proc.stderr
    notes = (tmp_path / "notes.md").read_text(encoding="utf-8")
    assert notes.count("| upgraded | `pip` | 24.2 (pyh8b19718_1) | 24.3.1 (pyh8b19718_1) |") == 3
    assert "### win-64" in notes
    assert "1 upgraded; 5 unchanged." in notes


def test_platform_only_on_one_side(tmp_path: Path) -> None:
    old = _lock_set(tmp_path, "old", "24.2", ["linux-64"])
    new = _lock_set(tmp_path, "new", "24.2", ["linux-64", "win-64"])
    data = _diff_json(old, new)
    assert data["platforms"]["linux-64"]["unchanged"] == 6
    assert data["platforms"]["win-64"]["status"] == "added"
    assert len(data["platforms"]["win-64"]["added"]) == 6


def test_same_file_other_checksum_is_reported(tmp_path: Path) -> None:
    old = _lock_set(tmp_path, "old", "24.2", ["linux-64"])
    new = tmp_path / "edited"
    shutil.copytree(old, new)
    path = new / "linux-64.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [
        line.rsplit(":", 1)[0] + ":" + "f" * 64 if "/pip-24.2-" in line else line for line in lines
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    linux = _diff_json(old, new)["platforms"]["linux-64"]
    assert linux["changed"] == [
        {
            "name": "pip",
            "old": linux["changed"][0]["old"],
            "new": linux["changed"][0]["new"],
            "differs": "sha256",
        }
    ]


def test_unreadable_inputs_exit_2(tmp_path: Path, fixtures_dir: Path) -> None:
    good = fixtures_dir / "locked" / "conda-list.json"
    proc = run_build_py("diff", str(tmp_path / "missing"), str(good))
    assert proc.returncode == 2
    assert f"{tmp_path / 'missing'}: no such file or directory" in proc.stderr

    (tmp_path / "empty").mkdir()
    proc = run_build_py("diff", str(good), str(tmp_path / "empty"))
    assert proc.returncode == 2
    assert "neither a dist/ tree (no manifest.json) nor a directory of lock files" in proc.stderr

    bad = tmp_path / "manifest.json"
    bad.write_text("{not json", encoding="utf-8")
    proc = run_build_py("diff", str(bad), str(good))
    assert proc.returncode == 2 and "cannot read it as JSON" in proc.stderr

    dist = tmp_path / "dist"
    write_dist(dist, fixtures_dir / "locked", "A.sh", kinds=())
    proc = run_build_py("diff", str(dist), str(good))
    assert proc.returncode == 2
    assert "none of constructor's package lists" in proc.stderr

    junk = tmp_path / "junk.txt"
    junk.write_text("@EXPLICIT\nhttps://example.invalid/not-a-package\n", encoding="utf-8")
    proc = run_build_py("diff", str(junk), str(good))
    assert proc.returncode == 2 and "junk.txt: line 2" in proc.stderr
