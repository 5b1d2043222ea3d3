"""Build planning (pure): what each host can build, with which command, or why not."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEFAULT_PROFILE

from orgconda import platforms
from orgconda.plan import ConfigStep, Plan, installer_steps
from orgconda.profile import load_profile
from orgconda.standalone import StandaloneSource

PROFILE = load_profile(DEFAULT_PROFILE)


def _plan(
    host: str | None, conda_exes: dict[str, Path] | None = None, wanted: tuple[str, ...] = ()
) -> Plan:
    standalones = {
        s: StandaloneSource(s, "flag", None, "--conda-exe", exe=p)
        for s, p in (conda_exes or {}).items()
    }
    steps, skipped = installer_steps(
        PROFILE,
        PROFILE.platforms,
        build_root=Path("build"),
        host=host,
        standalones=standalones,
        dist_root=Path("dist"),
        staging_root=Path("dist/.staging"),
        wanted_types=wanted,
    )
    config = ConfigStep("write", "new", "acme-corp-conda-config-2026.11-h0_0.conda")
    return Plan(host, (Path("build/linux-64"),), config, steps, skipped, Path("dist"))


def test_linux_host_builds_its_own_sh_and_explains_every_skip() -> None:
    plan = _plan("linux-64")
    assert [(s.subdir, s.installer_types) for s in plan.installers] == [("linux-64", ("sh",))]
    step = plan.installers[0]
    assert step.argv == (
        "constructor",
        "build/linux-64",
        "--platform",
        "linux-64",
        "--output-dir",
        "dist/.staging/linux-64",
    )
    assert step.log == Path("build/linux-64/constructor.log")
    assert step.output_dir == Path("dist/linux-64")
    reasons = {(k.subdir, k.installer_type): k.reason for k in plan.skipped}
    assert set(reasons) == {
        ("linux-aarch64", "sh"),
        ("osx-64", "sh"),
        ("osx-64", "pkg"),
        ("osx-arm64", "sh"),
        ("osx-arm64", "pkg"),
        ("win-64", "exe"),
    }
    assert "--conda-exe osx-arm64=" in reasons[("osx-arm64", "sh")]
    assert "only be built on macOS" in reasons[("osx-arm64", "pkg")]
    assert "only be built on Windows" in reasons[("win-64", "exe")]
    text = plan.describe()
    lines = text.splitlines()
    assert any(line.split()[:2] == ["build", "linux-64"] for line in lines)
    assert any(line.split()[:2] == ["skip", "win-64"] for line in lines)
    # every step in order: render, the config package, the installers, check, publish
    order = [line.split()[0] for line in lines[1:] if line[:1] not in (" ", "")]
    assert order[:3] == ["render", "config", "build"]
    assert order[-3:] == ["check", "sbom", "publish"]


def test_installer_type_flag_picks_types_and_says_why_others_are_skipped() -> None:
    plan = _plan("osx-arm64", wanted=("pkg",))
    assert [(s.subdir, s.installer_types) for s in plan.installers] == [("osx-arm64", ("pkg",))]
    reasons = {(k.subdir, k.installer_type): k.reason for k in plan.skipped}
    assert reasons[("osx-arm64", "sh")] == "not asked for (--installer-type)"


def test_conda_exe_enables_cross_building_sh(tmp_path: Path) -> None:
    exe = tmp_path / "conda-osx-arm64.exe"
    plan = _plan("linux-64", {"osx-arm64": exe})
    step = next(s for s in plan.installers if s.subdir == "osx-arm64")
    assert step.installer_types == ("sh",)  # .pkg still needs macOS
    assert step.own_conda_exe and str(exe) in step.conda_exe_source
    assert step.shown().endswith("--conda-exe '<conda-standalone osx-arm64>'")


def test_macos_host_builds_sh_and_pkg_for_itself() -> None:
    plan = _plan("osx-arm64")
    assert [(s.subdir, s.installer_types) for s in plan.installers] == [
        ("osx-arm64", ("sh", "pkg"))
    ]


def test_windows_host_builds_exe() -> None:
    plan = _plan("win-64")
    assert [(s.subdir, s.installer_types) for s in plan.installers] == [("win-64", ("exe",))]


@pytest.mark.parametrize(
    ("sys_platform", "machine", "expected"),
    [
        ("linux", "x86_64", "linux-64"),
        ("linux", "aarch64", "linux-aarch64"),
        ("darwin", "arm64", "osx-arm64"),
        ("darwin", "x86_64", "osx-64"),
        ("win32", "AMD64", "win-64"),
        ("linux", "ppc64le", None),
    ],
)
def test_host_subdir(sys_platform: str, machine: str, expected: str | None) -> None:
    assert platforms.host_subdir(sys_platform, machine) == expected


def test_platform_table_is_complete_and_consistent() -> None:
    assert platforms.SUBDIRS == ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")
    for p in platforms.PLATFORMS:
        assert set(p.default_installer_types) <= set(p.installer_types)
        assert p.hook_ext == ("bat" if p.os == "win" else "sh")
