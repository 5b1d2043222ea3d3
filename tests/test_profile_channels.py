"""Channel names and URLs by conda's rules, in the profile and in --channel."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import default_profile_data, run_build_py, write_profile

from orgconda.channels import channel_flag_problems, channel_problem
from orgconda.profile import load_profile

GOOD = [
    "conda-forge",
    "defaults",
    "org/label/dev",
    "pkgs/main",
    "https://conda.acme.example/acme-internal",
    "http://127.0.0.1:8000/channel",
    "https://conda.acme.example/t/${ACME_TOKEN}/cf",
    "file:///srv/conda/channel",
    "file:///C:/conda/channel",
]

BAD = [
    ("", "is empty"),
    ("conda forge", "did you mean `conda-forge`"),
    ("ht!tp://mirror.example/cf", "not a scheme"),
    ("HTTPS://mirror.example/cf", "not a scheme"),
    ("https:/mirror.example/cf", "not a scheme"),
    ("ftp://mirror.example/cf", "`ftp://`"),
    ("s3://bucket/cf", "`s3://`"),
    ("https://", "no host name"),
    ("https://mirror.example:99999/cf", "port"),
    ("https://mirror.example/a%zz", "two hex digits"),
    ("https://mirror.example/<cf>", "'<', '>'"),
    ("file://", "names no directory"),
    ("./channel", "local path"),
    ("~/channel", "local path"),
    ("C:\\channel", "local path"),
    ("mirror.acme.example/conda-forge", "without its scheme"),
    ("localhost:8000/cf", "without its scheme"),
    ("conda-forge/", "empty part"),
    ("org//label", "empty part"),
    ("-org", "starts with"),
    ("org!", "'!'"),
    ("conda-forge::pip", "match spec"),
    ("conda\u2028forge", "line break"),
    ("https://conda.acme[.example/cf", "check the host name"),
]


@pytest.mark.parametrize("value", GOOD)
def test_channels_conda_reads(value: str) -> None:
    assert channel_problem(value) is None


@pytest.mark.parametrize(("value", "needle"), BAD, ids=[b[0] or "empty" for b in BAD])
def test_channels_conda_would_not_read(value: str, needle: str) -> None:
    problem = channel_problem(value)
    assert problem is not None and needle in problem, problem


def test_url_only_fields_refuse_names() -> None:
    problem = channel_problem("conda.acme.example", url_only=True)
    assert problem is not None and "did you mean https://conda.acme.example" in problem


def test_every_channel_field_is_checked(tmp_path: Path) -> None:
    data = default_profile_data()
    data["channels"] = ["https://mirror.acme.example/cf", "bad channel"]
    data["channels_remap"] = [{"src": "https://mirror.acme.example/cf", "dest": "bad dest"}]
    data["condarc"]["channels"] = ["bad rc"]
    data["condarc"]["default_channels"] = ["bad default"]
    data["condarc"]["custom_channels"] = {"bad name": "https://conda.acme.example"}
    data["condarc"]["channel_alias"] = "bad alias"
    data["config_package"]["publish_channel"] = "bad publish"
    with pytest.raises(Exception) as info:
        load_profile(write_profile(tmp_path, data))
    message = str(info.value)
    for field in (
        "`channels[1]`",
        "`channels_remap[0].dest`",
        "`condarc.channels[0]`",
        "`condarc.default_channels[0]`",
        "`condarc.custom_channels.bad name`",
        "`condarc.channel_alias`",
        "`config_package.publish_channel`",
    ):
        assert field in message, (field, message)


def test_flag_problems_name_the_flag() -> None:
    assert channel_flag_problems(["conda-forge", "file:///srv/mirror"]) == []
    (problem,) = channel_flag_problems([""])
    assert problem.startswith("--channel '': is empty")


@pytest.mark.parametrize("value", ["", "conda forge", "ht!tp://x/y"])
def test_a_bad_channel_flag_exits_2_naming_the_flag(tmp_path: Path, value: str) -> None:
    build = tmp_path / "build"
    proc = run_build_py("render", "--build-dir", str(build), "--channel", value)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"error: --channel {value!r}: ")
    assert "profile" not in proc.stderr and "Traceback" not in proc.stderr
    assert not build.exists()


def test_profile_and_flag_problems_are_reported_together(tmp_path: Path) -> None:
    data = default_profile_data()
    data["telemetry"]["org_token"] = "acme corp"
    path = write_profile(tmp_path / "p", data)
    build = tmp_path / "build"
    proc = run_build_py(
        "render", "--profile", str(path), "--build-dir", str(build), "--channel", "a b"
    )
    assert proc.returncode == 2
    assert "`telemetry.org_token` (line " in proc.stderr
    assert "--channel 'a b': holds a space" in proc.stderr
    assert not build.exists()
