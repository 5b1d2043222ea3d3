"""SBOMs (CycloneDX 1.6 JSON) from constructor's outputs, rebuilt from the recorded real
install (see constructor_outputs.py for which fields are recorded and which assumed)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from constructor_outputs import write_outputs

from orgconda.errors import BuildError, OrgcondaError
from orgconda.lockfile import Package, format_lock, package_from_url, read_lock
from orgconda.sbom import purl, sbom_text, write_sbom

WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)
AAU_PURL = (
    "pkg:conda/anaconda-anon-usage@0.8.1?build=py_100&channel=http://127.0.0.1:8765"
    "&subdir=noarch&type=conda"
)


def _validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error


def _installer(fixtures_dir: Path) -> dict[str, Any]:
    data = json.loads((fixtures_dir / "locked" / "installer.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _sbom(fixtures_dir: Path, outputs: Path, **kw: Any) -> tuple[str, dict[str, Any]]:
    inst = _installer(fixtures_dir)
    text = sbom_text(inst["file_name"], inst["sha256"], "linux-64", outputs, timestamp=WHEN, **kw)
    _validate(text)
    doc = json.loads(text)
    assert isinstance(doc, dict)
    return text, doc


def _component(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found = [c for c in doc["components"] if c["name"] == name]
    assert len(found) == 1, name
    return found[0]


def _hashes(component: dict[str, Any]) -> dict[str, str]:
    return {h["alg"]: h["content"] for h in component.get("hashes", [])}


def _prop(component: dict[str, Any], name: str) -> str:
    return next(p["value"] for p in component["properties"] if p["name"] == name)


def test_sbom_from_constructor_outputs(tmp_path: Path, fixtures_dir: Path) -> None:
    write_outputs(tmp_path / "out", fixtures_dir / "locked")
    text, doc = _sbom(fixtures_dir, tmp_path / "out")
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    assert doc["metadata"]["timestamp"] == "2026-11-02T09:30:00+00:00"

    root = doc["metadata"]["component"]
    inst = _installer(fixtures_dir)
    assert (root["type"], root["name"], root["version"]) == ("application", "AcmeConda", "2026.11")
    assert _hashes(root) == {"SHA-256": inst["sha256"]}
    assert _prop(root, "orgconda:installer-file") == "AcmeConda-2026.11-Linux-x86_64.sh"

    listed = json.loads((fixtures_dir / "locked" / "conda-list.json").read_text(encoding="utf-8"))
    assert sorted(c["name"] for c in doc["components"]) == sorted(r["name"] for r in listed)

    # the recorded anaconda-anon-usage record: purl, checksums, license, download URL
    aau = _component(doc, "anaconda-anon-usage")
    meta = json.loads((fixtures_dir / "locked" / "conda-meta-aau.json").read_text(encoding="utf-8"))
    assert aau["purl"] == AAU_PURL and aau["bom-ref"] == AAU_PURL
    assert _hashes(aau) == {"SHA-256": meta["sha256"], "MD5": meta["md5"]}
    assert _prop(aau, "orgconda:sha256-source") == "repodata"
    assert aau["licenses"] == [{"license": {"name": "BSD"}}]  # not an SPDX id: kept as a name
    assert aau["externalReferences"] == [{"type": "distribution", "url": meta["url"]}]

    python = _component(doc, "python")
    assert python["purl"].startswith("pkg:conda/python@3.11.7?build=hb8bdc94_0_cpython&")
    assert python["licenses"] == [{"license": {"id": "Python-2.0"}}]
    assert _component(doc, "archspec")["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    # no sha256 in the records and no package file left: md5 only, and said so
    assert set(_hashes(python)) == {"MD5"}
    assert _prop(python, "orgconda:sha256-source") == "unavailable"

    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert len(deps["installer:AcmeConda-2026.11-Linux-x86_64.sh"]) == 28
    assert deps[AAU_PURL] == [python["bom-ref"]]
    assert deps[python["bom-ref"]] == []

    # same inputs, same bytes (serial number from the installer's sha256)
    assert _sbom(fixtures_dir, tmp_path / "out")[0] == text
    assert doc["serialNumber"].startswith("urn:uuid:")


def test_sha256_from_constructors_package_cache(tmp_path: Path, fixtures_dir: Path) -> None:
    cache = tmp_path / "cache" / "linux-64"
    cache.mkdir(parents=True)
    python_file = cache / "python-3.11.7-hb8bdc94_0_cpython.conda"
    python_file.write_bytes(b"package bytes as downloaded into constructor's cache")
    write_outputs(tmp_path / "out", fixtures_dir / "locked", cache_dir=cache)
    _, doc = _sbom(fixtures_dir, tmp_path / "out")
    python = _component(doc, "python")
    assert _hashes(python)["SHA-256"] == hashlib.sha256(python_file.read_bytes()).hexdigest()
    assert _prop(python, "orgconda:sha256-source") == "package-cache"
    assert _prop(_component(doc, "pip"), "orgconda:sha256-source") == "unavailable"


def _lock_for(tmp_path: Path, fixtures_dir: Path, override: dict[str, str]) -> Path:
    """A lock (explicit, #sha256:) over the recorded install's package URLs."""
    info = json.loads((tmp_path / "out" / "info.json").read_text(encoding="utf-8"))
    pkgs = []
    for r in info["_records"]:
        sha = (
            override.get(r["name"])
            or r.get("sha256")
            or hashlib.sha256(r["fn"].encode()).hexdigest()
        )
        pkgs.append(package_from_url(r["url"], sha256=sha))
    header = [("platform", "linux-64"), ("inputs-sha256", "0" * 64)]
    path = tmp_path / "locks" / "linux-64.txt"
    path.parent.mkdir()
    path.write_text(format_lock(header, [], pkgs), encoding="utf-8")
    return path


def test_sha256_from_the_lock(tmp_path: Path, fixtures_dir: Path) -> None:
    write_outputs(tmp_path / "out", fixtures_dir / "locked")
    lock = read_lock(_lock_for(tmp_path, fixtures_dir, {}))
    _, doc = _sbom(fixtures_dir, tmp_path / "out", lock=lock)
    python = _component(doc, "python")
    fn = "python-3.11.7-hb8bdc94_0_cpython.conda"
    assert _hashes(python)["SHA-256"] == hashlib.sha256(fn.encode()).hexdigest()
    assert {_prop(c, "orgconda:sha256-source") for c in doc["components"]} == {"lock"}


def test_installer_package_differing_from_the_lock_is_an_error(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    write_outputs(tmp_path / "out", fixtures_dir / "locked")
    lock = read_lock(_lock_for(tmp_path, fixtures_dir, {"anaconda-anon-usage": "e" * 64}))
    inst = _installer(fixtures_dir)
    with pytest.raises(BuildError) as info:
        sbom_text(inst["file_name"], inst["sha256"], "linux-64", tmp_path / "out", lock=lock)
    message = str(info.value)
    assert "anaconda-anon-usage-0.8.1-py_100.conda" in message
    assert "e" * 64 in message and "da086bb8514342f5" in message
    assert str(lock.path) in message


def test_inputs_that_cannot_make_an_sbom(tmp_path: Path, fixtures_dir: Path) -> None:
    inst = _installer(fixtures_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(OrgcondaError) as info:
        sbom_text(inst["file_name"], inst["sha256"], "linux-64", tmp_path / "empty")
    assert "none of constructor's package lists" in str(info.value)

    write_outputs(tmp_path / "out", fixtures_dir / "locked")
    with pytest.raises(BuildError) as err:
        sbom_text(inst["file_name"], inst["sha256"], "osx-arm64", tmp_path / "out")
    assert "describes a linux-64 installer, not osx-arm64" in str(err.value)

    with pytest.raises(BuildError) as err:
        write_sbom(tmp_path / "no-installer.sh", "linux-64", tmp_path / "out")
    assert "no installer there" in str(err.value)


def test_sbom_from_lockfile_only(tmp_path: Path, fixtures_dir: Path) -> None:
    """Without info.json: the lockfile's URLs and md5s, no licenses."""
    write_outputs(tmp_path / "out", fixtures_dir / "locked", kinds=("lockfile",))
    _, doc = _sbom(fixtures_dir, tmp_path / "out")
    aau = _component(doc, "anaconda-anon-usage")
    assert aau["purl"] == AAU_PURL
    assert set(_hashes(aau)) == {"MD5"}
    assert "licenses" not in aau
    assert doc["metadata"]["component"]["name"] == "AcmeConda-2026.11-Linux-x86_64"


@pytest.mark.parametrize(
    ("channel", "fn", "expected"),
    [
        (
            "https://conda.anaconda.org/conda-forge",
            "python-3.12.7-hc5c86c4_0_cpython.tar.bz2",
            "pkg:conda/python@3.12.7?build=hc5c86c4_0_cpython&channel=conda-forge"
            "&subdir=linux-64&type=tar.bz2",
        ),
        (
            "https://repo.anaconda.com/pkgs/main",
            "python-3.12.7-h5148396_0.conda",
            "pkg:conda/python@3.12.7?build=h5148396_0&channel=pkgs/main&subdir=linux-64&type=conda",
        ),
    ],
)
def test_purl(channel: str, fn: str, expected: str) -> None:
    pkg: Package = package_from_url(f"{channel}/linux-64/{fn}")
    assert purl(pkg) == expected


def test_sbom_packages_name_the_channel_installs_record() -> None:
    from orgconda.lockfile import Package
    from orgconda.sbom import remapped

    pkg = Package(
        name="acme-corp-conda-config",
        version="2026.11",
        build="h1_0",
        subdir="noarch",
        channel="file:///build/org-config/channel",
        url="file:///build/org-config/channel/noarch/acme-corp-conda-config-2026.11-h1_0.conda",
    )
    out = remapped(pkg, [("file:///build/org-config/channel", "https://conda.acme.example/int")])
    assert out.channel == "https://conda.acme.example/int"
    assert (
        out.url == "https://conda.acme.example/int/noarch/acme-corp-conda-config-2026.11-h1_0.conda"
    )
    assert remapped(pkg, [("https://other.example/x", "https://y.example")]) == pkg
