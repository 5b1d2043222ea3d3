"""The bundled CA, proven: the HTTPS capture server with a throwaway CA minted here (real TLS
with a real client), the --https-cert/--https-key options, and the ca.* checks on generated
observations.

Also holds ``mint_ca`` / ``mint_server_cert`` for the other harness tests.
"""

from __future__ import annotations

import hashlib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import certs_util
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from test_harness_recorded import LOCKED_PREFIX, locked_expectation, locked_observation

from orgconda.errors import UsageError
from orgconda.harness.capture import (
    CaptureServer,
    WireRequest,
    format_wire_log,
    parse_wire_log,
    tls_notes,
    wire_log_facts,
)
from orgconda.harness.checks import by_id, failed, run_checks
from orgconda.harness.checks_ca import check_ca_bundled, check_ca_https
from orgconda.harness.command import https_context
from orgconda.harness.expect import CaExpect, Expectation, from_manifest
from orgconda.harness.observation import CaFiles, HttpsProbe, Observation

AGENT = "conda/26.7.1 requests/2.34.2 CPython/3.11.7 aau/0.8.1 c/SND9ZXQLUT4hiDAiwSTVyx"
CA_REL = "etc/orgconda/acme-root-ca.pem"


# ---------------------------------------------------------------- minting


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path
    cert_obj: x509.Certificate
    key_obj: ec.EllipticCurvePrivateKey


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> Pem:
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(certs_util.pem(cert))
    key_path.write_bytes(certs_util.key_pem(key))
    return Pem(cert_path, key_path, cert, key)


def mint_ca(directory: Path, common: str = "Acme Throwaway Root CA") -> Pem:
    """A self-signed root CA (ECDSA P-256), written as ca.pem and ca.key."""
    cert, key = certs_util.make_ca(common)
    return _write(directory, "ca", cert, key)


def mint_server_cert(directory: Path, ca: Pem) -> Pem:
    """A server certificate for 127.0.0.1 and localhost, signed by ``ca``."""
    cert, key = certs_util.make_server_cert(ca.cert_obj, ca.key_obj)
    return _write(directory, "server", cert, key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pem, Pem, Pem]:
    """(CA, server certificate signed by it, an unrelated CA)."""
    root = tmp_path_factory.mktemp("pki")
    ca = mint_ca(root / "ca")
    return ca, mint_server_cert(root / "server", ca), mint_ca(root / "other", "Other Root CA")


