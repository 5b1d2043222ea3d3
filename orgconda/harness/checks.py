"""The verification checks: pure functions of an Observation and an Expectation.

Each check has a stable id and reports what it expected and what it saw. A check whose
input was not observed fails and says why (``not observed: ...``); a check that does not
apply (no expectation to compare with, telemetry disabled by the profile) is skipped and
says why. Nothing here runs a program or touches the file system.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..tokens import TOKEN_RE
from .agent import (
    KNOWN_KEYS,
    RANDOM_KEYS,
    RANDOM_TOKEN_RE,
    TOKEN_ORDER,
    Agent,
    agent_from_info_text,
    order_problem,
    parse_agent,
)
from .expect import ConfigPackageExpect, Expectation
from .observation import (
    FILES,
    Observation,
    SourceBlock,
    normalize_path,
    parse_show_sources,
    path_within,
)
from .spec import SpecError, version_matches

AAU_PACKAGE = "anaconda-anon-usage"
MIN_CHANCE_MATCH = 4  # inside random values, shorter matches are chance (host `vm`, s/..VM..)
LOCKABLE_KEYS = ("anaconda_anon_usage", "anaconda_heartbeat")  # written with #!final
_LINK_SCRIPT = re.compile(r"(^|/)\.[^/]+-(pre-link|post-link|pre-unlink)\.(sh|bat)$")


@dataclass(frozen=True)
class CheckResult:
    id: str
    ok: bool
    expected: str
    actual: str
    detail: str = ""
    skipped: bool = False

    @property
    def status(self) -> str:
        return "skip" if self.skipped else ("pass" if self.ok else "fail")


def _result(id_: str, ok: bool, expected: str, actual: str, detail: str = "") -> CheckResult:
    return CheckResult(id_, ok, expected, actual, detail)


def _skip(id_: str, expected: str, why: str) -> CheckResult:
    return CheckResult(id_, True, expected, "skipped", why, skipped=True)


def _quote(values: Sequence[str]) -> str:
    return " ".join(values) if values else "(none)"


# ---------------------------------------------------------------- reading agents


def _agent_of(obs: Observation, name: str) -> tuple[Agent | None, str]:
    data = getattr(obs, name)
    if data is None:
        return None, obs.missing(name)
    ua = data.get("user_agent")
    if not isinstance(ua, str):
        return None, f"not observed: {FILES[name]} has no user_agent"
    return parse_agent(ua), ""


# ---------------------------------------------------------------- install and package


def check_install(obs: Observation) -> CheckResult:
    id_ = "install.completed"
    inst = obs.install
    if inst is None:
        return _result(id_, False, "the silent install completed", obs.missing("install"))
    exe = inst.installer_type == "exe"
    expected = (
        "hook record, conda and conda-meta/history in the prefix; no error in the install log "
        "(an .exe's exit code means nothing)"
        if exe
        else "exit code 0; conda and conda-meta/history in the prefix"
    )
    problems = []
    if not exe and inst.returncode != 0:
        problems.append(f"exit code {inst.returncode}")
    if exe and not inst.hook_record_found:
        problems.append("no hook record")
    if not inst.conda_found:
        problems.append("no conda executable")
    if not inst.history_found:
        problems.append("no conda-meta/history")
    problems.extend(f"install log: {line}" for line in inst.log_errors)
    took = f" in {inst.seconds:.1f} s" if isinstance(inst.seconds, (int, float)) else ""
    actual = "; ".join(problems) if problems else f"installed{took} (exit code {inst.returncode})"
    detail = inst.command
    if problems and inst.output_tail:
        detail += f"\n--- installer output (tail) ---\n{inst.output_tail}"
    return _result(id_, not problems, expected, actual, detail)


def check_installer_sha256(obs: Observation, expect: Expectation) -> CheckResult:
    id_ = "installer.sha256"
    if expect.sha256 is None:
        return _skip(id_, "the manifest's sha256", "no manifest entry for this installer")
    actual = obs.install.installer_sha256 if obs.install else None
    if actual is None:
        return _result(id_, False, expect.sha256, obs.missing("install"))
    return _result(id_, actual.lower() == expect.sha256.lower(), expect.sha256, actual)


def check_plugin_installed(obs: Observation, expect: Expectation) -> CheckResult:
    id_ = "plugin.installed"
    spec = expect.aau_spec
    expected = f"{AAU_PACKAGE} {spec or '(any version)'} in base (conda list --json)"
    if obs.conda_list is None:
        return _result(id_, False, expected, obs.missing("conda_list"))
    found = [p for p in obs.conda_list if p.get("name") == AAU_PACKAGE]
    if not found:
        return _result(id_, False, expected, f"{AAU_PACKAGE} is not installed in base")
    pkg = found[0]
    version = str(pkg.get("version", ""))
    actual = f"{AAU_PACKAGE} {version} {pkg.get('build_string', '')} ({pkg.get('platform', '')})"
    if spec is None:
        return _result(id_, True, expected, actual)
    try:
        ok = version_matches(version, spec)
    except SpecError as exc:
        return _result(id_, False, expected, actual, f"cannot compare: {exc}")
    return _result(id_, ok, expected, actual)


def check_plugin_variant(obs: Observation) -> CheckResult:
    """The conda-plugin build registers an entry point and ships no link scripts; the old
    build patched conda's own files from a post-link script."""
    id_ = "plugin.variant"
    expected = (
        "conda-meta record lists anaconda_anon_usage/plugin.py and the dist-info "
        "entry_points.txt; no pre/post-link or pre-unlink script; no file of conda's own"
    )
    meta = obs.aau_meta
    if meta is None:
        return _result(id_, False, expected, obs.missing("aau_meta"))
    files = [str(f).replace("\\", "/") for f in meta.get("files") or ()]
    plugin = any(f.endswith("site-packages/anaconda_anon_usage/plugin.py") for f in files)
    entry_points = any(
        re.search(r"site-packages/anaconda_anon_usage-[^/]+\.dist-info/entry_points\.txt$", f)
        for f in files
    )
    link_scripts = [f for f in files if _LINK_SCRIPT.search(f)]
    conda_files = [f for f in files if "/site-packages/conda/" in f"/{f}"]
    problems = []
    if not plugin:
        problems.append("no anaconda_anon_usage/plugin.py")
    if not entry_points:
        problems.append("no dist-info entry_points.txt (no plugin registration)")
    if link_scripts:
        problems.append(f"link scripts: {', '.join(link_scripts)}")
    if conda_files:
        problems.append(f"files inside conda: {', '.join(conda_files[:5])}")
    constrains = ", ".join(str(c) for c in meta.get("constrains") or ()) or "(none)"
    actual = (
        "; ".join(problems)
        if problems
        else f"plugin variant: {meta.get('version')} {meta.get('build')}, {len(files)} files, "
        f"no link scripts, constrains {constrains}"
    )
    return _result(id_, not problems, expected, actual)


