"""Checks on the bundled root CA: ``ca.bundled`` (conda's ssl_verify names the bundled file,
in the prefix, with the built bytes) and ``ca.https`` (the installed conda completes a TLS
handshake with a loopback server whose certificate the bundled CA signed)."""

from __future__ import annotations

import re

from .expect import Expectation
from .observation import NOT_REQUESTED, Observation, is_absolute, join_prefix, normalize_path
from .result import CheckResult, make_result, make_skip

HTTPS_OPTIONS = "--https-cert CERT --https-key KEY"
_SSL_HINT = re.compile(r"ssl|certificate|tls|handshake", re.IGNORECASE)


def check_ca_bundled(obs: Observation, expect: Expectation) -> CheckResult:
    id_ = "ca.bundled"
    ca = expect.ca_certificate
    if ca is None:
        why = (
            "no bundled CA expected (the manifest's ca_certificate is null)"
            if expect.from_manifest
            else "not requested: this installer has no manifest entry saying which CA it bundles"
        )
        return make_skip(id_, "ssl_verify naming the bundled CA", why)
    want = join_prefix(obs.prefix, ca.path)
    expected = (
        f"conda config --show ssl_verify: the absolute path {want}, a file with sha256 {ca.sha256}"
    )
    if obs.ssl_verify is None:
        return make_result(id_, False, expected, obs.missing("ssl_verify"))
    value = obs.ssl_verify.get("ssl_verify")
    if not isinstance(value, str):
        return make_result(id_, False, expected, f"ssl_verify is {value!r}, not a path")
    problems = []
    if not is_absolute(value):
        problems.append(f"{value} is not an absolute path")
    elif normalize_path(value) != normalize_path(want):
        problems.append(f"{value} is not the bundled file")
    files = obs.ca_files
    if files is None:
        problems.append(obs.missing("ca_files"))
    elif files.ssl_verify_sha256 is None:
        problems.append(f"{value} does not exist")
    elif files.ssl_verify_sha256 != ca.sha256:
        problems.append(f"{value} has sha256 {files.ssl_verify_sha256}")
    actual = "; ".join(problems) if problems else f"ssl_verify: {value} (sha256 matches)"
    return make_result(id_, not problems, expected, actual)


def check_ca_https(obs: Observation, expect: Expectation) -> CheckResult:
    id_ = "ca.https"
    expected = (
        "conda search against https://127.0.0.1:PORT/ (a server certificate signed by the "
        "bundled CA): at least one request arrives over TLS"
    )
    probe = obs.https_wire
    if probe is None:
        why = obs.problems.get("https_wire", "")
        if why.startswith(NOT_REQUESTED) or (not why and expect.ca_certificate is None):
            return make_skip(id_, expected, why or f"not requested: no {HTTPS_OPTIONS}")
        return make_result(id_, False, expected, obs.missing("https_wire"))
    facts = probe.facts
    count = len(probe.requests)
    if count:
        handshakes = "" if facts.handshakes is None else f", {facts.handshakes} TLS handshakes"
        return make_result(id_, True, expected, f"{count} requests over TLS{handshakes}")
    problems = ["no request arrived over TLS"]
    conda_says = [line.strip() for line in facts.stderr if _SSL_HINT.search(line)]
    if conda_says:
        problems.append(f"conda: {conda_says[-1]}")
    elif facts.exit_code is not None:
        problems.append(f"conda exited {facts.exit_code}")
    if facts.tls_errors:
        problems.append(f"server: {facts.tls_errors[0]}")
    detail = "\n".join(facts.stderr[-12:])
    return make_result(id_, False, expected, "; ".join(problems), detail)
