"""Checks on the installed configuration: ``condarc.in_effect`` and ``config_package.*``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .expect import ConfigPackageExpect, Expectation
from .observation import (
    Observation,
    SourceBlock,
    normalize_path,
    parse_show_sources,
    path_within,
)
from .result import CheckResult, make_result, make_skip

LOCKABLE_KEYS = ("anaconda_anon_usage", "anaconda_heartbeat")  # written with #!final


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
        return make_skip(id_, "the org condarc's keys", "no org condarc expectation (no manifest)")
    keys = ", ".join(wanted)
    expected = f"conda config --show-sources shows the org condarc from the prefix: {keys}"
    if obs.show_sources is None:
        return make_result(id_, False, expected, obs.missing("show_sources"))
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
    return make_result(id_, not problems, expected, actual, f"sources: {sources}")


def check_config_package(obs: Observation, cp: ConfigPackageExpect) -> list[CheckResult]:
    results = []
    id_ = "config_package.installed"
    expected = f"{cp.name} {cp.version} build {cp.build_number} in base"
    if obs.conda_list is None:
        results.append(make_result(id_, False, expected, obs.missing("conda_list")))
    else:
        found = [p for p in obs.conda_list if p.get("name") == cp.name]
        if not found:
            results.append(make_result(id_, False, expected, f"{cp.name} is not installed"))
        else:
            p = found[0]
            ok = str(p.get("version")) == cp.version and p.get("build_number") == cp.build_number
            actual = f"{cp.name} {p.get('version')} build {p.get('build_number')}"
            results.append(make_result(id_, ok, expected, actual))

    files = obs.config_files
    id_ = "config_package.condarc"
    expected = (
        f"<prefix>/{cp.condarc_file} with sha256 {cp.condarc_sha256}, listed by "
        "conda config --show-sources"
    )
    if files is None:
        results.append(make_result(id_, False, expected, obs.missing("config_files")))
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
        results.append(make_result(id_, not problems, expected, actual))

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
        results.append(make_result(id_, False, expected, why))
    else:
        problems = [f"{k} is {record.get(k)!r}" for k, v in wanted.items() if record.get(k) != v]
        actual = "; ".join(problems) if problems else "matches"
        results.append(make_result(id_, not problems, expected, actual))
    return results


# ---------------------------------------------------------------- all of them