HOOK_RECORD_KEYS = (
    "format",
    "hook",
    "installer_name",
    "installer_version",
    "installer_platform",
    "installer_type",
    "scope",
    "token_dir",
    "files",
    "installer_token",
    "org_token",
    "machine_token_source",
    "env_token_seeded",
    "all_users",
    "unattended",
)


def check_hook_record(obs: Observation, expect: Expectation) -> CheckResult:
    id_ = "hooks.record"
    installer_type = obs.install.installer_type.upper() if obs.install else None
    expected = (
        f"<prefix>/etc/orgconda/install.json: format 1, hook post_install, "
        f"installer_token {expect.installer_token}, org_token {expect.org_token}, "
        f"scope {expect.token_scope}"
        + ("" if installer_type == "PKG" else ", unattended true")
        + (f", installer_type {installer_type}" if installer_type else "")
    )
    record = obs.hook_record
    if record is None:
        return _result(id_, False, expected, obs.missing("hook_record"))
    problems = [f"no {key!r}" for key in HOOK_RECORD_KEYS if key not in record]
    wanted: dict[str, Any] = {
        "format": 1,
        "hook": "post_install",
        "installer_token": expect.installer_token,
        "org_token": expect.org_token,
        "scope": expect.token_scope,
    }
    if installer_type != "PKG":  # a .pkg cannot tell its scripts whether it runs silently
        wanted["unattended"] = True
    if installer_type:
        wanted["installer_type"] = installer_type
    for key, value in wanted.items():
        if key in record and record[key] != value:
            problems.append(f"{key} is {record[key]!r}, not {value!r}")
    actual = (
        "; ".join(problems)
        if problems
        else f"post_install record: {record.get('installer_type')} scope {record.get('scope')}, "
        f"machine token {record.get('machine_token_source')}, token_dir {record.get('token_dir')}"
    )
    return _result(id_, not problems, expected, actual)


