"""Channel names and URLs, by conda's rules.

conda reads a channel value (``conda.models.channel.Channel.from_value``) as a URL when it
starts with a scheme (``[a-z][a-z0-9]{0,11}://``), as a local path when it starts like one
(``./``, ``..``, ``~``, ``/``, ``C:\\``, ``\\\\``), and otherwise as a channel name joined to
``channel_alias`` (``conda-forge``, ``org/label/dev``). orgconda accepts the URLs conda reads
without plugins (http, https, file) and channel names; a local path is refused because an
installed condarc would look for it on every user's machine (a ``file://`` URL says so).
``${VAR}`` references are kept: conda expands them in channel settings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from .errors import UsageError
from .problems import shown

SCHEMES = ("http", "https", "file")
PROXY_SCHEMES = ("http", "https", "socks4", "socks5", "socks5h")
WELL_KNOWN = ("conda-forge", "defaults", "bioconda", "main", "nodefaults")

_HAS_SCHEME = re.compile(r"[a-z][a-z0-9]{0,11}://")  # conda.common.url.has_scheme
_LOOKS_LIKE_SCHEME = re.compile(r"[^/:\s]{1,20}:/")
_PATH_START = re.compile(r"\./|\.\.|~|/|[a-zA-Z]:[/\\]|\\\\|//")  # conda's PATH_MATCH_REGEX
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_ENV_VAR = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOSTLIKE = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?")


def channel_problem(
    value: str, *, url_only: bool = False, schemes: Sequence[str] = SCHEMES
) -> str | None:
    """Why conda would not read ``value`` as a channel, with the fix; None when it is fine."""
    if not value.strip():
        return "is empty; give a channel name (conda-forge) or URL (https://...)"
    bad = _bad_character(value)
    if bad:
        return bad
    if "://" in value:
        return _url_problem(value, schemes)
    if _PATH_START.match(value):
        return (
            "is a local path, which an installed condarc would look for on every machine; "
            "write it as a URL: file:///absolute/path (or https://...)"
        )
    if _LOOKS_LIKE_SCHEME.match(value):  # https:/host, ht!tp:/host
        return _url_problem(value, schemes)
    if url_only:
        hint = ""
        if _HOSTLIKE.fullmatch(value.split("/", 1)[0]):
            scheme = "https" if "https" in schemes and schemes != PROXY_SCHEMES else "http"
            hint = f"; did you mean {scheme}://{shorten(value)}?"
        return f"must be a URL ({', '.join(s + '://' for s in schemes)}), not a channel name{hint}"
    return _name_problem(value)


def _bad_character(value: str) -> str | None:
    if any(c.isspace() for c in value):
        close = difflib.get_close_matches(re.sub(r"\s+", "-", value.strip()), WELL_KNOWN, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        return (
            "holds a space or line break, which a channel name or URL cannot (in a URL, "
            f"write a space as %20){hint}"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "holds a control character; remove it"
    return None


def _url_problem(value: str, schemes: Sequence[str]) -> str | None:
    if not _HAS_SCHEME.match(value):
        scheme = value.split(":", 1)[0]
        return (
            f"is not a URL conda reads: {shown(scheme)} is not a scheme (lower-case letters "
            f"and digits, then `://`); write {' or '.join(s + '://' for s in schemes)}..."
        )
    scheme, rest = value.split("://", 1)
    if scheme not in schemes:
        return (
            f"uses the scheme `{scheme}://`; use {', '.join(s + '://' for s in schemes)} "
            "(conda reads no other scheme without a plugin)"
        )
    plain = _ENV_VAR.sub("x", value)
    if not plain.isascii():
        return "holds non-ASCII characters; percent-encode them (and write a host as punycode)"
    if not _URL_CHARS.fullmatch(plain):
        found = sorted({c for c in plain if not _URL_CHARS.fullmatch(c)})
        return (
            f"holds {', '.join(repr(c) for c in found)}, which a URL cannot hold unencoded; "
            "percent-encode them"
        )
    if _BAD_PERCENT.search(plain):
        return "has a `%` that is not followed by two hex digits; write %25 for a literal %"
    try:
        parts = urlsplit(plain)
    except ValueError as exc:  # an unbalanced [ ] around the host
        return f"is not a URL ({exc}); check the host name"
    if parts.fragment or "#" in value:
        return "has a `#` fragment, which a channel URL cannot have; remove it"
    if scheme == "file":
        if not rest.strip("/"):
            return "names no directory; write file:///absolute/path/to/channel"
        return None
    if not parts.hostname:
        return f"has no host name; write {scheme}://host.example/path"
    try:
        port = parts.port
    except ValueError:
        return "has a port that is not a number from 1 to 65535"
    if port == 0:
        return "has port 0; use a port from 1 to 65535"
    return None


def _name_problem(value: str) -> str | None:
    if "::" in value:
        return "holds `::`, which belongs in a match spec (channel::package), not a channel"
    parts = value.split("/")
    first = parts[0]
    if ":" in value or (_HOSTLIKE.fullmatch(first) and len(parts) > 1):
        return f"looks like a URL without its scheme; write https://{shorten(value)}"
    if any(not p for p in parts):
        return "has an empty part (`//`, or a `/` at the start or end); remove the extra `/`"
    for part in parts:
        if not _SEGMENT.fullmatch(part):
            bad = sorted({c for c in part if not _SEGMENT.fullmatch(c) and c not in ".-"})
            if bad:
                return (
                    f"holds {', '.join(repr(c) for c in bad)}; a channel name has letters, "
                    "digits, `-`, `_` and `.`, with `/` between its parts (org/label/dev), "
                    "or write a URL (https://...)"
                )
            return (
                f"has a part starting with {part[0]!r}; each part of a channel name starts "
                "with a letter, digit or `_`"
            )
    return None


def shorten(value: str) -> str:
    return value if len(value) <= 60 else value[:60] + "..."


def proxy_problem(value: str) -> str | None:
    """Why ``value`` is not a proxy URL conda's requests would use."""
    return channel_problem(value, url_only=True, schemes=PROXY_SCHEMES)


def channel_flag_problems(values: Sequence[str], flag: str = "--channel") -> list[str]:
    """Problems with ``--channel`` values, each naming the flag and the value."""
    out = []
    for value in values:
        why = channel_problem(value)
        if why:
            out.append(f"{flag} {shown(value)}: {why}")
    return out


def check_channel_flags(values: Sequence[str], flag: str = "--channel") -> None:
    """Raise UsageError (exit 2) naming ``--channel`` for every bad value."""
    problems = channel_flag_problems(values, flag)
    if problems:
        raise UsageError("\n".join(problems))
