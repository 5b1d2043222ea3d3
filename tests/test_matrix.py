"""`build.py matrix`: the CI matrix comes from the profile and the platform table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_PROFILE
from helpers import default_profile_data, run_build_py, write_profile

from orgconda import platforms
from orgconda.errors import UsageError
from orgconda.matrix import matrix_for
from orgconda.profile import load_profile

# The runner labels issue 4 asks for, written out once here so a change to the platform
# table that moves a platform to another runner is a deliberate one.
EXPECTED_RUNNERS = {
    "linux-64": "ubuntu-latest",
    "linux-aarch64": "ubuntu-24.04-arm",
    "osx-64": "macos-15-intel",
    "osx-arm64": "macos-latest",
    "win-64": "windows-latest",
}


def _matrix_from_cli(*args: str) -> dict[str, Any]:
    proc = run_build_py("matrix", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    # One line: the workflow writes it to $GITHUB_OUTPUT as `matrix=<json>`.
    assert proc.stdout.count("\n") == 1 and proc.stdout.endswith("\n"), proc.stdout
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    return data


def test_default_profile_matrix_covers_exactly_its_platforms_in_order() -> None:
    profile = load_profile(DEFAULT_PROFILE)
    data = _matrix_from_cli()
    assert list(data) == ["include"]
    rows = data["include"]
    assert [r["subdir"] for r in rows] == list(profile.platforms)
    for row in rows:
        plat = platforms.get(row["subdir"])
        assert row["platform"] == plat.subdir
        assert row["runner"] == plat.ci_runner == EXPECTED_RUNNERS[plat.subdir]
        assert row["os"] == plat.os
        assert row["installer_types"] == list(profile.installer_types[plat.os])
        assert row["verify_flags"] == ("--allow-pkg" if "pkg" in row["installer_types"] else "")


def test_default_profile_matrix_values() -> None:
    rows = {r["subdir"]: r for r in _matrix_from_cli()["include"]}
    assert rows["linux-64"]["installer_types"] == ["sh"]
    assert rows["osx-arm64"]["installer_types"] == ["sh", "pkg"]
    assert rows["osx-arm64"]["verify_flags"] == "--allow-pkg"
    assert rows["win-64"]["installer_types"] == ["exe"]
    assert rows["win-64"]["verify_flags"] == ""
    assert {s: r["runner"] for s, r in rows.items()} == EXPECTED_RUNNERS


def test_custom_profile_with_a_subset_of_platforms(tmp_path: Path) -> None:
    data = default_profile_data()
    data["platforms"] = ["win-64", "osx-arm64"]  # not the table's order: the profile's wins
    data["installer_types"] = {"linux": ["sh"], "osx": ["sh"], "win": ["exe"]}
    profile_path = write_profile(tmp_path, data)

    rows = _matrix_from_cli("--profile", str(profile_path))["include"]
    assert [(r["subdir"], r["runner"]) for r in rows] == [
        ("win-64", "windows-latest"),
        ("osx-arm64", "macos-latest"),
    ]
    # Without .pkg in the profile, the macOS job needs no --allow-pkg.
    assert rows[1]["installer_types"] == ["sh"]
    assert rows[1]["verify_flags"] == ""


def test_platform_filter_keeps_the_profile_order() -> None:
    rows = _matrix_from_cli("--platform", "win-64", "--platform", "linux-64")["include"]
    assert [r["subdir"] for r in rows] == ["linux-64", "win-64"]


def test_pretty_output_is_the_same_matrix() -> None:
    proc = run_build_py("matrix", "--pretty")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") > 5
    assert json.loads(proc.stdout) == _matrix_from_cli()


def test_matrix_for_matches_the_command_line() -> None:
    assert matrix_for(load_profile(DEFAULT_PROFILE)) == _matrix_from_cli()


def test_platform_not_in_the_profile_is_refused(tmp_path: Path) -> None:
    data = default_profile_data()
    data["platforms"] = ["linux-64"]
    profile = load_profile(write_profile(tmp_path, data))
    with pytest.raises(UsageError, match="not in the profile's platforms"):
        matrix_for(profile, ["osx-64"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--platform", "linux-128"), "not a platform; choose from"),
        (("--profile", "no/such/org.yaml"), "does not exist"),
    ],
    ids=["unknown-platform", "missing-profile"],
)
def test_bad_input_exits_2_with_nothing_on_stdout(args: tuple[str, ...], message: str) -> None:
    proc = run_build_py("matrix", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""  # the workflow must not read half a matrix
    assert message in proc.stderr


def test_invalid_profile_fails_the_matrix_job(tmp_path: Path) -> None:
    data = default_profile_data()
    data["platforms"] = ["linux-64", "linux-128"]
    proc = run_build_py("matrix", "--profile", str(write_profile(tmp_path, data)))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "linux-128" in proc.stderr
