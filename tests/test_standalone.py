"""conda-standalone for each target, from a real channel on loopback: planned without the
network, fetched once, verified, cached, header-checked, handed to constructor as ``_conda``.

The channel's ``conda-standalone`` packages carry small executables of each target's format,
written per the format's specification; nothing here runs them (they are not conda)."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
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

from orgconda.condafetch import FetchError, PackageStore
from orgconda.errors import UsageError
from orgconda.netconfig import NetSettings
from orgconda.progress import Progress
from orgconda.runner import Runner
from orgconda.standalone import (
    NO_RC_ENV,
    PAYLOAD_NAME,
    choose_constraint,
    for_constructor,
    host_version,
    obtain,
    plan_standalones,
    standalone_for,
    standalone_version,
)

EXE = "standalone_conda/conda.exe"
PAYLOADS = {
    "linux-64": elf_executable(62),
    "linux-aarch64": elf_executable(183),
    "osx-64": macho_executable(CPU_TYPE_X86_64),
    "osx-arm64": macho_executable(CPU_TYPE_ARM64),
    "win-64": pe_executable(0x8664),
}


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ch = tmp_path_factory.mktemp("standalone-channel")
    for subdir, payload in PAYLOADS.items():
        make_package(
            ch, "conda-standalone", "26.7.1", "g1_py313_single_0", subdir, {EXE: payload},
            executables=[EXE],
        )  # fmt: skip
    make_package(
        ch, "conda-standalone", "26.5.2", "g0_py313_single_0", "osx-arm64",
        {EXE: PAYLOADS["osx-arm64"]}, executables=[EXE],
    )  # fmt: skip
    make_package(
        ch, "conda-standalone", "26.7.1", "g1_py313_onedir_0", "osx-arm64",
        {EXE: PAYLOADS["osx-arm64"], "standalone_conda/_internal/libpython.dylib": b"lib"},
        executables=[EXE], track_features="conda-standalone_onedir",
    )  # fmt: skip
    index_channel(ch)
    return ch


@pytest.fixture(scope="module")
def wrong_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An osx-arm64 package whose conda.exe is an x86_64 binary."""
    ch = tmp_path_factory.mktemp("wrong-channel")
    make_package(
        ch, "conda-standalone", "26.7.1", "bad_0", "osx-arm64",
        {EXE: PAYLOADS["osx-64"]}, executables=[EXE],
    )  # fmt: skip
    index_channel(ch)
    return ch


def get(source_subdir: str, url: str, cache: Path, constraint: str = "==26.7.1") -> Path:
    source = standalone_for(source_subdir, [url], constraint, cache, reason="test")
    return obtain(source, settings=NetSettings(), cache_root=cache, progress=quiet())


def quiet() -> Progress:
    return Progress(io.StringIO(), tty=False)


