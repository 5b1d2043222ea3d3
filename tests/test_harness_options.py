"""issue 17's edges of the verify command: --profile refused with the reason, ORGCONDA_*
variables through the clean environment, the config package checks of a named installer, and
which conda commands run together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import run_build_py
from test_harness_command import entry, parser, write_dist

from orgconda.harness.checks import run_checks
from orgconda.harness.conda_steps import FIRST, USER_OPT_OUT, conda_steps
from orgconda.harness.environment import scrubbed_env
from orgconda.harness.expect import Overrides
from orgconda.harness.observation import Observation
from orgconda.harness.plan import plan_targets


def test_verify_refuses_profile_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """`verify --profile` used to be accepted and ignored."""
    with pytest.raises(SystemExit) as info:
        parser().parse_args(["--profile", "construct/org.yaml"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "verify takes no --profile" in err and "manifest.json" in err


def test_verify_profile_through_build_py() -> None:
    done = run_build_py("verify", "--profile", "construct/org.yaml")
    assert done.returncode == 2
    assert "verify takes no --profile" in done.stderr


def test_orgconda_variables_pass_through_the_clean_environment(tmp_path: Path) -> None:
    environ = {
        "PATH": "/usr/bin",
        "ORGCONDA_SYSTEM_TOKEN_DIR": "/srv/tokens",
        "ORGCONDA_MACHINE_TOKEN": "fleet-7",
        "CONDA_PKGS_DIRS": "/x",
    }
    env = scrubbed_env(environ, tmp_path, windows=False)
    assert env["ORGCONDA_SYSTEM_TOKEN_DIR"] == "/srv/tokens"
    assert env["ORGCONDA_MACHINE_TOKEN"] == "fleet-7"
    assert "CONDA_PKGS_DIRS" not in env


def test_named_installer_keeps_or_reports_the_config_package_checks(tmp_path: Path) -> None:
    """A named installer with --expect-*: a found manifest entry keeps the config package
    checks; without one the report says they were not requested (issue 17)."""
    cp = {
        "name": "acme-conda-config",
        "version": "2026.11",
        "build_number": 0,
        "condarc_file": "condarc.d/acme.yml",
        "condarc_sha256": "0" * 64,
        "publish_channel": "https://conda.acme.example/acme-internal",
    }
    dist = tmp_path / "dist"
    write_dist(
        dist,
        [entry("linux-64/AcmeConda-2026.11-Linux-x86_64.sh", "sh", "linux-64", config_package=cp)],
    )
    named = dist / "linux-64" / "AcmeConda-2026.11-Linux-x86_64.sh"
    overrides = Overrides(org_token="o", installer_token="i", locked=True)
    kwargs: dict[str, Any] = {"dist": dist, "host": "linux-64", "allow_pkg": False}
    found = plan_targets(installers=[named], overrides=overrides, **kwargs).targets[0].expect
    assert found.config_package is not None and found.org_token == "o"
    assert found.config_package.publish_channel == cp["publish_channel"]
    assert found.from_manifest
    elsewhere = tmp_path / "Other-1.0-Linux-x86_64.sh"
    elsewhere.write_text("#!/bin/sh\nexit 2\n")
    bare = plan_targets(installers=[elsewhere], overrides=overrides, **kwargs).targets[0].expect
    assert bare.config_package is None and not bare.from_manifest
    results = {r.id: r for r in run_checks(Observation(prefix="/p"), bare)}
    for id_ in (
        "config_package.installed",
        "config_package.condarc",
        "config_package.record",
        "config_package.channel",
        "ca.bundled",
    ):
        assert results[id_].status == "skip", id_
        assert results[id_].detail.startswith("not requested: this installer has no"), id_


def test_conda_steps_run_first_alone_and_isolate_what_interferes() -> None:
    assert FIRST.name == "info" and FIRST.args == ("info", "--json") and FIRST.home is None
    plain = {s.name: s for s in conda_steps(ca_expected=False, https=False)}
    assert list(plain) == [
        "info_run2",
        "info_text",
        "show_sources",
        "disabled_by_env",
        "disabled_by_user_condarc",
        "wire",
        "conda_list",
    ]
    assert (
        plain["disabled_by_user_condarc"].home
        and plain["disabled_by_user_condarc"].user_condarc == USER_OPT_OUT
    )
    assert plain["wire"].home and plain["wire"].channel == "http"
    homes = [s.home for s in plain.values() if s.home]
    assert len(homes) == len(set(homes))  # each its own HOME
    assert dict(plain["disabled_by_env"].extra_env) == {"CONDA_ANACONDA_ANON_USAGE": "no"}
    assert plain["wire"].shown() == (
        "conda search --override-channels -c http://127.0.0.1:PORT/ nosuchpkg"
    )
    full = {s.name: s for s in conda_steps(ca_expected=True, https=True)}
    assert full["ssl_verify"].args == ("config", "--show", "ssl_verify", "--json")
    assert full["https_wire"].channel == "https" and full["https_wire"].home not in homes


def test_readme_documents_every_check_and_option() -> None:
    """The README's verify section names every check id and every verify option."""
    from conftest import REPO

    from orgconda.harness.checks import CHECK_IDS

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Verifying an installer\n", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    shown = " ".join(line.split("|")[1] for line in table)
    for id_ in CHECK_IDS:
        head, _, last = id_.rpartition(".")
        assert f"`{id_}`" in shown or (head and f"`.{last}`" in shown and head in shown), id_
    options = [a.option_strings[-1] for a in parser()._actions if a.option_strings]
    for option in options:
        if option in ("--help", "--profile", "--dist-dir"):
            continue
        assert f"`{option}" in section, option
