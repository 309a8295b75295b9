"""What the KPI engines share: every query is SQL text compiled from the KPI catalogue for
one dialect, so an engine only says how to run SQL (DuckDB embedded, Spark distributed)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from sqm.domain.kpi import Expression, KpiDefinition
from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.lazy import lazy_import
from sqm.services.network.kpi.compile import (
    Dialect,
    KpiQueryError,
    busy_hour_sql,
    kpi_sql,
    time_consistent_busy_hour_sql,
    worst_cells_sql,
)
from sqm.services.network.kpi.levels import Grain, Level

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")

#: a string, so that pandas is imported only when a query runs
MeasurementInput: TypeAlias = "str | Path | pd.DataFrame"


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


class SqlKpiEngine:
    """KPI queries over the ``measurements`` (and ``inventory``) views of one SQL dialect.

    Subclasses set :attr:`dialect`, fill :attr:`columns` (the measurement columns) and
    implement :meth:`sql`; :attr:`nullable` (columns that may hold NULLs, None = unknown)
    lets the compiler skip NULL guards where the data has none.
    """

    dialect: Dialect
    columns: list[str]
    nullable: Collection[str] | None = None

    def sql(self, query: str) -> pd.DataFrame:
        raise NotImplementedError

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
        :func:`sqm.services.network.kpi.compile.kpi_sql`.
        """
        q = kpi_sql(
            resolve_kpis(kpis),
            level,
            grain,
            self.dialect,
            self.columns,
            start=start,
            end=end,
            nullable=self.nullable,
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
            self.dialect,
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
            self.dialect,
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
            self.dialect,
            self.columns,
            level=level,
            rank_by=rank_by,
            limit=limit,
            start=start,
            end=end,
        )
        return self.sql(q)
