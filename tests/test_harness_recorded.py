"""The verify checks on the outputs recorded from real installs (../shared/fixtures/real-install).

Also holds the helpers the other test_harness_* files import: an Observation of the recorded
``locked`` case, with the token-file contents taken from the hexdumps in prefix-files.txt.
The recorded installer had no orgconda hook, so its hook record and install result are
written here to match the recorded install (its prefix, tokens and installer.json).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from orgconda.harness.checks import CHECK_IDS, by_id, failed, run_checks
from orgconda.harness.checks_config import channel_base
from orgconda.harness.expect import CaExpect, ConfigPackageExpect, Expectation
from orgconda.harness.observation import (
    InstallResult,
    Observation,
    TokenFiles,
    load_observation,
    parse_show_sources,
)

LOCKED_PREFIX = "/opt/AcmeConda-locked"
ORG = "acme-corp"
INSTALLER_TOKEN = "AcmeConda-2026_11"

_HEXDUMP_CMD = re.compile(r"^\$ hexdump -C (?P<path>\S+)")
_HEXDUMP_ROW = re.compile(r"^[0-9a-f]{8}  (?P<bytes>(?:[0-9a-f]{2} {1,2})+)")


def hexdump_files(text: str) -> dict[str, bytes]:
    """``{path as written after hexdump -C: bytes}`` from prefix-files.txt."""
    files: dict[str, bytes] = {}
    current: str | None = None
    for line in text.splitlines():
        command = _HEXDUMP_CMD.match(line)
        if command:
            current = command.group("path").strip('"')
            files[current] = b""
            continue
        row = _HEXDUMP_ROW.match(line) if current else None
        if row and current:
            files[current] += bytes.fromhex(row.group("bytes").replace(" ", ""))
        elif current and not line.strip():
            current = None
    return files


def case_json(fixtures_dir: Path, case: str) -> dict[str, Any]:
    return json.loads((fixtures_dir / case / "case.json").read_text(encoding="utf-8"))


def locked_token_files(fixtures_dir: Path) -> TokenFiles:
    dumps = hexdump_files((fixtures_dir / "locked" / "prefix-files.txt").read_text())
    return TokenFiles(
        env_token=dumps["$PREFIX/etc/aau_token"].decode(),
        client_token=dumps["~/.conda/aau_token"].decode(),
        machine_token=dumps["$PREFIX/machine_token"].decode(),
        machine_token_path=f"{LOCKED_PREFIX}/machine_token",
    )


def hook_record(prefix: str = LOCKED_PREFIX, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "format": 1,
        "hook": "post_install",
        "installer_name": "AcmeConda",
        "installer_version": "2026.11",
        "installer_platform": "linux-64",
        "installer_type": "SH",
        "scope": "prefix",
        "token_dir": prefix,
        "files": [f"{prefix}/.installer_token", f"{prefix}/org_token", f"{prefix}/machine_token"],
        "installer_token": INSTALLER_TOKEN,
        "org_token": ORG,
        "machine_token_source": "generated",
        "env_token_seeded": False,
        "all_users": False,
        "unattended": True,
    }
    record.update(changes)
    return record


def install_result(fixtures_dir: Path, **changes: Any) -> InstallResult:
    recorded = json.loads((fixtures_dir / "locked" / "installer.json").read_text())
    result = InstallResult(
        installer_type="sh",
        command=f"bash {recorded['file_name']} -b -p {LOCKED_PREFIX}",
        returncode=0,
        seconds=recorded["silent_install_seconds"],
        conda_found=True,
        history_found=True,
        hook_record_found=True,
        installer_sha256=recorded["sha256"],
        prefix_note="space-free prefix",
    )
    return replace(result, **changes)


def locked_observation(fixtures_dir: Path) -> Observation:
    obs = load_observation(fixtures_dir / "locked")
    return replace(
        obs,
        install=install_result(fixtures_dir),
        tokens=locked_token_files(fixtures_dir),
        hook_record=hook_record(),
    )


def condarc_of(fixtures_dir: Path, case: str) -> dict[str, Any]:
    parsed = yaml.safe_load(case_json(fixtures_dir, case)["installed_condarc"])
    assert isinstance(parsed, dict)
    return parsed


def locked_expectation(fixtures_dir: Path, **changes: Any) -> Expectation:
    recorded = json.loads((fixtures_dir / "locked" / "installer.json").read_text())
    expect = Expectation(
        org_token=ORG,
        installer_token=INSTALLER_TOKEN,
        enabled=True,
        locked=True,
        aau_spec=">=0.8.1",
        token_scope="prefix",
        condarc=condarc_of(fixtures_dir, "locked"),
        sha256=recorded["sha256"],
    )
    return replace(expect, **changes)


def with_agent(obs: Observation, field: str, user_agent: str) -> Observation:
    data = dict(getattr(obs, field))
    data["user_agent"] = user_agent
    return replace(obs, **{field: data})


def agent_of(fixtures_dir: Path, case: str, name: str = "conda-info.json") -> str:
    data = json.loads((fixtures_dir / case / name).read_text(encoding="utf-8"))
    return str(data["user_agent"])


# ---------------------------------------------------------------- the tests


def test_hexdumps_give_the_recorded_token_files(fixtures_dir: Path) -> None:
    tokens = locked_token_files(fixtures_dir)
    assert tokens.machine_token == "UtqJan-wkzEnOekkdFRfvQ\n"
    assert tokens.machine_token_value == "UtqJan-wkzEnOekkdFRfvQ"
    assert tokens.env_token is not None and len(tokens.env_token) == 22
    assert tokens.client_token == "SND9ZXQLUT4hiDAiwSTVyx"


def test_loader_reads_every_recorded_locked_output(fixtures_dir: Path) -> None:
    obs = load_observation(fixtures_dir / "locked")
    assert obs.prefix == LOCKED_PREFIX
    assert obs.host is not None and obs.host.hostname == "vm" and obs.host.username == "root"
    for name in (
        "info",
        "info_run2",
        "info_text",
        "show_sources",
        "disabled_by_env",
        "disabled_by_user_condarc",
        "wire",
        "conda_list",
        "aau_meta",
    ):
        assert getattr(obs, name) is not None, name
    assert obs.wire is not None and len(obs.wire) == 8
    assert obs.conda_list is not None and len(obs.conda_list) == 28


def test_every_check_passes_on_the_recorded_locked_install(fixtures_dir: Path) -> None:
    results = run_checks(locked_observation(fixtures_dir), locked_expectation(fixtures_dir))
    assert failed(results) == [], [(r.id, r.actual) for r in results if not r.ok]
    # no CA in this build, and no --https-cert: the CA checks say so
    skipped = {r.id: r.detail for r in results if r.skipped}
    assert list(skipped) == ["ca.bundled", "ca.https"]
    assert "no bundled CA expected" in skipped["ca.bundled"]
    assert skipped["ca.https"].startswith("not requested: no --https-cert")
    assert {r.id for r in results} == {i for i in CHECK_IDS if not i.startswith("config_")}
    for result in results:
        assert result.expected and result.actual, result.id


def test_checks_without_token_files_and_record_fail_as_not_observed(fixtures_dir: Path) -> None:
    """The bare recorded folder: whatever it lacks is reported, not assumed."""
    results = by_id(
        run_checks(load_observation(fixtures_dir / "locked"), locked_expectation(fixtures_dir))
    )
    for id_ in ("install.completed", "hooks.record", "agent.m", "agent.e_matches_file"):
        assert not results[id_].ok
        assert results[id_].actual.startswith("not observed"), results[id_].actual
    assert results["agent.o"].ok and results["wire.matches"].ok


def test_unlocked_install_meets_unlocked_expectations(fixtures_dir: Path) -> None:
    obs = load_observation(fixtures_dir / "unlocked")
    expect = locked_expectation(
        fixtures_dir, locked=False, condarc=condarc_of(fixtures_dir, "unlocked"), sha256=None
    )
    results = by_id(run_checks(obs, expect))
    passing = (
        "lock.env_override",
        "lock.user_condarc",
        "condarc.in_effect",
        "agent.aau_version",
        "agent.enabled",
        "agent.single.c",
        "agent.single.s",
        "agent.single.e",
        "agent.i",
        "agent.o",
        "agent.syntax",
        "agent.order",
        "agent.no_extra",
        "privacy.hostname",
        "privacy.username",
        "privacy.prefix",
    )
    for id_ in passing:
        assert results[id_].ok, (id_, results[id_].actual)


def test_unlocked_install_fails_locked_expectations(fixtures_dir: Path) -> None:
    obs = load_observation(fixtures_dir / "unlocked")
    results = by_id(run_checks(obs, locked_expectation(fixtures_dir)))
    assert not results["lock.env_override"].ok
    assert not results["lock.user_condarc"].ok
    assert "aau/0.8.1" in results["lock.env_override"].actual


def test_locked_install_fails_unlocked_expectations(fixtures_dir: Path) -> None:
    obs = locked_observation(fixtures_dir)
    results = by_id(run_checks(obs, locked_expectation(fixtures_dir, locked=False)))
    assert not results["lock.env_override"].ok
    assert not results["lock.user_condarc"].ok


def test_recorded_env_token_run_fails_o_and_m(fixtures_dir: Path) -> None:
    """env-tokens/: ANACONDA_ANON_USAGE_* add o/ and m/ entries: what verify's scrub avoids."""
    case = case_json(fixtures_dir, "env-tokens")
    files = case["token_files_in_prefix"]
    obs = replace(
        load_observation(fixtures_dir / "env-tokens"),
        tokens=TokenFiles(None, None, files["machine_token"] + "\n", "machine_token"),
    )
    results = by_id(run_checks(obs, locked_expectation(fixtures_dir)))
    assert not results["agent.o"].ok and "o/acme-ci o/acme-corp" in results["agent.o"].actual
    assert not results["agent.m"].ok
    assert results["agent.i"].ok and results["agent.order"].ok and results["agent.syntax"].ok


