"""The profile: defaults, resolution, and every kind of bad input (exit 2, field named)."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import DEFAULT_PROFILE, REPO
from helpers import default_profile_data, run_build_py, write_profile

from orgconda.errors import ProfileError
from orgconda.profile import SCHEMA_PATH, load_profile, parse_profile
from orgconda.tokens import derive_installer_token, is_valid_token


def test_default_profile_loads_and_derives_the_installer_token() -> None:
    p = load_profile(DEFAULT_PROFILE)
    assert p.name == "AcmeConda" and p.version == "2026.11"
    assert p.platforms == ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")
    assert p.telemetry.installer_token == "AcmeConda-2026_11"  # as in the recorded real install
    assert p.telemetry.installer_token_derived
    assert "anaconda-anon-usage >=0.8.1" in p.specs
    assert p.installer_types["osx"] == ("sh", "pkg")
    assert p.license_file is not None and p.license_file.is_file()


def test_published_schema_is_valid_and_accepts_the_default_profile() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(DEFAULT_PROFILE.read_text()), schema)


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        ("AcmeConda", "2026.11", "AcmeConda-2026_11"),
        ("Acme.Conda", "1.0-rc1", "Acme_Conda-1_0-rc1"),
    ],
)
def test_derived_installer_token(name: str, version: str, expected: str) -> None:
    assert derive_installer_token(name, version) == expected


def test_long_derived_token_is_cut_with_a_hash_and_stays_distinct() -> None:
    a = derive_installer_token("A" * 40, "1.0")
    b = derive_installer_token("A" * 40, "1.1")
    assert len(a) == 36 and is_valid_token(a) and is_valid_token(b) and a != b


def _mutate(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    keys = dotted.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    if value is _DELETE:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return out


_DELETE = object()

# (case id, field, value, text the message must contain)
BAD_CASES = [
    ("unknown-key", "chanels", ["conda-forge"], "did you mean `channels`"),
    ("unknown-nested-key", "telemetry.org_tokn", "x", "did you mean `org_token`"),
    ("token-space", "telemetry.org_token", "acme corp", "`telemetry.org_token`"),
    ("token-slash", "telemetry.org_token", "acme/corp", "'/'"),
    ("token-37", "telemetry.installer_token", "a" * 37, "37 characters"),
    ("token-empty", "telemetry.org_token", "", "is empty"),
    ("token-unicode", "telemetry.org_token", "acmé", "'é'"),
    ("token-metachar", "telemetry.org_token", "a;b", "';'"),
    ("missing-license", "installer.license_file", "NOPE.txt", "NOPE.txt"),
    ("missing-ca", "condarc.ca_certificate", "certs/none.pem", "certs/none.pem"),
    ("bad-platform", "platforms", ["linux-64", "linux-65"], "did you mean `linux-64`"),
    ("empty-platforms", "platforms", [], "`platforms`"),
    ("empty-channels", "channels", [], "`channels`"),
    ("bad-name", "installer.name", "-acme", "constructor's rule"),
    ("bad-version", "installer.version", "1.0.", "constructor's rule"),
    ("numeric-version", "installer.version", 2026.1, "quote the value"),
    ("bad-type", "installer_types.osx", ["exe"], "`installer_types.osx[0]`"),
    ("old-aau", "specs.anaconda_anon_usage", ">=0.7", "below 0.8.1"),
    ("spec-selector", "specs.extra", ["numpy [x]"], "selector"),
    ("spec-dup", "specs.extra", ["conda >=24"], "specs.conda"),
    ("managed-condarc", "condarc.extra", {"anaconda_anon_usage": False}, "telemetry.enabled"),
    ("bad-scope", "telemetry.token_scope", "global", "prefix, system"),
    ("missing-org-token", "telemetry.org_token", _DELETE, "org_token"),
    ("bad-heartbeat", "telemetry.heartbeat", "ftp://x", "not an http(s) URL"),
]


@pytest.mark.parametrize(
    ("case", "field", "value", "needle"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_profile_is_rejected_with_the_field_named(
    tmp_path: Path, case: str, field: str, value: Any, needle: str
) -> None:
    path = write_profile(tmp_path, _mutate(default_profile_data(), field, value))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert str(path) in message or "org.yaml" in message
    assert needle in message, message


def test_every_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    data = default_profile_data()
    data = _mutate(data, "chanels", ["x"])
    data = _mutate(data, "telemetry.org_token", "bad token")
    data = _mutate(data, "installer.license_file", "missing.txt")
    path = write_profile(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert len(info.value.problems) == 3
    # each problem names its field and the line it is on
    assert any("`telemetry.org_token` (line" in p for p in info.value.problems)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile("installer:\n  name: [unclosed\n", tmp_path / "x.yaml")
    assert "line" in str(info.value) and "not valid YAML" in str(info.value)


@pytest.mark.parametrize(
    ("case", "field", "value", "needle"),
    BAD_CASES[:6] + BAD_CASES[8:11],
    ids=[c[0] for c in BAD_CASES[:6] + BAD_CASES[8:11]],
)
def test_cli_exits_2_and_writes_nothing(
    tmp_path: Path, case: str, field: str, value: Any, needle: str
) -> None:
    path = write_profile(tmp_path / "p", _mutate(default_profile_data(), field, value))
    build, dist = tmp_path / "build", tmp_path / "dist"
    for command in ("render", "build"):
        proc = run_build_py(
            command,
            "--profile",
            str(path),
            "--build-dir",
            str(build),
            *(["--dist-dir", str(dist)] if command == "build" else []),
        )
        assert proc.returncode == 2, proc.stderr
        assert needle in proc.stderr
        assert proc.stderr.startswith("error: ")
        assert "Traceback" not in proc.stderr
    assert not build.exists() and not dist.exists()


def test_missing_profile_file_exits_2(tmp_path: Path) -> None:
    proc = run_build_py("render", "--profile", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr


def test_repo_default_profile_path_is_the_documented_one() -> None:
    assert DEFAULT_PROFILE == REPO / "construct" / "org.yaml"


def _schema_patterns() -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.append(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(SCHEMA_PATH.read_text()))
    return sorted(set(found))


PATTERN_SAMPLES = ["acme-corp", "AcmeConda", "2026.11", "a", "a" * 36, "a" * 37, "acme"]
PATTERN_SAMPLES += [s + "\n" for s in PATTERN_SAMPLES] + ["\nacme", "acme\r", "", "acme\n\n"]


def test_schema_patterns_match_whole_values_only() -> None:
    for pattern in _schema_patterns():
        for sample in ("acme-corp\n", "acme\n", "2026.11\n", "\nacme"):
            assert re.search(pattern, sample) is None, (pattern, sample)


def test_schema_patterns_agree_in_python_and_ecmascript() -> None:
    """Editors validate with the schema's patterns as ECMAScript regexes (JSON Schema's
    dialect); Python's `re` must give the same answer for every sample."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: no ECMAScript regex engine to compare with")
    patterns = _schema_patterns()
    script = (
        "const [ps, ss] = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(ps.map(p => ss.map(s => new RegExp(p, 'u').test(s)))));"
    )
    done = subprocess.run(
        [node, "-e", script, json.dumps([patterns, PATTERN_SAMPLES])],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    ecma = json.loads(done.stdout)
    for pattern, answers in zip(patterns, ecma, strict=True):
        python = [re.search(pattern, s) is not None for s in PATTERN_SAMPLES]
        assert python == answers, pattern
