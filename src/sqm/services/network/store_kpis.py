"""Store-level network KPIs for the scorecard, summarised from the cell counters.

For one month, the counters of the cells serving each store — the inventory's link
``NetworkCell.unit_id`` — are summed per store and the KPI is the ratio of those sums
(never a mean of cell ratios), computed with the DuckDB engine:

* ``dl_user_throughput`` (Mbit/s) = Σ DL IP throughput volume (kbit) / Σ time (ms),
  the catalogue's ``dl_user_thp``;
* ``voice_drop_rate`` (%) = 100 · Σ abnormal releases / Σ releases, the catalogue's
  ``drop_rate`` (E-RAB / QoS-flow retainability, the counter-side proxy for call drops).

``n`` is the KPI's sample count (releases; throughput time in ms); ``se`` is the standard
error: binomial √(p(1−p)/n) for the drop rate, and for the throughput the ratio
estimator's linearised standard error with the store's cells as clusters (Cochran,
*Sampling Techniques*, 3rd ed., §6.4): se(R)² = Σ_c (y_c − R x_c)² / (m (m − 1) x̄²).
``voice_mos`` has no counter source (it needs VoLTE packet loss and delay) and is not
produced here.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sqm.services.network.kpi import DuckDbKpiEngine, Grain, Level
from sqm.store.models import Period
from sqm.store.models.network import NetworkCell, NetworkKpiValue

# scorecard reference → catalogue KPI
STORE_KPIS = {"dl_user_throughput": "dl_user_thp", "voice_drop_rate": "drop_rate"}


def store_kpis(session: Session, engine: DuckDbKpiEngine, period: Period) -> pd.DataFrame:
    """Per store (``unit_id``) and reference: ``value, n, se`` for the month ``period``
    from the counters of the store's cells; a store whose cells have no counters in the
    month, or fewer samples than the KPI's guard, gets no row.

    >>> # store_kpis(s, DuckDbKpiEngine(counters, inventory), period_2026_11)
    """
    start = datetime.combine(period.start, datetime.min.time())
    end = datetime.combine(period.end, datetime.min.time()) + timedelta(days=1)
    cells = pd.DataFrame(
        session.execute(select(NetworkCell.cell_id, NetworkCell.unit_id)).all(),
        columns=["unit", "unit_id"],
    )
    # Per-cell month sums from the engine, then summed per store: sums of sums are exact.
    per_cell = engine.kpis(list(STORE_KPIS.values()), Level.CELL, Grain.MONTH, start=start, end=end)
    per_cell = per_cell.merge(cells, on="unit", how="inner")
    rows: list[dict[str, object]] = []
    for ref, kpi in STORE_KPIS.items():
        cols = per_cell[["unit_id", f"{kpi}__num", f"{kpi}__den", f"{kpi}__n"]].dropna()
        cols.columns = pd.Index(["unit_id", "num", "den", "n"])
        for unit_id in cols["unit_id"].unique():
            g = cols[cols["unit_id"] == unit_id]
            num, den, n = float(g["num"].sum()), float(g["den"].sum()), float(g["n"].sum())
            if den <= 0 or n < _min_samples(kpi):
                continue
            if kpi == "drop_rate":
                p = num / den
                value, se = 100 * p, 100 * math.sqrt(p * (1 - p) / den)
            else:
                value = num / den
                m = len(g)
                resid = g["num"].to_numpy() - value * g["den"].to_numpy()
                xbar = den / m
                se = (
                    math.sqrt(float((resid**2).sum()) / (m * (m - 1) * xbar**2))
                    if m > 1
                    else math.nan
                )
            rows.append(
                {"unit_id": int(unit_id), "source_ref": ref, "value": value, "n": n, "se": se}
            )
    return pd.DataFrame(rows, columns=["unit_id", "source_ref", "value", "n", "se"])


def _min_samples(kpi: str) -> float:
    from sqm.domain.kpi_catalogue import shipped_catalogue

    return float(shipped_catalogue()[kpi].min_samples or 0)


def write_store_kpis(session: Session, period: Period, values: pd.DataFrame) -> int:
    """Replace the period's stored values of these references for the stores in
    ``values`` (what the scorecard's ``network_kpi`` source reads); returns rows written.
    ``se`` is stored with the value, so the scorecard carries the KPI's uncertainty."""
    if values.empty:
        return 0
    for ref, g in values.groupby("source_ref"):
        session.execute(
            delete(NetworkKpiValue).where(
                NetworkKpiValue.period_id == period.id,
                NetworkKpiValue.kpi == str(ref),
                NetworkKpiValue.unit_id.in_([int(u) for u in g["unit_id"].to_numpy()]),
            )
        )
    session.add_all(
        NetworkKpiValue(
            unit_id=int(u),
            period_id=period.id,
            kpi=str(ref),
            value=round(float(v), 4),
            n=round(n),
            se=None if math.isnan(e) else float(e),
        )
        for u, ref, v, n, e in zip(
            values["unit_id"].to_numpy(),
            values["source_ref"].to_numpy(),
            values["value"].to_numpy(dtype=float),
            values["n"].to_numpy(dtype=float),
            values["se"].to_numpy(dtype=float),
            strict=True,
        )
    )
    session.flush()
    return len(values)
