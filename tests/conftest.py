"""Shared test fixtures: where the repo and ../shared are, and skips that state their reason."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ORGCONDA_SHARED", REPO.parent / "shared")).resolve()
FIXTURES = SHARED / "fixtures" / "real-install"
SCHEMA = SHARED / "schemas" / "construct.schema.json"
DEFAULT_PROFILE = REPO / "construct" / "org.yaml"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"recorded real-install fixtures not found at {FIXTURES} (set ORGCONDA_SHARED)")
    return FIXTURES


@pytest.fixture(scope="session")
def construct_schema_path() -> Path:
    """constructor's schema: ORGCONDA_CONSTRUCT_SCHEMA, else ../shared's copy."""
    path = Path(os.environ.get("ORGCONDA_CONSTRUCT_SCHEMA", SCHEMA))
    if not path.is_file():
        pytest.skip(f"constructor's construct.schema.json not found at {path}")
    return path


def require_tool(name: str) -> str:
    """Skip (with the reason) unless ``name`` is on PATH; never a stand-in."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"`{name}` is not on PATH; this test needs the real tool")
    return found