def test_plan_reads_no_network_and_writes_nothing(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server:
        source = standalone_for("osx-arm64", [server.url], "==26.7.1", tmp_path / "c", reason="r")
        assert server.requests == []
    assert source.kind == "download" and source.package is None
    assert source.describe() == (
        f"conda-standalone osx-arm64: download conda-standalone ==26.7.1 from {server.url} (r)"
    )
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("subdir", ["linux-aarch64", "osx-64", "osx-arm64", "linux-64"])
def test_each_unix_target_gets_its_own_executable(
    channel: Path, tmp_path: Path, subdir: str
) -> None:
    with ChannelServer(channel) as server:
        exe = get(subdir, server.url, tmp_path)
    assert exe.name == PAYLOAD_NAME
    assert exe.read_bytes() == PAYLOADS[subdir]
    assert exe.stat().st_mode & 0o111
    rel = exe.relative_to(tmp_path).as_posix()
    assert rel.startswith(f"standalone/{subdir}/26.7.1-g1_py313_single_0-")


def test_second_use_downloads_nothing_and_offline_works(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server:
        url = server.url
        first = get("osx-arm64", url, tmp_path)
        assert len(server.package_downloads()) == 1
        server.clear()
        source = standalone_for("osx-arm64", [url], "==26.7.1", tmp_path, reason="host 26.7.1")
        assert source.kind == "cache" and source.exe == first
        assert source.describe().startswith(
            "conda-standalone osx-arm64: cache, conda-standalone-26.7.1-g1_py313_single_0"
        )
        assert obtain(source, settings=NetSettings(), cache_root=tmp_path) == first
        assert server.requests == []  # not even the index
    # The channel is gone: the warm cache is enough.
    assert get("osx-arm64", url, tmp_path) == first


def test_damaged_executable_is_unpacked_again_without_download(
    channel: Path, tmp_path: Path
) -> None:
    with ChannelServer(channel) as server:
        exe = get("osx-64", server.url, tmp_path)
        exe.write_bytes(PAYLOADS["osx-arm64"])  # same size, other bytes
        server.clear()
        again = get("osx-64", server.url, tmp_path)
        assert server.requests == []
    assert again.read_bytes() == PAYLOADS["osx-64"]


def test_corrupted_archive_is_fetched_again_from_its_recorded_url(
    channel: Path, tmp_path: Path
) -> None:
    with ChannelServer(channel) as server:
        exe = get("linux-aarch64", server.url, tmp_path)
        (archive,) = (tmp_path / "pkgs" / "linux-aarch64").rglob("*.conda")
        data = bytearray(archive.read_bytes())
        data[-30] ^= 0x55
        archive.write_bytes(bytes(data))
        shutil.rmtree(exe.parent.parent)  # the unpacked copy is gone too
        server.clear()
        again = get("linux-aarch64", server.url, tmp_path)
        paths = [r.path for r in server.requests]
    assert paths == ["/linux-aarch64/conda-standalone-26.7.1-g1_py313_single_0.conda"]
    assert again.read_bytes() == PAYLOADS["linux-aarch64"]


def test_version_range_takes_the_newest_single_build(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server:
        url = server.url
        exe = get("osx-arm64", url, tmp_path, constraint=">=26.5,<27")
        assert "26.7.1-g1_py313_single_0" in exe.as_posix()  # not the onedir variant
        older = get("osx-arm64", url, tmp_path, constraint="26.5.*")
        assert "26.5.2-g0_py313_single_0" in older.as_posix()
        source = standalone_for("osx-arm64", [url], ">=26.5,<27", tmp_path, reason="profile")
        assert source.kind == "download" and source.package is not None  # asks the channel
        assert "if the channel cannot be reached" in source.describe()
    out = io.StringIO()
    no_retries = NetSettings(max_retries=0)
    fallback = obtain(source, settings=no_retries, cache_root=tmp_path, progress=Progress(out))
    assert fallback == exe and "using the cached conda-standalone-26.7.1" in out.getvalue()


def test_missing_version_says_how_to_fix(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server, pytest.raises(FetchError) as err:
        get("osx-arm64", server.url, tmp_path, constraint="==25.1.0")
    text = str(err.value)
    assert "no `conda-standalone ==25.1.0` for osx-arm64" in text
    assert "--conda-exe osx-arm64=PATH" in text and err.value.exit_code == 3


def test_fetched_executable_of_the_wrong_platform_is_refused(
    wrong_channel: Path, tmp_path: Path
) -> None:
    with ChannelServer(wrong_channel) as server, pytest.raises(UsageError) as err:
        get("osx-arm64", server.url, tmp_path)
    text = str(err.value)
    assert "conda-standalone-26.7.1-bad_0.conda: standalone_conda/conda.exe" in text
    assert "is a Mach-O 64-bit executable for x86_64" in text
    assert "osx-arm64 needs a Mach-O executable for arm64" in text
    assert not list((tmp_path / "standalone").rglob(PAYLOAD_NAME))


def test_conda_exe_flag_is_checked_and_named_for_constructor(tmp_path: Path) -> None:
    given = tmp_path / "downloads" / "conda-26.7.1-osx-arm64.exe"
    given.parent.mkdir()
    given.write_bytes(PAYLOADS["osx-arm64"])
    source = standalone_for("osx-arm64", [], None, tmp_path, flag=given)
    assert source.kind == "flag" and source.describe().endswith(f"--conda-exe {given}")
    exe = obtain(source, settings=NetSettings(), cache_root=tmp_path)
    assert exe.name == PAYLOAD_NAME and exe.read_bytes() == given.read_bytes()
    with pytest.raises(UsageError, match="osx-64 needs a Mach-O executable for x86_64"):
        obtain(standalone_for("osx-64", [], None, tmp_path, flag=given), settings=NetSettings(),
               cache_root=tmp_path)  # fmt: skip
    named = tmp_path / PAYLOAD_NAME
    shutil.copy(given, named)
    flagged = standalone_for("osx-arm64", [], None, tmp_path, flag=named)
    assert obtain(flagged, settings=NetSettings(), cache_root=tmp_path) == named


def test_version_choice_profile_then_host_then_pin() -> None:
    assert choose_constraint(">=26.5", "26.7.1", "26.7.1") == (
        ">=26.5",
        "profile specs.conda_standalone >=26.5",
    )
    assert choose_constraint(None, "26.3.2", "26.7.1") == (
        "==26.3.2",
        "follows the host's conda-standalone 26.3.2",
    )
    assert choose_constraint(None, None, "26.7.1") == ("==26.7.1", "environment.yml pins 26.7.1")


def test_bad_constraint_names_the_profile_field(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"specs\.conda_standalone"):
        standalone_for("osx-64", ["http://x"], ">>26", tmp_path)


def test_cross_targets_get_the_no_rc_switch() -> None:
    native = for_constructor(Path("/c/_conda"), "linux-64", "linux-64")
    assert not native.foreign and native.script_env == {}
    cross = for_constructor(Path("/c/_conda"), "osx-arm64", "linux-64")
    assert cross.foreign and cross.script_env == {"CONDA_RESTRICT_RC_SEARCH_PATH": "1"}
    assert cross.script_env == NO_RC_ENV and cross.path == Path("/c/_conda")


def test_standalone_version_reads_only_conda_output(tmp_path: Path) -> None:
    runner = Runner(echo=lambda line: None)
    assert standalone_version(tmp_path / "absent", runner) is None
    assert standalone_version(Path(sys.executable), runner) is None  # "Python 3.x", not conda


def test_store_lists_cached_packages_from_records(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server:
        get("win-64", server.url, tmp_path)
    (ref,) = PackageStore(tmp_path).cached("win-64", "conda-standalone")
    assert (ref.version, ref.build, ref.subdir) == ("26.7.1", "g1_py313_single_0", "win-64")


def test_plan_covers_every_foreign_target_and_flags_win(channel: Path, tmp_path: Path) -> None:
    given = tmp_path / "given.exe"
    given.write_bytes(PAYLOADS["osx-64"])
    with ChannelServer(channel) as server:
        get("osx-arm64", server.url, tmp_path)  # warm for one target
        server.clear()
        plan = plan_standalones(
            ["linux-64", "linux-aarch64", "osx-64", "osx-arm64"],
            host="linux-64",
            channels=[server.url],
            cache_root=tmp_path,
            profile_constraint=None,
            host_version="26.7.1",
            pinned="26.5.2",
            flags={"osx-64": given},
        )
        assert server.requests == []
    assert {k: v.kind for k, v in plan.items()} == {
        "linux-aarch64": "download",
        "osx-64": "flag",
        "osx-arm64": "cache",
    }
    assert plan["linux-aarch64"].constraint == "==26.7.1"
    assert "follows the host's conda-standalone 26.7.1" in plan["linux-aarch64"].describe()


def test_host_version_from_the_tool_source() -> None:
    runner = Runner(echo=lambda line: None)
    assert host_version("provision", None, "26.7.1", runner) == "26.7.1"
    assert host_version("cache", Path("/x"), "26.7.1", runner) == "26.7.1"
    assert host_version("missing", None, "26.7.1", runner) is None
    assert host_version("path", Path(sys.executable), "26.7.1", runner) is None
