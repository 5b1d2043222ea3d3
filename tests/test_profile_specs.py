"""Specs read with py-rattler: version constraints, match specs, the anaconda-anon-usage floor."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import default_profile_data, write_profile
from hypothesis import given, settings
from hypothesis import strategies as st
from rattler import Version, VersionSpec

from orgconda.errors import ProfileError
from orgconda.matchspec import constraint_problem, floor_witness, parse_spec
from orgconda.profile import load_profile


@pytest.mark.parametrize("value", ["3.12.*", ">=3.11,<3.13", "3.11", "*", "", ">=25.1|<24"])
def test_constraints_conda_reads(value: str) -> None:
    assert constraint_problem(value, "python") is None


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (">=3.11, <3.13", "holds a space"),
        ("python >=3.12", "version constraint only"),
        ("three", "not a version constraint"),
        (">>3", "not a version constraint"),
        (">=1|", "not a version constraint"),
        ("3.12 #x", "starts a comment"),
    ],
)
def test_constraints_conda_would_misread(value: str, needle: str) -> None:
    problem = constraint_problem(value, "python")
    assert problem is not None and needle in problem


@pytest.mark.parametrize(
    ("spec", "name", "version", "channel"),
    [
        ("pip", "pip", None, None),
        ("requests >=2.32", "requests", ">=2.32", None),
        ("conda-forge::anaconda-anon-usage 0.7.*", "anaconda-anon-usage", "0.7.*", "conda-forge"),
        ("anaconda-anon-usage[version='>=0.7']", "anaconda-anon-usage", ">=0.7", None),
        ("anaconda-anon-usage=0.7", "anaconda-anon-usage", "0.7.*", None),
        ("anaconda-anon-usage ==0.7.1", "anaconda-anon-usage", "==0.7.1", None),
        ("Mamba>=2", "mamba", ">=2", None),
        ("numpy=1.26=py312_0", "numpy", "==1.26", None),
        ("https://conda.acme.example/cf::numpy", "numpy", None, "https://conda.acme.example/cf"),
    ],
)
def test_match_specs_in_every_form(
    spec: str, name: str, version: str | None, channel: str | None
) -> None:
    parsed, why = parse_spec(spec)
    assert why is None and parsed is not None
    assert (parsed.name, parsed.version, parsed.channel) == (name, version, channel)


@pytest.mark.parametrize(
    ("constraint", "witness"),
    [
        (">=0.7", "0.8.0"),
        ("0.7.*", "0.7.5"),
        ("0.8.*", "0.8.0"),
        ("=0.8", "0.8.0"),
        (">0.8.0", "0.8.1a0"),
        (">=0.8.1rc1", "0.8.1rc1"),
        ("0.8.1|0.7", "0.7.0"),
        (">=0.8.1,<1|0.7", "0.7.0"),
        ("!=0.8.0", "0.7.5"),
        ("<1", "0.8.0"),
        ("", "0.8.0"),
        ("*", "0.8.0"),
    ],
)
def test_constraints_below_the_floor_are_found(constraint: str, witness: str) -> None:
    assert floor_witness(constraint) == witness


@pytest.mark.parametrize(
    "constraint", [">=0.8.1", "==0.8.1", "0.8.1", ">=0.9", "~=0.8.1", "0.9|>=1.0", ">=1!0.1"]
)
def test_constraints_at_or_above_the_floor_pass(constraint: str) -> None:
    assert floor_witness(constraint) is None


# Every version on this grid that a constraint admits below the floor must be found.
GRID = [
    f"{a}.{b}{tail}"
    for a in range(2)
    for b in range(10)
    for tail in ("", ".0", ".1", ".2", ".5", "a0", "rc1", ".0.1", ".99")
] + [f"0.8.{c}" for c in range(4)]
LITERALS = st.sampled_from(["0.7", "0.8", "0.8.0", "0.8.1", "0.8.2", "0.9", "1", "0.6.3", "0"])
ATOMS = st.one_of(
    st.tuples(st.sampled_from([">=", ">", "<", "<=", "==", "!=", "~="]), LITERALS).map(
        lambda t: t[0] + t[1]
    ),
    LITERALS.map(lambda v: v + ".*"),
    LITERALS,
)
CONSTRAINTS = st.lists(st.lists(ATOMS, min_size=1, max_size=3).map(",".join), min_size=1).map(
    lambda ors: "|".join(ors[:3])
)


@settings(max_examples=300, deadline=None, database=None)
@given(CONSTRAINTS)
def test_the_floor_check_misses_nothing_on_a_grid(constraint: str) -> None:
    try:
        spec = VersionSpec(constraint)
    except Exception:
        return  # not a constraint conda reads (e.g. `~=0`): refused elsewhere
    floor = Version("0.8.1")
    below = [v for v in GRID if Version(v) < floor and spec.matches(Version(v))]
    witness = floor_witness(constraint)
    if below:
        assert witness is not None, (constraint, below)
    if witness is not None:  # a real witness: below the floor, and admitted
        assert Version(witness) < floor and spec.matches(Version(witness))


def test_conda_standalone_constraint_is_resolved(tmp_path: Path) -> None:
    data = default_profile_data()
    data["specs"]["conda_standalone"] = ">=25.1"
    assert load_profile(write_profile(tmp_path, data)).specs_conda_standalone == ">=25.1"
    plain = load_profile(write_profile(tmp_path / "b", default_profile_data()))
    assert plain.specs_conda_standalone is None


def test_mamba_in_any_form_allows_mirrored_channels(tmp_path: Path) -> None:
    data = default_profile_data()
    data["mirrored_channels"] = {"conda-forge": ["https://m1.acme.example/cf"]}
    data["specs"]["extra"] = ["pip", "conda-forge::mamba >=2"]
    profile = load_profile(write_profile(tmp_path, data))
    assert profile.mirrored_channels == {"conda-forge": ("https://m1.acme.example/cf",)}


def test_the_config_package_name_is_free_when_the_package_is_off(tmp_path: Path) -> None:
    data = default_profile_data()
    data["specs"]["extra"] = ["acme-corp-conda-config"]
    with pytest.raises(ProfileError, match="configuration package"):
        load_profile(write_profile(tmp_path / "on", data))
    data["config_package"]["enabled"] = False
    load_profile(write_profile(tmp_path / "off", data))
