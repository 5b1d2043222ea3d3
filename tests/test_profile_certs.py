"""condarc.ca_certificate: PEM certificates, in date; everything else refused with the fix."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from certs_util import ca_der, ca_pem, private_key_pem
from helpers import default_profile_data, run_build_py, write_profile

from orgconda.certs import check_ca_bytes
from orgconda.profile import load_profile

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def test_a_valid_bundle_gives_its_expiry_as_a_note() -> None:
    data = ca_pem("Acme Root CA", valid_from=NOW - timedelta(days=10), valid_days=3650)
    data += ca_pem("Acme Issuing CA", valid_from=NOW - timedelta(days=10), valid_days=60)
    check = check_ca_bytes(data, NOW)
    assert check.problems == []
    assert check.notes[0].startswith("certificate 1 of 2 (CN=Acme Root CA) is valid until 2036")
    assert "(in 50 days: plan the renewal)" in check.notes[1]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "is empty"),
        (b"\n  \n", "is empty"),
        (b"Acme Root CA, ask IT\n", "no PEM certificate"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "does not parse"),
    ],
)
def test_what_is_not_a_pem_bundle(data: bytes, needle: str) -> None:
    (problem,) = check_ca_bytes(data, NOW).problems
    assert needle in problem


def test_a_der_certificate_gets_the_conversion_command() -> None:
    (problem,) = check_ca_bytes(ca_der(), NOW).problems
    assert "DER" in problem and "openssl x509 -inform der" in problem


def test_a_private_key_is_refused() -> None:
    (problem,) = check_ca_bytes(private_key_pem() + ca_pem(), NOW).problems
    assert "private key" in problem


def test_expired_and_not_yet_valid_certificates_are_errors() -> None:
    old = ca_pem("Old CA", valid_from=NOW - timedelta(days=400), valid_days=30)
    new = ca_pem("New CA", valid_from=NOW + timedelta(days=3), valid_days=30)
    good = ca_pem("Good CA", valid_from=NOW - timedelta(days=1))
    check = check_ca_bytes(good + old + new, NOW)
    assert len(check.problems) == 2
    assert check.problems[0].startswith("certificate 2 of 3 (CN=Old CA) expired on 2025-10-27")
    assert check.problems[1].startswith(
        "certificate 3 of 3 (CN=New CA) is not valid until 2026-11-04"
    )


def test_the_render_command_prints_the_expiry_note(tmp_path: Path) -> None:
    data = default_profile_data()
    (tmp_path / "p" / "certs").mkdir(parents=True)
    (tmp_path / "p" / "certs" / "acme-root.pem").write_bytes(ca_pem())
    data["condarc"]["ca_certificate"] = "certs/acme-root.pem"
    path = write_profile(tmp_path / "p", data)
    bundled = load_profile(path).condarc.ca_certificate
    assert bundled == tmp_path / "p" / "certs" / "acme-root.pem"
    proc = run_build_py("render", "--profile", str(path), "--build-dir", str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    assert (
        "note: condarc.ca_certificate: certificate 1 of 1 (CN=Acme Root CA) is valid until"
        in proc.stdout
    )
