"""The profile's YAML loader: duplicate keys, aliases, syntax errors at their own line."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from helpers import default_profile_data, write_profile

from orgconda.errors import ProfileError
from orgconda.profile import DEFAULT_PROFILE, load_profile, parse_profile
from orgconda.validate import MAX_VALUE_CHARACTERS
from orgconda.yamlload import ALIAS_BUDGET, MAX_ENTRIES, YamlError, load_yaml


def test_duplicate_keys_name_both_lines() -> None:
    loaded = load_yaml("a: 1\nb:\n  c: 2\n  c: 3\na: 4\n")
    assert loaded.data == {"a": 4, "b": {"c": 3}}  # YAML's own reading: the last wins
    found = {p.path: p.message for p in loaded.problems}
    assert "set on line 3 and again on line 4" in found[("b", "c")]
    assert "set on line 1 and again on line 5" in found[("a",)]
    assert loaded.lines[("a",)] == 5  # the value that would be used


def test_duplicate_keys_on_one_line() -> None:
    loaded = load_yaml("a: {x: 1, x: 2}\n")
    assert "twice on that line" in loaded.problems[0].message


def test_field_lines_are_recorded_in_the_same_pass() -> None:
    loaded = load_yaml(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    assert loaded.lines[("installer", "company")] == 12
    assert loaded.lines[("platforms", 4)] == 23
    assert loaded.lines[("telemetry", "org_token")] == 73


def test_an_anchor_may_be_reused() -> None:
    loaded = load_yaml("channels: &ch [conda-forge, bioconda]\ncondarc:\n  channels: *ch\n")
    assert loaded.data["condarc"]["channels"] == ["conda-forge", "bioconda"]
    # a tree, not shared lists: changing one leaves the other alone
    assert loaded.data["condarc"]["channels"] is not loaded.data["channels"]


def _bomb(levels: int = 9, width: int = 10) -> str:
    lines = ["x_bomb:", f"  l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_quickly_in_bounded_memory() -> None:
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(YamlError) as info:
        load_yaml(_bomb())
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert f"more than {ALIAS_BUDGET} values" in info.value.message
    assert info.value.message.startswith("line 5: ")  # l3: 110 + 1110 + 8 x 1111 > 10000
    assert seconds < 5 and peak < 50 * 2**20


def test_an_alias_bomb_in_a_profile_is_a_profile_error(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(DEFAULT_PROFILE.read_text(encoding="utf-8") + _bomb())
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.exit_code == 2 and "aliases" in str(info.value)


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(YamlError, match="recursive alias"):
        load_yaml("a: &a [1, *a]\n")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("installer:\n  name: x\n\tversion: y\nz: 1\n", 3),
        ("installer:\n  name: x\n  \tversion: y\n", 3),
        ("platforms:\n  - linux-64\n\t- osx-64\n", 3),
        ("a: 1\n\t\nb: 2\n", 2),
        ("installer:\n\tname: x\n", 2),
        ("a:\n  - x\n  -\ty\nb: 1\n", 3),
    ],
)
def test_a_tab_is_reported_on_its_own_line(tmp_path: Path, text: str, line: int) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, tmp_path / "org.yaml")
    message = str(info.value)
    assert f"line {line}: a tab character" in message, message
    assert "<unicode string>" not in message


def test_a_syntax_error_names_the_file_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("installer:\n  name: x\n  version: [1\nplatforms: []\n")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert message.startswith(f"{path}: 1 problem")
    assert "flow sequence that starts on line 3" in message
    assert "<unicode string>" not in message and 'in "' not in message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: &a {x: 1}\nb:\n  <<: *a\n", "merge keys"),
        ("a: !custom x\n", "could not determine a constructor"),
        ("a: !!set {x, y}\n", "is not supported"),
        ("a: 2026-13-45\n", "quote the value"),
        ("a: 1\n---\nb: 2\n", "a second YAML document"),
        ("? [a]\n: 1\n", "plain text"),
        ("a: x\x07\n", "does not allow"),
    ],
)
def test_yaml_the_profile_does_not_take(text: str, needle: str) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml(text)
    assert needle in info.value.message


def test_keys_stay_text() -> None:
    assert load_yaml("yes: 1\n1: 2\nnull: 3\n").data == {"yes": 1, "1": 2, "null": 3}


@pytest.mark.parametrize(
    ("text", "needle"),
    [("", "it is empty"), ("- a\n- b\n", "it is a list"), ("just text\n", "it is a str")],
)
def test_a_profile_that_is_not_a_mapping(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ProfileError, match=needle):
        parse_profile(text, tmp_path / "org.yaml")


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_bytes(b"installer:\n  company: Acme \xe9\n")
    with pytest.raises(ProfileError, match="line 2: not UTF-8"):
        load_profile(path)


def test_a_5_mb_value_gives_a_short_message(tmp_path: Path) -> None:
    data = default_profile_data()
    data["installer"]["company"] = "A" * 5_000_000 + "]"
    with pytest.raises(ProfileError) as info:
        load_profile(write_profile(tmp_path, data))
    (problem,) = info.value.problems
    assert problem.startswith("`installer.company` (line ")
    assert len(str(info.value)) < 1000


def test_values_in_messages_are_cut_at_60_characters(tmp_path: Path) -> None:
    data = default_profile_data()
    data["telemetry"]["org_token"] = "x" * 100 + " y"
    with pytest.raises(ProfileError) as info:
        load_profile(write_profile(tmp_path, data))
    assert f"'{'x' * 60}'... (42 more characters)" in str(info.value)


def test_a_list_past_the_cap_is_refused_without_reading_the_rest() -> None:
    items = "".join(f"  - x{i}\n" for i in range(MAX_ENTRIES + 1))
    with pytest.raises(YamlError) as info:
        load_yaml("a: 1\nbig:\n" + items)
    assert info.value.message == (
        f"line 3: `big` has more than {MAX_ENTRIES} items; a profile takes at most "
        f"{MAX_ENTRIES} in one list or mapping"
    )


def test_a_value_past_the_cap_is_refused_at_its_field(tmp_path: Path) -> None:
    data = default_profile_data()
    data["installer"]["default_prefix"] = "/opt/" + "a" * MAX_VALUE_CHARACTERS
    with pytest.raises(ProfileError) as info:
        load_profile(write_profile(tmp_path, data))
    assert "`installer.default_prefix` (line " in str(info.value)
    assert f"at most {MAX_VALUE_CHARACTERS}" in str(info.value)


def test_lines_inside_an_alias_point_at_the_anchor() -> None:
    loaded = load_yaml("a: &x\n  k: 1\n  j: 2\nb: *x\n")
    assert loaded.lines[("b",)] == 4
    assert loaded.lines[("b", "j")] == 3


def test_an_alias_without_its_anchor() -> None:
    with pytest.raises(YamlError, match="line 1"):
        load_yaml("a: *nope\n")