def test_recorded_bad_token_variants(fixtures_dir: Path) -> None:
    variants = json.loads((fixtures_dir / "bad-tokens" / "bad-tokens.json").read_text())
    host = load_observation(fixtures_dir / "bad-tokens").host
    base = replace(locked_observation(fixtures_dir), host=host)
    seen = set()
    for variant in variants:
        content = bytes.fromhex(variant["file_bytes_hex"]).decode("utf-8")
        machine = content if variant["file"].endswith("machine_token") else None
        obs = with_agent(base, "info", variant["user_agent"])
        if machine is not None:
            obs = replace(obs, tokens=TokenFiles(None, None, machine, "$PREFIX/machine_token"))
        results = by_id(run_checks(obs, locked_expectation(fixtures_dir)))
        name = variant["variant"]
        dropped = variant["debug_discard_message"] is not None
        if "machine_token" in variant["file"]:
            assert dropped and not results["agent.m"].ok, name
            seen.add("machine")
        elif "36 chars" in name:
            assert not results["agent.o"].ok and results["agent.syntax"].ok, name
            seen.add("36")
        else:
            assert results["agent.o"].ok is not dropped, name
            seen.add("dropped" if dropped else "kept")
        # the recorded host is `vm`; one s/ holds `VM`: case-sensitive, never a leak
        assert results["privacy.hostname"].ok, name
    assert seen == {"machine", "36", "dropped", "kept"}


