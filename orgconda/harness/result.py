"""What a check returns, and the small helpers every check module shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .agent import Agent, parse_agent
from .observation import FILES, Observation

NOT_RUN = "not run"


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

    @property
    def not_run(self) -> bool:
        """Skipped because what it depends on failed (the install), not because it does not
        apply."""
        return self.skipped and self.actual.startswith(NOT_RUN)


def make_result(id_: str, ok: bool, expected: str, actual: str, detail: str = "") -> CheckResult:
    return CheckResult(id_, ok, expected, actual, detail)


def make_skip(id_: str, expected: str, why: str) -> CheckResult:
    return CheckResult(id_, True, expected, "skipped", why, skipped=True)


def quote(values: Sequence[str]) -> str:
    return " ".join(values) if values else "(none)"


def agent_of(obs: Observation, name: str) -> tuple[Agent | None, str]:
    """The parsed ``user_agent`` of a recorded ``conda info --json``, or why there is none."""
    data = getattr(obs, name)
    if data is None:
        return None, obs.missing(name)
    ua = data.get("user_agent")
    if not isinstance(ua, str):
        return None, f"not observed: {FILES[name]} has no user_agent"
    return parse_agent(ua), ""
