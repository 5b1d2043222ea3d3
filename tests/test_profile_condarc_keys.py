"""condarc.extra holds only settings conda reads: the repo's list, and the installed conda's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import require_tool
from helpers import default_profile_data, write_profile

from orgconda import condarc_keys
from orgconda.condarc_keys import CondaKeys, extra_key_problems, repo_data, repo_keys
from orgconda.errors import ProfileError
from orgconda.profile import load_profile
from orgconda.semantics import TYPED_CONDARC_KEYS


def test_the_repo_list_is_conda_26_7s() -> None:
    keys = repo_keys()
    assert repo_data()["conda_version"] == "26.7.1"
    for name in ("channel_priority", "solver", "pkgs_dirs", "envs_dirs", "auto_activate"):
        assert name in keys.parameters
    assert keys.canonical["auto_activate_base"] == "auto_activate"  # an alias
    assert "restore_free_channel" not in keys.parameters
    assert "mirrored_channels" not in keys.parameters  # mamba's, not conda's
    assert keys.parameters >= TYPED_CONDARC_KEYS


def _no_conda() -> CondaKeys | None:
    return None


def _messages(extra: dict[str, object], installed=_no_conda) -> dict[tuple[object, ...], str]:  # type: ignore[no-untyped-def]
    found = extra_key_problems(extra, TYPED_CONDARC_KEYS, installed)
    return {p.path: p.message for p in found}


def test_keys_conda_reads_pass() -> None:
    extra = {"channel_priority": "strict", "auto_activate_base": False, "pkgs_dirs": ["/x"]}
    assert _messages(extra) == {}


def test_a_removed_key_says_since_when() -> None:
    found = _messages({"restore_free_channel": True})
    assert "removed in conda 25.9" in found[("condarc", "extra", "restore_free_channel")]


def test_an_unknown_key_gets_a_suggestion() -> None:
    found = _messages({"channel_priorty": "strict"})
    message = found[("condarc", "extra", "channel_priorty")]
    assert "did you mean `channel_priority`?" in message
    assert "conda 26.7.1" in message and "ignores unknown keys silently" in message


def test_typed_and_managed_keys_point_at_their_field() -> None:
    found = _messages({"channel": ["x"], "anaconda_heartbeat": True})
    assert "move it to condarc.channels" in found[("condarc", "extra", "channel")]
    assert "telemetry.heartbeat" in found[("condarc", "extra", "anaconda_heartbeat")]


def test_plugin_settings_live_under_plugins() -> None:
    found = _messages({"plugins": {"no_such_setting": 1}})
    assert "plugin setting" in found[("condarc", "extra", "plugins", "no_such_setting")]
    found = _messages({"plugins": ["x"]})
    assert "must be a mapping" in found[("condarc", "extra", "plugins")]


def test_a_key_the_installed_conda_knows_is_accepted() -> None:
    newer = CondaKeys(
        source="conda 27.1.0 at /opt/conda",
        parameters=frozenset({*repo_keys().parameters, "some_new_setting"}),
        plugin_parameters=frozenset({"a_plugin_setting"}),
        canonical=repo_keys().canonical,
    )
    extra = {"some_new_setting": 1, "plugins": {"a_plugin_setting": 2}, "nope": 3}
    found = _messages(extra, lambda: newer)
    assert list(found) == [("condarc", "extra", "nope")]
    assert "conda 27.1.0 at /opt/conda" in found[("condarc", "extra", "nope")]


def test_the_profile_error_names_the_key_and_its_line(tmp_path: Path) -> None:
    data = default_profile_data()
    data["condarc"]["extra"]["restore_free_channel"] = True
    path = write_profile(tmp_path, data)
    line = next(
        no
        for no, text in enumerate(path.read_text().splitlines(), 1)
        if "restore_free_channel" in text
    )
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert f"`condarc.extra.restore_free_channel` (line {line}): is not read by conda" in str(
        info.value
    )


@pytest.mark.e2e
def test_the_repo_list_matches_the_installed_conda() -> None:
    """With a real conda on PATH: its settings are the repo's list (for the same version)."""
    require_tool("conda")
    python = condarc_keys.conda_python()
    assert python is not None, "conda is on PATH but its python was not found"
    installed = condarc_keys.query_installed(python, condarc_keys._run_quietly)
    assert installed is not None, f"{python} could not list conda's settings"
    version = re.search(r"conda (\S+)", installed.source)
    assert version is not None
    repo = repo_keys()
    for key in repo_data()["removed"]:
        assert key not in installed.parameters, key
    if not version.group(1).startswith("26.7."):
        pytest.skip(f"the conda on PATH is {version.group(1)}; the repo list is for 26.7.1")
    assert installed.parameters == repo.parameters
    assert installed.plugin_parameters == repo.plugin_parameters
