"""Parsing User-Agents (recorded ones) and matching version specs."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_harness_recorded import agent_of

from orgconda.harness.agent import agent_from_info_text, order_problem, parse_agent
from orgconda.harness.spec import SpecError, check_spec, version_matches


def test_parse_recorded_locked_agent(fixtures_dir: Path) -> None:
    agent = parse_agent(agent_of(fixtures_dir, "locked"))
    assert agent.head.startswith("conda/26.7.1 requests/2.34.2 CPython/3.11.7")
    assert agent.head.endswith("glibc/2.36")
    assert agent.aau_version == "0.8.1"
    assert agent.token_keys() == ["c", "s", "e", "i", "o", "m"]
    assert agent.values("o") == ["acme-corp"]
    assert agent.values("i") == ["AcmeConda-2026_11"]
    assert agent.suffix().startswith("aau/0.8.1 c/SND9ZXQLUT4hiDAiwSTVyx s/")
    assert order_problem(agent) is None


def test_masked_agents_of_one_install_are_equal(fixtures_dir: Path) -> None:
    names = ("conda-info.json", "conda-info-run2.json", "disabled-by-env.json")
    agents = [parse_agent(agent_of(fixtures_dir, "locked", n)) for n in names]
    assert len({a.masked() for a in agents}) == 1
    assert len({a.raw for a in agents}) == 3
    assert "s/*" in agents[0].masked()


def test_env_token_agent_keeps_repeated_entries_in_order(fixtures_dir: Path) -> None:
    agent = parse_agent(agent_of(fixtures_dir, "env-tokens"))
    assert agent.values("o") == ["acme-ci", "acme-corp"]
    assert agent.values("m") == ["ci-runner-7", "Df5x18NIL-hSmdVLO4xmKA"]
    assert order_problem(agent) is None


def test_disabled_and_missing_plugin() -> None:
    off = parse_agent("conda/26.7.1 requests/2.34.2 aau/0.8.1")
    assert off.has_aau and off.tokens == () and off.suffix() == "aau/0.8.1"
    none = parse_agent("conda/26.7.1 requests/2.34.2")
    assert not none.has_aau and none.suffix() == "" and none.head == none.raw


def test_malformed_parts_are_kept() -> None:
    agent = parse_agent("conda/1 aau/0.8.1 c/x  junk s/y ")
    assert [t.raw for t in agent.tokens] == ["c/x", "", "junk", "s/y"]
    assert [t.well_formed for t in agent.tokens] == [True, False, False, True]


def test_order_problem_names_the_misplaced_token() -> None:
    agent = parse_agent("conda/1 aau/0.8.1 c/a s/b e/c o/d i/e m/f")
    assert order_problem(agent) == "i/ comes after o/"


def test_redacted_agent_from_plain_conda_info(fixtures_dir: Path) -> None:
    text = (fixtures_dir / "locked" / "conda-info.txt").read_text()
    line = agent_from_info_text(text)
    assert line is not None and line.endswith("aau/0.8.1 c/. s/. e/. i/. o/. m/.")
    assert agent_from_info_text("no agent here") is None


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ("0.8.1", ">=0.8.1", True),
        ("0.8.0", ">=0.8.1", False),
        ("0.10.0", ">=0.8.1", True),
        ("0.8.1", "==0.8.1", True),
        ("0.8.1.0", "==0.8.1", True),
        ("0.8.2", "==0.8.1", False),
        ("0.8.1", "<0.9", True),
        ("0.9.0", "<0.9", False),
        ("0.8.1", ">=0.8.1,<0.9", True),
        ("0.9.1", ">=0.8.1,<0.9", False),
        ("0.8.5", "0.8.*", True),
        ("0.80.1", "0.8.*", False),
        ("0.8.5", "==0.8.*", True),
        ("0.8.5", "!=0.8.*", False),
        ("0.8.5", "=0.8", True),
        ("0.8.1", "0.8.1", True),
        ("0.8.1", "0.8", False),
        ("0.7.0", "<0.5|>=0.7", True),
        ("0.6.0", "<0.5|>=0.7", False),
        ("1.0rc1", "<1.0", True),
        ("0.8.1", "*", True),
        ("0.8.1", " >= 0.8.1 ", True),
    ],
)
def test_version_spec(version: str, spec: str, expected: bool) -> None:
    assert version_matches(version, spec) is expected


@pytest.mark.parametrize("spec", ["", ">=", ">=0.8,", "~>1.0", "0.8 1"])
def test_unreadable_specs_raise(spec: str) -> None:
    with pytest.raises(SpecError):
        check_spec(spec)
