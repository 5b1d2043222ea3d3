"""--set FIELD=VALUE overrides, the resolved config package channels, and problem formatting."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import default_profile_data, run_build_py, write_profile

from orgconda.errors import ProfileError
from orgconda.overrides import parse_field
from orgconda.profile import DEFAULT_PROFILE, format_problem, load_profile, profile_error

PUBLISH = "https://conda.acme.example/acme-internal"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("installer.version", ("installer", "version")),
        ("specs.extra[0]", ("specs", "extra", 0)),
        ("condarc.extra.conda-build", ("condarc", "extra", "conda-build")),
        ("a[0][1].b", ("a", 0, 1, "b")),
        ("a..b", None),
        (".a", None),
        ("a[x]", None),
        ("", None),
    ],
)
def test_field_paths(text: str, path: tuple[object, ...] | None) -> None:
    assert parse_field(text) == path


def test_sets_are_typed_by_the_field() -> None:
    profile = load_profile(
        DEFAULT_PROFILE,
        [
            "installer.version=2026.12",  # a string field keeps the text, not the number
            "telemetry.locked=false",
            "config_package.build_number=4",
            "specs.extra=[pip, numpy >=2]",
            "specs.extra[2]=requests",  # one past the end appends
            "telemetry.installer_token=null",
            "installer.default_prefix=~/acme",
        ],
    )
    assert profile.version == "2026.12"
    assert profile.telemetry.installer_token == "AcmeConda-2026_12"
    assert profile.telemetry.locked is False
    assert profile.config_package.build_number == 4
    assert profile.specs[-3:] == ("pip", "numpy >=2", "requests")
    assert profile.default_prefix == "~/acme"
    assert profile.sets[0] == ("installer.version", "2026.12")
    assert profile.raw["installer"]["version"] == "2026.12"


def test_a_set_creates_missing_sections(tmp_path: Path) -> None:
    data = default_profile_data()
    del data["signing"]
    profile = load_profile(write_profile(tmp_path, data), ["signing.windows_signing_tool=signtool"])
    assert profile.signing.windows_signing_tool == "signtool"


def test_problems_from_a_set_name_the_flag_not_a_line() -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(DEFAULT_PROFILE, ["installer.version=1.0.", "specs.extra[0]=numpy [x]"])
    problems = info.value.problems
    assert problems[0].startswith("`installer.version` (--set installer.version=1.0.): ")
    assert problems[1].startswith("`specs.extra[0]` (--set specs.extra[0]=numpy [x]): ")


def test_format_problem_for_render_time_problems() -> None:
    profile = load_profile(DEFAULT_PROFILE, ["installer.version=2026.12"])
    assert format_problem(profile, ("installer", "company"), "too long") == (
        "`installer.company` (line 12): too long"
    )
    assert format_problem(profile, ("installer", "version"), "x") == (
        "`installer.version` (--set installer.version=2026.12): x"
    )
    assert format_problem(profile, ("installer",), "x") == (
        "`installer` (line 9; with --set installer.version=2026.12): x"
    )
    error = profile_error(profile, [(("platforms", 0), "not buildable here")])
    assert error.exit_code == 2
    assert str(error).endswith("  - `platforms[0]` (line 19): not buildable here")


def test_the_command_takes_set(tmp_path: Path) -> None:
    build = tmp_path / "build"
    proc = run_build_py(
        "render",
        "--platform",
        "linux-64",
        "--build-dir",
        str(build),
        "--set",
        "installer.version=2026.12",
    )
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load((build / "linux-64" / "construct.yaml").read_text())
    assert data["version"] == "2026.12"


# --- config_package.publish_channel in the installed condarc ----------------------------------


def test_the_publish_channel_comes_first_once(tmp_path: Path) -> None:
    data = default_profile_data()
    data["condarc"]["channels"] = ["conda-forge", PUBLISH]
    profile = load_profile(write_profile(tmp_path, data))
    assert profile.condarc.channels == (PUBLISH, "conda-forge")
    assert profile.config_package.add_to_channels is True


def test_add_to_channels_false_leaves_the_channels_alone(tmp_path: Path) -> None:
    data = default_profile_data()
    data["config_package"]["add_to_channels"] = False
    profile = load_profile(write_profile(tmp_path, data))
    assert profile.condarc.channels == ("conda-forge",)
    assert profile.config_package.add_to_channels is False


def test_without_the_package_no_publish_channel_is_needed(tmp_path: Path) -> None:
    data = default_profile_data()
    data["config_package"] = {"enabled": False}
    profile = load_profile(write_profile(tmp_path, data))
    assert profile.config_package.publish_channel is None
    assert profile.condarc.channels == ("conda-forge",)
