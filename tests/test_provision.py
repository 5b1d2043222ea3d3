"""Provisioning a private environment with py-rattler from a real channel on loopback: created,
reused, checked, rebuilt when damaged, refused on a checksum mismatch, guarded by a lock.

The packages are small test packages (``orgconda-testtool`` and its dependency), not
constructor: the machinery is the same one ``provision()`` runs for the real toolchain, whose
end-to-end test (test_provision_e2e.py) needs a channel holding constructor."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from filelock import FileLock
from loopchannel import (
    CPU_TYPE_ARM64,
    CPU_TYPE_X86_64,
    ChannelServer,
    elf_executable,
    index_channel,
    macho_executable,
    make_package,
    pe_executable,
)

from orgconda import platforms
from orgconda.condafetch import ChecksumMismatch
from orgconda.netconfig import NetSettings
from orgconda.progress import Progress
from orgconda.provision import (
    MARKER,
    EnvRequest,
    ProvisionBusy,
    env_root,
    provision_env,
    tool_sources,
    toolchain_request,
    verify_env,
)
from orgconda.toolchain import read_pins

HOST = platforms.host_subdir()
pytestmark = pytest.mark.skipif(HOST is None, reason="this host is not a conda platform")
NATIVE = {
    "linux-64": elf_executable(62),
    "linux-aarch64": elf_executable(183),
    "osx-64": macho_executable(CPU_TYPE_X86_64),
    "osx-arm64": macho_executable(CPU_TYPE_ARM64),
    "win-64": pe_executable(0x8664),
}
BUILD_PREFIX = "/opt/build_env_placeholder_placeholder_placeholder_placeholder"
TOOL = b"#!/bin/sh\necho orgconda-testtool 1.0\n"
REQUEST = EnvRequest(
    label="orgconda-testtool-1.0",
    specs=("orgconda-testtool ==1.0",),
    required=("bin/orgconda-testtool", "share/orgconda-testlib/data.txt"),
    host_executables=("libexec/orgconda-testtool",),
)
LIB = "noarch/orgconda-testlib-2.1-0.conda"


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert HOST is not None
    ch = tmp_path_factory.mktemp("provision-channel")
    make_package(
        ch,
        "orgconda-testtool",
        "1.0",
        "h0_0",
        HOST,
        {
            "bin/orgconda-testtool": TOOL,
            "libexec/orgconda-testtool": NATIVE[HOST],
            "etc/orgconda-testtool/prefix.txt": f"prefix={BUILD_PREFIX}\n".encode(),
        },
        depends=["orgconda-testlib >=2"],
        executables=["libexec/orgconda-testtool"],
        placeholders={"etc/orgconda-testtool/prefix.txt": BUILD_PREFIX},
    )
    make_package(
        ch,
        "orgconda-testlib",
        "2.1",
        "0",
        "noarch",
        {"share/orgconda-testlib/data.txt": b"data " * 1000},
        noarch="generic",
    )
    index_channel(ch)
    return ch


def run(url: str, cache: Path, out: io.StringIO | None = None, **kw: object) -> tuple[Path, bool]:
    assert HOST is not None
    progress = Progress(out if out is not None else io.StringIO(), tty=False)
    return provision_env(
        REQUEST,
        host=HOST,
        channels=[url],
        settings=NetSettings(),
        cache_root=cache,
        progress=progress,
        **kw,  # type: ignore[arg-type]
    )


def test_creates_an_environment_installed_for_its_final_path(channel: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    with ChannelServer(channel) as server:
        root, built = run(server.url, tmp_path, out)
    assert built and root.parent == tmp_path / "toolchains"
    env = root / "env"
    assert (env / "bin" / "orgconda-testtool").read_bytes() == TOOL
    assert (env / "share" / "orgconda-testlib" / "data.txt").read_bytes() == b"data " * 1000
    # installed in a staging folder, for (and renamed to) its final path
    assert (env / "etc" / "orgconda-testtool" / "prefix.txt").read_text() == f"prefix={env}\n"
    records = sorted(p.name for p in (env / "conda-meta").glob("*.json"))
    assert records == ["orgconda-testlib-2.1-0.json", "orgconda-testtool-1.0-h0_0.json"]
    manifest = json.loads((root / MARKER).read_text())
    assert manifest["specs"] == ["orgconda-testtool ==1.0"] and manifest["host"] == HOST
    assert "bin/orgconda-testtool" in manifest["files"]
    assert not list(tmp_path.glob("toolchains/.staging-*"))
    assert verify_env(root, full=True) == []
    log = out.getvalue()
    assert "downloading 2 packages" in log and f"provisioned {env}" in log
    if os.name == "posix":
        done = subprocess.run([env / "bin" / "orgconda-testtool"], capture_output=True, text=True)
        assert done.stdout == "orgconda-testtool 1.0\n"


def test_reuses_it_without_touching_the_network(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server:
        root, _ = run(server.url, tmp_path)
        server.clear()
        again, built = run(server.url, tmp_path)
        assert server.requests == []
    assert again == root and not built


def test_deleted_file_is_detected_and_rebuilt_from_the_cache(channel: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    with ChannelServer(channel) as server:
        root, _ = run(server.url, tmp_path)
        data = root / "env" / "share" / "orgconda-testlib" / "data.txt"
        data.unlink()
        assert verify_env(root) == [f"missing: {data}"]
        server.clear()
        again, built = run(server.url, tmp_path, out)
        assert server.package_downloads() == []  # the verified package cache was enough
    assert built and again == root and data.read_bytes() == b"data " * 1000
    assert f"{root} is damaged; rebuilding it" in out.getvalue()
    assert f"missing: {data}" in out.getvalue()


def test_truncated_or_changed_files_are_detected(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server:
        root, _ = run(server.url, tmp_path)
    tool = root / "env" / "bin" / "orgconda-testtool"
    tool.write_bytes(TOOL[:10])  # an interrupted write
    assert verify_env(root)[0].startswith(f"size changed: {tool}")
    tool.write_bytes(TOOL.replace(b"1.0", b"9.9"))  # same size, other content
    assert verify_env(root) == []
    assert verify_env(root, full=True) == [
        f"content changed: {tool} (sha256 differs from the manifest)"
    ]


def test_interrupted_provisioning_is_never_used(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server:
        root, _ = run(server.url, tmp_path)
        (root / MARKER).unlink()  # the completion marker is written last
        assert "interrupted or incomplete" in verify_env(root)[0]
        stale = root.with_name(f".staging-{root.name}-99999")
        (stale / "env").mkdir(parents=True)  # what a killed build leaves behind
        again, built = run(server.url, tmp_path)
    assert built and again == root and verify_env(root) == [] and not stale.exists()


def test_checksum_mismatch_is_refused_and_nothing_is_installed(
    channel: Path, tmp_path: Path
) -> None:
    good = (channel / LIB).read_bytes()
    with ChannelServer(channel) as server:
        server.replace[f"/{LIB}"] = good[:-4] + b"evil"
        with pytest.raises(ChecksumMismatch) as err:
            run(server.url, tmp_path)
    assert "orgconda-testlib-2.1-0.conda" in str(err.value) and "does not match" in str(err.value)
    toolchains = tmp_path / "toolchains"
    assert sorted(p.name for p in toolchains.iterdir()) == [
        f"{env_root(tmp_path, REQUEST, HOST or '', [server.url]).name}.lock"
    ]
    assert not list((tmp_path / "pkgs" / "noarch").rglob("*.conda"))


def test_a_held_lock_makes_the_second_build_wait_then_give_up(
    channel: Path, tmp_path: Path
) -> None:
    assert HOST is not None
    with ChannelServer(channel) as server:
        root = env_root(tmp_path, REQUEST, HOST, [server.url])
        root.parent.mkdir(parents=True)
        with FileLock(str(root) + ".lock"), pytest.raises(ProvisionBusy) as err:
            run(server.url, tmp_path, lock_timeout=0.5)
        assert server.requests == []
    assert f"{root}.lock" in str(err.value) and "another orgconda build" in str(err.value)
    assert err.value.exit_code == 3 and not root.exists()


def test_two_builds_at_once_share_one_environment(channel: Path, tmp_path: Path) -> None:
    script = (
        "import io, json, sys\n"
        "from pathlib import Path\n"
        "from orgconda.netconfig import NetSettings\n"
        "from orgconda.progress import Progress\n"
        "from orgconda.provision import EnvRequest, provision_env\n"
        "req = EnvRequest(**json.loads(sys.argv[1]))\n"
        "root, built = provision_env(req, host=sys.argv[2], channels=[sys.argv[3]],\n"
        "    settings=NetSettings(), cache_root=Path(sys.argv[4]),\n"
        "    progress=Progress(io.StringIO(), tty=False))\n"
        "print(json.dumps([str(root), built]))\n"
    )
    request = json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in vars(REQUEST).items()}
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with ChannelServer(channel) as server:
        argv = [sys.executable, "-c", script, request, str(HOST), server.url, str(tmp_path)]
        procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env) for _ in "ab"]
        results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
        assert [p.returncode for p in procs] == [0, 0]
        downloads = server.package_downloads()
    assert results[0][0] == results[1][0]
    assert sorted(r[1] for r in results) == [False, True]  # one built it, the other reused it
    assert sorted(downloads) == sorted(
        f"/{p}" for p in (LIB, f"{HOST}/orgconda-testtool-1.0-h0_0.conda")
    )
    assert verify_env(Path(results[0][0]), full=True) == []


def test_provisioning_installs_exactly_environment_yml_pins(repo: Path) -> None:
    data = yaml.safe_load((repo / "environment.yml").read_text())
    deps = [d for d in data["dependencies"] if isinstance(d, str)]
    pinned = {d.split()[0]: d.split()[1].removeprefix("==") for d in deps if "==" in d}
    assert set(pinned) == {"constructor", "conda-standalone"}
    request = toolchain_request(read_pins(repo / "environment.yml"))
    assert f"constructor =={pinned['constructor']}" in request.specs
    assert f"conda-standalone =={pinned['conda-standalone']}" in request.specs
    python = next(d for d in deps if d.split()[0] == "python")
    assert python in request.specs
    assert "standalone_conda/conda.exe" in request.host_executables


def test_plan_says_where_each_tool_comes_from(tmp_path: Path) -> None:
    pins = read_pins()
    channels = ["https://conda.anaconda.org/conda-forge"]
    empty = tmp_path / "empty-path"
    empty.mkdir()
    kw = {"host": "linux-64", "channels": channels, "cache_root": tmp_path, "path": str(empty)}
    fresh = tool_sources(pins, **kw)  # type: ignore[arg-type]
    assert {k: v.kind for k, v in fresh.items()} == {
        "constructor": "provision",
        "conda-standalone": "provision",
    }
    root = env_root(tmp_path, toolchain_request(pins), "linux-64", channels)
    assert fresh["constructor"].path == root / "env" / "bin" / "constructor"
    assert "3.16.3" in fresh["constructor"].describe()
    assert "from https://conda.anaconda.org/conda-forge" in fresh["constructor"].detail
    off = tool_sources(pins, allow_provision=False, **kw)  # type: ignore[arg-type]
    assert off["constructor"].kind == "missing" and "--no-provision" in off["constructor"].detail
    root.mkdir(parents=True)
    (root / MARKER).write_text("{}")  # a provisioned environment is there (checked at use)
    assert tool_sources(pins, **kw)["constructor"].kind == "cache"  # type: ignore[arg-type]
    assert not (tmp_path / "pkgs").exists()  # planning downloads nothing


def test_tool_paths_put_a_provisioned_environment_first_on_path(tmp_path: Path) -> None:
    from orgconda.provision import ToolPaths, bin_dir

    prefix = tmp_path / "env"
    exe = prefix / "standalone_conda" / "conda.exe"
    paths = ToolPaths(prefix / "bin" / "constructor", exe, prefix)
    env = paths.env({"PATH": "/usr/bin", "HOME": "/h"})
    assert env["PATH"].split(os.pathsep)[0] == str(bin_dir(prefix))
    assert env["PATH"].endswith("/usr/bin") and env["HOME"] == "/h"
    assert ToolPaths(Path("/x/bin/constructor"), Path("/s"), None).env({"PATH": "/a"}) == {
        "PATH": "/a"
    }
