"""Checks across processes and outputs: ``agent.session_differs``, ``agent.stable``,
``lock.env_override``, ``lock.user_condarc``, ``info.redacted``, ``wire.matches``."""

from __future__ import annotations

from .agent import Agent, agent_from_info_text, parse_agent
from .expect import Expectation
from .observation import Observation
from .result import CheckResult, agent_of, make_result, quote


def check_session_differs(obs: Observation) -> CheckResult:
    id_ = "agent.session_differs"
    expected = "a new s/ in the second conda info --json"
    first, why1 = agent_of(obs, "info")
    second, why2 = agent_of(obs, "info_run2")
    if first is None or second is None:
        return make_result(id_, False, expected, why1 or why2)
    s1, s2 = first.values("s"), second.values("s")
    actual = f"run 1 s/{quote(s1)}, run 2 s/{quote(s2)}"
    return make_result(id_, bool(s1) and bool(s2) and s1 != s2, expected, actual)


def _diff(a: Agent, b: Agent) -> str:
    if a.head != b.head:
        return f"conda's part differs: {a.head!r} vs {b.head!r}"
    left = a.masked().split(" ")
    right = b.masked().split(" ")
    only_a = [t for t in left if t not in right]
    only_b = [t for t in right if t not in left]
    if only_a or only_b:
        return f"only in the first: {quote(only_a)}; only in the second: {quote(only_b)}"
    return "same tokens in a different order"


def check_stable(obs: Observation) -> CheckResult:
    id_ = "agent.stable"
    expected = "the second conda info --json agent equal to the first apart from s/"
    first, why1 = agent_of(obs, "info")
    second, why2 = agent_of(obs, "info_run2")
    if first is None or second is None:
        return make_result(id_, False, expected, why1 or why2)
    ok = first.masked() == second.masked()
    return make_result(id_, ok, expected, "identical apart from s/" if ok else _diff(first, second))


def check_lock(obs: Observation, expect: Expectation, name: str) -> CheckResult:
    """``disabled_by_env`` (CONDA_ANACONDA_ANON_USAGE=no) or ``disabled_by_user_condarc``
    (~/.condarc: anaconda_anon_usage: false) against the first agent."""
    id_, how = {
        "disabled_by_env": ("lock.env_override", "CONDA_ANACONDA_ANON_USAGE=no"),
        "disabled_by_user_condarc": (
            "lock.user_condarc",
            "a user ~/.condarc with anaconda_anon_usage: false",
        ),
    }[name]
    overridden, why = agent_of(obs, name)
    baseline, why1 = agent_of(obs, "info")
    if expect.locked:
        expected = f"with {how}: the same agent as without it, apart from s/ (#!final holds)"
    else:
        expected = f"with {how}: aau/<version> alone (not locked, the user opt-out works)"
    if overridden is None:
        return make_result(id_, False, expected, why)
    actual = overridden.suffix() or "no aau/ at all"
    if not expect.locked:
        ok = overridden.has_aau and not overridden.tokens
        return make_result(id_, ok, expected, actual)
    if baseline is None:
        return make_result(id_, False, expected, why1)
    ok = overridden.masked() == baseline.masked()
    detail = "" if ok else _diff(baseline, overridden)
    return make_result(id_, ok, expected, actual, detail)


# ---------------------------------------------------------------- other outputs


def check_redacted(obs: Observation) -> CheckResult:
    id_ = "info.redacted"
    expected = "plain conda info shows aau/<version> and every token as <key>/."
    if obs.info_text is None:
        return make_result(id_, False, expected, obs.missing("info_text"))
    line = agent_from_info_text(obs.info_text)
    if line is None:
        return make_result(id_, False, expected, "no user-agent line in plain conda info")
    shown = parse_agent(line)
    problems = [t.raw for t in shown.tokens if t.value != "."]
    baseline, _ = agent_of(obs, "info")
    if baseline is not None:
        if shown.token_keys() != baseline.token_keys():
            problems.append(
                f"keys {' '.join(shown.token_keys()) or '(none)'} differ from conda info --json's "
                f"{' '.join(baseline.token_keys()) or '(none)'}"
            )
        for key in ("c", "e"):
            for value in baseline.values(key):
                if value and value in obs.info_text:
                    problems.append(f"the {key}/ value appears in the text")
    if not shown.has_aau:
        problems.append("no aau/")
    actual = shown.suffix() or line
    if problems:
        actual += f" ({'; '.join(problems)})"
    return make_result(id_, not problems, expected, actual)


def check_wire(obs: Observation) -> CheckResult:
    id_ = "wire.matches"
    baseline, why = agent_of(obs, "info")
    expected = "every request's User-Agent equal to conda info --json's apart from s/" + (
        f": {baseline.masked()}" if baseline else ""
    )
    if obs.wire is None:
        return make_result(id_, False, expected, obs.missing("wire"))
    if not obs.wire:
        return make_result(id_, False, expected, "no request reached the capture server")
    agents = sorted({r.user_agent or "" for r in obs.wire})
    if baseline is None:
        return make_result(id_, False, expected, why)
    masked = {parse_agent(a).masked() for a in agents}
    ok = masked == {baseline.masked()} and "" not in agents
    actual = f"{len(obs.wire)} requests, {len(agents)} distinct User-Agent: " + " | ".join(
        a or "(none)" for a in agents
    )
    detail = "" if ok else _diff(baseline, parse_agent(agents[0]))
    return make_result(id_, ok, expected, actual, detail)
