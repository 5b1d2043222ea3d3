"""Mutated copies of the recorded locked install: each must fail with the right check id."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from test_harness_recorded import (
    LOCKED_PREFIX,
    agent_of,
    hook_record,
    install_result,
    locked_expectation,
    locked_observation,
    with_agent,
)

from orgconda.harness.agent import parse_agent
from orgconda.harness.capture import WireRequest, parse_wire_log
from orgconda.harness.checks import (
    by_id,
    check_config_package,
    check_privacy,
    failed,
    run_checks,
)
from orgconda.harness.expect import ConfigPackageExpect
from orgconda.harness.observation import (
    ConfigPackageFiles,
    HostFacts,
    Observation,
    TokenFiles,
)

TOK_C = "c/SND9ZXQLUT4hiDAiwSTVyx"
TOK_O = "o/acme-corp"
TOK_I = "i/AcmeConda-2026_11"
TOK_M = "m/UtqJan-wkzEnOekkdFRfvQ"


@pytest.fixture()
def obs(fixtures_dir: Path) -> Observation:
    return locked_observation(fixtures_dir)


@pytest.fixture()
def agent(fixtures_dir: Path) -> str:
    return agent_of(fixtures_dir, "locked")


def failures(obs: Observation, fixtures_dir: Path, **expect: object) -> list[str]:
    return failed(run_checks(obs, locked_expectation(fixtures_dir, **expect)))


def only_info_changed(obs: Observation, ua: str) -> Observation:
    """The mutated agent everywhere the install reports it, so only the target check fails."""
    changed = obs
    for field in ("info", "info_run2", "disabled_by_env", "disabled_by_user_condarc"):
        old = getattr(obs, field)["user_agent"]
        session = parse_agent(old).values("s")[0]
        new_session = ua.split(" s/", 1)[1].split(" ", 1)[0]
        changed = with_agent(changed, field, ua.replace(f"s/{new_session}", f"s/{session}"))
    wire_s = parse_agent(obs.wire[0].user_agent or "").values("s")[0] if obs.wire else ""
    new_session = ua.split(" s/", 1)[1].split(" ", 1)[0]
    wire = tuple(
        WireRequest(r.method, r.path, ua.replace(f"s/{new_session}", f"s/{wire_s}"))
        for r in obs.wire or ()
    )
    shown = parse_agent(ua)
    redacted = " ".join([f"aau/{shown.aau_version}", *(f"{k}/." for k in shown.token_keys())])
    text = (obs.info_text or "").replace("aau/0.8.1 c/. s/. e/. i/. o/. m/.", redacted)
    return replace(changed, wire=wire, info_text=text)


# ---------------------------------------------------------------- the mutations


def test_missing_org_token_fails_agent_o(obs: Observation, agent: str, fixtures_dir: Path) -> None:
    mutated = only_info_changed(obs, agent.replace(f" {TOK_O}", ""))
    assert failures(mutated, fixtures_dir) == ["agent.o"]


def test_installer_token_twice_fails_agent_i(
    obs: Observation, agent: str, fixtures_dir: Path
) -> None:
    mutated = only_info_changed(obs, agent.replace(TOK_I, f"{TOK_I} {TOK_I}"))
    assert failures(mutated, fixtures_dir) == ["agent.i"]


def test_37_character_token_fails_agent_syntax(obs: Observation, fixtures_dir: Path) -> None:
    long_m = "m/" + "A" * 37
    mutated = only_info_changed(obs, agent_of(fixtures_dir, "locked").replace(TOK_M, long_m))
    assert obs.tokens is not None
    tokens = replace(obs.tokens, machine_token="A" * 37 + "\n")
    assert failures(replace(mutated, tokens=tokens), fixtures_dir) == ["agent.syntax"]
    # and as the org token: both the expected value and the token rule break
    mutated = only_info_changed(
        obs, agent_of(fixtures_dir, "locked").replace(TOK_O, "o/" + "a" * 37)
    )
    assert failures(mutated, fixtures_dir) == ["agent.o", "agent.syntax"]


def test_host_name_in_the_agent_fails_privacy_hostname(
    obs: Observation, agent: str, fixtures_dir: Path
) -> None:
    mutated = only_info_changed(obs, agent.replace(TOK_O, "o/acme-vm"))
    assert failures(mutated, fixtures_dir) == ["agent.o", "privacy.hostname"]
    # a longer host name inside a random value is a leak too ...
    host = HostFacts("buildhost", "ci", LOCKED_PREFIX, "/home/tester")
    leaky = with_agent(obs, "info", agent.replace(TOK_C, "c/xxbuildhostxxxxxxxxxxx"[:24]))
    results = by_id(check_privacy(replace(leaky, host=host)))
    assert not results["privacy.hostname"].ok
    assert "buildhost" in results["privacy.hostname"].expected


def test_short_host_name_inside_random_values_is_chance(
    obs: Observation, agent: str, fixtures_dir: Path
) -> None:
    """Host `vm` inside a 22-character random c/ is chance (< 4 characters): ignored."""
    chance = only_info_changed(obs, agent.replace(TOK_C, "c/SND9ZXQLUT4hiDAiwSTVvm"))
    result = by_id(check_privacy(chance))["privacy.hostname"]
    assert result.ok and "chance" in result.detail
    # ... but inside a fixed token, such as o/, it is not
    assert "privacy.hostname" in failures(
        only_info_changed(obs, agent.replace(TOK_O, "o/vm")), fixtures_dir
    )
    # case-sensitive: `VM` is not `vm`
    assert check_privacy(only_info_changed(obs, agent.replace(TOK_O, "o/acme-VM")))[0].ok


def test_user_name_and_prefix_in_the_agent_fail_privacy(
    obs: Observation, agent: str, fixtures_dir: Path
) -> None:
    mutated = only_info_changed(obs, agent.replace(TOK_I, "i/root-installer"))
    assert failures(mutated, fixtures_dir) == ["agent.i", "privacy.username"]
    # tokens cannot hold a path separator, so use a prefix that is one plain word
    results = by_id(check_privacy(replace(obs, prefix="acme-corp")))
    assert not results["privacy.prefix"].ok and "o/acme-corp" in results["privacy.prefix"].actual


def test_env_token_not_matching_its_file_fails(obs: Observation, fixtures_dir: Path) -> None:
    assert obs.tokens is not None
    mutated = replace(obs, tokens=replace(obs.tokens, env_token="0123456789abcdefghijkl"))
    assert failures(mutated, fixtures_dir) == ["agent.e_matches_file"]
    missing = replace(obs, tokens=replace(obs.tokens, env_token=None))
    assert failures(missing, fixtures_dir) == ["agent.e_matches_file"]


def test_wrong_order_fails_agent_order(obs: Observation, agent: str, fixtures_dir: Path) -> None:
    mutated = only_info_changed(obs, agent.replace(f"{TOK_I} {TOK_O}", f"{TOK_O} {TOK_I}"))
    assert failures(mutated, fixtures_dir) == ["agent.order"]
    result = by_id(run_checks(mutated, locked_expectation(fixtures_dir)))["agent.order"]
    assert "aau c s e o i m" in result.actual and result.expected == "aau c s e [a] i o m"


def test_disabled_agent_fails_agent_enabled(obs: Observation, fixtures_dir: Path) -> None:
    disabled = agent_of(fixtures_dir, "unlocked", "disabled-by-env.json")
    mutated = with_agent(obs, "info", disabled)
    failing = failures(mutated, fixtures_dir)
    assert "agent.enabled" in failing
    assert {"agent.single.c", "agent.i", "agent.o", "agent.m", "wire.matches"} <= set(failing)
    result = by_id(run_checks(mutated, locked_expectation(fixtures_dir)))["agent.enabled"]
    assert result.actual == "aau/0.8.1"


# ---------------------------------------------------------------- more mutations


def test_same_session_twice_fails_session_differs(obs: Observation, fixtures_dir: Path) -> None:
    assert obs.info is not None
    mutated = with_agent(obs, "info_run2", obs.info["user_agent"])
    assert failures(mutated, fixtures_dir) == ["agent.session_differs"]


def test_changed_client_token_between_runs_fails_stable(
    obs: Observation, fixtures_dir: Path
) -> None:
    assert obs.info_run2 is not None
    run2 = obs.info_run2["user_agent"].replace(TOK_C, "c/AAAAAAAAAAAAAAAAAAAAAA")
    result = by_id(run_checks(with_agent(obs, "info_run2", run2), locked_expectation(fixtures_dir)))
    assert not result["agent.stable"].ok
    assert "c/AAAAAAAAAAAAAAAAAAAAAA" in result["agent.stable"].actual


def test_extra_token_fails_no_extra(obs: Observation, agent: str, fixtures_dir: Path) -> None:
    mutated = only_info_changed(obs, agent + " x/extra")
    assert failures(mutated, fixtures_dir) == ["agent.no_extra"]


def test_short_random_token_fails_single(obs: Observation, agent: str, fixtures_dir: Path) -> None:
    mutated = only_info_changed(obs, agent.replace(TOK_C, TOK_C[:-1]))
    assert "agent.single.c" in failures(mutated, fixtures_dir)


def test_unredacted_plain_info_fails_info_redacted(obs: Observation, fixtures_dir: Path) -> None:
    assert obs.info_text is not None
    mutated = replace(obs, info_text=obs.info_text.replace("c/.", TOK_C))
    assert failures(mutated, fixtures_dir) == ["info.redacted"]


def test_wire_from_another_install_fails_wire_matches(obs: Observation, fixtures_dir: Path) -> None:
    proxied = parse_wire_log((fixtures_dir / "locked" / "wire-proxyspy.txt").read_text())
    assert failures(replace(obs, wire=tuple(proxied)), fixtures_dir) == ["wire.matches"]
    assert failures(replace(obs, wire=()), fixtures_dir) == ["wire.matches"]
    stripped = tuple(
        WireRequest(r.method, r.path, (r.user_agent or "").replace(f" {TOK_M}", ""))
        for r in obs.wire or ()
    )
    assert failures(replace(obs, wire=stripped), fixtures_dir) == ["wire.matches"]


def test_locked_expectation_against_unlocked_opt_out(obs: Observation, fixtures_dir: Path) -> None:
    off = agent_of(fixtures_dir, "unlocked", "disabled-by-env.json")
    assert failures(with_agent(obs, "disabled_by_env", off), fixtures_dir) == ["lock.env_override"]
    assert failures(with_agent(obs, "disabled_by_user_condarc", off), fixtures_dir) == [
        "lock.user_condarc"
    ]


def test_condarc_not_in_effect(obs: Observation, fixtures_dir: Path) -> None:
    assert obs.show_sources is not None
    changed = replace(obs, show_sources=obs.show_sources.replace("solver: classic\n", ""))
    assert failures(changed, fixtures_dir) == ["condarc.in_effect"]
    other = replace(
        obs,
        show_sources=obs.show_sources
        + "\n==> /home/tester/.condarc <==\nchannels:\n  - http://elsewhere\n",
    )
    result = by_id(run_checks(other, locked_expectation(fixtures_dir)))["condarc.in_effect"]
    assert not result.ok and "/home/tester/.condarc" in result.actual


def test_plugin_checks(obs: Observation, fixtures_dir: Path) -> None:
    assert obs.aau_meta is not None and obs.conda_list is not None
    files = list(obs.aau_meta["files"])
    patched = dict(obs.aau_meta, files=[*files, "bin/.anaconda-anon-usage-post-link.sh"])
    assert failures(replace(obs, aau_meta=patched), fixtures_dir) == ["plugin.variant"]
    no_plugin = dict(obs.aau_meta, files=[f for f in files if not f.endswith("plugin.py")])
    assert failures(replace(obs, aau_meta=no_plugin), fixtures_dir) == ["plugin.variant"]
    gone = tuple(p for p in obs.conda_list if p["name"] != "anaconda-anon-usage")
    assert failures(replace(obs, conda_list=gone), fixtures_dir) == ["plugin.installed"]
    assert failures(obs, fixtures_dir, aau_spec=">=0.9") == [
        "plugin.installed",
        "agent.aau_version",
    ]
    assert failures(obs, fixtures_dir, aau_spec="0.8.*") == []


def test_hook_record_checks(obs: Observation, fixtures_dir: Path) -> None:
    assert failures(replace(obs, hook_record=None), fixtures_dir) == ["hooks.record"]
    wrong = hook_record(org_token="other-org")
    assert failures(replace(obs, hook_record=wrong), fixtures_dir) == ["hooks.record"]
    partial = {k: v for k, v in hook_record().items() if k != "token_dir"}
    result = by_id(run_checks(replace(obs, hook_record=partial), locked_expectation(fixtures_dir)))
    assert "no 'token_dir'" in result["hooks.record"].actual


def test_install_checks(obs: Observation, fixtures_dir: Path) -> None:
    broken = install_result(fixtures_dir, returncode=1, conda_found=False, output_tail="ERROR")
    assert "install.completed" in failures(replace(obs, install=broken), fixtures_dir)
    # an .exe's exit code means nothing: the record and the prefix decide
    exe = install_result(fixtures_dir, installer_type="exe", returncode=2)
    exe_obs = replace(obs, install=exe, hook_record=hook_record(installer_type="EXE"))
    assert failures(exe_obs, fixtures_dir) == []
    no_record = replace(exe_obs, install=replace(exe, hook_record_found=False))
    assert "install.completed" in failures(no_record, fixtures_dir)
    logged = replace(exe_obs, install=replace(exe, log_errors=("Failed to run post install",)))
    assert failures(logged, fixtures_dir) == ["install.completed"]
    assert failures(obs, fixtures_dir, sha256="0" * 64) == ["installer.sha256"]


def test_telemetry_disabled_profile(obs: Observation, fixtures_dir: Path) -> None:
    """enabled: false: the agent must be aau/ alone; token checks are skipped."""
    results = run_checks(obs, locked_expectation(fixtures_dir, enabled=False))
    assert by_id(results)["agent.enabled"].ok is False
    assert by_id(results)["agent.i"].skipped
    off = agent_of(fixtures_dir, "unlocked", "disabled-by-env.json")
    quiet = replace(
        obs,
        info={"user_agent": off},
        info_run2={"user_agent": off},
        disabled_by_env={"user_agent": off},
        disabled_by_user_condarc={"user_agent": off},
        wire=(WireRequest("GET", "/noarch/repodata.json", off),),
        info_text=(obs.info_text or "").replace(" c/. s/. e/. i/. o/. m/.", ""),
    )
    results = by_id(run_checks(quiet, locked_expectation(fixtures_dir, enabled=False)))
    assert results["agent.enabled"].ok and results["wire.matches"].ok
    assert results["info.redacted"].ok
    assert not results["agent.session_differs"].ok  # no s/ at all


def test_config_package_checks(obs: Observation, fixtures_dir: Path) -> None:
    text = b"channels:\n  - conda-forge\n"
    digest = hashlib.sha256(text).hexdigest()
    cp = ConfigPackageExpect("acme-conda-config", "2026.11", 0, "condarc.d/acme.yml", digest)
    condarc_path = f"{LOCKED_PREFIX}/condarc.d/acme.yml"
    good = replace(
        obs,
        conda_list=(
            *(obs.conda_list or ()),
            {
                "name": "acme-conda-config",
                "version": "2026.11",
                "build_number": 0,
                "base_url": "http://127.0.0.1:8765",  # a channel the locked install reads
            },
        ),
        show_sources=(obs.show_sources or "")
        + f"\n==> {condarc_path} <==\nchannels:\n  - conda-forge\n",
        config_files=ConfigPackageFiles(
            record={
                "name": "acme-conda-config",
                "version": "2026.11",
                "build_number": 0,
                "condarc_sha256": digest,
            },
            condarc_path=condarc_path,
            condarc_sha256=digest,
        ),
    )
    assert all(r.ok for r in check_config_package(good, cp))
    expect = locked_expectation(fixtures_dir, config_package=cp, condarc=None)
    ids = [r.id for r in run_checks(good, expect)]
    assert ids[-4:] == [
        "config_package.installed",
        "config_package.condarc",
        "config_package.record",
        "config_package.channel",
    ]
    assert good.config_files is not None
    bad = replace(
        good,
        conda_list=obs.conda_list,
        show_sources=obs.show_sources,
        config_files=replace(good.config_files, record=None, condarc_sha256=None),
    )
    assert [r.id for r in check_config_package(bad, cp) if not r.ok] == [
        "config_package.installed",
        "config_package.condarc",
        "config_package.record",
        "config_package.channel",
    ]


def test_machine_token_is_random_only_when_generated(obs: Observation, agent: str) -> None:
    chance_m = only_info_changed(obs, agent.replace(TOK_M, "m/UtqJan-wkzEnOekkdFRfvm"))
    assert by_id(check_privacy(chance_m))["privacy.hostname"].ok
    supplied = replace(chance_m, hook_record=hook_record(machine_token_source="supplied"))
    assert not by_id(check_privacy(supplied))["privacy.hostname"].ok


def test_missing_outputs_say_why(fixtures_dir: Path) -> None:
    bare = Observation(prefix=LOCKED_PREFIX, problems={"info": "`conda info --json` exited 1"})
    results = by_id(run_checks(bare, locked_expectation(fixtures_dir)))
    assert not any(r.ok for r in results.values() if not r.skipped)
    assert results["agent.o"].actual == "not observed: `conda info --json` exited 1"
    assert results["wire.matches"].actual == "not observed: no wire.txt was recorded"
    tokens = TokenFiles(None, None, None, "/x/machine_token")
    assert (
        "does not exist"
        in by_id(
            run_checks(
                replace(locked_observation(fixtures_dir), tokens=tokens),
                locked_expectation(fixtures_dir),
            )
        )["agent.m"].actual
    )


# ---------------------------------------------------------------- issue 15's surviving mutants


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("i", "AcmeConda-2026.11"),  # `.`: the installer version, not the derived token
        ("i", "AcmeConda/2026_11"),  # `/` inside the value
        ("i", "Acme+Conda"),
    ],
)
def test_token_rule_rejects_characters_not_only_length(
    obs: Observation, agent: str, fixtures_dir: Path, token: str, value: str
) -> None:
    """The installer token is expected to be exactly this (so agent.i passes): only the
    token rule can catch it. A rule that checked the length only would pass all three."""
    mutated = only_info_changed(obs, agent.replace(TOK_I, f"{token}/{value}"))
    mutated = replace(mutated, hook_record=hook_record(installer_token=value))
    assert failures(mutated, fixtures_dir, installer_token=value) == ["agent.syntax"]
    result = by_id(run_checks(mutated, locked_expectation(fixtures_dir, installer_token=value)))
    assert f"i/{value} ({len(value)} characters) breaks the" in result["agent.syntax"].actual


def test_machine_token_with_a_slash_fails_only_the_syntax(
    obs: Observation, agent: str, fixtures_dir: Path
) -> None:
    slashed = "UtqJan/wkzEnOekkdFRfvQ"
    mutated = only_info_changed(obs, agent.replace(TOK_M, f"m/{slashed}"))
    assert obs.tokens is not None
    mutated = replace(mutated, tokens=replace(obs.tokens, machine_token=slashed + "\n"))
    assert failures(mutated, fixtures_dir) == ["agent.syntax"]


def test_short_host_name_comes_from_a_fully_qualified_one(
    obs: Observation, agent: str, fixtures_dir: Path
) -> None:
    """The host is `buildhost.corp.example`; a token holding `buildhost` leaks it."""
    host = HostFacts("buildhost.corp.example", "ci", LOCKED_PREFIX, "/home/tester")
    leaky = replace(only_info_changed(obs, agent.replace(TOK_O, "o/buildhost")), host=host)
    result = by_id(check_privacy(leaky))["privacy.hostname"]
    assert not result.ok and "o/buildhost" in result.actual
    assert "'buildhost'" in result.expected and "'buildhost.corp.example'" in result.expected
    assert by_id(check_privacy(replace(obs, host=host)))["privacy.hostname"].ok


def test_domain_is_stripped_from_the_user_name(
    obs: Observation, agent: str, fixtures_dir: Path
) -> None:
    r"""Windows reports `CORP\jdoe`; a token holding `jdoe` leaks the user."""
    host = HostFacts("vm", "CORP\\jdoe", LOCKED_PREFIX, "C:\\Users\\jdoe")
    leaky = replace(only_info_changed(obs, agent.replace(TOK_I, "i/jdoe-laptop")), host=host)
    result = by_id(check_privacy(leaky))["privacy.username"]
    assert not result.ok and "i/jdoe-laptop" in result.actual
    assert "'jdoe'" in result.expected
    assert by_id(check_privacy(replace(obs, host=host)))["privacy.username"].ok
