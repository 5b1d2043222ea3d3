"""The build machine's conda network settings, read the way conda reads them.

constructor solves in-process with conda's own configuration: every condarc file on conda's
search path (system, ``$CONDA_ROOT`` = constructor's own environment, user, ``$CONDA_PREFIX``,
``$CONDARC``), then ``CONDA_*`` environment variables, with ``#!final`` stopping later layers.
Packages orgconda fetches itself must come through the same proxies and trust the same CAs, so
this module reads the same layers and keeps the settings that govern the network:

- ``proxy_servers`` (``http``/``https``/``no_proxy`` keys), merged across files like conda.
  ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY`` from the environment are honoured by
  py-rattler's HTTP client itself; ``proxy_servers`` wins over them, as it does in conda.
- ``ssl_verify`` (alias ``verify_ssl``): ``false``, ``truststore`` (the OS store), or a CA bundle
  file or directory; with ``true``, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` name the bundle
  as they do for conda's requests session.
- ``channel_alias``, ``custom_channels``, ``default_channels``: how a channel name becomes a URL.
- ``offline``: nothing is downloaded; only the cache is used.
- ``remote_max_retries``: how often a failed request is retried.

Not honoured (named in ``unsupported`` so the caller can say so): ``client_ssl_cert`` and
``client_ssl_cert_key`` (py-rattler's client cannot present a client certificate).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org"
_DEFAULTS_UNIX = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")
_DEFAULTS_WIN = (*_DEFAULTS_UNIX, "https://repo.anaconda.com/pkgs/msys2")
_KEYS = (
    "proxy_servers",
    "ssl_verify",
    "channel_alias",
    "custom_channels",
    "default_channels",
    "offline",
    "client_ssl_cert",
    "client_ssl_cert_key",
    "remote_max_retries",
)
_ALIASES = {"verify_ssl": "ssl_verify", "client_cert": "client_ssl_cert"}
_FINAL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:.*#!final\s*$")
_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n"}


@dataclass(frozen=True)
class NetSettings:
    """The network settings in force, and where each came from."""

    proxies: Mapping[str, str] = field(default_factory=dict)  # "http"/"https" -> proxy URL
    no_proxy: tuple[str, ...] = ()
    ssl_verify: bool | str = True  # True, False, "truststore", or a CA bundle path
    ca_bundle: str | None = None  # the CA file/dir in force (ssl_verify path or env bundle)
    channel_alias: str = DEFAULT_CHANNEL_ALIAS
    custom_channels: Mapping[str, str] = field(default_factory=dict)
    default_channels: tuple[str, ...] = _DEFAULTS_UNIX
    offline: bool = False
    max_retries: int = 3  # remote_max_retries
    origins: Mapping[str, str] = field(default_factory=dict)  # setting -> file or env var
    unsupported: tuple[str, ...] = ()  # settings present that orgconda cannot honour

    def describe(self) -> list[str]:
        """One line per setting that differs from conda's default, with its origin."""
        out = []
        for key in ("proxy_servers", "ssl_verify", "channel_alias", "offline"):
            if key in self.origins:
                value: object = {
                    "proxy_servers": dict(self.proxies),
                    "ssl_verify": self.ssl_verify,
                    "channel_alias": self.channel_alias,
                    "offline": self.offline,
                }[key]
                out.append(f"{key}: {value} (from {self.origins[key]})")
        if self.ca_bundle and "ssl_verify" not in self.origins:
            out.append(f"CA bundle: {self.ca_bundle} (from {self.origins.get('ca_bundle')})")
        out += [f"{key}: not honoured by orgconda's downloads" for key in self.unsupported]
        return out


SYSTEM_DIRS_UNIX = ("/etc/conda", "/var/lib/conda")
SYSTEM_DIRS_WIN = ("C:/ProgramData/conda",)


def search_path(
    env: Mapping[str, str],
    *,
    home: Path,
    root_prefix: Path | None,
    on_win: bool,
    system_dirs: Sequence[str] | None = None,
) -> list[Path]:
    """conda's condarc search path (conda 26, ``conda.base.constants.SEARCH_PATH``), expanded.
    ``$CONDA_ROOT`` is the environment's CONDA_ROOT, else ``root_prefix`` (constructor's own
    environment: conda sets CONDA_ROOT to its prefix when it is unset)."""
    if system_dirs is None:
        system_dirs = SYSTEM_DIRS_WIN if on_win else SYSTEM_DIRS_UNIX
    entries = [f"{d}/{n}" for d in system_dirs for n in (".condarc", "condarc", "condarc.d/")]
    root = env.get("CONDA_ROOT") or (str(root_prefix) if root_prefix else "")
    bases: list[tuple[str, str]] = [
        (root, ""),
        (env.get("XDG_CONFIG_HOME", ""), "conda"),
        (str(home / ".config"), "conda"),
        (str(home / ".conda"), ""),
    ]
    for base, sub in bases:
        if base:
            d = str(Path(base, sub)) if sub else base
            entries += [f"{d}/.condarc", f"{d}/condarc", f"{d}/condarc.d/"]
    entries.append(str(home / ".condarc"))
    if env.get("CONDA_PREFIX"):
        p = env["CONDA_PREFIX"]
        entries += [f"{p}/.condarc", f"{p}/condarc", f"{p}/condarc.d/"]
    if env.get("CONDARC"):
        entries.append(env["CONDARC"])
    return [Path(e) for e in dict.fromkeys(entries)]


