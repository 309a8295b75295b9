"""Network KPIs beside complaint hotspots: the same area, the same days.

When complaints about network quality or broadband rise for a unit, the handler's first
question is whether the network moved there and then.  For a hotspot's unit and window this
module computes the daily KPIs (drop rate, downlink user throughput) over the cells that serve the unit — the cells whose ``NetworkCell.unit_id`` lies in the
unit's subtree — and, when those cells have no values in the window, over the cells of the
nearest enclosing area that has some (district → city → province).  Each day's value is a
ratio of sums of the cells' counters (never a mean of cell ratios), from the DuckDB engine
over the Parquet counter dataset, and a day under the KPI's minimum-sample guard has no
value.  Only cells the caller may see are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from sqm.config import get_settings
from sqm.domain.kpi import KpiDefinition
from sqm.domain.org import UnitKind
from sqm.lazy import lazy_import
from sqm.services.complaints.handling import default_calendar
from sqm.services.network.kpi import DuckDbKpiEngine, Grain, Level, resolve_kpis
from sqm.services.network.kpi.sql_engine import MeasurementInput
from sqm.store.models import Complaint, OrgUnit
from sqm.store.models.network import NetworkCell

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")

#: KPIs shown beside a hotspot: retainability (drop rate, %) and speed (Mbit/s).
HOTSPOT_KPIS: tuple[str, ...] = ("drop_rate", "dl_user_thp")
#: Complaint categories whose hotspots are about network quality.
NETWORK_CATEGORIES: tuple[str, ...] = ("network", "broadband")
#: Levels an area may widen to, nearest first (the company as a whole is not an "area").
AREA_KINDS = (UnitKind.STORE, UnitKind.DISTRICT, UnitKind.CITY, UnitKind.PROVINCE)


def is_network_code(code: str) -> bool:
    """Whether a complaint (sub-)category is about network quality.

    >>> is_network_code("network.slow_data"), is_network_code("billing.overcharge")
    (True, False)
    """
    return code.split(".")[0] in NETWORK_CATEGORIES


@dataclass(frozen=True)
class HotspotArea:
    """One request: the unit a hotspot is about and its window of local days
    ``[start, end)``."""

    unit: OrgUnit
    start: date
    end: date


@dataclass(frozen=True)
class AreaKpis:
    """Daily KPIs of the area nearest to a hotspot's unit that has values.

    ``area`` is the unit whose cells were used (the hotspot's unit ``unit_id`` itself or an
    ancestor), ``cells`` how many of its cells reported, ``days`` every day of the window
    and ``values[kpi]`` the value per day (None: no counters or under the sample guard).
    """

    unit_id: int
    area: OrgUnit
    cells: int
    days: list[date]
    values: dict[str, list[float | None]]

    @property
    def widened(self) -> bool:
        """True when the values are of an enclosing area, not of the unit's own cells."""
        return self.area.id != self.unit_id


def default_counters() -> Path | None:
    """The counter dataset of the installation, or None when there is none."""
    p = get_settings().network_dir / "counters"
    return p if p.exists() and any(p.rglob("*.parquet")) else None


