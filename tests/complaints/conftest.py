"""Fixtures for the complaint tests: where the test data and the public data set live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


def shared_data() -> Path:
    """The public data folder: $SQM_SHARED_DATA, else <repo>/../shared/data."""
    env = os.environ.get("SQM_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def comcast_full() -> Path:
    """The full public Comcast complaints file; skips the test when the data folder is absent."""
    path = shared_data() / "complaints" / "Comcast_telecom_complaints_data.csv"
    if not path.exists():
        pytest.skip(f"public data set not found at {path}")
    return path
