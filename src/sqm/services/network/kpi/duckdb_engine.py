"""The embedded KPI engine: DuckDB over the Parquet measurement datasets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqm.domain.kpi import KpiDefinition
from sqm.lazy import lazy_import
from sqm.services.network.kpi.compile import (
    Dialect,
    cell_sums_sql,
    rollup_sql,
)
from sqm.services.network.kpi.levels import Grain, Level
from sqm.services.network.kpi.sql_engine import MeasurementInput, SqlKpiEngine, resolve_kpis

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    duckdb = lazy_import("duckdb")
    pd = lazy_import("pandas")
    pa = lazy_import("pyarrow")
    pq = lazy_import("pyarrow.parquet")

__all__ = [
    "DuckDbKpiEngine",
    "MeasurementInput",
    "nullable_columns",
    "parquet_scan",
    "resolve_kpis",
]


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


_LITERAL_CELLS = 200


class DuckDbKpiEngine(SqlKpiEngine):
    """Computes catalogue KPIs with DuckDB over counters or test results.

    ``measurements``: a Parquet file, a Parquet dataset directory (e.g. the one the counter
    loader appends to), or a DataFrame; ``inventory``: the cell inventory (needed for
    levels above the cell unless the measurements carry the level column themselves).
    With ``only_inventory_cells`` every query sees only the measurements of the
    inventory's cells, at every level (a page restricted to the cells a user may see
    gives the inventory of those cells; without it the cell level reads every cell).

    >>> import pandas as pd
    >>> m = pd.DataFrame({"cell_id": ["a", "a"], "ts": pd.to_datetime(["2026-01-01 00:00",
    ...     "2026-01-01 00:15"]), "ho_att": [40, 60], "ho_succ": [39, 50]})
    >>> e = DuckDbKpiEngine(m)
    >>> round(float(e.kpis(["ho_sr"], Level.CELL, Grain.DAY)["ho_sr"][0]), 1)
    89.0
    """

    dialect = Dialect.DUCKDB

    def __init__(
        self,
        measurements: MeasurementInput,
        inventory: MeasurementInput | None = None,
        *,
        threads: int | None = None,
        only_inventory_cells: bool = False,
    ) -> None:
        self.con = duckdb.connect()
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        if inventory is not None:
            self._register("inventory", inventory)
        if only_inventory_cells:
            if inventory is None:
                raise ValueError("only_inventory_cells needs an inventory")
            self._register("all_measurements", measurements)
            self.con.execute(
                "CREATE VIEW measurements AS SELECT * FROM all_measurements "
                f"WHERE cell_id IN ({self._inventory_cells()})"
            )
        else:
            self._register("measurements", measurements)
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

    def _inventory_cells(self) -> str:
        # A few cells (one cell's page, one district) are named as literals, which DuckDB
        # pushes into the Parquet scan; a larger inventory is a semi-join.
        ids = [r[0] for r in self.con.execute("SELECT DISTINCT cell_id FROM inventory").fetchall()]
        if len(ids) > _LITERAL_CELLS:
            return "SELECT cell_id FROM inventory"
        if not ids:
            return "NULL"
        return ", ".join("'" + str(i).replace("'", "''") + "'" for i in ids)

    def sql(self, query: str) -> pd.DataFrame:
        """Run SQL against the ``measurements`` and ``inventory`` views."""
        return self.con.execute(query).df()

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

    def close(self) -> None:
        """Release the DuckDB connection."""
        self.con.close()
