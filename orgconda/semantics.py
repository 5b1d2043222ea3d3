"""The rules a JSON schema cannot say: files, certificates, specs, channels, condarc keys.

Defensive by design: the schema's problems are reported separately, so each check here looks
at a value only when it has the right type, and never raises on a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from . import certs, condarc_keys
from .channels import channel_problem, proxy_problem
from .matchspec import (
    AAU_DEFAULT_SPEC,
    AAU_FLOOR,
    AAU_PACKAGE,
    constraint_problem,
    floor_witness,
    parse_spec,
)
from .problems import FieldPath, Problem, shown

# specs.<field> -> the package it constrains
SPEC_FIELDS = {
    "python": "python",
    "conda": "conda",
    "anaconda_anon_usage": AAU_PACKAGE,
    "conda_standalone": "conda-standalone",
}
RESERVED = {"python": "python", "conda": "conda", AAU_PACKAGE: "anaconda_anon_usage"}
TYPED_CONDARC_KEYS = frozenset(
    {
        "channels",
        "default_channels",
        "channel_alias",
        "custom_channels",
        "proxy_servers",
        "ssl_verify",
        "report_errors",
    }
)
PUBLISH_EXAMPLE = "https://conda.acme.example/acme-internal"


def derived_slug(token: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]", "-", token.lower()).strip("-_") or "org"
    return slug[:40]


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


class Checks:
    def __init__(
        self,
        data: dict[str, Any],
        base: Path,
        *,
        now: datetime | None = None,
        installed_keys: Callable[[], Any] | None = None,
        skip: Iterable[FieldPath] = (),
    ) -> None:
        self.data = data
        self.base = base
        self.now = now
        self.installed_keys = installed_keys or condarc_keys.installed_keys
        self.skip = set(skip)
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def add(self, path: FieldPath, message: str) -> None:
        self.problems.append(Problem(path, message))

    def run(self) -> list[Problem]:
        self.files()
        self.condarc()
        self.specs()
        self.channels()
        self.telemetry()
        self.config_package()
        return self.problems

    def _str(self, value: object, path: FieldPath) -> str | None:
        """``value`` when it is a string this pass may check (not already refused)."""
        return value if isinstance(value, str) and path not in self.skip else None

    # --- files ---------------------------------------------------------------------------

    def files(self) -> None:
        installer = _dict(self.data.get("installer"))
        self._file(installer.get("license_file"), ("installer", "license_file"))
        rc = _dict(self.data.get("condarc"))
        path = ("condarc", "ca_certificate")
        target = self._file(rc.get("ca_certificate"), path)
        if target is not None:
            check = certs.check_ca_file(target, str(rc["ca_certificate"]), self.now)
            for message in check.problems:
                self.add(path, message)
            self.notes += [f"condarc.ca_certificate: {n}" for n in check.notes]

    def _file(self, value: object, path: FieldPath) -> Path | None:
        text = self._str(value, path)
        if not text:
            return None
        target = (self.base / text).resolve()
        if not target.is_file():
            self.add(
                path,
                f"file {shown(text)} not found (looked for {target}); fix the path or remove "
                "the key",
            )
            return None
        return target

    # --- condarc -------------------------------------------------------------------------

    def condarc(self) -> None:
        rc = _dict(self.data.get("condarc"))
        if rc.get("ca_certificate") and rc.get("ssl_verify") is False:
            self.add(
                ("condarc", "ssl_verify"),
                "is false but condarc.ca_certificate is set; remove one (the certificate is only "
                "used when verification is on)",
            )
        extra = _dict(rc.get("extra"))
        self.problems += condarc_keys.extra_key_problems(
            extra, TYPED_CONDARC_KEYS, self.installed_keys
        )
        aggressive = extra.get("aggressive_update_packages")
        if "aggressive_update_packages" in extra:
            path = ("condarc", "extra", "aggressive_update_packages")
            if not isinstance(aggressive, list) or not aggressive:
                self.add(
                    path,
                    "must be a list of package names (orgconda adds anaconda-anon-usage and the "
                    "certificate packages itself)",
                )
            else:
                for i, name in enumerate(aggressive):
                    self._package_name(name, (*path, i))
        proxies = _dict(rc.get("proxy_servers"))
        for key, value in proxies.items():
            text = self._str(value, ("condarc", "proxy_servers", key))
            why = proxy_problem(text) if text is not None else None
            if why:
                self.add(("condarc", "proxy_servers", key), f"{shown(text)} {why}")

    def _package_name(self, name: object, path: FieldPath) -> None:
        text = self._str(name, path)
        if text is None:
            if not isinstance(name, str) and path not in self.skip:
                self.add(path, f"must be a package name, got {shown(name)}")
            return
        spec, why = parse_spec(text)
        if why or spec is None:
            self.add(path, f"{shown(text)} {why}")
        elif spec.version is not None or spec.channel is not None or spec.name != text.lower():
            self.add(path, f"{shown(text)} must be a package name only, e.g. {spec.name}")

    # --- specs ---------------------------------------------------------------------------

    def specs(self) -> None:
        specs = _dict(self.data.get("specs"))
        for key, package in SPEC_FIELDS.items():
            path = ("specs", key)
            value = self._str(specs.get(key), path)
            if value is None:
                continue
            why = constraint_problem(value, package)
            if why:
                self.add(path, f"{shown(value)} {why}")
        aau_path = ("specs", "anaconda_anon_usage")
        aau = specs.get("anaconda_anon_usage", AAU_DEFAULT_SPEC)
        if (
            isinstance(aau, str)
            and aau_path not in self.skip
            and not constraint_problem(aau, AAU_PACKAGE)
        ):
            witness = floor_witness(aau)
            if witness is not None:
                self.add(aau_path, _floor_message(aau, witness))
        cp = _dict(self.data.get("config_package"))
        own = None
        if cp.get("enabled", True) is not False:
            token = _dict(self.data.get("telemetry")).get("org_token")
            slug = cp.get("slug") or (derived_slug(token) if isinstance(token, str) else None)
            own = f"{slug}-conda-config" if isinstance(slug, str) else None
        for i, item in enumerate(_list(specs.get("extra"))):
            where: FieldPath = ("specs", "extra", i)
            # a spec with brackets is refused for its trailing `]` but still read here, so
            # that the reserved names and the floor hold for that form too
            text = item if isinstance(item, str) and item.rstrip().endswith("]") else None
            text = text or self._str(item, where)
            if text is None:
                continue
            spec, why = parse_spec(text)
            if why or spec is None:
                self.add(where, f"{shown(text)} {why}")
                continue
            if spec.name in RESERVED:
                field = RESERVED[spec.name]
                message = f"{spec.name} has its own field; set specs.{field}"
                if spec.name == AAU_PACKAGE:
                    witness = floor_witness(spec.version)
                    if witness is not None:
                        message += f" ({_floor_message(spec.version or '', witness)})"
                self.add(where, message)
            elif own is not None and spec.name == own:
                self.add(
                    where,
                    f"{own} is the configuration package orgconda builds and adds itself "
                    "(config_package); remove it here",
                )

    # --- channels ------------------------------------------------------------------------

    def channels(self) -> None:
        data = self.data
        for i, ch in enumerate(_list(data.get("channels"))):
            self._channel(ch, ("channels", i))
        for i, pair in enumerate(_list(data.get("channels_remap"))):
            for end in ("src", "dest"):
                self._channel(_dict(pair).get(end), ("channels_remap", i, end))
        rc = _dict(data.get("condarc"))
        for key in ("channels", "default_channels"):
            for i, ch in enumerate(_list(rc.get(key))):
                self._channel(ch, ("condarc", key, i))
        self._channel(rc.get("channel_alias"), ("condarc", "channel_alias"), url_only=True)
        for name, url in _dict(rc.get("custom_channels")).items():
            self._channel(name, ("condarc", "custom_channels", name), key=True)
            self._channel(url, ("condarc", "custom_channels", name), url_only=True)
        mirrored = _dict(data.get("mirrored_channels"))
        for name, urls in mirrored.items():
            self._channel(name, ("mirrored_channels", name), key=True)
            for i, url in enumerate(_list(urls)):
                self._channel(url, ("mirrored_channels", name, i), url_only=True)
        if mirrored and not self._has_mamba():
            self.add(
                ("mirrored_channels",),
                "is read only by mamba and micromamba 2.x: conda (and conda-libmamba-solver) "
                "ignore it, so installs would not use these mirrors; add mamba to specs.extra, "
                "or remove mirrored_channels (for conda, point condarc.channels or "
                "custom_channels at the mirror)",
            )
        publish = _dict(data.get("config_package")).get("publish_channel")
        self._channel(publish, ("config_package", "publish_channel"))

    def _channel(
        self, value: object, path: FieldPath, *, url_only: bool = False, key: bool = False
    ) -> None:
        text = self._str(value, path)
        if text is None:
            return
        why = channel_problem(text, url_only=url_only)
        if why:
            what = "the channel name " if key else ""
            self.add(path, f"{what}{shown(text)} {why}")

    def _has_mamba(self) -> bool:
        for item in _list(_dict(self.data.get("specs")).get("extra")):
            if isinstance(item, str):
                spec, _ = parse_spec(item)
                if spec is not None and spec.name == "mamba":
                    return True
        return False

    # --- telemetry and the config package -------------------------------------------------

    def telemetry(self) -> None:
        path = ("telemetry", "heartbeat")
        hb = self._str(_dict(self.data.get("telemetry")).get("heartbeat"), path)
        if hb is not None:
            why = channel_problem(hb, url_only=True, schemes=("http", "https"))
            if why:
                self.add(
                    path, f"{shown(hb)} is not an http(s) URL: {why}; use true, false or a URL"
                )

    def config_package(self) -> None:
        cp = self.data.get("config_package")
        cp = cp if isinstance(cp, Mapping) else {}
        if cp.get("enabled", True) is True and not cp.get("publish_channel"):
            self.add(
                ("config_package", "publish_channel"),
                "is required while config_package.enabled is true: installs take configuration "
                "updates only from the channel the package was published to. Set it to that "
                f"channel (e.g. publish_channel: {PUBLISH_EXAMPLE}), or set "
                "config_package.enabled: false",
            )


def _floor_message(spec: str, witness: str) -> str:
    return (
        f"{shown(spec)} admits {witness}, below {AAU_FLOOR}, the first anaconda-anon-usage "
        f"that reads installer, org and machine tokens; use {AAU_DEFAULT_SPEC!r} or a higher "
        "floor"
    )