# ---------------------------------------------------------------- the agent itself


def check_agent(obs: Observation, expect: Expectation) -> list[CheckResult]:
    """Every check on the first ``conda info --json`` agent."""
    agent, why = _agent_of(obs, "info")
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
        return [_result(i, False, "a user_agent from conda info --json", why) for i in ids]
    results = [check_aau_version(agent, expect), check_enabled(agent, expect)]
    if not expect.enabled:
        why_skip = "telemetry is disabled by the profile (enabled: false): no tokens expected"
        results.extend(_skip(i, "-", why_skip) for i in ids[2:])
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
        return _result(id_, False, expected, "no aau/ in the agent (plugin not loaded)")
    actual = f"aau/{agent.aau_version}"
    if spec is None:
        return _result(id_, True, expected, actual)
    try:
        return _result(id_, version_matches(agent.aau_version, spec), expected, actual)
    except SpecError as exc:
        return _result(id_, False, expected, actual, f"cannot compare: {exc}")


def check_enabled(agent: Agent, expect: Expectation) -> CheckResult:
    id_ = "agent.enabled"
    actual = agent.suffix() or "no aau/ at all"
    if expect.enabled:
        ok = agent.has_aau and bool(agent.tokens)
        detail = "" if ok else "only aau/ is sent: anaconda_anon_usage is off for this conda"
        return _result(id_, ok, "tokens after aau/ (anaconda_anon_usage: true)", actual, detail)
    ok = agent.has_aau and not agent.tokens
    return _result(id_, ok, "aau/<version> alone (anaconda_anon_usage: false)", actual)


def check_single_random(agent: Agent, key: str) -> CheckResult:
    id_ = f"agent.single.{key}"
    expected = f"exactly one {key}/ of 22 characters from A-Z a-z 0-9 _ -"
    values = agent.values(key)
    actual = _quote([f"{key}/{v}" for v in values])
    ok = len(values) == 1 and RANDOM_TOKEN_RE.fullmatch(values[0]) is not None
    detail = ""
    if len(values) == 1 and not ok:
        detail = f"{len(values[0])} characters, or characters outside the alphabet"
    elif len(values) != 1:
        detail = f"{key}/ appears {len(values)} times"
    return _result(id_, ok, expected, actual, detail)


def _file_token_check(
    id_: str, agent: Agent, key: str, content: str | None, where: str, why_missing: str
) -> CheckResult:
    expected = f"{key}/ equal to {where}"
    values = agent.values(key)
    if content is None:
        return _result(id_, False, expected, why_missing)
    value = content.strip()
    actual = f"{key}/{_quote(values)}; file holds {value!r}"
    return _result(id_, values == [value], f"{key}/{value} ({where})", actual)


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
    actual = _quote([f"{key}/{v}" for v in values])
    if wanted is None:
        return _result(id_, not values, f"no {key}/ (no {what} configured)", actual)
    ok = values == [wanted]
    detail = ""
    if wanted in values and len(values) > 1:
        detail = f"{key}/ appears {len(values)} times (an env var or another token file adds one)"
    elif not values:
        detail = f"no {key}/: the {what} file is missing, unreadable or invalid"
    return _result(id_, ok, f"{key}/{wanted} exactly once", actual, detail)


