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
from .checks_ca import check_ca_bundled, check_ca_https
from .checks_config import (
    CONFIG_PACKAGE_IDS,
    check_condarc,
    check_config_package,
    config_package_not_requested,
)
from .checks_install import (
    HOOK_RECORD_KEYS,
    check_hook_record,
    check_install,
    check_installer_sha256,
    check_plugin_installed,
    check_plugin_variant,
)
from .checks_privacy import check_privacy
from .checks_wire import check_lock, check_redacted, check_session_differs, check_stable, check_wire
from .expect import Expectation
from .observation import NOT_RUN_INSTALL, Observation
from .result import CheckResult

__all__ = [
    "CHECK_IDS",
    "HOOK_RECORD_KEYS",
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
        check_ca_bundled(obs, expect),
        check_ca_https(obs, expect),
    ]
    if expect.config_package is not None:
        results.extend(check_config_package(obs, expect.config_package))
    elif not expect.from_manifest:
        results.extend(config_package_not_requested())
    if install_failed(obs):
        results = [r if r.id in INSTALL_INDEPENDENT or r.skipped else not_run(r) for r in results]
    return results


# Checks that hold whatever the install did; every other check reads what the install left.
INSTALL_INDEPENDENT = frozenset({"install.completed", "installer.sha256"})


def install_failed(obs: Observation) -> bool:
    """The install ran and failed (not: its result was not recorded)."""
    return obs.install is not None and not check_install(obs).ok


def not_run(result: CheckResult) -> CheckResult:
    """One cause, not thirty: a check that depends on a failed install is not run. It is
    skipped (not counted as a failure); ``install.completed`` fails and carries the cause.
    Checks skipped for their own reason (nothing to compare with) keep that reason."""
    return CheckResult(
        result.id, True, result.expected, NOT_RUN_INSTALL, "see install.completed", skipped=True
    )


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
    "ca.bundled",
    "ca.https",
    *CONFIG_PACKAGE_IDS,
)


def failed(results: Iterable[CheckResult]) -> list[str]:
    return [r.id for r in results if not r.ok]


def by_id(results: Iterable[CheckResult]) -> Mapping[str, CheckResult]:
    return {r.id: r for r in results}
