"""``privacy.hostname`` / ``.username`` / ``.prefix``: no token after aau/ tells who or where."""

from __future__ import annotations

from .agent import RANDOM_KEYS, RANDOM_TOKEN_RE, Agent, parse_agent
from .observation import FILES, Observation, normalize_path
from .result import CheckResult, agent_of, make_result

MIN_CHANCE_MATCH = 4  # inside random values, shorter matches are chance (host `vm`, s/..VM..)


def _all_agents(obs: Observation) -> list[tuple[str, Agent]]:
    seen: list[tuple[str, Agent]] = []
    for name in ("info", "info_run2", "disabled_by_env", "disabled_by_user_condarc"):
        agent, _ = agent_of(obs, name)
        if agent is not None:
            seen.append((FILES[name], agent))
    for ua in sorted({r.user_agent for r in obs.wire or () if r.user_agent}):
        seen.append(("wire", parse_agent(ua)))
    return seen


def _random_keys(obs: Observation) -> frozenset[str]:
    keys = set(RANDOM_KEYS)
    if obs.hook_record and obs.hook_record.get("machine_token_source") == "generated":
        keys.add("m")  # the hook made a random 22-character machine token
    return frozenset(keys)


def _needles(what: str, obs: Observation) -> list[str]:
    host = obs.host
    if what == "hostname":
        name = host.hostname if host else ""
        return sorted({n for n in (name, name.split(".")[0]) if n})
    if what == "username":
        name = host.username if host else ""
        return sorted({n for n in (name, name.rsplit("\\", 1)[-1]) if n})
    path = obs.prefix or (host.prefix if host else "")
    return sorted({p for p in (path, path.replace("\\", "/"), normalize_path(path)) if p})


def check_privacy(obs: Observation) -> list[CheckResult]:
    """No token after aau/ equals or contains the host name, user name or prefix path.

    Case-sensitive, on token values. Inside random values (c/ s/ e/, and m/ when the hook
    generated it) a match shorter than 4 characters is chance and ignored."""
    agents = _all_agents(obs)
    random_keys = _random_keys(obs)
    results = []
    for what in ("hostname", "username", "prefix"):
        id_ = f"privacy.{what}"
        needles = _needles(what, obs)
        expected = f"no token after aau/ equals or contains {' or '.join(map(repr, needles))}"
        if not agents:
            results.append(make_result(id_, False, expected, "not observed: no agent was recorded"))
            continue
        if not needles:
            results.append(
                make_result(id_, False, expected, f"not observed: the {what} is unknown")
            )
            continue
        leaks: list[str] = []
        ignored: list[str] = []
        for source, agent in agents:
            for token in agent.tokens:
                for needle in needles:
                    if needle not in token.value:
                        continue
                    chance = (
                        token.key in random_keys
                        and RANDOM_TOKEN_RE.fullmatch(token.value) is not None
                        and len(needle) < MIN_CHANCE_MATCH
                    )
                    (ignored if chance else leaks).append(f"{token.raw} ({source})")
        count = sum(len(a.tokens) for _, a in agents)
        actual = (
            "; ".join(sorted(set(leaks)))
            if leaks
            else f"none in {count} tokens of {len(agents)} agents"
        )
        detail = ""
        if ignored:
            detail = f"ignored as chance (random value, match < 4 characters): {ignored[0]}"
        results.append(make_result(id_, not leaks, expected, actual, detail))
    return results
