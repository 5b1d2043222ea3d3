"""The org configuration package: what it ships, the reproducible archive (read back with
py-rattler), name/version/build-number rules, the local and published channels, constructor's
cache, and the `config-package` command. No conda-build: the package is written here."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
import zstandard
from certs_util import write_ca
from helpers import default_profile_data, run_build_py, write_profile
from rattler.package import IndexJson, PathsJson

from orgconda import condarc, configpkg
from orgconda.configpkg import channel
from orgconda.configpkg.archive import MTIME, archive_bytes, write_package
from orgconda.configpkg.package import PREFIX_PLACEHOLDER
from orgconda.profile import Profile, load_profile

NAME = "acme-corp-conda-config"
PUBLISH = "https://conda.acme.example/internal"


def _data(**changes: Any) -> dict[str, Any]:
    """The default profile with the package on; ``a__b=value`` sets data[a][b]."""
    data = default_profile_data()
    data["config_package"] = {"enabled": True, "build_number": 3, "publish_channel": PUBLISH}
    for dotted, value in changes.items():
        node = data
        keys = dotted.split("__")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return data


def _profile(tmp_path: Path, **changes: Any) -> Profile:
    return load_profile(write_profile(tmp_path, _data(**changes)))


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    return _profile(tmp_path / "p")


def _members(data: bytes) -> dict[str, dict[str, tarfile.TarInfo | bytes]]:
    """{zip member: {tar member: bytes}} of a .conda file, with the tar headers under "@name"."""
    out: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            raw = zf.read(info)
            if not info.filename.endswith(".tar.zst"):
                out[info.filename] = {"": raw, "@zip": info}
                continue
            tar_bytes = zstandard.ZstdDecompressor().decompress(raw)
            members: dict[str, Any] = {"@zip": info}
            with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
                for m in tar.getmembers():
                    members["@" + m.name] = m
                    members[m.name] = tar.extractfile(m).read()  # type: ignore[union-attr]
            out[info.filename] = members
    return out


# --- what it ships ----------------------------------------------------------------------


def test_shipped_files_are_what_the_profile_renders(profile: Profile) -> None:
    pkg = configpkg.describe(profile)
    shipped = pkg.files["condarc.d/acme-corp.yml"].data.decode()
    assert shipped == condarc.render_condarc(profile, org_settings=True, extra_aggressive=(NAME,))
    assert "anaconda_anon_usage: true #!final\n" in shipped
    parsed = yaml.safe_load(shipped)
    assert parsed["aggressive_update_packages"] == [
        "anaconda-anon-usage",
        "ca-certificates",
        "certifi",
        "openssl",
        NAME,
    ]
    assert parsed["channel_priority"] == "strict"
    record = json.loads(pkg.files["etc/orgconda/config.json"].data)
    assert record == {
        "format": 1,
        "profile": "AcmeConda",
        "installer_version": "2026.11",
        "name": NAME,
        "version": "2026.11",
        "build_number": 3,
        "condarc_file": "condarc.d/acme-corp.yml",
        "condarc_sha256": hashlib.sha256(shipped.encode()).hexdigest(),
        "ca_certificate": None,
    }
    assert sorted(pkg.files) == ["condarc.d/acme-corp.yml", "etc/orgconda/config.json"]


def test_the_archive_reads_back_with_rattler(profile: Profile, tmp_path: Path) -> None:
    pkg = configpkg.describe(profile)
    path = write_package(pkg, tmp_path)
    assert path.name == pkg.filename == f"{NAME}-2026.11-{pkg.build_string}.conda"
    index = IndexJson.from_package_archive(path)
    assert (index.name.normalized, str(index.version), str(index.build)) == (
        NAME,
        "2026.11",
        pkg.build_string,
    )
    assert index.build_number == 3 and index.subdir == "noarch" and index.depends == []
    assert index.noarch.generic
    paths = PathsJson.from_package_archive(path)
    by_path = {str(e.relative_path): e for e in paths.paths}
    assert sorted(by_path) == sorted(pkg.files)
    for rel, entry in by_path.items():
        assert entry.sha256 == bytes.fromhex(pkg.files[rel].sha256)
        assert entry.size_in_bytes == len(pkg.files[rel].data)
        assert entry.prefix_placeholder is None  # no certificate: nothing to rewrite
    members = _members(path.read_bytes())
    payload = members[f"pkg-{path.name.removesuffix('.conda')}.tar.zst"]
    assert payload["condarc.d/acme-corp.yml"] == pkg.files["condarc.d/acme-corp.yml"].data


def test_identical_configuration_gives_identical_bytes(tmp_path: Path) -> None:
    """Two checkouts in different folders, built at different times: one sha256."""
    first = archive_bytes(configpkg.describe(_profile(tmp_path / "checkout-a")))
    second = archive_bytes(configpkg.describe(_profile(tmp_path / "elsewhere" / "b")))
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    changed = archive_bytes(
        configpkg.describe(_profile(tmp_path / "c", condarc__report_errors=True))
    )
    assert changed != first


def test_nothing_machine_specific_in_the_archive(profile: Profile) -> None:
    data = archive_bytes(configpkg.describe(profile))
    for zip_name, members in _members(data).items():
        info = members["@zip"]
        assert info.date_time == (1980, 1, 1, 0, 0, 0) and info.create_system == 3, zip_name
        for key, value in members.items():
            if key.startswith("@") and isinstance(value, tarfile.TarInfo):
                assert (value.mtime, value.uid, value.gid) == (MTIME, 0, 0), key
                assert (value.uname, value.gname, value.mode) == ("", "", 0o644), key
        names = [k for k in members if not k.startswith("@")]
        assert names == sorted(names)
    assert str(Path.home()).encode() not in data and b"/tmp/" not in data


def test_a_certificate_ships_with_a_placeholder_conda_rewrites(tmp_path: Path) -> None:
    ca = write_ca(tmp_path / "p" / "certs" / "acme-root.pem")
    profile = _profile(tmp_path / "p", condarc__ca_certificate="certs/acme-root.pem")
    pkg = configpkg.describe(profile)
    assert pkg.files["etc/orgconda/acme-root.pem"].data == ca.read_bytes()
    rc = yaml.safe_load(pkg.condarc)
    assert rc["ssl_verify"] == f"{PREFIX_PLACEHOLDER}/etc/orgconda/acme-root.pem"
    path = write_package(pkg, tmp_path / "out")
    entries = {str(e.relative_path): e for e in PathsJson.from_package_archive(path).paths}
    placeholder = entries["condarc.d/acme-corp.yml"].prefix_placeholder
    assert placeholder is not None and placeholder.placeholder == PREFIX_PLACEHOLDER
    assert placeholder.file_mode.text
    assert entries["etc/orgconda/acme-root.pem"].prefix_placeholder is None
    record = json.loads(pkg.files["etc/orgconda/config.json"].data)
    assert record["ca_certificate"] == "etc/orgconda/acme-root.pem"


def test_build_string_follows_the_content(tmp_path: Path) -> None:
    a = configpkg.describe(_profile(tmp_path / "a"))
    again = configpkg.describe(_profile(tmp_path / "b"))
    changed = configpkg.describe(_profile(tmp_path / "c", condarc__report_errors=True))
    assert a.build_string == again.build_string
    assert changed.build_string != a.build_string and changed.build_number == a.build_number
    assert changed.spec == f"{NAME} ==2026.11 {changed.build_string}"
    assert a.build_string.endswith("_3") and len(a.build_string) == len("h12345678_3")


# --- rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("installer_version", "conda_version"),
    [("2026.11", "2026.11"), ("2026.11-1", "2026.11_1"), ("2026.11-RC1", "2026.11_rc1")],
)
def test_installer_version_maps_to_a_conda_version(
    tmp_path: Path, installer_version: str, conda_version: str
) -> None:
    profile = _profile(tmp_path, installer__version=installer_version)
    pkg = configpkg.describe(profile)
    assert pkg.version == conda_version and "-" not in pkg.version
    stem = pkg.filename.removesuffix(".conda")
    assert stem.startswith(f"{NAME}-{conda_version}-h")
    assert len(stem.split("-")) == len(NAME.split("-")) + 2  # name-version-build


BAD = [
    # (case, changes, field named in the message, needle)
    ("double-dash-slug", {"config_package__slug": "acme--corp"}, "config_package.slug", "two"),
    ("upper-slug", {"config_package__slug": "Acme"}, "config_package.slug", "Acme"),
    ("dot-slug", {"config_package__slug": "acme.corp"}, "config_package.slug", "acme.corp"),
    (
        "derived-from-token",
        {"telemetry__org_token": "acme__corp"},
        "config_package.slug",
        "derived from telemetry.org_token",
    ),
    ("empty-version-part", {"installer__version": "2026._11"}, "installer.version", "empty"),
    ("leading-underscore", {"installer__version": "_2026"}, "installer.version", "empty"),
    ("negative-build", {"config_package__build_number": -1}, "config_package.build_number", "0"),
]


@pytest.mark.parametrize(("case", "changes", "field", "needle"), BAD, ids=[b[0] for b in BAD])
def test_names_conda_would_reject_are_refused_with_the_field(
    tmp_path: Path, case: str, changes: dict[str, Any], field: str, needle: str
) -> None:
    path = write_profile(tmp_path / "p", _data(**changes), name="bad.yaml")
    build, dist = tmp_path / "build", tmp_path / "dist"
    proc = run_build_py("config-package", "--profile", str(path), "--dist-dir", str(dist))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert f"`{field}`" in proc.stderr and needle in proc.stderr
    assert not build.exists() and not dist.exists()


def test_rules_accept_the_documented_names(tmp_path: Path) -> None:
    for slug in ("acme", "acme-corp", "acme_corp2", "0day"):
        profile = _profile(tmp_path / slug, config_package__slug=slug)
        assert configpkg.package_problems(profile) == []
        assert configpkg.describe(profile).name == f"{slug}-conda-config"


def test_config_package_refuses_a_profile_with_the_package_off(tmp_path: Path) -> None:
    path = write_profile(tmp_path, _data(config_package__enabled=False))
    proc = run_build_py("config-package", "--profile", str(path), "--dist-dir", str(tmp_path / "d"))
    assert proc.returncode == 2
    assert "config_package.enabled is false" in proc.stderr


# --- the local channel, the publish channel, constructor's cache -------------------------


def _sha(pkg: configpkg.ConfigPackage) -> str:
    return hashlib.sha256(archive_bytes(pkg)).hexdigest()


def test_the_same_bytes_in_dist_channel_are_reused(profile: Profile, tmp_path: Path) -> None:
    pkg = configpkg.describe(profile)
    write_package(pkg, tmp_path / "channel" / "noarch")
    same, problems = channel.local_conflicts(pkg, _sha(pkg), tmp_path / "channel")
    assert same == tmp_path / "channel" / "noarch" / pkg.filename and problems == []


def test_other_bytes_under_the_same_name_are_refused(profile: Profile, tmp_path: Path) -> None:
    pkg = configpkg.describe(profile)
    noarch = tmp_path / "channel" / "noarch"
    noarch.mkdir(parents=True)
    (noarch / pkg.filename).write_bytes(b"made by an older orgconda")
    same, problems = channel.local_conflicts(pkg, _sha(pkg), tmp_path / "channel")
    assert same is None and len(problems) == 1
    assert _sha(pkg) in problems[0] and "build_number to 4" in problems[0]


def test_a_changed_configuration_must_bump_the_build_number(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    old = _profile(tmp_path / "old")
    write_package(configpkg.describe(old), dist / "channel" / "noarch")
    path = write_profile(tmp_path / "new", _data(condarc__report_errors=True))
    proc = run_build_py("config-package", "--profile", str(path), "--dist-dir", str(dist))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "`config_package.build_number` (line " in proc.stderr
    assert "set config_package.build_number to 4" in proc.stderr
    # one hint, not two contradicting ones
    assert proc.stderr.count("build_number to") == 1


def test_a_lower_build_number_than_the_channel_is_refused(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    write_package(configpkg.describe(_profile(tmp_path / "a")), dist / "channel" / "noarch")
    path = write_profile(tmp_path / "b", _data(config_package__build_number=1))
    proc = run_build_py("config-package", "--profile", str(path), "--dist-dir", str(dist))
    assert proc.returncode == 2
    assert "newer than build 1" in proc.stderr and "build_number to 4" in proc.stderr


def test_config_package_writes_indexes_and_then_reuses(tmp_path: Path) -> None:
    path = write_profile(tmp_path / "p", _data())
    dist = tmp_path / "dist"
    first = run_build_py("config-package", "--profile", str(path), "--dist-dir", str(dist))
    assert first.returncode == 0, first.stdout + first.stderr
    pkg = configpkg.describe(load_profile(path))
    built = dist / "channel" / "noarch" / pkg.filename
    repodata = json.loads((dist / "channel" / "noarch" / "repodata.json").read_text())
    record = repodata["packages.conda"][pkg.filename]
    assert record["sha256"] == hashlib.sha256(built.read_bytes()).hexdigest()
    assert record["build_number"] == 3 and record["name"] == NAME
    before = built.stat().st_mtime_ns
    second = run_build_py("config-package", "--profile", str(path), "--dist-dir", str(dist))
    assert second.returncode == 0 and "nothing to write" in second.stdout
    assert built.stat().st_mtime_ns == before


def test_config_package_dry_run_writes_nothing(tmp_path: Path) -> None:
    path = write_profile(tmp_path / "p", _data())
    proc = run_build_py(
        "config-package", "--profile", str(path), "--dist-dir", str(tmp_path / "d"), "--dry-run"
    )
    assert proc.returncode == 0, proc.stderr
    assert "would write" in proc.stdout and not (tmp_path / "d").exists()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a folder as a channel."""
    root = tmp_path / "served"
    (root / "noarch").mkdir(parents=True)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_the_publish_channel_is_the_truth(profile: Profile, served: tuple[str, Path]) -> None:
    url, root = served
    pkg = configpkg.describe(profile)
    sha = _sha(pkg)
    assert channel.published_status(pkg, sha, url).state == "unreachable"  # no repodata yet
    write_package(configpkg.describe(profile), root / "noarch")
    channel.index_channel(root)
    assert channel.published_status(pkg, sha, url).state == "same"
    repodata = json.loads((root / "noarch" / "repodata.json").read_text())
    repodata["packages.conda"][pkg.filename]["sha256"] = "0" * 64
    (root / "noarch" / "repodata.json").write_text(json.dumps(repodata))
    status = channel.published_status(pkg, sha, url)
    assert status.state == "different" and "0" * 64 in status.detail and sha in status.detail
    repodata["packages.conda"] = {}
    (root / "noarch" / "repodata.json").write_text(json.dumps(repodata))
    assert channel.published_status(pkg, sha, url).state == "absent"
    assert channel.published_status(pkg, sha, PUBLISH).state == "unchecked"  # .example


