"""Shared fixtures for the network tests: one local Spark session for the whole run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from conftest import shared_data_dir
from sqm.store.engine import make_engine


def shared_data() -> Path:
    """The public data folder (see the root conftest)."""
    return shared_data_dir()


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from sqm.services.network.kpi import local_spark_session

    session = local_spark_session("sqm-tests", cores=2)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def _network_demo_template(
    _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The foundation demo plus the network step, built once (its Parquet under tmp)."""
    from sqm.services.demo import DEMO_STEPS, run_demo

    root = tmp_path_factory.mktemp("network_demo")
    os.environ["SQM_NETWORK_DIR"] = str(root / "network")
    path = root / "demo.db"
    shutil.copy(_sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    steps = [
        s for s in DEMO_STEPS if s[1].startswith("sqm.services.demo:") and s[0] != "evaluation"
    ]
    steps.append(("network", "sqm.services.network.demo:build_demo_network"))
    run_demo(eng, steps=steps)
    with eng.connect() as c:
        c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    eng.dispose()
    return path


@pytest.fixture()
def network_demo(_network_demo_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A fresh copy of the demo with its network (cells, alerts, store KPI values)."""
    path = tmp_path / "demo.db"
    shutil.copy(_network_demo_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()