def area_chain(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """The unit and its ancestors that are areas (store, district, city, province), nearest
    first."""
    ids = [int(x) for x in unit.path.strip("/").split("/") if x]
    by_id = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    chain = [by_id[i] for i in reversed(ids) if i in by_id]
    return [u for u in chain if u.id == unit.id or u.kind in AREA_KINDS]


def area_daily_kpis(
    session: Session,
    requests: Sequence[HotspotArea],
    *,
    counters: MeasurementInput | None = None,
    visible: ColumnElement[bool] | None = None,
    kpis: Sequence[str] = HOTSPOT_KPIS,
) -> list[AreaKpis | None]:
    """For each request, the daily KPIs of the nearest area that has values in its window.

    ``counters``: the 15-minute counter table (a Parquet dataset path or a frame; default
    the installation's dataset); ``visible``: a condition on :class:`OrgUnit` limiting the
    cells used (the principal's scope).  None for a request whose areas have no values.

    >>> # area_daily_kpis(s, [HotspotArea(store, date(2026, 11, 10), date(2026, 12, 1))])
    """
    out: list[AreaKpis | None] = [None] * len(requests)
    data = counters if counters is not None else default_counters()
    if data is None or not requests:
        return out
    q = select(NetworkCell.cell_id, OrgUnit.path).join(OrgUnit, OrgUnit.id == NetworkCell.unit_id)
    if visible is not None:
        q = q.where(visible)
    cells = pd.DataFrame(session.execute(q).all(), columns=["cell_id", "path"])
    if cells.empty:
        return out
    chains = [area_chain(session, r.unit) for r in requests]
    wanted = {
        c
        for chain in chains
        for u in chain
        for c in cells.loc[cells["path"].str.startswith(u.path), "cell_id"]
    }
    if not wanted:
        return out
    start = datetime.combine(min(r.start for r in requests), datetime.min.time())
    end = datetime.combine(max(r.end for r in requests), datetime.min.time())
    defs = resolve_kpis(list(kpis))
    engine = DuckDbKpiEngine(data)
    try:
        per_cell = engine.kpis(defs, Level.CELL, Grain.DAY, start=start, end=end)
    finally:
        engine.close()
    per_cell = per_cell[per_cell["unit"].isin(wanted)]
    per_cell = per_cell.assign(day=pd.to_datetime(per_cell["period"]).dt.date)
    for i, (req, chain) in enumerate(zip(requests, chains, strict=True)):
        days = [req.start + timedelta(days=d) for d in range((req.end - req.start).days)]
        in_window = per_cell[(per_cell["day"] >= req.start) & (per_cell["day"] < req.end)]
        for area in chain:
            area_cells = set(cells.loc[cells["path"].str.startswith(area.path), "cell_id"])
            mine = in_window[in_window["unit"].isin(area_cells)]
            if mine.empty:
                continue
            values = _daily_ratios(mine, defs, days)
            if any(v is not None for series in values.values() for v in series):
                out[i] = AreaKpis(req.unit.id, area, int(mine["unit"].nunique()), days, values)
                break
    return out


def _daily_ratios(
    per_cell: pd.DataFrame, defs: Sequence[KpiDefinition], days: list[date]
) -> dict[str, list[float | None]]:
    """Per day, each KPI as scale · Σ numerators / Σ denominators over the cells (sums of
    sums are exact); None under the KPI's minimum-sample guard."""
    out: dict[str, list[float | None]] = {}
    for k in defs:
        code, scale, min_n = k.code, float(k.scale), float(k.min_samples or 0)
        sums = per_cell.groupby("day")[[f"{code}__num", f"{code}__den", f"{code}__n"]].sum(
            min_count=1
        )
        series: list[float | None] = []
        for d in days:
            if d not in sums.index:
                series.append(None)
                continue
            num, den, n = (float(x) for x in sums.loc[d].to_numpy())
            ok = den > 0 and not pd.isna(num) and not pd.isna(n) and n >= min_n
            series.append(round(scale * num / den, 4) if ok else None)
        out[code] = series
    return out


def complaints_per_day(
    session: Session, unit_id: int, code: str, start: date, end: date, *, by: str = "subcategory"
) -> list[int]:
    """Complaints about ``unit_id`` with taxonomy ``code`` per local day of ``[start, end)``.

    ``code`` is matched as a hotspot scan counts it (:func:`sqm.services.complaints.alerts.scan`):
    a sub-category code matches that sub-category; a category code matches the category
    when the scan tested categories (``by="category"``), else only the complaints of the
    category that have no sub-category.

    >>> # complaints_per_day(s, store.id, "network.slow_data", date(2026, 11, 10), date(2026, 12, 1))
    """
    zone = default_calendar().zone
    # Bound in UTC: SQLite keeps the stored UTC text and drops a bound value's offset.
    lo = datetime.combine(start, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    hi = datetime.combine(end, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    if "." in code:
        match = Complaint.subcategory == code
    elif by == "category":
        match = Complaint.category == code
    else:
        match = func.coalesce(Complaint.subcategory, Complaint.category) == code
    times = session.scalars(
        select(Complaint.received_at).where(
            Complaint.unit_id == unit_id,
            match,
            Complaint.received_at >= lo,
            Complaint.received_at < hi,
        )
    ).all()
    days = (
        pd.to_datetime(pd.Series(times, dtype=object), utc=True).dt.tz_convert(zone).dt.date
        if times
        else pd.Series([], dtype=object)
    )
    counts = days.value_counts()
    n = (end - start).days
    return [int(counts.get(start + timedelta(days=d), 0)) for d in range(n)]