def fetch(url: str, cafile: Path) -> int:
    context = ssl.create_default_context(cafile=str(cafile))
    request = urllib.request.Request(url, headers={"User-Agent": AGENT})
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def wait_for(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():  # type: ignore[operator]
        time.sleep(0.02)


# ---------------------------------------------------------------- the HTTPS capture server


def test_https_server_records_requests_from_a_client_trusting_the_ca(
    pki: tuple[Pem, Pem, Pem],
) -> None:
    ca, server_cert, _ = pki
    context = https_context(server_cert.cert, server_cert.key)
    assert context is not None
    with CaptureServer(ssl_context=context) as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert fetch(server.url + "linux-64/repodata.json", ca.cert) == 200
        assert fetch(server.url + "noarch/repodata_shards.msgpack.zst", ca.cert) == 404
        requests = server.requests
        assert [r.path for r in requests] == [
            "/linux-64/repodata.json",
            "/noarch/repodata_shards.msgpack.zst",
        ]
        assert {r.user_agent for r in requests} == {AGENT}
        assert server.handshakes == 2 and server.tls_errors == []


def test_https_server_refused_by_a_client_trusting_another_ca(pki: tuple[Pem, Pem, Pem]) -> None:
    _, server_cert, other = pki
    context = https_context(server_cert.cert, server_cert.key)
    with CaptureServer(ssl_context=context) as server:
        with pytest.raises(urllib.error.URLError) as info:
            fetch(server.url + "linux-64/repodata.json", other.cert)
        assert isinstance(info.value.reason, ssl.SSLCertVerificationError)
        wait_for(lambda: server.tls_errors)
        assert server.requests == [] and server.handshakes == 0
        assert len(server.tls_errors) == 1 and "SSLError" in server.tls_errors[0]
        assert "unknown ca" in server.tls_errors[0].lower()


def test_plain_http_client_gets_no_answer_from_the_https_server(
    pki: tuple[Pem, Pem, Pem],
) -> None:
    _, server_cert, _ = pki
    with CaptureServer(ssl_context=https_context(server_cert.cert, server_cert.key)) as server:
        plain = server.url.replace("https://", "http://") + "linux-64/repodata.json"
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(plain, timeout=10)
        wait_for(lambda: server.tls_errors)
        assert server.requests == [] and server.tls_errors


def test_https_log_round_trip(pki: tuple[Pem, Pem, Pem]) -> None:
    text = format_wire_log(
        [WireRequest("GET", "/noarch/repodata.json", AGENT)],
        command="conda search --override-channels -c https://127.0.0.1:5/ nosuchpkg",
        address="127.0.0.1:5",
        exit_code=1,
        stderr="PackagesNotFoundError: nosuchpkg\n",
        notes=tls_notes(1, ["SSLError: [SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca"]),
    )
    assert [r.path for r in parse_wire_log(text)] == ["/noarch/repodata.json"]
    facts = wire_log_facts(text)
    assert facts.exit_code == 1 and facts.handshakes == 1
    assert facts.tls_errors == ("SSLError: [SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca",)
    assert facts.stderr == ("PackagesNotFoundError: nosuchpkg",)
    plain = wire_log_facts(text.replace("# tls handshakes completed: 1\n", ""))
    assert plain.handshakes is None


def test_https_options(tmp_path: Path, pki: tuple[Pem, Pem, Pem]) -> None:
    ca, server_cert, _ = pki
    assert https_context(None, None) is None
    with pytest.raises(UsageError, match="go together"):
        https_context(server_cert.cert, None)
    with pytest.raises(UsageError, match="no such file"):
        https_context(tmp_path / "nope.pem", server_cert.key)
    with pytest.raises(UsageError, match="cannot serve HTTPS") as info:
        https_context(server_cert.cert, ca.key)  # a key that does not match the certificate
    assert info.value.exit_code == 2


# ---------------------------------------------------------------- ca.bundled


def ca_expect(fixtures_dir: Path, pem: bytes = b"PEM") -> Expectation:
    return locked_expectation(
        fixtures_dir, ca_certificate=CaExpect(CA_REL, hashlib.sha256(pem).hexdigest())
    )


def with_ssl_verify(obs: Observation, value: object, sha: str | None) -> Observation:
    return replace(
        obs,
        ssl_verify={"ssl_verify": value},
        ca_files=CaFiles(
            expected_path=f"{obs.prefix}/{CA_REL}",
            expected_sha256=sha,
            ssl_verify=value if isinstance(value, str) else None,
            ssl_verify_sha256=sha,
        ),
    )


def test_ca_bundled_passes_for_the_absolute_path_with_the_bytes(fixtures_dir: Path) -> None:
    expect = ca_expect(fixtures_dir)
    sha = hashlib.sha256(b"PEM").hexdigest()
    obs = with_ssl_verify(locked_observation(fixtures_dir), f"{LOCKED_PREFIX}/{CA_REL}", sha)
    result = check_ca_bundled(obs, expect)
    assert result.ok and result.status == "pass", result.actual
    assert f"{LOCKED_PREFIX}/{CA_REL}" in result.expected and sha in result.expected
    # the whole run: CA bundled, so ssl_verify is not required from condarc.in_effect
    assert "ca.bundled" not in failed(run_checks(obs, expect))


@pytest.mark.parametrize(
    ("value", "sha", "says"),
    [
        ("${CONDA_ROOT}/" + CA_REL, None, "is not an absolute path"),  # issue 9's bug
        ("etc/orgconda/acme-root-ca.pem", None, "is not an absolute path"),
        ("/opt/other-install/" + CA_REL, hashlib.sha256(b"PEM").hexdigest(), "not the bundled"),
        (f"{LOCKED_PREFIX}/{CA_REL}", None, "does not exist"),
        (f"{LOCKED_PREFIX}/{CA_REL}", "0" * 64, "has sha256 " + "0" * 64),
        (True, None, "ssl_verify is True, not a path"),
    ],
)
def test_ca_bundled_fails(fixtures_dir: Path, value: object, sha: str | None, says: str) -> None:
    obs = with_ssl_verify(locked_observation(fixtures_dir), value, sha)
    result = check_ca_bundled(obs, ca_expect(fixtures_dir))
    assert result.status == "fail" and says in result.actual, result.actual


def test_ca_bundled_windows_paths(fixtures_dir: Path) -> None:
    prefix = r"C:\Users\tester\AppData\Local\Temp\ocv-1\Org Conda"
    sha = hashlib.sha256(b"PEM").hexdigest()
    base = replace(locked_observation(fixtures_dir), prefix=prefix)
    for shown in (
        prefix + r"\etc\orgconda\acme-root-ca.pem",
        "c:/users/tester/appdata/local/temp/ocv-1/org conda/etc/orgconda/acme-root-ca.pem",
    ):
        result = check_ca_bundled(with_ssl_verify(base, shown, sha), ca_expect(fixtures_dir))
        assert result.ok, (shown, result.actual)
    assert prefix + r"\etc\orgconda\acme-root-ca.pem" in result.expected
    elsewhere = with_ssl_verify(base, r"D:\certs\acme-root-ca.pem", sha)
    assert not check_ca_bundled(elsewhere, ca_expect(fixtures_dir)).ok


def test_ca_bundled_not_observed_and_skipped(fixtures_dir: Path) -> None:
    obs = replace(locked_observation(fixtures_dir), problems={"ssl_verify": "`conda ...` exited 1"})
    result = check_ca_bundled(obs, ca_expect(fixtures_dir))
    assert result.status == "fail" and result.actual == "not observed: `conda ...` exited 1"
    skipped = check_ca_bundled(obs, locked_expectation(fixtures_dir))
    assert skipped.status == "skip" and "no bundled CA expected" in skipped.detail


def test_manifest_ca_certificate_is_read_and_validated() -> None:
    base = {"org_token": "acme-corp", "installer_token": "A-1"}
    sha = "A" * 64
    expect = from_manifest(
        {**base, "ca_certificate": {"path": CA_REL, "sha256": sha}}, sha256=None, where="m"
    )
    assert expect.ca_certificate == CaExpect(CA_REL, sha.lower())
    assert from_manifest(base, sha256=None, where="m").ca_certificate is None  # older manifest
    for bad, says in (
        ({"path": "/etc/orgconda/x.pem", "sha256": sha}, "relative to the prefix"),
        ({"path": "etc/../x.pem", "sha256": sha}, "no `..`"),
        ({"path": CA_REL, "sha256": "abc"}, "64 hexadecimal"),
        ("etc/orgconda/x.pem", "must be null or an object"),
    ):
        with pytest.raises(UsageError, match=r"m\.ca_certificate") as info:
            from_manifest({**base, "ca_certificate": bad}, sha256=None, where="m")
        assert says in str(info.value)


# ---------------------------------------------------------------- ca.https


def probe(requests: int, *, stderr: str = "", errors: tuple[str, ...] = ()) -> HttpsProbe:
    text = format_wire_log(
        [WireRequest("GET", "/noarch/repodata.json", AGENT)] * requests,
        command="conda search",
        address="127.0.0.1:5",
        exit_code=1,
        stderr=stderr,
        notes=tls_notes(requests and 1, errors),
    )
    return HttpsProbe(tuple(parse_wire_log(text)), wire_log_facts(text))


def test_ca_https_passes_when_a_request_arrived_over_tls(fixtures_dir: Path) -> None:
    obs = replace(locked_observation(fixtures_dir), https_wire=probe(3))
    result = check_ca_https(obs, ca_expect(fixtures_dir))
    assert result.ok and result.actual == "3 requests over TLS, 1 TLS handshakes"


def test_ca_https_fails_with_the_ssl_error(fixtures_dir: Path) -> None:
    stderr = (
        "CondaSSLError: Encountered an SSL error. Most likely a certificate verification issue.\n"
        "\n"
        "Exception: HTTPSConnectionPool(host='127.0.0.1', port=5): Max retries exceeded "
        "(Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
        "certificate verify failed: unable to get local issuer certificate')))\n"
    )
    server = "SSLError: [SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:1006)"
    obs = replace(
        locked_observation(fixtures_dir), https_wire=probe(0, stderr=stderr, errors=(server,))
    )
    result = check_ca_https(obs, ca_expect(fixtures_dir))
    assert result.status == "fail"
    assert result.actual.startswith("no request arrived over TLS; conda: Exception: HTTPS")
    assert "CERTIFICATE_VERIFY_FAILED" in result.actual and f"server: {server}" in result.actual
    assert "CondaSSLError" in result.detail


def test_ca_https_skipped_without_the_options(fixtures_dir: Path) -> None:
    why = "not requested: pass --https-cert CERT --https-key KEY (...)"
    obs = replace(locked_observation(fixtures_dir), problems={"https_wire": why})
    result = check_ca_https(obs, ca_expect(fixtures_dir))
    assert result.status == "skip" and result.detail == why
    failed_step = replace(obs, problems={"https_wire": "`conda search ...` could not run: x"})
    assert check_ca_https(failed_step, ca_expect(fixtures_dir)).status == "fail"
    results = by_id(run_checks(locked_observation(fixtures_dir), ca_expect(fixtures_dir)))
    assert results["ca.https"].status == "fail"  # a CA expected, and no probe recorded
