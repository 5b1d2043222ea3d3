"""Channel access and the package cache against a real channel on loopback: repodata read with
py-rattler, downloads checked against the channel's sha256, cached by subdir/name/version/build/
sha256, proxies and CA bundles from the build machine's conda settings honoured."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from loopchannel import (
    ChannelServer,
    RecordingProxy,
    elf_executable,
    index_channel,
    make_ca_and_server_cert,
    make_package,
    repodata,
)

from orgconda.condafetch import (
    CACHE_ENV,
    ChecksumMismatch,
    FetchError,
    PackageStore,
    default_cache_dir,
    download,
    query,
    sha256_file,
)
from orgconda.netconfig import NetSettings
from orgconda.progress import Progress

PLAIN = NetSettings()
SPEC = ["orgconda-fixture"]


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ch = tmp_path_factory.mktemp("channel")
    make_package(
        ch,
        "orgconda-fixture",
        "1.0",
        "h0_0",
        "linux-64",
        {"libexec/orgconda-fixture": elf_executable(62), "share/fixture.txt": b"x" * 50_000},
        executables=["libexec/orgconda-fixture"],
    )
    index_channel(ch)
    return ch


def quiet() -> Progress:
    return Progress(io.StringIO(), tty=False)


def fetch_one(url: str, cache: Path, settings: NetSettings = PLAIN) -> Path:
    refs = query([url], ["linux-64"], SPEC, settings, cache)
    assert [r.dist for r in refs] == ["orgconda-fixture-1.0-h0_0"]
    return download(refs, PackageStore(cache), settings, quiet())[refs[0].key]


def test_download_is_verified_cached_and_never_repeated(channel: Path, tmp_path: Path) -> None:
    entry = repodata(channel, "linux-64")["orgconda-fixture-1.0-h0_0.conda"]
    with ChannelServer(channel) as server:
        path = fetch_one(server.url, tmp_path)
        assert server.package_downloads() == ["/linux-64/orgconda-fixture-1.0-h0_0.conda"]
        assert sha256_file(path) == entry["sha256"]
        assert path.read_bytes() == (channel / "linux-64" / path.name).read_bytes()
        rel = path.relative_to(tmp_path).as_posix()
        assert rel == f"pkgs/linux-64/orgconda-fixture/1.0-h0_0/{entry['sha256']}/{path.name}"
        assert (path.parent / "record.json").is_file()
        server.clear()
        assert fetch_one(server.url, tmp_path) == path
        assert server.package_downloads() == []  # second use: nothing downloaded
    assert not list(tmp_path.rglob("*.part"))


def test_corrupted_cache_entry_is_detected_and_fetched_again(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server:
        path = fetch_one(server.url, tmp_path)
        damaged = bytearray(path.read_bytes())
        damaged[len(damaged) // 2] ^= 0xFF
        path.write_bytes(bytes(damaged))  # same size: only the checksum can tell
        server.clear()
        again = fetch_one(server.url, tmp_path)
        assert len(server.package_downloads()) == 1
        assert again.read_bytes() == (channel / "linux-64" / path.name).read_bytes()


def test_checksum_mismatch_is_refused_and_nothing_is_kept(channel: Path, tmp_path: Path) -> None:
    original = (channel / "linux-64" / "orgconda-fixture-1.0-h0_0.conda").read_bytes()
    with ChannelServer(channel) as server:
        server.replace["/linux-64/orgconda-fixture-1.0-h0_0.conda"] = original[:-1] + b"!"
        with pytest.raises(ChecksumMismatch) as err:
            fetch_one(server.url, tmp_path)
    text = str(err.value)
    assert "orgconda-fixture-1.0-h0_0.conda" in text and "does not match" in text
    assert repodata(channel, "linux-64")["orgconda-fixture-1.0-h0_0.conda"]["sha256"] in text
    assert err.value.exit_code == 3
    assert [p for p in (tmp_path / "pkgs").rglob("*") if p.is_file()] == []


def test_offline_setting_reads_only_the_cache(channel: Path, tmp_path: Path) -> None:
    offline = NetSettings(offline=True, origins={"offline": "~/.condarc"})
    with ChannelServer(channel) as server:
        refs = query([server.url], ["linux-64"], SPEC, PLAIN, tmp_path)
        with pytest.raises(FetchError, match=r"offline is set \(~/.condarc\)"):
            download(refs, PackageStore(tmp_path), offline, quiet())
        server.clear()
        with pytest.raises(FetchError, match=r"offline is set \(~/.condarc\)"):
            query([server.url], ["linux-64"], SPEC, offline, tmp_path)
        assert server.requests == []
        download(refs, PackageStore(tmp_path), PLAIN, quiet())
    # The server is gone; the cached, verified file is all it takes.
    assert download(refs, PackageStore(tmp_path), offline, quiet())[refs[0].key].is_file()


def test_unreachable_channel_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FetchError) as err:
        query(
            ["http://127.0.0.1:9/nowhere"], ["linux-64"], SPEC, NetSettings(max_retries=0), tmp_path
        )
    assert "http://127.0.0.1:9/nowhere" in str(err.value)
    assert "proxy_servers" in str(err.value) and err.value.exit_code == 3


def test_condarc_proxy_servers_carry_every_request(channel: Path, tmp_path: Path) -> None:
    with ChannelServer(channel) as server, RecordingProxy() as proxy:
        settings = NetSettings(proxies={"http": proxy.url}, origins={"proxy_servers": "rc"})
        fetch_one(server.url, tmp_path, settings)
        seen = proxy.seen
    assert f"{server.url}/linux-64/repodata.json" in seen
    assert f"{server.url}/linux-64/orgconda-fixture-1.0-h0_0.conda" in seen
    assert len(server.requests) == len(seen)  # nothing went around the proxy


def test_https_proxy_environment_variable_is_honoured(
    channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ChannelServer(channel) as server, RecordingProxy() as proxy:
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        fetch_one(server.url, tmp_path)
        assert f"{server.url}/linux-64/orgconda-fixture-1.0-h0_0.conda" in proxy.seen


def test_https_channel_needs_the_condarc_ca_bundle(channel: Path, tmp_path: Path) -> None:
    ca, tls = make_ca_and_server_cert(tmp_path)
    with ChannelServer(channel, tls=tls) as server:
        with pytest.raises(FetchError, match=server.url):
            query([server.url], ["linux-64"], SPEC, NetSettings(max_retries=0), tmp_path / "a")
        trusted = NetSettings(ssl_verify=str(ca), ca_bundle=str(ca))
        assert fetch_one(server.url, tmp_path / "b", trusted).is_file()
        unverified = NetSettings(ssl_verify=False)
        assert fetch_one(server.url, tmp_path / "c", unverified).is_file()
    assert os.environ.get("SSL_CERT_FILE") != str(ca)  # the process environment is restored


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert default_cache_dir({CACHE_ENV: str(tmp_path / "c")}) == tmp_path / "c"
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert default_cache_dir({}) == tmp_path / "xdg" / "orgconda"
        monkeypatch.delenv("XDG_CACHE_HOME")
        assert default_cache_dir({}) == Path.home() / ".cache" / "orgconda"
    elif sys.platform == "darwin":
        assert default_cache_dir({}) == Path.home() / "Library" / "Caches" / "orgconda"
    else:
        local = Path(os.environ["LOCALAPPDATA"])
        assert default_cache_dir({}) == local / "orgconda" / "Cache"


def test_progress_plain_lines_without_a_terminal(channel: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    with ChannelServer(channel) as server:
        refs = query([server.url], ["linux-64"], SPEC, PLAIN, tmp_path)
        download(refs, PackageStore(tmp_path), PLAIN, Progress(out, tty=False))
    lines = out.getvalue().splitlines()
    size = refs[0].size
    assert size is not None and size > 1000
    assert lines[0] == f"downloading 1 package ({size / 1000:.1f} kB)"
    assert lines[1].startswith(f"  orgconda-fixture-1.0-h0_0.conda ({size / 1000:.1f} kB) from ")
    assert lines[2].startswith(f"downloaded 1 of 1 package, {size / 1000:.1f} kB in ")
    assert "\r" not in out.getvalue()


def test_progress_bar_on_a_terminal(channel: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    with ChannelServer(channel) as server:
        refs = query([server.url], ["linux-64"], SPEC, PLAIN, tmp_path)
        download(refs, PackageStore(tmp_path), PLAIN, Progress(out, tty=True))
    text = out.getvalue()
    size = refs[0].size
    assert size is not None
    full = f"[{'#' * 28}] {size / 1000:.1f} kB / {size / 1000:.1f} kB  1/1 packages"
    assert "\r" in text and full in text
