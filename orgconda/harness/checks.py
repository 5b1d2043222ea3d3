"""The verification checks: pure functions of an Observation and an Expectation.

Each check has a stable id and reports what it expected and what it saw. A check whose
input was not observed fails and says why (``not observed: ...``); a check that does not
apply (no expectation to compare with, telemetry disabled by the profile) is skipped and
says why. Nothing here runs a program or touches the file system.

The checks live in one module per subject: ``checks_install`` (the install and its
packages), ``checks_agent`` (one agent), ``checks_wire`` (across processes, the opt-outs, the
wire), ``checks_privacy``, ``checks_config`` (condarc, config package, CA). This module runs
them all, in the order of ``CHECK_IDS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .checks_agent import check_agent
from .checks_config import check_condarc, check_config_package
from .checks_install import (
    check_hook_record,
    check_install,
    check_installer_sha256,
    check_plugin_installed,
    check_plugin_variant,
)
from .checks_privacy import check_privacy
from .checks_wire import check_lock, check_redacted, check_session_differs, check_stable, check_wire
from .expect import Expectation
from .observation import Observation
from .result import CheckResult

__all__ = [
    "CHECK_IDS",
    "CheckResult",
    "by_id",
    "check_config_package",
    "check_privacy",
    "failed",
    "run_checks",
]


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