def test_build_refuses_what_the_publish_channel_has_with_other_bytes(
    tmp_path: Path, served: tuple[str, Path]
) -> None:
    url, root = served
    path = write_profile(tmp_path / "p", _data(config_package__publish_channel=url))
    pkg = configpkg.describe(load_profile(path))
    published = hashlib.sha256(b"published earlier, other content").hexdigest()
    record = {"name": NAME, "version": "2026.11", "build": pkg.build_string, "sha256": published}
    repodata = {
        "info": {"subdir": "noarch"},
        "packages": {},
        "packages.conda": {pkg.filename: record},
    }
    (root / "noarch" / "repodata.json").write_text(json.dumps(repodata))
    proc = run_build_py(
        "build",
        "--profile",
        str(path),
        "--build-dir",
        str(tmp_path / "b"),
        "--dist-dir",
        str(tmp_path / "d"),
        "--platform",
        "linux-64",
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert published in proc.stderr and _sha(pkg) in proc.stderr
    assert "bump config_package.build_number" in proc.stderr


def test_constructor_cache_entries_with_other_bytes_are_found(
    profile: Profile, tmp_path: Path
) -> None:
    pkg = configpkg.describe(profile)
    stem = pkg.filename.removesuffix(".conda")
    cache = tmp_path / "cache"
    stale = cache / "linux-64"
    stale.mkdir(parents=True)
    (stale / pkg.filename).write_bytes(b"an earlier build under the same name")
    (stale / stem / "info").mkdir(parents=True)
    (stale / stem / "info" / "repodata_record.json").write_text('{"sha256": "123"}')
    fine = cache / "win-64"
    write_package(pkg, fine)
    (fine / stem / "info").mkdir(parents=True)
    (fine / stem / "info" / "repodata_record.json").write_text(json.dumps({"sha256": _sha(pkg)}))
    found = channel.cache_conflicts(pkg, _sha(pkg), [cache])
    assert found == [stale / pkg.filename, stale / stem]
    channel.remove_paths(found)
    assert not (stale / pkg.filename).exists() and (fine / pkg.filename).is_file()


def test_build_dry_run_shows_the_config_step_and_the_cache_it_cleans(tmp_path: Path) -> None:
    path = write_profile(tmp_path / "p", _data())
    pkg = configpkg.describe(load_profile(path))
    cache = tmp_path / "cache"
    (cache / "linux-64").mkdir(parents=True)
    (cache / "linux-64" / pkg.filename).write_bytes(b"stale")
    proc = run_build_py(
        "build",
        "--dry-run",
        "--profile",
        str(path),
        "--build-dir",
        str(tmp_path / "b"),
        "--dist-dir",
        str(tmp_path / "d"),
        env={"CONSTRUCTOR_CACHE": str(cache)},
    )
    assert proc.returncode == 0, proc.stderr
    assert f"config    write  {pkg.filename}" in proc.stdout
    assert (
        f"remove from constructor's cache (other bytes): {cache / 'linux-64' / pkg.filename}"
        in (proc.stdout)
    )
    assert (cache / "linux-64" / pkg.filename).read_bytes() == b"stale"  # dry run: untouched
