"""Throwaway CA certificates for tests, minted with `cryptography` (never a stand-in file)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_ca(
    cn: str = "Acme Root CA",
    *,
    valid_from: datetime | None = None,
    valid_days: int = 3650,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    start = valid_from or (datetime.now(timezone.utc) - timedelta(days=1))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def ca_pem(cn: str = "Acme Root CA", **kwargs: object) -> bytes:
    cert, _ = make_ca(cn, **kwargs)  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM)


def ca_der(cn: str = "Acme Root CA") -> bytes:
    cert, _ = make_ca(cn)
    return cert.public_bytes(serialization.Encoding.DER)


def key_pem() -> bytes:
    _, key = make_ca()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
