"""Fixtures for the complaint tests: where the test data and the public data set live."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import shared_data_dir

DATA = Path(__file__).resolve().parent / "data"


def shared_data() -> Path:
    """The public data folder (see the root conftest)."""
    return shared_data_dir()


@pytest.fixture(scope="session")
def comcast_full() -> Path:
    """The full public Comcast complaints file; skips the test when the data folder is absent."""
    path = shared_data() / "complaints" / "Comcast_telecom_complaints_data.csv"
    if not path.exists():
        pytest.skip(f"public data set not found at {path}")
    return path
