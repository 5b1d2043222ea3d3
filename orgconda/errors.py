"""Error hierarchy. Inner code raises; only ``cli.main`` prints and exits."""

from __future__ import annotations


class OrgcondaError(Exception):
    """Base class; ``exit_code`` is what ``build.py`` exits with."""

    exit_code = 1


class VerifyFailed(OrgcondaError):
    """At least one verification check failed."""

    exit_code = 1


class ProfileError(OrgcondaError):
    """The org profile is invalid. Carries every problem found, not only the first."""

    exit_code = 2

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{path}: {count} problem{'s' if count != 1 else ''} in the profile"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class UsageError(OrgcondaError):
    """Bad command-line input (an option value, a missing file named on the command line)."""

    exit_code = 2


class MissingToolError(OrgcondaError):
    """A required external program (constructor, bash, cmd, installer) is not available."""

    exit_code = 3


class BuildError(OrgcondaError):
    """An external build step failed; the message carries the command and the log's tail."""

    exit_code = 4
