"""DuckDB and Spark compute the same numbers from the same KPI definitions and data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sqm.domain.kpi import MeasurementSource
from sqm.domain.kpi_catalogue import kpis_for
from sqm.services.network.kpi import DuckDbKpiEngine, Grain, Level, SparkKpiEngine
from sqm.services.network.kpi.synthetic import Incident, synthetic_counters, synthetic_inventory

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("spark_parity")
    inv = synthetic_inventory(18, seed=7)
    c = synthetic_counters(
        inv,
        datetime(2026, 2, 23),
        9,
        seed=7,
        incidents=(Incident("C000002", datetime(2026, 2, 26, 19), 5),),
    )
    c["ts"] = c["ts"].astype("datetime64[us]")
    c.to_parquet(root / "counters.parquet", index=False)
    inv.to_parquet(root / "inventory.parquet", index=False)
    return root / "counters.parquet", root / "inventory.parquet"


def _compare(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b) > 0
    for col in a.columns:
        x, y = a[col], b[col]
        if col in ("period", "busy_hour"):
            assert (pd.to_datetime(x).to_numpy() == pd.to_datetime(y).to_numpy()).all(), col
        elif pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            np.testing.assert_allclose(
                x.astype(float).to_numpy(), y.astype(float).to_numpy(), rtol=1e-9, err_msg=col
            )
        else:
            assert x.astype(str).tolist() == y.astype(str).tolist(), col


def test_all_counter_kpis_agree_across_levels_and_grains(
    spark: Any, dataset: tuple[Path, Path]
) -> None:
    counters, inv = dataset
    duck = DuckDbKpiEngine(counters, inv)
    sp = SparkKpiEngine(spark, counters, inv)
    codes = [k.code for k in kpis_for(MeasurementSource.COUNTERS)]
    for level, grain in [
        (Level.SITE, Grain.QUARTER_HOUR),
        (Level.CELL, Grain.WEEK),
        (Level.PROVINCE, Grain.MONTH),
    ]:
        _compare(duck.kpis(codes, level, grain), sp.kpis(codes, level, grain), ["unit", "period"])


def test_busy_hours_and_worst_cells_agree(spark: Any, dataset: tuple[Path, Path]) -> None:
    counters, inv = dataset
    duck = DuckDbKpiEngine(counters, inv)
    sp = SparkKpiEngine(spark, counters, inv)
    _compare(
        duck.busy_hours("dl_volume_mb", Level.CELL),
        sp.busy_hours("dl_volume_mb", Level.CELL),
        ["unit", "period"],
    )
    _compare(
        duck.time_consistent_busy_hour("dl_volume_mb", Level.CITY),
        sp.time_consistent_busy_hour("dl_volume_mb", Level.CITY),
        ["unit"],
    )
    for rank_by in ("failures", "impact"):
        _compare(
            duck.worst_cells("drop_rate", rank_by=rank_by, limit=10),
            sp.worst_cells("drop_rate", rank_by=rank_by, limit=10),
            ["rank"],
        )