def test_stock_install_has_no_system_tokens(fixtures_dir: Path) -> None:
    obs = load_observation(fixtures_dir / "stock")
    results = by_id(run_checks(obs, locked_expectation(fixtures_dir)))
    assert not results["agent.i"].ok and not results["agent.o"].ok
    assert results["agent.order"].ok and results["agent.single.e"].ok
    none_expected = locked_expectation(fixtures_dir, org_token=None, installer_token=None)
    results = by_id(run_checks(obs, none_expected))
    assert results["agent.i"].ok and results["agent.o"].ok


def test_condarc_locked_value_survives_config_set_off(fixtures_dir: Path) -> None:
    """config-set-off.txt: `conda config --set anaconda_anon_usage off` wrote a user condarc
    with false; with #!final the prefix's true is in effect, without it the user's false."""
    text = (fixtures_dir / "locked" / "config-set-off.txt").read_text()
    sources = text.split("$ conda config --show-sources\n", 1)[1].split("\n$ ", 1)[0]
    blocks = parse_show_sources(sources)
    assert [b.source for b in blocks] == [f"{LOCKED_PREFIX}/.condarc", "/home/tester/.condarc"]
    obs = replace(locked_observation(fixtures_dir), show_sources=sources)
    expect = locked_expectation(fixtures_dir)
    assert by_id(run_checks(obs, expect))["condarc.in_effect"].ok
    unlocked = by_id(run_checks(obs, replace(expect, locked=False)))["condarc.in_effect"]
    assert not unlocked.ok and "anaconda_anon_usage: False" in unlocked.actual


