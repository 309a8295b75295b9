"""Network KPI engine: declared KPIs compiled to SQL for DuckDB (embedded) or Spark.

Public names: :class:`DuckDbKpiEngine`, :class:`SparkKpiEngine`, :class:`Level`,
:class:`Grain`, :func:`kpi_sql` and the busy-hour / worst-cell SQL builders.
"""

from sqm.services.network.kpi.compile import Dialect, KpiQueryError, kpi_sql
from sqm.services.network.kpi.duckdb_engine import DuckDbKpiEngine, resolve_kpis
from sqm.services.network.kpi.levels import Grain, Level
from sqm.services.network.kpi.spark_engine import SparkKpiEngine, local_spark_session

__all__ = [
    "Dialect",
    "DuckDbKpiEngine",
    "Grain",
    "KpiQueryError",
    "Level",
    "SparkKpiEngine",
    "kpi_sql",
    "local_spark_session",
    "resolve_kpis",
]
