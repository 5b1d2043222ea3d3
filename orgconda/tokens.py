"""anaconda-anon-usage's rule for system tokens, and the derived installer token.

The plugin silently drops a token that breaks the rule, so every token is checked here at
build time (and again by the install-time hooks).
"""

from __future__ import annotations

import hashlib
import re

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,36}$"
TOKEN_RE = re.compile(TOKEN_PATTERN)
TOKEN_RULE = "1 to 36 characters from A-Z a-z 0-9 _ -"
MAX_TOKEN_LENGTH = 36

_NOT_TOKEN_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def is_valid_token(value: object) -> bool:
    """True when ``value`` is a string anaconda-anon-usage would accept as a system token."""
    return isinstance(value, str) and TOKEN_RE.fullmatch(value) is not None


def token_problem(value: object) -> str | None:
    """Say what is wrong with a token, or None when it is valid."""
    if not isinstance(value, str):
        return f"must be a string ({TOKEN_RULE}), got {type(value).__name__}"
    if value == "":
        return f"is empty; it must be {TOKEN_RULE}"
    if len(value) > MAX_TOKEN_LENGTH:
        return f"is {len(value)} characters long; the limit is {MAX_TOKEN_LENGTH} ({TOKEN_RULE})"
    bad = sorted(set(_NOT_TOKEN_CHARS.findall(value)))
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"contains {shown}; only {TOKEN_RULE} are allowed"
    return None


def derive_installer_token(name: str, version: str) -> str:
    """Deterministic installer token from the installer name and version.

    ``AcmeConda`` + ``2026.11`` gives ``AcmeConda-2026_11``: characters outside the token
    alphabet become ``_``. When the result would exceed 36 characters it is cut to 27 and
    an 8-character hash of the full value is appended, so different long names stay distinct.
    """
    raw = _NOT_TOKEN_CHARS.sub("_", f"{name}-{version}")
    if len(raw) <= MAX_TOKEN_LENGTH:
        return raw
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{raw[:27]}-{digest}"
