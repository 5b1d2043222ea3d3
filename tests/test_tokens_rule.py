"""anaconda-anon-usage's token rule and the derived installer token, as a user meets them."""

from __future__ import annotations

import pytest

from orgconda.tokens import derive_installer_token, is_valid_token, token_problem


@pytest.mark.parametrize("value", ["a", "acme-corp", "A_b-9", "x" * 36])
def test_valid_tokens(value: str) -> None:
    assert is_valid_token(value) and token_problem(value) is None


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("", "empty"),
        ("x" * 37, "37 characters"),
        ("acme.corp", "'.'"),
        ("acme/corp", "'/'"),
        ("acme corp", "' '"),
        ("acme-corp\n", "'\\n'"),
        ("\ufeffacme", "'\\ufeff'"),
        ("acmé", "'é'"),
    ],
)
def test_invalid_tokens_say_why(value: str, needle: str) -> None:
    assert not is_valid_token(value)
    problem = token_problem(value)
    assert problem is not None and needle in problem


def test_a_token_must_be_a_string() -> None:
    assert not is_valid_token(36)
    assert "got int" in str(token_problem(36))


def test_the_installer_token_is_derived_from_name_and_version() -> None:
    assert derive_installer_token("AcmeConda", "2026.11") == "AcmeConda-2026_11"
    long_a = derive_installer_token("A" * 30, "2026.11-rc1")
    long_b = derive_installer_token("A" * 30, "2026.11-rc2")
    assert len(long_a) == 36 and is_valid_token(long_a)
    assert long_a != long_b and long_a[:27] == long_b[:27]