def condarc_files(paths: Sequence[Path]) -> list[Path]:
    """The files that exist, directories expanded to their ``*.yml``/``*.yaml`` in name order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix in (".yml", ".yaml") and q.is_file())
        elif p.is_file():
            out.append(p)
    return out


def read_condarc(path: Path) -> tuple[dict[str, Any], set[str]]:
    """The network keys of one condarc file and which of them carry ``#!final``."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(
            f"{path}: cannot read this condarc file (conda reads it too): {exc}; fix or remove it"
        ) from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a condarc file must be a mapping of settings")
    named = {_ALIASES.get(str(k), str(k)): v for k, v in data.items()}
    picked = {k: v for k, v in named.items() if k in _KEYS}
    marked = (m.group(1) for m in map(_FINAL.match, text.splitlines()) if m)
    final = {_ALIASES.get(k, k) for k in marked}
    return picked, final & set(_KEYS)


def _expand(value: str, env: Mapping[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return env.get(name, m.group(0))

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, value)


def _bool_or_str(value: str) -> bool | str:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return value


def merge(
    layers: Sequence[tuple[str, Mapping[str, Any], set[str]]],
    env: Mapping[str, str],
    *,
    on_win: bool = sys.platform == "win32",
) -> NetSettings:
    """Combine condarc layers (lowest precedence first) and CONDA_* variables (pure)."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    final: set[str] = set()
    maps = {"proxy_servers", "custom_channels"}
    for origin, data, finals in layers:
        for key, value in data.items():
            if key in final:
                continue
            if key in maps and isinstance(value, dict):
                values[key] = {**values.get(key, {}), **value}
            else:
                values[key] = value
            origins[key] = origin
        final |= finals & set(data)
    for key in ("ssl_verify", "channel_alias", "offline", "default_channels", "remote_max_retries"):
        name = f"CONDA_{key.upper()}"
        if name in env and key not in final:
            raw = env[name]
            values[key] = raw.split(",") if key == "default_channels" else _bool_or_str(raw)
            origins[key] = f"${name}"
    return _settings(values, origins, env, on_win)


def _settings(
    values: Mapping[str, Any], origins: dict[str, str], env: Mapping[str, str], on_win: bool
) -> NetSettings:
    proxies_raw = values.get("proxy_servers") or {}
    if not isinstance(proxies_raw, dict):
        raise UsageError(f"{origins['proxy_servers']}: `proxy_servers` must be a mapping")
    proxies = {
        str(k): _expand(str(v), env) for k, v in proxies_raw.items() if k in ("http", "https") and v
    }
    no_proxy = tuple(
        h.strip() for h in str(proxies_raw.get("no_proxy") or "").split(",") if h.strip()
    )
    verify = values.get("ssl_verify", True)
    if isinstance(verify, str):
        verify = _bool_or_str(_expand(verify, env))
    ca_bundle: str | None = None
    if isinstance(verify, str) and verify != "truststore":
        if not Path(verify).exists():
            raise UsageError(
                f"{origins.get('ssl_verify')}: ssl_verify is {verify!r}, which does not exist; "
                "conda would refuse it too. Fix: the path of a CA bundle file or directory, "
                "true, false or truststore"
            )
        ca_bundle = verify
    elif verify is True:
        for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            if env.get(name):
                ca_bundle = env[name]
                origins["ca_bundle"] = f"${name}"
                break
    custom = values.get("custom_channels") or {}
    defaults = values.get("default_channels") or (_DEFAULTS_WIN if on_win else _DEFAULTS_UNIX)
    unsupported = tuple(k for k in ("client_ssl_cert", "client_ssl_cert_key") if values.get(k))
    return NetSettings(
        proxies=proxies,
        no_proxy=no_proxy,
        ssl_verify=verify,
        ca_bundle=ca_bundle,
        channel_alias=_expand(str(values.get("channel_alias") or DEFAULT_CHANNEL_ALIAS), env),
        custom_channels={str(k): str(v) for k, v in dict(custom).items()},
        default_channels=tuple(str(c) for c in defaults),
        offline=values.get("offline") is True or str(values.get("offline")).lower() in _TRUE,
        max_retries=_retries(values.get("remote_max_retries", 3), origins),
        origins=origins,
        unsupported=unsupported,
    )


def _retries(value: Any, origins: Mapping[str, str]) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        raise UsageError(
            f"{origins.get('remote_max_retries')}: remote_max_retries must be a whole number, "
            f"not {value!r}"
        ) from None


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    root_prefix: Path | None = None,
    home: Path | None = None,
    system_dirs: Sequence[str] | None = None,
) -> NetSettings:
    """Read the condarc files on conda's search path and the environment (reads files).
    ``root_prefix``: the environment constructor runs from, when it is known."""
    env = os.environ if env is None else env
    home = home or Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    on_win = sys.platform == "win32"
    paths = search_path(
        env, home=home, root_prefix=root_prefix, on_win=on_win, system_dirs=system_dirs
    )
    layers = [(str(p), *read_condarc(p)) for p in condarc_files(paths)]
    return merge(layers, env, on_win=on_win)


def channel_urls(channel: str, settings: NetSettings) -> list[str]:
    """The URL(s) conda would read for a channel as written in a profile (pure)."""
    channel = channel.strip().rstrip("/")
    if "://" in channel:
        return [channel]
    if channel.startswith(("/", "./", "../", "~")) or re.match(r"^[A-Za-z]:[\\/]", channel):
        return [Path(channel).expanduser().resolve().as_uri()]
    if channel == "defaults":
        return [u for c in settings.default_channels for u in channel_urls(c, settings)]
    first = channel.split("/", 1)[0]
    if first in settings.custom_channels:
        return [f"{settings.custom_channels[first].rstrip('/')}/{channel}"]
    return [f"{settings.channel_alias.rstrip('/')}/{channel}"]


def resolve_channels(channels: Sequence[str], settings: NetSettings) -> list[str]:
    out: list[str] = []
    for c in channels:
        out += channel_urls(c, settings)
    return list(dict.fromkeys(out))
