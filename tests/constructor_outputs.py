"""constructor 3.16.3's per-installer outputs, rebuilt from the recorded real installs.

No constructor ``info.json``, ``lockfile.base.txt`` or ``pkg-list.base.txt`` was recorded in
../shared/fixtures/real-install/, so these files are assembled in constructor's formats
(``constructor/build_outputs.py``: ``dump_info`` dumps its ``info`` dict with each
``PackageRecord.dump()``; ``dump_lockfile`` writes ``url#md5`` after ``@EXPLICIT``;
``dump_packages_list`` writes a ``# name version, env=base`` line and the file names) from:

- real: every package's name, version, build, build number, subdir and channel URL
  (``conda-list.json``); anaconda-anon-usage's whole record (``conda-meta-aau.json``: url,
  md5, sha256, license, depends ...); the installer's name and sha256 (``installer.json``).
- assumed: ``.conda`` file names for every package (the recorded aau one is ``.conda``);
  licenses of the other packages (``LICENSES``, their upstream licenses); their md5 (the md5
  of the file name); their sha256 (absent: repodata without sha256, so an SBOM has to find
  the file in constructor's package cache or a lock).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

# Upstream licenses, as conda-forge's recipes declare them.
LICENSES = {
    "archspec": "MIT OR Apache-2.0",
    "backports.zstd": "BSD-3-Clause",
    "boltons": "BSD-3-Clause",
    "certifi": "ISC",
    "charset-normalizer": "MIT",
    "conda": "BSD-3-Clause",
    "conda-package-handling": "BSD-3-Clause",
    "conda-package-streaming": "BSD-3-Clause",
    "distro": "Apache-2.0",
    "frozendict": "LGPL-3.0-only",
    "idna": "BSD-3-Clause",
    "menuinst": "BSD-3-Clause AND MIT",
    "msgpack-python": "Apache-2.0",
    "packaging": "Apache-2.0 OR BSD-2-Clause",
    "pip": "MIT",
    "platformdirs": "MIT",
    "pluggy": "MIT",
    "pycosat": "MIT",
    "python": "Python-2.0",
    "requests": "Apache-2.0",
    "ruamel.yaml": "MIT",
    "ruamel.yaml.clib": "MIT",
    "setuptools": "MIT",
    "tomli-w": "MIT",
    "tqdm": "MPL-2.0 AND MIT",
    "truststore": "MIT",
    "urllib3": "MIT",
}
CACHE_ONLY_FIELDS = ("package_tarball_full_path", "extracted_package_dir")
PREFIX_FIELDS = ("files", "paths_data", "link", "requested_spec", "requested_specs")


def records(case_dir: Path, cache_dir: Path | None = None) -> list[dict[str, Any]]:
    """PackageCacheRecord dumps for every package of a recorded install."""
    listed = json.loads((case_dir / "conda-list.json").read_text(encoding="utf-8"))
    aau = json.loads((case_dir / "conda-meta-aau.json").read_text(encoding="utf-8"))
    out = []
    for r in listed:
        fn = f"{r['dist_name']}.conda"
        if r["name"] == aau["name"]:
            rec = {k: v for k, v in aau.items() if k not in PREFIX_FIELDS}
        else:
            base = r["base_url"].rstrip("/")
            rec = {
                "name": r["name"],
                "version": r["version"],
                "build": r["build_string"],
                "build_number": r["build_number"],
                "channel": f"{base}/{r['platform']}",
                "subdir": r["platform"],
                "fn": fn,
                "md5": hashlib.md5(fn.encode()).hexdigest(),
                "url": f"{base}/{r['platform']}/{fn}",
                "depends": ["python >=3.11,<3.12.0a0"] if r["name"] != "python" else [],
                "license": LICENSES.get(r["name"]),
                "timestamp": 1796172867437,
            }
        pkgs = cache_dir or Path("/opt/constructor-cache/linux-64")
        rec["package_tarball_full_path"] = str(pkgs / fn)
        rec["extracted_package_dir"] = str(pkgs / fn[: -len(".conda")])
        out.append(rec)
    return out


def info_json(
    case_dir: Path, name: str = "AcmeConda", version: str = "2026.11", **kw: Any
) -> dict[str, Any]:
    recs = records(case_dir, kw.get("cache_dir"))
    base = [{k: v for k, v in r.items() if k not in CACHE_ONLY_FIELDS} for r in recs]
    return {
        "name": name,
        "version": version,
        "installer_type": "sh",
        "_platform": "linux-64",
        "_download_dir": str(kw.get("cache_dir") or "/opt/constructor-cache/linux-64"),
        "_all_pkg_records": recs,
        "_urls": [[r["url"], r["md5"]] for r in base],
        "_dists": [r["fn"] for r in base],
        "_records": base,
    }


def write_outputs(
    directory: Path,
    case_dir: Path,
    kinds: tuple[str, ...] = ("info", "lockfile", "pkgs_list"),
    **kw: Any,
) -> list[str]:
    """Write constructor's outputs for one installer into ``directory``; their names."""
    directory.mkdir(parents=True, exist_ok=True)
    info = info_json(case_dir, **kw)
    written = []
    if "info" in kinds:
        (directory / "info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        written.append("info.json")
    if "lockfile" in kinds:
        lines = [
            "# This file may be used to create an environment using:",
            "# $ conda create --name <env> --file <this file>",
            f"# installer-name: {info['name']}",
            f"# installer-version: {info['version']}",
            "# env-name: base",
            "# platform: linux-64",
            "# created-by: constructor 3.16.3",
            "@EXPLICIT",
            *(f"{url}#{md5}" for url, md5 in info["_urls"]),
        ]
        (directory / "lockfile.base.txt").write_text("\n".join(lines), encoding="utf-8")
        written.append("lockfile.base.txt")
    if "pkgs_list" in kinds:
        text = f"# {info['name']} {info['version']}, env=base\n" + "\n".join(info["_dists"])
        (directory / "pkg-list.base.txt").write_text(text, encoding="utf-8")
        written.append("pkg-list.base.txt")
    return written


def write_dist(
    dist: Path,
    case_dir: Path,
    installer: str,
    kinds: tuple[str, ...] = ("info", "lockfile", "pkgs_list"),
    version: str = "2026.11",
) -> Path:
    """A dist/ tree as `build.py build` leaves it: dist/linux-64/<outputs> + manifest.json
    (the installer itself is not needed to read package sets, and is not written)."""
    names = write_outputs(dist / "linux-64", case_dir, kinds, version=version)
    manifest = {
        "format": 1,
        "generator": "orgconda 0.1.0",
        "name": "AcmeConda",
        "version": version,
        "profile": "construct/org.yaml",
        "installers": [
            {
                "path": f"linux-64/{installer}",
                "platform": "linux-64",
                "type": "sh",
                "sha256": "0" * 64,
                "size": 0,
                "seconds": 4.5,
                "outputs": [f"linux-64/{installer}.sha256", *(f"linux-64/{n}" for n in names)],
                "expect": {},
            }
        ],
    }
    path = dist / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path
