"""The early-warning run: rules over recent KPIs per cell → alerts raised, updated, resolved.

Meant to run every 15 minutes or hourly (``sqm network watch``): it computes the KPI per
cell and hour over a look-back window with the DuckDB engine, evaluates each rule on each
cell's series, and hands the cells whose alert is active at the latest hour to the alert
lifecycle (one alert per rule, KPI and site); alerts whose rule has recovered are resolved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.methods.alert_rules import Rule, backtest, episodes
from sqm.services.network.alerts import (
    Detection,
    dedup_key,
    notify,
    raise_alerts,
    resolve_cleared,
)
from sqm.services.network.kpi import DuckDbKpiEngine, Grain, Level
from sqm.services.network.rule_set import RuleSpec, group_rules
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
    engine: DuckDbKpiEngine,
    kpi: str,
    start: datetime,
    end: datetime,
    grain: Grain = Grain.HOUR,
) -> pd.DataFrame:
    """KPI per cell and hour (or ``grain``) — rows: periods, columns: cells; NULL under
    the sample guard."""
    df = engine.kpis([kpi], Level.CELL, grain, start=start, end=end)
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
    grain: Grain = Grain.HOUR,
    severities: Mapping[str, str] | None = None,
) -> WatchResult:
    """Evaluate ``rules`` on ``kpi`` for every cell of the inventory and update the alerts
    (severity per rule from ``severities``, default major)."""
    if kpi not in shipped_catalogue():
        raise ValueError(f"kpi {kpi!r} is not in the KPI catalogue")
    last = pd.Timestamp(engine.sql("SELECT max(ts) AS t FROM measurements")["t"].iloc[0])
    end = (last.floor("h") + pd.Timedelta(hours=1)).to_pydatetime()
    start = end - timedelta(days=lookback_days)
    series = hourly_cell_series(engine, kpi, start, end, grain)
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
                    severity=(severities or {}).get(name, "major"),
                )
            )
    new = raise_alerts(session, detections)
    keys = {dedup_key(d.rule, d.kpi, d.site_id) for d in detections}
    at_now = now or datetime.now(UTC)
    resolved = resolve_cleared(session, keys, at_now, rules=list(rules), kpis=[kpi])
    sent = notify(session, new, at_now) if send and new else 0
    return WatchResult(len(series.columns), len(detections), len(new), len(resolved), sent)


def watch_rule_set(
    session: Session,
    engine: DuckDbKpiEngine,
    specs: Sequence[RuleSpec],
    *,
    now: datetime | None = None,
    lookback_days: int = 28,
    send: bool = True,
) -> WatchResult:
    """Run a whole rule set (see :mod:`sqm.services.network.rule_set`): :func:`watch` once
    per KPI and grain, each rule's alerts at the rule's level. The look-back is longer
    than for a single threshold because baseline, trend and control-chart rules need
    weeks of history. Cell counts are the largest of the runs; the rest are summed."""
    results = [
        watch(
            session,
            engine,
            kpi,
            {s.name: s.rule for s in group},
            now=now,
            lookback_days=lookback_days,
            send=send,
            grain=Grain(grain),
            severities={s.name: s.level for s in group},
        )
        for (kpi, grain), group in group_rules(specs).items()
    ]
    return WatchResult(
        max((r.cells for r in results), default=0),
        sum(r.firing for r in results),
        sum(r.new_alerts for r in results),
        sum(r.resolved for r in results),
        sum(r.notified for r in results),
    )


def backtest_rule_set(
    engine: DuckDbKpiEngine,
    specs: Sequence[RuleSpec],
    start: datetime,
    end: datetime,
    *,
    per_cell: bool = False,
) -> pd.DataFrame:
    """:func:`backtest_cells` for a whole rule set: one row per rule (with its KPI, kind
    and level), or per rule and cell with ``per_cell``."""
    frames = []
    for (kpi, grain), group in group_rules(specs).items():
        bt = backtest_cells(
            engine,
            kpi,
            {s.name: s.rule for s in group},
            start,
            end,
            grain=Grain(grain),
            per_cell=per_cell,
        )
        bt.insert(1, "kpi", kpi)
        bt.insert(2, "kind", bt["rule"].map({s.name: s.kind for s in group}))
        bt.insert(3, "level", bt["rule"].map({s.name: s.level for s in group}))
        frames.append(bt)
    order = {s.name: i for i, s in enumerate(specs)}
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values("rule", key=lambda r: r.map(order), kind="stable").reset_index(drop=True)


def backtest_cells(
    engine: DuckDbKpiEngine,
    kpi: str,
    rules: Mapping[str, Rule],
    start: datetime,
    end: datetime,
    *,
    grain: Grain = Grain.HOUR,
    per_cell: bool = False,
) -> pd.DataFrame:
    """How many alerts each rule would have raised per cell over a past window (to tune
    thresholds before they page anyone): one row per rule with total alerts, cells that
    would have alerted and active hours (periods of ``grain``), or with ``per_cell`` one
    row per rule and cell (``rule, cell_id, alerts, active_hours``)."""
    series = hourly_cell_series(engine, kpi, start, end, grain)
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
    cells = pd.DataFrame(rows, columns=["rule", "cell_id", "alerts", "active_hours"])
    if per_cell:
        return cells
    g = cells.groupby("rule")
    return pd.DataFrame(
        {
            "alerts": g["alerts"].sum(),
            "cells_alerting": g["alerts"].apply(lambda a: int((a > 0).sum())),
            "active_hours": g["active_hours"].sum(),
        }
    ).reset_index()