# ---------------------------------------------------------------- the verifier's own recording


def config_package_case(fixtures_dir: Path) -> tuple[Observation, Expectation]:
    """``config-package/``: a real `verify` output folder of the default profile (conda-build
    config package, channel conda-forge, built from the build machine's dist/channel). Its
    expectation is what that build promised: read back from the folder's own records."""
    folder = fixtures_dir / "config-package"
    obs = load_observation(folder)
    files = json.loads((folder / "config-package-files.json").read_text())
    record = files["record"]
    own = [b for b in parse_show_sources(obs.show_sources or "") if b.source.endswith(".yml")]
    assert obs.install is not None and own and own[0].settings is not None
    expect = Expectation(
        org_token=ORG,
        installer_token=INSTALLER_TOKEN,
        aau_spec=">=0.8.1",
        condarc=dict(own[0].settings),
        config_package=ConfigPackageExpect(
            name=record["name"],
            version=record["version"],
            build_number=record["build_number"],
            condarc_file=record["condarc_file"],
            condarc_sha256=record["condarc_sha256"],
        ),
        sha256=obs.install.installer_sha256,
    )
    return obs, expect


def test_recorded_fleet_install_fails_config_package_channel(fixtures_dir: Path) -> None:
    """issue 17 item 1, as recorded: the package came from the build machine's file://
    channel, the installed conda reads conda-forge only, so updates never arrive."""
    obs, expect = config_package_case(fixtures_dir)
    results = by_id(run_checks(obs, expect))
    assert failed(results.values()) == ["config_package.channel"]
    channel = results["config_package.channel"]
    assert "file:///home/builder/orgconda/dist/channel" in channel.actual
    assert "https://conda.anaconda.org/conda-forge" in channel.actual
    assert "/linux-64" not in channel.actual  # channels compared without their subdir
    # the same install with the package's channel among conda's channels passes
    assert obs.info is not None
    reads = dict(
        obs.info,
        channels=[*obs.info["channels"], "file:///home/builder/orgconda/dist/channel/noarch"],
    )
    assert by_id(run_checks(replace(obs, info=reads), expect))["config_package.channel"].ok


def test_condarc_in_effect_does_not_require_what_conda_ignores(fixtures_dir: Path) -> None:
    """mirrored_channels is read by mamba only; with a bundled CA, ca.bundled owns
    ssl_verify. Neither is required from conda (issue 9)."""
    obs, expect = config_package_case(fixtures_dir)
    assert expect.condarc is not None
    mirrors = {"https://conda.anaconda.org/conda-forge": ["https://mirror.example/cf"]}
    with_mirrors = replace(expect, condarc={**expect.condarc, "mirrored_channels": mirrors})
    result = by_id(run_checks(obs, with_mirrors))["condarc.in_effect"]
    assert result.ok and "mirrored_channels" not in result.expected
    assert "not required: mirrored_channels (read only by mamba" in result.detail
    # ssl_verify: required without a CA (the recorded value is True) ...
    wrong = replace(expect, condarc={**expect.condarc, "ssl_verify": "/somewhere/ca.pem"})
    assert not by_id(run_checks(obs, wrong))["condarc.in_effect"].ok
    # ... not with one
    with_ca = replace(wrong, ca_certificate=CaExpect("etc/orgconda/ca.pem", "0" * 64))
    result = by_id(run_checks(obs, with_ca))["condarc.in_effect"]
    assert result.ok and "not required: ssl_verify (ca.bundled checks it" in result.detail


def test_channel_base() -> None:
    assert channel_base("https://conda.anaconda.org/conda-forge/linux-64") == (
        "https://conda.anaconda.org/conda-forge"
    )
    assert channel_base("https://conda.anaconda.org/conda-forge/") == (
        "https://conda.anaconda.org/conda-forge"
    )
    assert channel_base("HTTPS://Conda.Acme.Example/t/<TOKEN>/acme-internal/noarch") == (
        "https://conda.acme.example/acme-internal"
    )
    # a channel whose name looks like a subdir pattern keeps its name
    assert channel_base("https://conda.acme.example/acme-internal") == (
        "https://conda.acme.example/acme-internal"
    )
    assert channel_base("http://127.0.0.1:8765/linux-64") == "http://127.0.0.1:8765"
    assert channel_base("file:///srv/channel/win-64") == "file:///srv/channel"
