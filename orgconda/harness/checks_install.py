"""Checks on the install itself and the packages it left: ``install.completed``,
``installer.sha256``, ``plugin.installed``, ``plugin.variant``, ``hooks.record``."""

from __future__ import annotations

import re
from typing import Any

from .expect import Expectation
from .observation import Observation
from .result import CheckResult, make_result, make_skip
from .spec import SpecError, version_matches

AAU_PACKAGE = "anaconda-anon-usage"
_ERROR_LINE = re.compile(r"\b(error|fail(ed|ure)?|abort(ed)?|cannot|refus(e|ed|es))\b", re.I)
_LINK_SCRIPT = re.compile(r"(^|/)\.[^/]+-(pre-link|post-link|pre-unlink)\.(sh|bat)$")


def check_install(obs: Observation) -> CheckResult:
    id_ = "install.completed"
    inst = obs.install
    if inst is None:
        return make_result(id_, False, "the silent install completed", obs.missing("install"))
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
    said = installer_error(inst.output_tail) if problems else None
    if said and not inst.log_errors:
        actual += f"; the installer said: {said}"
    detail = inst.command
    if problems and inst.output_tail:
        detail += f"\n--- installer output (tail) ---\n{inst.output_tail}"
    return make_result(id_, not problems, expected, actual, detail)


def installer_error(output: str) -> str | None:
    """The line of an installer's output that says what went wrong: the last one naming an
    error or a failure, else the last non-empty one."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if _ERROR_LINE.search(line):
            return line
    return lines[-1] if lines else None


def check_installer_sha256(obs: Observation, expect: Expectation) -> CheckResult:
    id_ = "installer.sha256"
    if expect.sha256 is None:
        return make_skip(id_, "the manifest's sha256", "no manifest entry for this installer")
    actual = obs.install.installer_sha256 if obs.install else None
    if actual is None:
        return make_result(id_, False, expect.sha256, obs.missing("install"))
    return make_result(id_, actual.lower() == expect.sha256.lower(), expect.sha256, actual)


def check_plugin_installed(obs: Observation, expect: Expectation) -> CheckResult:
    id_ = "plugin.installed"
    spec = expect.aau_spec
    expected = f"{AAU_PACKAGE} {spec or '(any version)'} in base (conda list --json)"
    if obs.conda_list is None:
        return make_result(id_, False, expected, obs.missing("conda_list"))
    found = [p for p in obs.conda_list if p.get("name") == AAU_PACKAGE]
    if not found:
        return make_result(id_, False, expected, f"{AAU_PACKAGE} is not installed in base")
    pkg = found[0]
    version = str(pkg.get("version", ""))
    actual = f"{AAU_PACKAGE} {version} {pkg.get('build_string', '')} ({pkg.get('platform', '')})"
    if spec is None:
        return make_result(id_, True, expected, actual)
    try:
        ok = version_matches(version, spec)
    except SpecError as exc:
        return make_result(id_, False, expected, actual, f"cannot compare: {exc}")
    return make_result(id_, ok, expected, actual)


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
        return make_result(id_, False, expected, obs.missing("aau_meta"))
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
    return make_result(id_, not problems, expected, actual)


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
        return make_result(id_, False, expected, obs.missing("hook_record"))
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
    return make_result(id_, not problems, expected, actual)


# ---------------------------------------------------------------- the agent itself
