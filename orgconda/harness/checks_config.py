"""Checks on the installed configuration: ``condarc.in_effect`` and ``config_package.*``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
# Keys of the org condarc that condarc.in_effect does not require conda to show.
IGNORED_BY_CONDA = {
    "mirrored_channels": "read only by mamba/micromamba 2.x; conda ignores it",
}
CA_KEY_NOTE = "ca.bundled checks it (a CA is bundled)"
CONFIG_PACKAGE_IDS = (
    "config_package.installed",
    "config_package.condarc",
    "config_package.record",
    "config_package.channel",
)
# conda's known subdirs (conda/base/constants.py KNOWN_SUBDIRS): conda info lists each channel
# once per subdir; a channel's own name may look like one (acme-internal), so no pattern.
KNOWN_SUBDIRS = frozenset(
    {
        "noarch",
        "emscripten-wasm32",
        "wasi-wasm32",
        "freebsd-64",
        "linux-32",
        "linux-64",
        "linux-aarch64",
        "linux-armv6l",
        "linux-armv7l",
        "linux-ppc64",
        "linux-ppc64le",
        "linux-riscv64",
        "linux-s390x",
        "osx-64",
        "osx-arm64",
        "win-32",
        "win-64",
        "win-arm64",
        "zos-z",
    }
)
_CHANNEL_TOKEN = re.compile(r"/t/[^/]+(?=/)")


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
    not_required = _not_required(wanted, expect)
    required = {k: v for k, v in wanted.items() if k not in not_required}
    keys = ", ".join(required)
    expected = f"conda config --show-sources shows the org condarc from the prefix: {keys}"
    note = "; ".join(f"not required: {k} ({why})" for k, why in not_required.items())
    if obs.show_sources is None:
        return make_result(id_, False, expected, obs.missing("show_sources"), note)
    blocks = parse_show_sources(obs.show_sources)
    own = [b for b in blocks if path_within(b.source, obs.prefix)]
    problems = []
    for key, value in required.items():
        if not any(b.settings is not None and key in b.settings for b in own):
            problems.append(f"{key}: not set in any condarc in the prefix")
            continue
        _, shown, source = _effective(blocks, key, expect.locked, obs.prefix)
        if shown != value:
            problems.append(f"{key}: {shown!r} (from {source}), not {value!r}")
    sources = ", ".join(b.source for b in blocks) or "(none)"
    actual = "; ".join(problems) if problems else f"all {len(required)} keys in effect"
    detail = f"sources: {sources}" + (f"\n{note}" if note else "")
    return make_result(id_, not problems, expected, actual, detail)


def _not_required(wanted: Mapping[str, Any], expect: Expectation) -> dict[str, str]:
    """Keys of the org condarc conda is not asked to show, with the reason."""
    found = {k: why for k, why in IGNORED_BY_CONDA.items() if k in wanted}
    if expect.ca_certificate is not None and "ssl_verify" in wanted:
        found["ssl_verify"] = CA_KEY_NOTE
    return found


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
    results.append(check_config_channel(obs, cp))
    return results


def config_package_not_requested() -> list[CheckResult]:
    """Without a manifest entry the command line cannot say which config package to expect:
    the report says so instead of leaving the checks out."""
    why = (
        "not requested: this installer has no entry in dist/manifest.json, so which "
        "configuration package it should carry is unknown (verify it from its build's dist/, "
        "or a copy with the same sha256)"
    )
    return [make_skip(id_, "the org configuration package", why) for id_ in CONFIG_PACKAGE_IDS]


# ---------------------------------------------------------------- all of them


def channel_base(url: str) -> str:
    """A channel URL without its subdir, a trailing slash or a ``/t/<token>`` part, with the
    scheme and host in lower case: how conda info's ``channels`` and a package's
    ``base_url`` compare."""
    text = _CHANNEL_TOKEN.sub("", url.strip()).rstrip("/")
    parts = urlsplit(text)
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    if last in KNOWN_SUBDIRS:
        path = head
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def check_config_channel(obs: Observation, cp: ConfigPackageExpect) -> CheckResult:
    """The channel the config package was installed from is one the installed conda reads,
    so a new build published there reaches this install (issue 17)."""
    id_ = "config_package.channel"
    where = f" (the publish channel {cp.publish_channel})" if cp.publish_channel else ""
    expected = (
        f"the channel {cp.name} was installed from{where} among the channels the installed "
        "conda reads (conda info --json)"
    )
    if obs.conda_list is None:
        return make_result(id_, False, expected, obs.missing("conda_list"))
    if obs.info is None:
        return make_result(id_, False, expected, obs.missing("info"))
    found = [p for p in obs.conda_list if p.get("name") == cp.name]
    if not found:
        return make_result(id_, False, expected, f"{cp.name} is not installed")
    recorded = str(found[0].get("base_url") or found[0].get("channel") or "")
    raw = obs.info.get("channels")
    channels = [str(c) for c in raw] if isinstance(raw, list) else []
    bases = list(dict.fromkeys(channel_base(c) for c in channels))
    shown = ", ".join(bases) or "(none)"
    if not recorded:
        return make_result(id_, False, expected, f"conda list records no channel for {cp.name}")
    if channel_base(recorded) in bases:
        return make_result(id_, True, expected, f"{recorded} is among conda's channels: {shown}")
    return make_result(
        id_,
        False,
        expected,
        f"{cp.name} came from {recorded}, which the installed conda does not read "
        f"(its channels: {shown})",
        "conda update will not see new builds of the package: put its channel in the "
        "installed condarc's channels (config_package.publish_channel, add_to_channels)",
    )
