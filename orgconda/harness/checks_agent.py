"""Checks on the first ``conda info --json`` agent: ``agent.*`` (version, enabled, the random
tokens, the system tokens, syntax, order, nothing extra)."""

from __future__ import annotations

from ..tokens import TOKEN_RE
from .agent import (
    KNOWN_KEYS,
    RANDOM_KEYS,
    RANDOM_TOKEN_RE,
    TOKEN_ORDER,
    Agent,
    order_problem,
)
from .expect import Expectation
from .observation import Observation
from .result import CheckResult, agent_of, make_result, make_skip, quote
from .spec import SpecError, version_matches


def check_agent(obs: Observation, expect: Expectation) -> list[CheckResult]:
    """Every check on the first ``conda info --json`` agent."""
    agent, why = agent_of(obs, "info")
    ids = [
        "agent.aau_version",
        "agent.enabled",
        *(f"agent.single.{k}" for k in RANDOM_KEYS),
        "agent.c_matches_file",
        "agent.e_matches_file",
        "agent.i",
        "agent.o",
        "agent.m",
        "agent.syntax",
        "agent.order",
        "agent.no_extra",
    ]
    if agent is None:
        return [make_result(i, False, "a user_agent from conda info --json", why) for i in ids]
    results = [check_aau_version(agent, expect), check_enabled(agent, expect)]
    if not expect.enabled:
        why_skip = "telemetry is disabled by the profile (enabled: false): no tokens expected"
        results.extend(make_skip(i, "-", why_skip) for i in ids[2:])
        return results
    results.extend(check_single_random(agent, key) for key in RANDOM_KEYS)
    results.append(check_c_matches_file(agent, obs))
    results.append(check_e_matches_file(agent, obs))
    results.append(check_system_token(agent, "i", expect.installer_token, "installer token"))
    results.append(check_system_token(agent, "o", expect.org_token, "org token"))
    results.append(check_machine_token(agent, obs))
    results.append(check_syntax(agent))
    results.append(check_order(agent))
    results.append(check_no_extra(agent))
    return results


def check_aau_version(agent: Agent, expect: Expectation) -> CheckResult:
    id_ = "agent.aau_version"
    spec = expect.aau_spec
    expected = f"aau/<version matching {spec}>" if spec else "aau/<version>"
    if agent.aau_version is None:
        return make_result(id_, False, expected, "no aau/ in the agent (plugin not loaded)")
    actual = f"aau/{agent.aau_version}"
    if spec is None:
        return make_result(id_, True, expected, actual)
    try:
        return make_result(id_, version_matches(agent.aau_version, spec), expected, actual)
    except SpecError as exc:
        return make_result(id_, False, expected, actual, f"cannot compare: {exc}")


def check_enabled(agent: Agent, expect: Expectation) -> CheckResult:
    id_ = "agent.enabled"
    actual = agent.suffix() or "no aau/ at all"
    if expect.enabled:
        ok = agent.has_aau and bool(agent.tokens)
        detail = "" if ok else "only aau/ is sent: anaconda_anon_usage is off for this conda"
        return make_result(id_, ok, "tokens after aau/ (anaconda_anon_usage: true)", actual, detail)
    ok = agent.has_aau and not agent.tokens
    return make_result(id_, ok, "aau/<version> alone (anaconda_anon_usage: false)", actual)


def check_single_random(agent: Agent, key: str) -> CheckResult:
    id_ = f"agent.single.{key}"
    expected = f"exactly one {key}/ of 22 characters from A-Z a-z 0-9 _ -"
    values = agent.values(key)
    actual = quote([f"{key}/{v}" for v in values])
    ok = len(values) == 1 and RANDOM_TOKEN_RE.fullmatch(values[0]) is not None
    detail = ""
    if len(values) == 1 and not ok:
        detail = f"{len(values[0])} characters, or characters outside the alphabet"
    elif len(values) != 1:
        detail = f"{key}/ appears {len(values)} times"
    return make_result(id_, ok, expected, actual, detail)