def check_machine_token(agent: Agent, obs: Observation) -> CheckResult:
    id_ = "agent.m"
    tokens = obs.tokens
    values = agent.values("m")
    actual = _quote([f"m/{v}" for v in values])
    if tokens is None:
        return _result(id_, False, "m/<the prefix's machine_token>", obs.missing("tokens"))
    wanted = tokens.machine_token_value
    where = tokens.machine_token_path or "machine_token"
    if wanted is None:
        return _result(id_, False, f"m/<{where}>", f"{actual}; {where} does not exist")
    ok = values == [wanted]
    detail = f"m/ appears {len(values)} times" if len(values) > 1 else ""
    return _result(id_, ok, f"m/{wanted} exactly once ({where})", actual, detail)


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
    return _result(id_, not bad, "every token key/<1-36 of A-Z a-z 0-9 _ ->", actual)


def check_order(agent: Agent) -> CheckResult:
    id_ = "agent.order"
    problem = order_problem(agent)
    actual = " ".join(["aau", *agent.token_keys()])
    if problem:
        actual += f" ({problem})"
    return _result(id_, problem is None, "aau c s e [a] i o m", actual)


def check_no_extra(agent: Agent) -> CheckResult:
    id_ = "agent.no_extra"
    extra = [t.raw for t in agent.tokens if t.key not in KNOWN_KEYS]
    expected = f"only {', '.join(k + '/' for k in TOKEN_ORDER)} after aau/"
    actual = _quote(extra) if extra else "no other tokens"
    return _result(id_, not extra, expected, actual)


# ---------------------------------------------------------------- across processes


def check_session_differs(obs: Observation) -> CheckResult:
    id_ = "agent.session_differs"
    expected = "a new s/ in the second conda info --json"
    first, why1 = _agent_of(obs, "info")
    second, why2 = _agent_of(obs, "info_run2")
    if first is None or second is None:
        return _result(id_, False, expected, why1 or why2)
    s1, s2 = first.values("s"), second.values("s")
    actual = f"run 1 s/{_quote(s1)}, run 2 s/{_quote(s2)}"
    return _result(id_, bool(s1) and bool(s2) and s1 != s2, expected, actual)


def _diff(a: Agent, b: Agent) -> str:
    if a.head != b.head:
        return f"conda's part differs: {a.head!r} vs {b.head!r}"
    left = a.masked().split(" ")
    right = b.masked().split(" ")
    only_a = [t for t in left if t not in right]
    only_b = [t for t in right if t not in left]
    if only_a or only_b:
        return f"only in the first: {_quote(only_a)}; only in the second: {_quote(only_b)}"
    return "same tokens in a different order"


def check_stable(obs: Observation) -> CheckResult:
    id_ = "agent.stable"
    expected = "the second conda info --json agent equal to the first apart from s/"
    first, why1 = _agent_of(obs, "info")
    second, why2 = _agent_of(obs, "info_run2")
    if first is None or second is None:
        return _result(id_, False, expected, why1 or why2)
    ok = first.masked() == second.masked()
    return _result(id_, ok, expected, "identical apart from s/" if ok else _diff(first, second))


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
    overridden, why = _agent_of(obs, name)
    baseline, why1 = _agent_of(obs, "info")
    if expect.locked:
        expected = f"with {how}: the same agent as without it, apart from s/ (#!final holds)"
    else:
        expected = f"with {how}: aau/<version> alone (not locked, the user opt-out works)"
    if overridden is None:
        return _result(id_, False, expected, why)
    actual = overridden.suffix() or "no aau/ at all"
    if not expect.locked:
        ok = overridden.has_aau and not overridden.tokens
        return _result(id_, ok, expected, actual)
    if baseline is None:
        return _result(id_, False, expected, why1)
    ok = overridden.masked() == baseline.masked()
    detail = "" if ok else _diff(baseline, overridden)
    return _result(id_, ok, expected, actual, detail)


# ---------------------------------------------------------------- other outputs


