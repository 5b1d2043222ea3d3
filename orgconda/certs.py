"""The bundled CA file (``condarc.ca_certificate``): PEM certificates, in date, and nothing else.

conda hands the file to OpenSSL as a CA bundle, which reads PEM only: a DER ``.cer``, a text
file or an empty file would turn every HTTPS request of the installed conda into a TLS error.
Parsed with ``cryptography`` (x509.load_pem_x509_certificates), imported only when a profile
names a certificate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
# The file lands at etc/orgconda/<name> and its name travels in ORGCONDA_CA_FILE, which the
# install-time hooks check against this alphabet.
FILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")
EXPIRY_WARNING_DAYS = 90


@dataclass
class CaCheck:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_ca_file(path: Path, shown_name: str, now: datetime | None = None) -> CaCheck:
    """Read the CA file at ``path`` and check it (``shown_name`` is the profile's value)."""
    out = CaCheck()
    name = path.name
    if not FILE_NAME.fullmatch(name) or ".." in name:
        out.problems.append(
            f"the file name {name!r} must be 1 to 128 of A-Z a-z 0-9 . _ - without `..`: it is "
            "installed as etc/orgconda/<name>, which the install-time hooks check; rename the file"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        out.problems.append(f"cannot read {shown_name!r}: {exc.strerror}")
        return out
    more = check_ca_bytes(data, now or datetime.now(timezone.utc))
    out.problems += more.problems
    out.notes += more.notes
    return out


def check_ca_bytes(data: bytes, now: datetime) -> CaCheck:
    """Pure: the problems and notes for a CA bundle's bytes at time ``now``."""
    from cryptography import x509

    out = CaCheck()
    if not data.strip():
        out.problems.append(
            "is empty; it must hold the PEM certificates to trust (-----BEGIN CERTIFICATE-----)"
        )
        return out
    if b"PRIVATE KEY-----" in data:
        out.problems.append(
            "holds a private key; a CA bundle is public certificates only, and this file ships "
            "in every installer: remove the key (and treat it as leaked)"
        )
        return out
    if PEM_BEGIN not in data:
        out.problems.append(_not_pem(data))
        return out
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        out.problems.append(
            f"has a PEM certificate block that does not parse ({_one_line(exc)}); "
            "export the bundle again"
        )
        return out
    for i, cert in enumerate(certs, 1):
        label = f"certificate {i} of {len(certs)} ({_subject(cert)})"
        after, before = cert.not_valid_after_utc, cert.not_valid_before_utc
        if after < now:
            out.problems.append(
                f"{label} expired on {after:%Y-%m-%d}; conda would refuse every server it "
                "signed: bundle the renewed certificate"
            )
        elif before > now:
            out.problems.append(
                f"{label} is not valid until {before:%Y-%m-%d}; conda would refuse it until "
                "then: bundle a certificate that is valid now"
            )
        else:
            days = (after - now).days
            soon = f" (in {days} days: plan the renewal)" if days < EXPIRY_WARNING_DAYS else ""
            out.notes.append(f"{label} is valid until {after:%Y-%m-%d}{soon}")
    return out


def _not_pem(data: bytes) -> str:
    if data[:1] == b"\x30":  # an ASN.1 SEQUENCE: DER
        return (
            "is a DER (binary) certificate, and conda reads PEM only; convert it: "
            "openssl x509 -inform der -in FILE.cer -out FILE.pem"
        )
    return (
        "holds no PEM certificate (no -----BEGIN CERTIFICATE----- block); export the root "
        "CA as PEM (Base-64 encoded X.509)"
    )


def _subject(cert: object) -> str:
    from cryptography import x509

    assert isinstance(cert, x509.Certificate)
    try:
        text = cert.subject.rfc4514_string()
    except ValueError:
        text = "subject unreadable"
    return text if len(text) <= 80 else text[:80] + "..."


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 120 else text[:120] + "..."
