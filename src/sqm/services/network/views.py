"""Read models of the network pages: the visible cell inventory, KPIs per region, the cell
map, the worst cells, one cell's hourly KPIs, the alert list and the crowd benchmark.

KPIs are computed on request by the DuckDB engine over the Parquet counter dataset,
restricted to the cells whose serving unit the principal may see. Each function returns
plain rows and chart specs (``{"type": "line", …}`` as ``static/js/charts.js`` draws them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.config import get_settings
from sqm.domain.errors import RuleError
from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.lazy import lazy_import
from sqm.services.network.kpi import DuckDbKpiEngine, Grain, Level
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit
from sqm.store.models.network import NetworkAlert, NetworkCell, NetworkSilence

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")

OVERVIEW_KPIS = [
    "rrc_setup_sr",
    "bearer_setup_sr",
    "drop_rate",
    "ho_sr",
    "dl_user_thp",
    "availability",
]
MAP_KPIS = ["rrc_setup_sr", "drop_rate", "ho_sr", "dl_user_thp", "availability"]
ALERT_STATUSES = ("open", "acknowledged", "resolved", "all")
CELL_COLUMNS = [
    "pk",
    "cell_id",
    "site_id",
    "district",
    "city",
    "province",
    "tech",
    "band",
    "lat",
    "lon",
    "unit_id",
]

# ------------------------------------------------------------------------ cells in scope


def visible_cells(session: Session, principal: Principal) -> pd.DataFrame:
    """The cells whose serving unit the principal sees (columns :data:`CELL_COLUMNS`)."""
    rows = session.execute(
        select(
            NetworkCell.id,
            NetworkCell.cell_id,
            NetworkCell.site_id,
            NetworkCell.district,
            NetworkCell.city,
            NetworkCell.province,
            NetworkCell.tech,
            NetworkCell.band,
            NetworkCell.lat,
            NetworkCell.lon,
            NetworkCell.unit_id,
        )
        .join(OrgUnit, OrgUnit.id == NetworkCell.unit_id)
        .where(principal.unit_filter())
    ).all()
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def visible_scopes(session: Session, principal: Principal) -> set[str]:
    """The site and cell ids the principal sees (what a maintenance window may name)."""
    cells = visible_cells(session, principal)
    return set(cells["site_id"]) | set(cells["cell_id"])


@dataclass(frozen=True)
class CellInUnit:
    """A cell and the org unit it serves."""

    cell: NetworkCell
    unit: OrgUnit


def visible_cell(session: Session, principal: Principal, cell_pk: int) -> CellInUnit | None:
    """The cell ``cell_pk`` with its unit if the principal sees the unit, else None."""
    cell = session.get(NetworkCell, cell_pk)
    if cell is None:
        return None
    unit = session.get(OrgUnit, cell.unit_id)
    if unit is None or not principal.sees(unit):
        return None
    return CellInUnit(cell, unit)


# ------------------------------------------------------------------------ KPI engine


def _counters() -> Path | None:
    p = get_settings().network_dir / "counters"
    return p if p.exists() and any(p.rglob("*.parquet")) else None


def _engine(cells: pd.DataFrame) -> DuckDbKpiEngine | None:
    """The KPI engine over the counters of ``cells`` only (at every level: the cell
    level's query reads no other cell), or None without counters or cells."""
    path = _counters()
    if path is None or cells.empty:
        return None
    return DuckDbKpiEngine(path, cells, only_inventory_cells=True)


def _window(engine: DuckDbKpiEngine, days: int) -> tuple[datetime, datetime]:
    last = engine.sql("SELECT max(ts) AS t FROM measurements")["t"].iloc[0]
    end = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    return (end - pd.Timedelta(days=days)).to_pydatetime(), end.to_pydatetime()


def kpi_labels(locale: str) -> dict[str, str]:
    """Every catalogue KPI's label with its unit, in ``locale``."""
    return {c: k.label(locale) + f" ({k.unit})" for c, k in shipped_catalogue().items()}


def _in_scope_cells(df: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    # Inner join of the engine's output with the visible inventory (the engine joined it
    # already; this keeps the page code honest if that ever changes).
    return df[df["unit"].isin(set(cells["cell_id"]))]


def _num(v: Any, digits: int) -> float | None:
    return None if pd.isna(v) else round(float(v), digits)


# ------------------------------------------------------------------------ read models


def overview(session: Session, principal: Principal, level: str, locale: str) -> dict[str, Any]:
    """KPIs per province, city or district over the last week, daily trends over four
    weeks, and the number of open alerts (the overview page's figures)."""
    if level not in ("province", "city", "district"):
        raise RuleError("level must be province, city or district")
    labels = kpi_labels(locale)
    engine = _engine(visible_cells(session, principal))
    out: dict[str, Any] = {
        "has_data": engine is not None,
        "level": level,
        "labels": labels,
        "kpis": OVERVIEW_KPIS,
    }
    if engine is not None:
        start, end = _window(engine, 28)
        lvl = Level(level)
        week = end - timedelta(days=7)
        weekly = engine.kpis(OVERVIEW_KPIS, lvl, Grain.DAY, start=week, end=end)
        table = engine.kpis(OVERVIEW_KPIS, lvl, Grain.MONTH, start=week, end=end)
        trends = ["rrc_setup_sr", "drop_rate", "dl_user_thp"]
        daily = engine.kpis(trends, lvl, Grain.DAY, start=start, end=end)
        engine.close()
        days = sorted({d.strftime("%m-%d") for d in daily["period"]})
        charts = []
        for code in trends:
            series = [
                {"name": u, "data": [_num(v, 3) for v in g[code]]} for u, g in daily.groupby("unit")
            ]
            charts.append(
                {"title": labels[code], "spec": {"type": "line", "labels": days, "series": series}}
            )
        out |= {
            "rows": table.to_dict("records"),
            "charts": charts,
            "window": f"{week:%Y-%m-%d} – {(end - timedelta(days=1)):%Y-%m-%d}",
            "n_days": len(weekly["period"].unique()),
        }
    out["open_alerts"] = len(alert_list(session, principal, "open"))
    return out


def cell_map(session: Session, principal: Principal, kpi: str) -> dict[str, Any] | None:
    """An ECharts scatter option: each visible cell at its position, coloured by its mean
    ``kpi`` over the last week (None without counters or cells)."""
    if kpi not in MAP_KPIS:
        raise RuleError(f"kpi must be one of {', '.join(MAP_KPIS)}")
    cells = visible_cells(session, principal)
    engine = _engine(cells)
    if engine is None:
        return None
    start, end = _window(engine, 7)
    df = _in_scope_cells(engine.kpis([kpi], Level.CELL, Grain.MONTH, start=start, end=end), cells)
    engine.close()
    vals = df.groupby("unit")[kpi].mean()
    merged = cells.assign(value=cells["cell_id"].map(vals)).dropna(subset=["value"])
    k = shipped_catalogue()[kpi]
    lo, hi = float(merged["value"].quantile(0.02)), float(merged["value"].quantile(0.98))
    colours = ["#d73027", "#fee08b", "#1a9850"]
    return {
        "tooltip": {"trigger": "item"},
        "xAxis": {"type": "value", "scale": True, "name": "lon"},
        "yAxis": {"type": "value", "scale": True, "name": "lat"},
        "visualMap": {
            "min": lo,
            "max": hi,
            "calculable": True,
            "dimension": 2,
            "inRange": {"color": colours if k.direction.value == "higher" else colours[::-1]},
            "right": 0,
            "top": "middle",
        },
        "series": [
            {
                "type": "scatter",
                "symbolSize": 6,
                "data": [
                    [round(float(lo_), 5), round(float(la), 5), round(float(v), 3), str(c)]
                    for lo_, la, v, c in zip(
                        merged["lon"],
                        merged["lat"],
                        merged["value"],
                        merged["cell_id"],
                        strict=True,
                    )
                ],
            }
        ],
    }


def worst_kpis() -> list[str]:
    """The overview KPIs that count failures (those a worst-cell list can rank)."""
    cat = shipped_catalogue()
    return [c for c in OVERVIEW_KPIS if cat[c].failures is not None]


def worst_cells(
    session: Session, principal: Principal, kpi: str, rank_by: str
) -> list[dict[str, Any]]:
    """The 30 visible cells with the most failures (or the most impact) of ``kpi`` over the
    last week, each with its cell ``pk`` and ``site``."""
    choices = worst_kpis()
    if kpi not in choices or rank_by not in ("failures", "impact"):
        raise RuleError(f"kpi must be one of {', '.join(choices)}; rank_by failures or impact")
    cells = visible_cells(session, principal)
    engine = _engine(cells)
    if engine is None:
        return []
    start, end = _window(engine, 7)
    df = _in_scope_cells(
        engine.worst_cells(kpi, rank_by=rank_by, limit=30, start=start, end=end), cells
    )
    engine.close()
    pk = dict(zip(cells["cell_id"], cells["pk"], strict=True))
    site = dict(zip(cells["cell_id"], cells["site_id"], strict=True))
    return [
        {**{str(k): v for k, v in r.items()}, "pk": pk.get(r["unit"]), "site": site.get(r["unit"])}
        for r in df.to_dict("records")
    ]


CELL_KPIS = ["rrc_setup_sr", "drop_rate", "dl_user_thp", "prb_dl_util"]


@dataclass
class CellPage:
    """One cell: its hourly KPI charts over the last week and the alerts of its site."""

    cell: NetworkCell
    unit: OrgUnit
    charts: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[NetworkAlert] = field(default_factory=list)


def cell_page(session: Session, principal: Principal, cell: CellInUnit, locale: str) -> CellPage:
    """The cell page's figures: this cell's hourly KPIs over the last week (168 points
    per chart at most) and the alerts of its site about units the principal sees (the
    cell is one the principal sees: :func:`visible_cell`)."""
    c = cell.cell
    page = CellPage(c, cell.unit)
    engine = _engine(pd.DataFrame([{"cell_id": c.cell_id, "site_id": c.site_id}]))
    if engine is not None:
        start, end = _window(engine, 7)
        df = engine.kpis(CELL_KPIS, Level.CELL, Grain.HOUR, start=start, end=end)
        engine.close()
        labels = [t.strftime("%m-%d %H:00") for t in df["period"]]
        names = kpi_labels(locale)
        page.charts = [
            {
                "title": names[code],
                "spec": {
                    "type": "line",
                    "labels": labels,
                    "values": [_num(v, 3) for v in df[code]],
                },
            }
            for code in CELL_KPIS
        ]
    page.alerts = list(
        session.scalars(
            select(NetworkAlert)
            .join(OrgUnit, OrgUnit.id == NetworkAlert.unit_id)
            .where(NetworkAlert.site_id == c.site_id, principal.unit_filter())
            .order_by(NetworkAlert.first_fired_at.desc())
        )
    )
    return page


# ------------------------------------------------------------------------ alerts


def alert_list(session: Session, principal: Principal, status: str) -> list[NetworkAlert]:
    """The 500 latest alerts about units in the principal's scope with ``status`` (or all)."""
    if status not in ALERT_STATUSES:
        raise RuleError("status must be open, acknowledged, resolved or all")
    q = (
        select(NetworkAlert)
        .join(OrgUnit, OrgUnit.id == NetworkAlert.unit_id)
        .where(principal.unit_filter())
    )
    if status != "all":
        q = q.where(NetworkAlert.status == status)
    return list(session.scalars(q.order_by(NetworkAlert.first_fired_at.desc()).limit(500)))


def visible_silences(session: Session, principal: Principal) -> list[NetworkSilence]:
    """The 200 latest maintenance windows on sites or cells the principal sees."""
    visible = visible_scopes(session, principal)
    return [
        x
        for x in session.scalars(
            select(NetworkSilence).order_by(NetworkSilence.starts_at.desc()).limit(200)
        )
        if x.scope in visible
    ]


def add_silence(
    session: Session,
    principal: Principal,
    *,
    scope: str,
    kpi: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
) -> NetworkSilence:
    """A maintenance window on a visible site or cell: matching alerts are kept, not sent
    (naive times are UTC)."""
    scope = scope.strip()
    if scope not in visible_scopes(session, principal):
        raise RuleError(f"scope: {scope!r} is not a site or cell in your area")
    if kpi and kpi not in shipped_catalogue():
        raise RuleError(f"kpi: {kpi!r} is not in the KPI catalogue")
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (starts_at, ends_at))
    if end <= start:
        raise RuleError("ends_at must be after starts_at")
    if not reason.strip():
        raise RuleError("reason: say why the alerts are silenced")
    silence = NetworkSilence(
        scope=scope,
        kpi=kpi or None,
        starts_at=start,
        ends_at=end,
        reason=reason.strip()[:300],
        created_by=principal.user_id,
    )
    session.add(silence)
    return silence


# ------------------------------------------------------------------------ crowd tests

OPERATORS = ("China Mobile", "China Telecom", "China Unicom")


def _shared_data() -> Path:
    explicit = get_settings().shared_data or os.environ.get("SQM_SHARED_DATA")
    return Path(explicit) if explicit else Path.cwd().parent / "shared" / "data"


@lru_cache(maxsize=4)
def _crowd(path: str) -> pd.DataFrame:
    from sqm.ingest.network import read_cn_crowd

    return read_cn_crowd(path)


def crowd(tech: str, isp: str) -> dict[str, Any]:
    """Crowd-sourced speed tests of ``tech``: ``isp``'s median, 10th percentile, rank and
    gap to the best other operator, province by province, and a chart of the medians
    (no rows when the public data set is absent)."""
    if tech not in ("4G", "5G"):
        raise RuleError("tech must be 4G or 5G")
    from sqm.services.network.kpi.crowd import crowd_benchmark

    path = _shared_data() / "network" / "cn_crowd" / f"{tech}.csv"
    out: dict[str, Any] = {"tech": tech, "isp": isp, "rows": [], "spec": None}
    if not path.exists():
        return out
    df = _crowd(str(path))
    isps = sorted(x for x in df["isp"].unique() if x in OPERATORS)
    if isp not in isps:
        raise RuleError(f"isp must be one of {', '.join(isps)}")
    b = crowd_benchmark(df, isp, by="province", min_tests=30)
    b = b.sort_values(f"{isp}_median", ascending=False, na_position="last")
    rows = [
        {
            "province": r["province"],
            "n": r.get(f"{isp}_n"),
            "median": r.get(f"{isp}_median"),
            "p10": r.get(f"{isp}_p10"),
            "others": {o: r.get(f"{o}_median") for o in isps if o != isp},
            "rank": r.get("our_rank"),
            "gap": r.get("gap_to_best"),
        }
        for r in b.to_dict("records")
    ]
    spec = {
        "type": "line",
        "labels": [str(r["province"]) for r in rows],
        "series": [{"name": o, "data": [_num(v, 1) for v in b[f"{o}_median"]]} for o in isps],
    }
    return out | {"rows": rows, "isps": isps, "spec": spec}
