"""The staged .sh hooks inside a real installer: constructor builds one from a local channel
(ORGCONDA_E2E_CHANNEL), and its own header.sh runs them. What header.sh does around the hooks
is what the retry removal relies on (issue 17, item 6); the installed conda reads the CA
setting (DESIGN item 3). Skipped with the reason where constructor or the channel is missing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import require_tool

from orgconda.hooks import staged_hooks
from orgconda.platforms import host_subdir

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def installer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    constructor = require_tool("constructor")
    channel = os.environ.get("ORGCONDA_E2E_CHANNEL")
    if not channel:
        pytest.skip("ORGCONDA_E2E_CHANNEL is not set: the URL of a channel with python and conda")
    host = host_subdir()
    if host is None or host.startswith("win"):
        pytest.skip(f"the .sh hooks need a Linux or macOS host (this one: {host})")
    src = tmp_path_factory.mktemp("construct")
    for name, text in staged_hooks("sh").items():
        (src / name).write_text(text, encoding="ascii")
    (src / "acme-root.pem").write_bytes(PEM)
    (src / "construct.yaml").write_text(
        "name: HookTest\n"
        "version: 1.0.0\n"
        f"channels:\n  - {channel}\n"
        "specs:\n  - python\n  - conda\n"
        "installer_type: sh\n"
        "pre_install: pre_install.sh\n"
        "post_install: post_install.sh\n"
        "extra_files:\n  - acme-root.pem: etc/orgconda/acme-root.pem\n"
        "script_env_variables:\n"
        "  ORGCONDA_INSTALLER_TOKEN: HookTest-1\n"
        "  ORGCONDA_ORG_TOKEN: acme-corp\n"
        "  ORGCONDA_TOKEN_SCOPE: prefix\n"
        "  ORGCONDA_CA_FILE: etc/orgconda/acme-root.pem\n"
    )
    out = tmp_path_factory.mktemp("out")
    built = subprocess.run(
        [constructor, str(src), "--output-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (found,) = out.glob("HookTest-1.0.0-*.sh")
    yield found


def install(
    installer: Path, home: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(installer), *args],
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def test_a_refused_install_can_be_retried_as_it_was(installer: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "opt" / "hooktest"
    refused = install(installer, tmp_path, "-b", "-p", str(prefix), ORGCONDA_MACHINE_TOKEN="a b")
    assert refused.returncode == 1
    assert "ERROR: executing pre_install.sh failed" in refused.stderr
    assert f"removed {prefix}, which this install created" in refused.stderr
    assert not prefix.exists()

    retried = install(installer, tmp_path, "-b", "-p", str(prefix))
    assert retried.returncode == 0, retried.stdout[-3000:] + retried.stderr[-3000:]
    ca = prefix / "etc" / "orgconda" / "acme-root.pem"
    assert ca.read_bytes() == PEM
    shown = subprocess.run(
        [str(prefix / "bin" / "conda"), "config", "--show", "ssl_verify", "--json"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert yaml.safe_load(shown.stdout) == {"ssl_verify": str(ca)}


def test_a_refused_update_keeps_the_installation(installer: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "hooktest"
    assert install(installer, tmp_path, "-b", "-p", str(prefix)).returncode == 0
    machine = (prefix / "machine_token").read_bytes()

    refused = install(
        installer, tmp_path, "-b", "-u", "-p", str(prefix), ORGCONDA_MACHINE_TOKEN="x/y"
    )
    assert refused.returncode == 1
    assert "run the same command again" in refused.stderr
    assert (prefix / "bin" / "conda").is_file()

    again = install(installer, tmp_path, "-b", "-u", "-p", str(prefix))
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert (prefix / "machine_token").read_bytes() == machine
    assert "machine_token (kept)" in again.stdout
    if os.geteuid() == 0:  # root on a root-owned prefix: an all-users install
        assert "kept the environment token in" in again.stdout
        assert "seeded" not in again.stdout
