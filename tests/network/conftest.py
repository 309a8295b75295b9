"""Shared fixtures for the network tests: one local Spark session for the whole run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def shared_data() -> Path:
    """The public data folder: $SQM_SHARED_DATA, else <repo>/../shared/data."""
    env = os.environ.get("SQM_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from sqm.services.network_kpi import local_spark_session

    session = local_spark_session("sqm-tests", cores=2)
    yield session
    session.stop()