def check_redacted(obs: Observation) -> CheckResult:
    id_ = "info.redacted"
    expected = "plain conda info shows aau/<version> and every token as <key>/."
    if obs.info_text is None:
        return _result(id_, False, expected, obs.missing("info_text"))
    line = agent_from_info_text(obs.info_text)
    if line is None:
        return _result(id_, False, expected, "no user-agent line in plain conda info")
    shown = parse_agent(line)
    problems = [t.raw for t in shown.tokens if t.value != "."]
    baseline, _ = _agent_of(obs, "info")
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
    return _result(id_, not problems, expected, actual)


def check_wire(obs: Observation) -> CheckResult:
    id_ = "wire.matches"
    baseline, why = _agent_of(obs, "info")
    expected = "every request's User-Agent equal to conda info --json's apart from s/" + (
        f": {baseline.masked()}" if baseline else ""
    )
    if obs.wire is None:
        return _result(id_, False, expected, obs.missing("wire"))
    if not obs.wire:
        return _result(id_, False, expected, "no request reached the capture server")
    agents = sorted({r.user_agent or "" for r in obs.wire})
    if baseline is None:
        return _result(id_, False, expected, why)
    masked = {parse_agent(a).masked() for a in agents}
    ok = masked == {baseline.masked()} and "" not in agents
    actual = f"{len(obs.wire)} requests, {len(agents)} distinct User-Agent: " + " | ".join(
        a or "(none)" for a in agents
    )
    detail = "" if ok else _diff(baseline, parse_agent(agents[0]))
    return _result(id_, ok, expected, actual, detail)


def _all_agents(obs: Observation) -> list[tuple[str, Agent]]:
    seen: list[tuple[str, Agent]] = []
    for name in ("info", "info_run2", "disabled_by_env", "disabled_by_user_condarc"):
        agent, _ = _agent_of(obs, name)
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
            results.append(_result(id_, False, expected, "not observed: no agent was recorded"))
            continue
        if not needles:
            results.append(_result(id_, False, expected, f"not observed: the {what} is unknown"))
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
        results.append(_result(id_, not leaks, expected, actual, detail))
    return results


def _effective(
    blocks: Sequence[SourceBlock], key: str, locked: bool, prefix: str
) -> tuple[bool, Any, str]:
    """(found, value, source) for ``key``: the last source wins, except a #!final key set in
    the prefix, where the prefix's value wins."""
    defining = [(b.source, b.settings) for b in blocks if b.settings and key in b.settings]
    if not defining:
        return False, None, ""
    if locked and key in LOCKABLE_KEYS:
        own = [(src, s) for src, s in defining if path_within(src, prefix)]
        if own:
            return True, own[0][1][key], own[0][0]
    source, settings = defining[-1]
    return True, settings[key], source


def check_condarc(obs: Observation, expect: Expectation) -> CheckResult:
    id_ = "condarc.in_effect"
    wanted = expect.condarc
    if wanted is None:
        return _skip(id_, "the org condarc's keys", "no org condarc expectation (no manifest)")
    keys = ", ".join(wanted)
    expected = f"conda config --show-sources shows the org condarc from the prefix: {keys}"
    if obs.show_sources is None:
        return _result(id_, False, expected, obs.missing("show_sources"))
    blocks = parse_show_sources(obs.show_sources)
    own = [b for b in blocks if path_within(b.source, obs.prefix)]
    problems = []
    for key, value in wanted.items():
        if not any(b.settings is not None and key in b.settings for b in own):
            problems.append(f"{key}: not set in any condarc in the prefix")
            continue
        _, shown, source = _effective(blocks, key, expect.locked, obs.prefix)
        if shown != value:
            problems.append(f"{key}: {shown!r} (from {source}), not {value!r}")
    sources = ", ".join(b.source for b in blocks) or "(none)"
    actual = "; ".join(problems) if problems else f"all {len(wanted)} keys in effect"
    return _result(id_, not problems, expected, actual, f"sources: {sources}")


