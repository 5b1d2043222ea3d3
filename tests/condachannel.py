"""A real conda channel on disk for lock tests: repodata.json per subdir, read by py-rattler.

The records follow conda-forge's (names, version and build strings, depends on virtual
packages such as ``__glibc``/``__osx``, licenses); anaconda-anon-usage's is the real record
from ../shared/fixtures/real-install/locked/conda-meta-aau.json. Package files are not
written (a solve reads repodata only); each record's sha256 and md5 are digests of its file
name, so a lock line can be checked against the record it came from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from helpers import default_profile_data, write_profile

SUBDIRS = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64", "noarch")


def rec(
    name: str,
    version: str,
    build: str,
    subdir: str,
    depends: Iterable[str] = (),
    license: str | None = None,
    constrains: Iterable[str] = (),
    ext: str = ".conda",
) -> dict[str, Any]:
    fn = f"{name}-{version}-{build}{ext}"
    number = build.rsplit("_", 1)[-1]
    return {
        "fn": fn,
        "name": name,
        "version": version,
        "build": build,
        "build_number": int(number) if number.isdigit() else 0,
        "subdir": subdir,
        "depends": list(depends),
        "constrains": list(constrains),
        "license": license,
        "sha256": sha256_of(fn),
        "md5": hashlib.md5(fn.encode()).hexdigest(),
        "size": 1000 + len(fn),
        "timestamp": 1760000000000,
    }


def sha256_of(fn: str) -> str:
    return hashlib.sha256(fn.encode()).hexdigest()


def python_records(version: str, build: str, glibc: str = "2.17") -> list[dict[str, Any]]:
    return [
        rec(
            "python",
            version,
            build,
            "linux-64",
            [f"__glibc >={glibc},<3.0.a0", "openssl >=3.0,<4.0a0"],
            "Python-2.0",
        ),
        rec(
            "python",
            version,
            build,
            "linux-aarch64",
            [f"__glibc >={glibc},<3.0.a0", "openssl >=3.0,<4.0a0"],
            "Python-2.0",
        ),
        rec(
            "python",
            version,
            build,
            "osx-64",
            ["__osx >=10.13", "openssl >=3.0,<4.0a0"],
            "Python-2.0",
        ),
        rec(
            "python",
            version,
            build,
            "osx-arm64",
            ["__osx >=11.0", "openssl >=3.0,<4.0a0"],
            "Python-2.0",
        ),
        rec("python", version, build, "win-64", ["openssl >=3.0,<4.0a0"], "Python-2.0"),
    ]


def base_records(pip_version: str = "24.2") -> list[dict[str, Any]]:
    """python 3.12 (an older build for glibc 2.17, a newer one for glibc 2.34), openssl,
    ca-certificates, conda, pip, anaconda-anon-usage."""
    out = [
        *python_records("3.12.7", "hc5c86c4_0_cpython"),
        *python_records("3.12.8", "h9e4cc4f_1_cpython", glibc="2.34"),
        rec(
            "anaconda-anon-usage",
            "0.8.1",
            "py_100",
            "noarch",
            ["python >=3.6"],
            "BSD",
            constrains=["conda >=23.7"],
        ),
        rec("ca-certificates", "2026.10.5", "hbd8a1cb_0", "noarch", [], "ISC"),
        rec("pip", pip_version, "pyh8b19718_1", "noarch", ["python >=3.8"], "MIT"),
    ]
    for subdir in SUBDIRS[:-1]:
        glibc = ["__glibc >=2.17,<3.0.a0"] if subdir.startswith("linux") else []
        out.append(
            rec("openssl", "3.5.4", "h26f9b46_0", subdir, [*glibc, "ca-certificates"], "Apache-2.0")
        )
        out.append(
            rec(
                "conda",
                "26.7.1",
                "py312h7900ff3_0",
                subdir,
                ["python >=3.12,<3.13.0a0"],
                "BSD-3-Clause",
            )
        )
    return out


def write_channel(root: Path, records: Iterable[dict[str, Any]]) -> str:
    """Write ``root/<subdir>/repodata.json`` for every subdir; return the channel's URL."""
    by_subdir: dict[str, dict[str, Any]] = {s: {} for s in SUBDIRS}
    for r in records:
        body = {k: v for k, v in r.items() if k != "fn" and v is not None}
        by_subdir[r["subdir"]][r["fn"]] = body
    for subdir, recs in by_subdir.items():
        d = root / subdir
        d.mkdir(parents=True, exist_ok=True)
        doc = {
            "info": {"subdir": subdir},
            "packages": {k: v for k, v in recs.items() if k.endswith(".tar.bz2")},
            "packages.conda": {k: v for k, v in recs.items() if k.endswith(".conda")},
            "removed": [],
            "repodata_version": 1,
        }
        (d / "repodata.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return root.resolve().as_uri()


def lock_profile(
    directory: Path,
    channel: str,
    platforms: Iterable[str] = ("linux-64", "osx-arm64", "win-64"),
    python: str = "3.12.*",
    extra: Iterable[str] = ("pip",),
) -> Path:
    """A profile that solves against ``channel`` (the config package off: it is not solved)."""
    data = default_profile_data()
    data["platforms"] = list(platforms)
    data["specs"] = {"python": python, "conda": ">=25.1", "extra": list(extra)}
    data["channels"] = [channel]
    data["condarc"]["channels"] = [channel]
    data["config_package"] = {"enabled": False}
    return write_profile(directory, data)