def _file_token_check(
    id_: str, agent: Agent, key: str, content: str | None, where: str, why_missing: str
) -> CheckResult:
    expected = f"{key}/ equal to {where}"
    values = agent.values(key)
    if content is None:
        return make_result(id_, False, expected, why_missing)
    value = content.strip()
    actual = f"{key}/{quote(values)}; file holds {value!r}"
    return make_result(id_, values == [value], f"{key}/{value} ({where})", actual)


def check_c_matches_file(agent: Agent, obs: Observation) -> CheckResult:
    tokens = obs.tokens
    return _file_token_check(
        "agent.c_matches_file",
        agent,
        "c",
        tokens.client_token if tokens else None,
        "~/.conda/aau_token",
        obs.missing("tokens") if tokens is None else "~/.conda/aau_token does not exist",
    )


def check_e_matches_file(agent: Agent, obs: Observation) -> CheckResult:
    tokens = obs.tokens
    return _file_token_check(
        "agent.e_matches_file",
        agent,
        "e",
        tokens.env_token if tokens else None,
        "<prefix>/etc/aau_token",
        obs.missing("tokens") if tokens is None else "<prefix>/etc/aau_token does not exist",
    )


def check_system_token(agent: Agent, key: str, wanted: str | None, what: str) -> CheckResult:
    id_ = f"agent.{key}"
    values = agent.values(key)
    actual = quote([f"{key}/{v}" for v in values])
    if wanted is None:
        return make_result(id_, not values, f"no {key}/ (no {what} configured)", actual)
    ok = values == [wanted]
    detail = ""
    if wanted in values and len(values) > 1:
        detail = f"{key}/ appears {len(values)} times (an env var or another token file adds one)"
    elif not values:
        detail = f"no {key}/: the {what} file is missing, unreadable or invalid"
    return make_result(id_, ok, f"{key}/{wanted} exactly once", actual, detail)


def check_machine_token(agent: Agent, obs: Observation) -> CheckResult:
    id_ = "agent.m"
    tokens = obs.tokens
    values = agent.values("m")
    actual = quote([f"m/{v}" for v in values])
    if tokens is None:
        return make_result(id_, False, "m/<the prefix's machine_token>", obs.missing("tokens"))
    wanted = tokens.machine_token_value
    where = tokens.machine_token_path or "machine_token"
    if wanted is None:
        return make_result(id_, False, f"m/<{where}>", f"{actual}; {where} does not exist")
    ok = values == [wanted]
    detail = f"m/ appears {len(values)} times" if len(values) > 1 else ""
    return make_result(id_, ok, f"m/{wanted} exactly once ({where})", actual, detail)


def check_syntax(agent: Agent) -> CheckResult:
    """Every token is ``key/value`` with a value the plugin itself would accept."""
    id_ = "agent.syntax"
    bad = []
    for token in agent.tokens:
        if not token.well_formed:
            bad.append(f"{token.raw!r} is not key/value")
        elif TOKEN_RE.fullmatch(token.value) is None:
            bad.append(
                f"{token.key}/{token.value} ({len(token.value)} characters) breaks the "
                "1-36 of A-Z a-z 0-9 _ - rule"
            )
    actual = "; ".join(bad) if bad else f"{len(agent.tokens)} well-formed tokens"
    return make_result(id_, not bad, "every token key/<1-36 of A-Z a-z 0-9 _ ->", actual)


def check_order(agent: Agent) -> CheckResult:
    id_ = "agent.order"
    problem = order_problem(agent)
    actual = " ".join(["aau", *agent.token_keys()])
    if problem:
        actual += f" ({problem})"
    return make_result(id_, problem is None, "aau c s e [a] i o m", actual)


def check_no_extra(agent: Agent) -> CheckResult:
    id_ = "agent.no_extra"
    extra = [t.raw for t in agent.tokens if t.key not in KNOWN_KEYS]
    expected = f"only {', '.join(k + '/' for k in TOKEN_ORDER)} after aau/"
    actual = quote(extra) if extra else "no other tokens"
    return make_result(id_, not extra, expected, actual)
