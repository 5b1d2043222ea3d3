"""`build.py matrix`: the CI jobs come from the profile and the platform table. Every Unix .sh
is built on the Linux runner, each .pkg and .exe on its own OS's runner, and every platform is
verified on its own runner from the artifacts that hold its installers."""

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


SH_HOST_RUNNER = EXPECTED_RUNNERS["linux-64"]


def _matrix_from_cli(*args: str) -> dict[str, Any]:
    proc = run_build_py("matrix", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    # One line: the workflow reads it into $GITHUB_OUTPUT.
    assert proc.stdout.count("\n") == 1 and proc.stdout.endswith("\n"), proc.stdout
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    return data


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_default_profile_jobs() -> None:
    data = _matrix_from_cli()
    assert set(data) == {"build", "verify", "config_package", "locked"}
    builds = data["build"]["include"]
    assert [
        (b["id"], b["runner"], b["installer_type"], b["platforms"], b["artifact"]) for b in builds
    ] == [
        ("sh", SH_HOST_RUNNER, "sh", ["linux-64", "linux-aarch64", "osx-64", "osx-arm64"],
         "installers-sh"),
        ("pkg-osx-64", "macos-15-intel", "pkg", ["osx-64"], "installers-pkg-osx-64"),
        ("pkg-osx-arm64", "macos-latest", "pkg", ["osx-arm64"], "installers-pkg-osx-arm64"),
        ("exe-win-64", "windows-latest", "exe", ["win-64"], "installers-exe-win-64"),
    ]  # fmt: skip
    assert _by(builds, "id")["sh"]["build_args"] == (
        "--platform linux-64 --platform linux-aarch64 --platform osx-64 --platform osx-arm64 "
        "--installer-type sh"
    )
    assert _by(builds, "id")["pkg-osx-arm64"]["build_args"] == (
        "--platform osx-arm64 --installer-type pkg"
    )
    verify = _by(data["verify"]["include"], "subdir")
    assert list(verify) == list(load_profile(DEFAULT_PROFILE).platforms)
    assert {s: v["runner"] for s, v in verify.items()} == EXPECTED_RUNNERS
    assert verify["linux-64"]["artifacts"] == ["installers-sh"]
    assert verify["linux-64"]["artifact_pattern"] == "installers-sh"
    assert verify["osx-arm64"]["installer_types"] == ["sh", "pkg"]
    assert verify["osx-arm64"]["artifacts"] == ["installers-sh", "installers-pkg-osx-arm64"]
    assert verify["osx-arm64"]["artifact_pattern"] == "{installers-sh,installers-pkg-osx-arm64}"
    assert verify["osx-arm64"]["verify_flags"] == "--allow-pkg"
    assert verify["win-64"]["artifacts"] == ["installers-exe-win-64"]
    assert verify["win-64"]["verify_flags"] == ""
    assert data["config_package"] is True
    assert data["locked"] is False


def _check_invariants(profile_path: Path, data: dict[str, Any]) -> None:
    """Every installer the profile asks for is built by exactly one job, on a runner whose OS
    can build its type, and verified on its own platform's runner from that job's artifact."""
    profile = load_profile(profile_path)
    builds = data["build"]["include"]
    wanted = {
        (s, t) for s in profile.platforms for t in profile.installer_types[platforms.get(s).os]
    }
    built = [(s, b["installer_type"]) for b in builds for s in b["platforms"]]
    assert sorted(built) == sorted(wanted)
    for b in builds:
        host = platforms.get(b["host"])
        assert b["runner"] == host.ci_runner and b["os"] == host.os
        allowed = platforms.TYPE_BUILD_HOSTS[b["installer_type"]]
        assert allowed is None or host.os in allowed
        if allowed is None:  # buildable anywhere: one Linux job cross-builds every target
            assert host.os == "linux"
        else:  # native: built on the target's own runner
            assert b["platforms"] == [b["host"]]
        assert b["artifact"] == f"installers-{b['id']}"
    assert len({b["id"] for b in builds}) == len(builds)
    for v in data["verify"]["include"]:
        plat = platforms.get(v["subdir"])
        assert v["runner"] == plat.ci_runner
        producers = [b["artifact"] for b in builds if v["subdir"] in b["platforms"]]
        assert v["artifacts"] == producers
        assert v["installer_types"] == list(profile.installer_types[plat.os])
        assert v["verify_flags"] == ("--allow-pkg" if "pkg" in v["installer_types"] else "")
    assert [v["subdir"] for v in data["verify"]["include"]] == list(profile.platforms)


def test_default_profile_jobs_cover_every_installer_once() -> None:
    _check_invariants(DEFAULT_PROFILE, _matrix_from_cli())


@pytest.mark.parametrize(
    ("platforms_", "types", "build_ids"),
    [
        (["win-64", "osx-arm64"], {"linux": ["sh"], "osx": ["sh"], "win": ["exe"]},
         ["exe-win-64", "sh"]),
        (["osx-64", "osx-arm64"], {"linux": ["sh"], "osx": ["pkg"], "win": ["exe"]},
         ["pkg-osx-64", "pkg-osx-arm64"]),
        (["linux-aarch64"], {"linux": ["sh"], "osx": ["sh"], "win": ["exe"]}, ["sh"]),
    ],
    ids=["win-and-osx-sh", "osx-pkg-only", "aarch64-only"],
)  # fmt: skip
def test_custom_profiles(
    tmp_path: Path, platforms_: list[str], types: dict[str, list[str]], build_ids: list[str]
) -> None:
    data = default_profile_data()
    data["platforms"] = platforms_  # not the table's order: the profile's wins
    data["installer_types"] = types
    profile_path = write_profile(tmp_path, data)
    matrix = _matrix_from_cli("--profile", str(profile_path))
    _check_invariants(profile_path, matrix)
    assert [b["id"] for b in matrix["build"]["include"]] == build_ids
    assert [v["subdir"] for v in matrix["verify"]["include"]] == platforms_


def test_an_osx_sh_is_cross_built_on_linux_and_verified_on_macos(tmp_path: Path) -> None:
    data = default_profile_data()
    data["platforms"] = ["osx-arm64"]
    data["installer_types"] = {"linux": ["sh"], "osx": ["sh"], "win": ["exe"]}
    matrix = _matrix_from_cli("--profile", str(write_profile(tmp_path, data)))
    (build,) = matrix["build"]["include"]
    assert (build["runner"], build["platforms"]) == (SH_HOST_RUNNER, ["osx-arm64"])
    (verify,) = matrix["verify"]["include"]
    assert verify["runner"] == EXPECTED_RUNNERS["osx-arm64"]
    assert verify["artifacts"] == [build["artifact"]]
    assert verify["verify_flags"] == ""  # no .pkg, no --allow-pkg


def test_platform_filter_keeps_the_profile_order() -> None:
    data = _matrix_from_cli("--platform", "win-64", "--platform", "linux-64")
    assert [v["subdir"] for v in data["verify"]["include"]] == ["linux-64", "win-64"]
    assert [b["platforms"] for b in data["build"]["include"]] == [["linux-64"], ["win-64"]]


def test_committed_locks_make_every_build_locked(tmp_path: Path) -> None:
    profile_path = write_profile(tmp_path, default_profile_data())
    locks = tmp_path / "locks"
    locks.mkdir()
    (locks / "README.md").write_text("not a lock")
    assert _matrix_from_cli("--profile", str(profile_path))["locked"] is False
    (locks / "linux-64.txt").write_text("@EXPLICIT\n")
    data = _matrix_from_cli("--profile", str(profile_path))
    assert data["locked"] is True
    for build in data["build"]["include"]:
        assert build["build_args"].split()[-1] == "--locked"
    unlocked = matrix_for(load_profile(profile_path), locked=False)
    assert not any("--locked" in b["build_args"] for b in unlocked["build"]["include"])


def test_config_package_flag_follows_the_profile(tmp_path: Path) -> None:
    data = default_profile_data()
    data["config_package"] = {"enabled": False}
    matrix = _matrix_from_cli("--profile", str(write_profile(tmp_path, data)))
    assert matrix["config_package"] is False


def test_release_tag_matching_the_version_is_accepted() -> None:
    version = load_profile(DEFAULT_PROFILE).version
    assert _matrix_from_cli("--release-tag", f"v{version}") == _matrix_from_cli()


@pytest.mark.parametrize(
    ("tag", "fix"),
    [
        ("v1999.1", 'set installer.version: "1999.1" in construct/org.yaml'),
        ("1999.1", "release tags are v<installer.version>"),
    ],
)
def test_release_tag_not_matching_the_version_exits_2(tag: str, fix: str) -> None:
    version = load_profile(DEFAULT_PROFILE).version
    proc = run_build_py("matrix", "--release-tag", tag)
    assert proc.returncode == 2
    assert proc.stdout == ""  # no jobs start
    assert proc.stderr.startswith(f"error: --release-tag {tag}: does not match installer.version")
    assert f'"{version}" in construct/org.yaml (expected tag v{version})' in proc.stderr
    assert fix in proc.stderr


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
