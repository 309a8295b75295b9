"""The distributed KPI engine: the same compiled KPI SQL run by Apache Spark.

Spark reads the same Parquet datasets; every query is the SQL text that
:mod:`sqm.services.network_kpi.compile` generates for the Spark dialect, so the KPI
definitions are shared word for word with the DuckDB engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sqm.domain.kpi import Expression, KpiDefinition
from sqm.services.network_kpi.compile import (
    Dialect,
    busy_hour_sql,
    kpi_sql,
    time_consistent_busy_hour_sql,
    worst_cells_sql,
)
from sqm.services.network_kpi.duckdb_engine import MeasurementInput, resolve_kpis
from sqm.services.network_kpi.levels import Grain, Level


def local_spark_session(app_name: str = "sqm-network-kpi", cores: int = 2) -> Any:
    """A local-mode SparkSession in UTC with few shuffle partitions (small machines)."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(max(2, cores)))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


class SparkKpiEngine:
    """Computes catalogue KPIs with Spark SQL (PySpark); same API as the DuckDB engine."""

    def __init__(
        self,
        spark: Any,
        measurements: MeasurementInput,
        inventory: MeasurementInput | None = None,
    ) -> None:
        self.spark = spark
        self._register("measurements", measurements)
        if inventory is not None:
            self._register("inventory", inventory)
        self.columns: list[str] = list(spark.table("measurements").columns)

    def _register(self, name: str, data: MeasurementInput) -> None:
        if isinstance(data, pd.DataFrame):
            df = self.spark.createDataFrame(data)
        else:
            p = Path(data)
            df = self.spark.read.option("mergeSchema", "true").parquet(str(p))
        df.createOrReplaceTempView(name)

    def sql(self, query: str) -> pd.DataFrame:
        """Run Spark SQL against the ``measurements`` and ``inventory`` views."""
        return self.spark.sql(query).toPandas()

    def kpis(
        self,
        kpis: Sequence[str | KpiDefinition],
        level: Level,
        grain: Grain,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """KPI values per unit and period (see the DuckDB engine's ``kpis``)."""
        q = kpi_sql(
            resolve_kpis(kpis), level, grain, Dialect.SPARK, self.columns, start=start, end=end
        )
        return self.sql(q)

    def busy_hours(
        self,
        traffic: str,
        level: Level,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """The busiest clock hour of each unit and day by the ``traffic`` expression."""
        q = busy_hour_sql(
            Expression.parse(traffic, where="traffic"),
            level,
            Dialect.SPARK,
            self.columns,
            start=start,
            end=end,
        )
        return self.sql(q)

    def time_consistent_busy_hour(
        self,
        traffic: str,
        level: Level,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Each unit's time-consistent busy hour over the window (ITU-T E.500)."""
        q = time_consistent_busy_hour_sql(
            Expression.parse(traffic, where="traffic"),
            level,
            Dialect.SPARK,
            self.columns,
            start=start,
            end=end,
        )
        return self.sql(q)

    def worst_cells(
        self,
        kpi: str | KpiDefinition,
        *,
        level: Level = Level.CELL,
        rank_by: str = "failures",
        limit: int = 20,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Worst units for ``kpi`` ranked by failures contributed or by failures × traffic."""
        q = worst_cells_sql(
            resolve_kpis([kpi])[0],
            Dialect.SPARK,
            self.columns,
            level=level,
            rank_by=rank_by,
            limit=limit,
            start=start,
            end=end,
        )
        return self.sql(q)