def check_config_package(obs: Observation, cp: ConfigPackageExpect) -> list[CheckResult]:
    results = []
    id_ = "config_package.installed"
    expected = f"{cp.name} {cp.version} build {cp.build_number} in base"
    if obs.conda_list is None:
        results.append(_result(id_, False, expected, obs.missing("conda_list")))
    else:
        found = [p for p in obs.conda_list if p.get("name") == cp.name]
        if not found:
            results.append(_result(id_, False, expected, f"{cp.name} is not installed"))
        else:
            p = found[0]
            ok = str(p.get("version")) == cp.version and p.get("build_number") == cp.build_number
            actual = f"{cp.name} {p.get('version')} build {p.get('build_number')}"
            results.append(_result(id_, ok, expected, actual))

    files = obs.config_files
    id_ = "config_package.condarc"
    expected = (
        f"<prefix>/{cp.condarc_file} with sha256 {cp.condarc_sha256}, listed by "
        "conda config --show-sources"
    )
    if files is None:
        results.append(_result(id_, False, expected, obs.missing("config_files")))
    else:
        problems = []
        if files.condarc_sha256 is None:
            problems.append(f"{files.condarc_path} does not exist")
        elif files.condarc_sha256 != cp.condarc_sha256:
            problems.append(f"sha256 {files.condarc_sha256}")
        if obs.show_sources is None:
            problems.append(obs.missing("show_sources"))
        else:
            sources = [b.source for b in parse_show_sources(obs.show_sources)]
            target = normalize_path(files.condarc_path)
            if not any(normalize_path(s) == target for s in sources):
                problems.append(f"not among the sources ({', '.join(sources) or 'none'})")
        actual = "; ".join(problems) if problems else f"{files.condarc_path} in effect"
        results.append(_result(id_, not problems, expected, actual))

    id_ = "config_package.record"
    wanted: dict[str, Any] = {
        "name": cp.name,
        "version": cp.version,
        "build_number": cp.build_number,
        "condarc_sha256": cp.condarc_sha256,
    }
    expected = "<prefix>/etc/orgconda/config.json with " + ", ".join(
        f"{k} {v}" for k, v in wanted.items()
    )
    record = files.record if files else None
    if record is None:
        why = obs.missing("config_files") if files is None else "config.json does not exist"
        results.append(_result(id_, False, expected, why))
    else:
        problems = [f"{k} is {record.get(k)!r}" for k, v in wanted.items() if record.get(k) != v]
        actual = "; ".join(problems) if problems else "matches"
        results.append(_result(id_, not problems, expected, actual))
    return results


# ---------------------------------------------------------------- all of them


def run_checks(obs: Observation, expect: Expectation) -> list[CheckResult]:
    results = [
        check_install(obs),
        check_installer_sha256(obs, expect),
        check_plugin_installed(obs, expect),
        check_plugin_variant(obs),
        check_hook_record(obs, expect),
        *check_agent(obs, expect),
        check_session_differs(obs),
        check_stable(obs),
        check_lock(obs, expect, "disabled_by_env"),
        check_lock(obs, expect, "disabled_by_user_condarc"),
        check_redacted(obs),
        check_wire(obs),
        *check_privacy(obs),
        check_condarc(obs, expect),
    ]
    if expect.config_package is not None:
        results.extend(check_config_package(obs, expect.config_package))
    return results


CHECK_IDS: tuple[str, ...] = (
    "install.completed",
    "installer.sha256",
    "plugin.installed",
    "plugin.variant",
    "hooks.record",
    "agent.aau_version",
    "agent.enabled",
    "agent.single.c",
    "agent.single.s",
    "agent.single.e",
    "agent.c_matches_file",
    "agent.e_matches_file",
    "agent.i",
    "agent.o",
    "agent.m",
    "agent.syntax",
    "agent.order",
    "agent.no_extra",
    "agent.session_differs",
    "agent.stable",
    "lock.env_override",
    "lock.user_condarc",
    "info.redacted",
    "wire.matches",
    "privacy.hostname",
    "privacy.username",
    "privacy.prefix",
    "condarc.in_effect",
    "config_package.installed",
    "config_package.condarc",
    "config_package.record",
)


def failed(results: Iterable[CheckResult]) -> list[str]:
    return [r.id for r in results if not r.ok]


def by_id(results: Iterable[CheckResult]) -> Mapping[str, CheckResult]:
    return {r.id: r for r in results}
