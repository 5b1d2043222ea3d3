"""Read a conda User-Agent the way anaconda-anon-usage writes it.

conda's own part comes first (``conda/26.7.1 requests/2.34.2 CPython/3.11.7 ...``), then,
after one space, ``aau/<version>`` and the tokens in this order:
``c/ s/ e/ [a/] i/... o/... m/...``. Each token is ``<key>/<value>``; ``i/ o/ m/`` may repeat
(one entry per value found). Parsing keeps every token exactly as sent, in order, so the
checks can say what is missing, repeated, misplaced or extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AAU_KEY = "aau"
# The documented order after aau/; "a" (Anaconda Cloud user) only appears when logged in.
TOKEN_ORDER: tuple[str, ...] = ("c", "s", "e", "a", "i", "o", "m")
KNOWN_KEYS = frozenset(TOKEN_ORDER)
RANDOM_KEYS: tuple[str, ...] = ("c", "s", "e")  # 22 random characters each
RANDOM_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
SESSION_MASK = "*"

_INFO_TEXT_LINE = re.compile(r"^\s*user-agent\s*:\s*(?P<agent>.*?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Token:
    """One space-separated part after ``aau/``, kept exactly as sent."""

    raw: str

    @property
    def key(self) -> str:
        return self.raw.partition("/")[0]

    @property
    def value(self) -> str:
        return self.raw.partition("/")[2]

    @property
    def well_formed(self) -> bool:
        key, sep, _ = self.raw.partition("/")
        return bool(sep) and bool(key)


@dataclass(frozen=True)
class Agent:
    """A parsed User-Agent. ``tokens`` are the parts after ``aau/`` (not ``aau/`` itself)."""

    raw: str
    head: str  # conda's own part, before aau/
    aau_version: str | None  # None: no aau/ in the agent at all
    tokens: tuple[Token, ...]

    @property
    def has_aau(self) -> bool:
        return self.aau_version is not None

    def token_keys(self) -> list[str]:
        return [t.key for t in self.tokens]

    def values(self, key: str) -> list[str]:
        return [t.value for t in self.tokens if t.key == key]

    def suffix(self) -> str:
        """``aau/<version> c/... ...``: everything from aau/ on."""
        if self.aau_version is None:
            return ""
        return " ".join([f"{AAU_KEY}/{self.aau_version}", *(t.raw for t in self.tokens)])

    def masked(self) -> str:
        """The whole agent with every ``s/`` value replaced: equal across processes."""
        parts = [self.head] if self.head else []
        if self.aau_version is not None:
            parts.append(f"{AAU_KEY}/{self.aau_version}")
            parts.extend(f"s/{SESSION_MASK}" if t.key == "s" else t.raw for t in self.tokens)
        return " ".join(parts)


def parse_agent(user_agent: str) -> Agent:
    """Split ``user_agent`` at the first ``aau/`` part. Splits on single spaces, so a doubled
    space shows up as an empty (malformed) token instead of disappearing."""
    parts = user_agent.split(" ")
    for index, part in enumerate(parts):
        if part.startswith(f"{AAU_KEY}/"):
            head = " ".join(parts[:index])
            tail = parts[index + 1 :]
            while tail and tail[-1] == "":  # a trailing space is not a token
                tail.pop()
            return Agent(
                raw=user_agent,
                head=head,
                aau_version=part[len(AAU_KEY) + 1 :],
                tokens=tuple(Token(p) for p in tail),
            )
    return Agent(raw=user_agent, head=user_agent.strip(), aau_version=None, tokens=())


def agent_from_info_text(text: str) -> str | None:
    """The ``user-agent :`` value from plain ``conda info`` output (tokens redacted there)."""
    found = _INFO_TEXT_LINE.search(text)
    return found.group("agent") if found else None


def order_problem(agent: Agent) -> str | None:
    """Why the known tokens are out of the documented order; None when they are in it.

    Unknown keys are ignored here (``agent.no_extra`` reports them)."""
    rank = {key: i for i, key in enumerate(TOKEN_ORDER)}
    last_key, last_rank = "aau", -1
    for token in agent.tokens:
        if token.key not in rank:
            continue
        if rank[token.key] < last_rank:
            return f"{token.key}/ comes after {last_key}/"
        last_key, last_rank = token.key, rank[token.key]
    return None
