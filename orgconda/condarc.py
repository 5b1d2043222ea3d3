"""The org condarc: which settings it holds and its exact text (pure).

One renderer for both places it can live: ``<prefix>/.condarc`` (constructor's ``condarc:``)
and the configuration package's ``condarc.d/<slug>.yml``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from .profile import AAU_PACKAGE, CERT_PACKAGES, Profile
from .yamltext import yaml_scalar, yaml_value

TEMPLATES = Path(__file__).resolve().parents[1] / "construct"
CA_PREFIX_DIR = "etc/orgconda"
# Read by mamba/micromamba 2.x only; conda ignores it (so verify never expects conda to show it).
MAMBA_ONLY_KEYS = ("mirrored_channels",)


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["yaml_scalar"] = yaml_scalar
    env.filters["yaml_value"] = yaml_value
    return env


def ca_file(profile: Profile) -> str | None:
    """Where the bundled certificate lands, relative to the prefix (forward slashes)."""
    ca = profile.condarc.ca_certificate
    return f"{CA_PREFIX_DIR}/{ca.name}" if ca is not None else None


def condarc_settings(profile: Profile, ssl_verify: str | None = None) -> dict[str, Any]:
    """The org's own condarc keys, in the order they are written (no telemetry keys).

    With a bundled certificate ``ssl_verify`` must be an absolute path that exists (conda
    validates the raw value and expands no variables), which only the install knows: the
    caller passes the placeholder the package's install rewrites, or None to leave the key to
    the post-install hook."""
    rc = profile.condarc
    verify: bool | str | None = rc.ssl_verify
    if rc.ca_certificate is not None:
        verify = ssl_verify
    settings: dict[str, Any] = {
        "channels": list(rc.channels),
        "default_channels": list(rc.default_channels),
        "channel_alias": rc.channel_alias,
        "custom_channels": dict(rc.custom_channels),
        "mirrored_channels": {k: list(v) for k, v in profile.mirrored_channels.items()},
        "proxy_servers": dict(rc.proxy_servers),
        "ssl_verify": verify,
        "report_errors": rc.report_errors,
    }
    settings.update({k: v for k, v in rc.extra.items() if k != "aggressive_update_packages"})
    return {k: v for k, v in settings.items() if v is not None and v != [] and v != {}}


def aggressive_update_packages(profile: Profile, extra: Iterable[str] = ()) -> list[str]:
    wanted = [AAU_PACKAGE, *CERT_PACKAGES, *extra]
    wanted += list(profile.condarc.extra.get("aggressive_update_packages") or [])
    return list(dict.fromkeys(wanted))


def render_condarc(
    profile: Profile,
    *,
    org_settings: bool = True,
    extra_aggressive: Iterable[str] = (),
    ssl_verify: str | None = None,
) -> str:
    """The condarc text. ``#!final`` pins the telemetry values when the profile locks them."""
    text = (
        _env()
        .get_template("condarc.yaml.j2")
        .render(
            settings=condarc_settings(profile, ssl_verify) if org_settings else {},
            telemetry_enabled=profile.telemetry.enabled,
            locked=profile.telemetry.locked,
            heartbeat=profile.telemetry.heartbeat,
            aggressive_update_packages=aggressive_update_packages(profile, extra_aggressive),
        )
    )
    return text.lstrip("\n").rstrip("\n") + "\n"


def expected_settings(text: str, *, ca_bundled: bool) -> dict[str, Any]:
    """The keys of a rendered condarc that the installed conda must show: everything but
    the mamba-only keys and a bundled certificate's ``ssl_verify`` (its absolute path is known
    only after the install; verify's ``ca.bundled`` check covers it)."""
    data = yaml.safe_load(text) or {}
    skip = {*MAMBA_ONLY_KEYS, *(("ssl_verify",) if ca_bundled else ())}
    return {k: v for k, v in data.items() if k not in skip}
