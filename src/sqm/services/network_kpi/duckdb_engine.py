"""The embedded KPI engine: DuckDB over the Parquet measurement datasets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sqm.domain.kpi import Expression, KpiDefinition
from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.services.network_kpi.compile import (
    Dialect,
    KpiQueryError,
    busy_hour_sql,
    cell_sums_sql,
    kpi_sql,
    rollup_sql,
    time_consistent_busy_hour_sql,
    worst_cells_sql,
)
from sqm.services.network_kpi.levels import Grain, Level

MeasurementInput = str | Path | pd.DataFrame


def resolve_kpis(kpis: Sequence[str | KpiDefinition]) -> list[KpiDefinition]:
    """KPI definitions from codes of the shipped catalogue or definitions as given."""
    cat = shipped_catalogue()
    out: list[KpiDefinition] = []
    for k in kpis:
        if isinstance(k, KpiDefinition):
            out.append(k)
        elif k in cat:
            out.append(cat[k])
        else:
            raise KpiQueryError(f"kpis: {k!r} is not in the KPI catalogue")
    return out


def parquet_scan(path: str | Path) -> str:
    """DuckDB table expression reading a Parquet file or a (hive-partitioned) dataset dir."""
    p = Path(path)
    pattern = str(p / "**" / "*.parquet") if p.is_dir() else str(p)
    quoted = pattern.replace("'", "''")
    return f"read_parquet('{quoted}', hive_partitioning = true, union_by_name = true)"


def nullable_columns(data: MeasurementInput) -> set[str] | None:
    """Columns that hold (or may hold) missing values, from the Parquet footers' null
    counts or the frame itself; None when that cannot be told (treat all as nullable)."""
    if isinstance(data, pd.DataFrame):
        return {str(c) for c in data.columns if data[c].isna().any()}
    p = Path(data)
    files = sorted(p.rglob("*.parquet")) if p.is_dir() else [p]
    out: set[str] = set()
    try:
        for f in files:
            meta = pq.ParquetFile(f).metadata
            for rg in range(meta.num_row_groups):
                group = meta.row_group(rg)
                for ci in range(group.num_columns):
                    col = group.column(ci)
                    stats = col.statistics
                    if stats is None or not stats.has_null_count or stats.null_count > 0:
                        out.add(col.path_in_schema)
    except (OSError, pa.ArrowException):
        return None
    return out


class DuckDbKpiEngine:
    """Computes catalogue KPIs with DuckDB over counters or test results.

    ``measurements``: a Parquet file, a Parquet dataset directory (e.g. the one the counter
    loader appends to), or a DataFrame; ``inventory``: the cell inventory (needed for
    levels above the cell unless the measurements carry the level column themselves).

    >>> import pandas as pd
    >>> m = pd.DataFrame({"cell_id": ["a", "a"], "ts": pd.to_datetime(["2026-01-01 00:00",
    ...     "2026-01-01 00:15"]), "ho_att": [40, 60], "ho_succ": [39, 50]})
    >>> e = DuckDbKpiEngine(m)
    >>> round(float(e.kpis(["ho_sr"], Level.CELL, Grain.DAY)["ho_sr"][0]), 1)
    89.0
    """

    def __init__(
        self,
        measurements: MeasurementInput,
        inventory: MeasurementInput | None = None,
        *,
        threads: int | None = None,
    ) -> None:
        self.con = duckdb.connect()
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        self._register("measurements", measurements)
        if inventory is not None:
            self._register("inventory", inventory)
        self.columns: list[str] = [
            r[0] for r in self.con.execute("DESCRIBE SELECT * FROM measurements").fetchall()
        ]
        self.nullable = nullable_columns(measurements)

    def _register(self, name: str, data: MeasurementInput) -> None:
        if isinstance(data, pd.DataFrame):
            self.con.register(f"{name}_df", data)
            self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
        else:
            self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM {parquet_scan(data)}")

    def sql(self, query: str) -> pd.DataFrame:
        """Run SQL against the ``measurements`` and ``inventory`` views."""
        return self.con.execute(query).df()

    def kpis(
        self,
        kpis: Sequence[str | KpiDefinition],
        level: Level,
        grain: Grain,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """KPI values per unit of ``level`` and period of ``grain`` as ratios of sums.

        Columns: ``unit, period`` and per KPI the value (NULL when the minimum-sample guard
        holds), ``__num``, ``__den``, ``__n`` and ``__guarded``; see
        :func:`sqm.services.network_kpi.compile.kpi_sql`.
        """
        q = kpi_sql(
            resolve_kpis(kpis),
            level,
            grain,
            Dialect.DUCKDB,
            self.columns,
            start=start,
            end=end,
            nullable=self.nullable,
        )
        return self.sql(q)

    def rollups(
        self,
        kpis: Sequence[str | KpiDefinition],
        levels: Sequence[Level],
        grain: Grain,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[Level, pd.DataFrame]:
        """The same KPIs at several levels from one scan: per-cell sums are materialised
        once, every level is summed from them (sums of sums are exact)."""
        defs = resolve_kpis(kpis)
        # The per-cell sums come back as a frame (one row per cell and period, far fewer
        # than the measurements) and every level is summed from it.
        sums = self.sql(
            cell_sums_sql(
                defs,
                grain,
                Dialect.DUCKDB,
                self.columns,
                start=start,
                end=end,
                nullable=self.nullable,
            )
        )
        self.con.register("_cell_sums", sums)
        try:
            return {lvl: self.sql(rollup_sql(defs, lvl, "_cell_sums")) for lvl in levels}
        finally:
            self.con.unregister("_cell_sums")

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
            Dialect.DUCKDB,
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
            Dialect.DUCKDB,
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
            Dialect.DUCKDB,
            self.columns,
            level=level,
            rank_by=rank_by,
            limit=limit,
            start=start,
            end=end,
        )
        return self.sql(q)

    def close(self) -> None:
        """Release the DuckDB connection."""
        self.con.close()
