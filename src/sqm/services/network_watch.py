"""The early-warning run: rules over recent KPIs per cell → alerts raised, updated, resolved.

Meant to run every 15 minutes or hourly (``sqm network watch``): it computes the KPI per
cell and hour over a look-back window with the DuckDB engine, evaluates each rule on each
cell's series, and hands the cells whose alert is active at the latest hour to the alert
lifecycle (one alert per rule, KPI and site); alerts whose rule has recovered are resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.methods.alert_rules import Rule, backtest, episodes
from sqm.services.network_alerts import (
    Detection,
    dedup_key,
    notify,
    raise_alerts,
    resolve_cleared,
)
from sqm.services.network_kpi import DuckDbKpiEngine, Grain, Level
from sqm.store.models.network import NetworkCell


@dataclass(frozen=True)
class WatchResult:
    """What one run did."""

    cells: int
    firing: int
    new_alerts: int
    resolved: int
    notified: int


def hourly_cell_series(
    engine: DuckDbKpiEngine, kpi: str, start: datetime, end: datetime
) -> pd.DataFrame:
    """Hourly KPI per cell (rows: hours, columns: cells), NULL under the sample guard."""
    df = engine.kpis([kpi], Level.CELL, Grain.HOUR, start=start, end=end)
    return df.pivot(index="period", columns="unit", values=kpi).sort_index()


def watch(
    session: Session,
    engine: DuckDbKpiEngine,
    kpi: str,
    rules: Mapping[str, Rule],
    *,
    now: datetime | None = None,
    lookback_days: int = 7,
    send: bool = True,
) -> WatchResult:
    """Evaluate ``rules`` on ``kpi`` for every cell of the inventory and update the alerts."""
    if kpi not in shipped_catalogue():
        raise ValueError(f"kpi {kpi!r} is not in the KPI catalogue")
    last = pd.Timestamp(engine.sql("SELECT max(ts) AS t FROM measurements")["t"].iloc[0])
    end = (last.floor("h") + pd.Timedelta(hours=1)).to_pydatetime()
    start = end - timedelta(days=lookback_days)
    series = hourly_cell_series(engine, kpi, start, end)
    cells = {
        c.cell_id: c
        for c in session.scalars(
            select(NetworkCell).where(NetworkCell.cell_id.in_(list(series.columns)))
        )
    }
    detections: list[Detection] = []
    for cell_id in series.columns:
        cell = cells.get(str(cell_id))
        if cell is None:
            continue
        s = series[cell_id]
        for name, rule in rules.items():
            active = rule.evaluate(s)
            if not bool(active.iloc[-1]):
                continue
            ep = episodes(active).iloc[-1]
            at = pd.Timestamp(ep["start"]).to_pydatetime().replace(tzinfo=UTC)
            value = s.iloc[-1]
            detections.append(
                Detection(
                    name,
                    kpi,
                    cell.cell_id,
                    cell.site_id,
                    cell.unit_id,
                    at,
                    None if pd.isna(value) else float(value),
                )
            )
    new = raise_alerts(session, detections)
    keys = {dedup_key(d.rule, d.kpi, d.site_id) for d in detections}
    at_now = now or datetime.now(UTC)
    resolved = resolve_cleared(session, keys, at_now, rules=list(rules), kpis=[kpi])
    sent = notify(session, new, at_now) if send and new else 0
    return WatchResult(len(series.columns), len(detections), len(new), len(resolved), sent)


def backtest_cells(
    engine: DuckDbKpiEngine,
    kpi: str,
    rules: Mapping[str, Rule],
    start: datetime,
    end: datetime,
) -> pd.DataFrame:
    """How many alerts each rule would have raised per cell over a past window (to tune
    thresholds before they page anyone): one row per rule with total alerts, cells that
    would have alerted and active hours."""
    series = hourly_cell_series(engine, kpi, start, end)
    rows = []
    for cell_id in series.columns:
        bt = backtest(series[cell_id], rules)
        for r in bt.itertuples():
            rows.append(
                {
                    "rule": r.rule,
                    "cell_id": cell_id,
                    "alerts": r.alerts,
                    "active_hours": r.active_intervals,
                }
            )
    per_cell = pd.DataFrame(rows, columns=["rule", "cell_id", "alerts", "active_hours"])
    g = per_cell.groupby("rule")
    return pd.DataFrame(
        {
            "alerts": g["alerts"].sum(),
            "cells_alerting": g["alerts"].apply(lambda a: int((a > 0).sum())),
            "active_hours": g["active_hours"].sum(),
        }
    ).reset_index()
