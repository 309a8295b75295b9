"""The distributed KPI engine: the same compiled KPI SQL run by Apache Spark.

Spark reads the same Parquet datasets; every query is the SQL text that
:mod:`sqm.services.network.kpi.compile` generates for the Spark dialect, so the KPI
definitions are shared word for word with the DuckDB engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqm.lazy import lazy_import
from sqm.services.network.kpi.compile import Dialect
from sqm.services.network.kpi.sql_engine import MeasurementInput, SqlKpiEngine

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")


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


class SparkKpiEngine(SqlKpiEngine):
    """Computes catalogue KPIs with Spark SQL (PySpark); same API as the DuckDB engine."""

    dialect = Dialect.SPARK

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
