"""Read models of the complaint pages and API: the queue, the CSV export, the analyst
dashboard, and the complaint alerts' list and detail.

Every function filters to the principal's scope and returns plain rows, ORM objects to
read, or chart specs (``{"type": "echarts", …}`` as ``static/js/charts.js`` draws them);
the pages and the JSON API of the same thing call the same function.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.complaint_taxonomy import CATEGORIES, all_subcategories
from sqm.domain.errors import MissingError, RuleError
from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.domain.org import UnitKind
from sqm.lazy import lazy_import
from sqm.methods.complaint_measures import HotspotWindow, hotspots, pareto
from sqm.services import alerting
from sqm.services.complaints import alerts as alert_svc
from sqm.services.complaints import handling as ch
from sqm.services.complaints.hotspots import (
    AreaKpis,
    HotspotArea,
    area_daily_kpis,
    complaints_per_day,
    is_network_code,
)
from sqm.services.scope import Principal
from sqm.store.models import Complaint, OrgUnit, User
from sqm.store.models.complaint_alert import ComplaintAlert

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")

# ------------------------------------------------------------------------------ queue


@dataclass(frozen=True)
class Queue:
    """One page of a queue view: the complaints, and their total when asked for."""

    complaints: list[Complaint]
    total: int | None = None


def queue(
    session: Session,
    principal: Principal,
    view: ch.QueueView,
    *,
    limit: int,
    offset: int = 0,
    now: datetime | None = None,
    with_total: bool = False,
) -> Queue:
    """The complaints of a queue view in the principal's scope, most urgent first."""
    stmt = ch.queue_query(principal, view, now)
    total = None
    if with_total:
        count = select(func.count()).select_from(stmt.order_by(None).subquery())
        total = session.scalar(count) or 0
    rows = session.scalars(stmt.limit(limit).offset(offset)).unique().all()
    return Queue(list(rows), total)


EXPORT_COLUMNS = [
    "id",
    "source_system",
    "source_id",
    "channel",
    "class",
    "unit",
    "customer",
    "category",
    "subcategory",
    "status",
    "received_at",
    "resolution_due",
    "resolved_at",
    "satisfaction",
]


def queue_csv(session: Session, principal: Principal, view: ch.QueueView) -> str:
    """A queue view as CSV text (UTF-8 with a BOM for Excel), customer references masked
    as on the pages."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(EXPORT_COLUMNS)
    for c in queue(session, principal, view, limit=100_000).complaints:
        w.writerow(
            [
                c.id,
                c.source_system,
                c.source_id,
                c.channel,
                c.complaint_class,
                c.unit.code,
                ch.shown_customer_ref(principal, c.customer_ref),
                c.category or "",
                c.subcategory or "",
                c.status,
                ch.as_utc(c.received_at).isoformat(),
                ch.as_utc(c.resolution_due).isoformat(),
                ch.as_utc(c.resolved_at).isoformat() if c.resolved_at else "",
                c.satisfaction or "",
            ]
        )
    return "\ufeff" + buf.getvalue()


def handler_choices(session: Session) -> list[User]:
    """The active users a complaint can be assigned to, by user name."""
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))


def unit_by_code(session: Session, principal: Principal, code: str) -> OrgUnit:
    """The org unit ``code`` if the principal sees it (a rule error otherwise)."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None or not principal.sees(unit):
        raise ch.ComplaintError(
            f"unit_code {code!r} is not an org unit in your scope", {"field": "unit_code"}
        )
    return unit


def units_by_code(session: Session, principal: Principal, codes: set[str]) -> dict[str, OrgUnit]:
    """The org units among ``codes`` that the principal sees, by code (for intake)."""
    return {
        u.code: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.code.in_(sorted(codes)), principal.unit_filter())
        )
    }


# ------------------------------------------------------------------------------ charts


def code_names(locale: str) -> dict[str, str]:
    """Display names of every taxonomy category and sub-category code."""
    names = {c.code: c.name(locale) for c in CATEGORIES}
    names |= {s.code: s.name(locale) for s in all_subcategories()}
    return names


def hotspot_chart(
    days: list[date], counts: list[int], kpis: AreaKpis | None, locale: str
) -> dict[str, Any]:
    """An ECharts spec: complaints per day (bars) and, when given, the area's daily network
    KPIs (lines, one axis each) over the same days."""
    zh = locale == "zh"
    series: list[dict[str, Any]] = [
        {"name": "投诉量" if zh else "Complaints", "type": "bar", "data": counts}
    ]
    axes: list[dict[str, Any]] = [{"type": "value", "minInterval": 1, "name": series[0]["name"]}]
    if kpis is not None:
        cat = shipped_catalogue()
        for i, (code, values) in enumerate(kpis.values.items()):
            k = cat[code]
            axes.append(
                {
                    "type": "value",
                    "name": k.unit,
                    "position": "right",
                    "offset": 56 * i,
                    "scale": True,
                    "splitLine": {"show": False},
                }
            )
            series.append(
                {
                    "name": k.label(locale),
                    "type": "line",
                    "yAxisIndex": len(axes) - 1,
                    "data": values,
                    "connectNulls": False,
                }
            )
    return {
        "type": "echarts",
        "option": {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": {"left": 44, "right": 20 + 56 * (len(axes) - 1), "top": 48, "bottom": 30},
            "xAxis": {"type": "category", "data": [d.strftime("%m-%d") for d in days]},
            "yAxis": axes,
            "series": series,
        },
    }


# ------------------------------------------------------------------------------ dashboard


def dashboard(
    session: Session, principal: Principal, locale: str, now: datetime | None = None
) -> dict[str, Any]:
    """The analyst dashboard over the last 400 days in the principal's scope: monthly trend,
    Pareto of categories, share resolved on time, the top 20 hotspots (unit ×
    sub-category; network ones with the area's KPIs beside them) and active alerts."""
    since = (now or datetime.now(UTC)) - timedelta(days=400)
    rows = session.execute(
        select(
            Complaint.received_at,
            Complaint.category,
            func.coalesce(Complaint.subcategory, Complaint.category),
            Complaint.resolved_at,
            Complaint.resolution_due,
            Complaint.satisfaction,
            OrgUnit.code,
        )
        .join(OrgUnit, Complaint.unit_id == OrgUnit.id)
        .where(principal.unit_filter(), Complaint.received_at >= since)
    ).all()
    df = pd.DataFrame(
        rows,
        columns=[
            "received_at",
            "category",
            "subcategory",
            "resolved_at",
            "resolution_due",
            "satisfaction",
            "unit",
        ],
    )
    out: dict[str, Any] = {
        "n": len(df),
        "trend": None,
        "pareto": None,
        "hot": [],
        "on_time": None,
        "alerts": alert_svc.count_active(session, principal),
    }
    if not len(df):
        return out
    # Local (China) days, as handlers and the network counters count them.
    df["received_at"] = (
        pd.to_datetime(df["received_at"], utc=True)
        .dt.tz_convert(ch.default_calendar().zone)
        .dt.tz_localize(None)
    )
    df["category"] = df["category"].fillna("unclassified")
    month = df["received_at"].dt.to_period("M").astype(str)
    trend = month.value_counts().sort_index()
    out["trend"] = {
        "type": "line",
        "labels": trend.index.tolist(),
        "values": [int(v) for v in trend],
    }
    par = pareto(df, "category")
    names = {c.code: c.name(locale) for c in CATEGORIES}
    out["pareto"] = {
        "type": "echarts",
        "option": {
            "tooltip": {},
            "xAxis": {"type": "category", "data": [names.get(x, x) for x in par["category"]]},
            "yAxis": [{"type": "value"}, {"type": "value", "max": 1}],
            "series": [
                {"type": "bar", "data": [int(v) for v in par["count"]]},
                {
                    "type": "line",
                    "yAxisIndex": 1,
                    "data": [round(float(v), 3) for v in par["cumulative_share"]],
                },
            ],
        },
    }
    resolved = df["resolved_at"].notna()
    if resolved.any():
        ok = pd.to_datetime(df.loc[resolved, "resolved_at"], utc=True) <= pd.to_datetime(
            df.loc[resolved, "resolution_due"], utc=True
        )
        out["on_time"] = round(float(ok.mean()) * 100, 1)
    end = df["received_at"].max().normalize() + pd.Timedelta(days=1)
    df["subcategory"] = df["subcategory"].fillna("unclassified")
    window = HotspotWindow.trailing(end, 21, 84)
    h = hotspots(df, window, keys=("unit", "subcategory"))
    top = h[h["hotspot"]].head(20).reset_index()
    sub_names = {sc.code: sc.name(locale) for sc in all_subcategories()}
    out["hot"] = [
        {
            "unit": r["unit"],
            "category": sub_names.get(str(r["subcategory"]), str(r["subcategory"])),
            "code": str(r["subcategory"]),
            "current": int(r["count_current"]),
            "expected": round(float(r["expected"]), 1),
            "ratio": round(float(r["rate_ratio"]), 2),
            "q": float(r["q_value"]),
        }
        for r in top.to_dict("records")
    ]
    _attach_network_kpis(session, principal, out["hot"], df, window, locale)
    return out


def _attach_network_kpis(
    session: Session,
    principal: Principal,
    hot: list[dict[str, Any]],
    df: pd.DataFrame,
    window: HotspotWindow,
    locale: str,
) -> None:
    """Beside each network or broadband hotspot, its complaints per day and the daily
    network KPIs of the same area (the unit's cells, else the nearest enclosing area with
    values) over the same days: the hotspot's current window."""
    start, end = window.current_start.date(), window.current_end.date()
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    net = [h for h in hot if is_network_code(str(h["code"]))]
    units = {
        u.code: u
        for u in session.scalars(select(OrgUnit).where(OrgUnit.code.in_([h["unit"] for h in net])))
    }
    net = [h for h in net if h["unit"] in units]
    kpis = area_daily_kpis(
        session,
        [HotspotArea(units[h["unit"]], start, end) for h in net],
        visible=principal.unit_filter(),
    )
    in_window = df[
        (df["received_at"] >= window.current_start) & (df["received_at"] < window.current_end)
    ]
    for h, k in zip(net, kpis, strict=True):
        mine = in_window[(in_window["unit"] == h["unit"]) & (in_window["subcategory"] == h["code"])]
        per_day = mine["received_at"].dt.date.value_counts()
        counts = [int(per_day.get(d, 0)) for d in days]
        h["network"] = k
        h["chart"] = hotspot_chart(days, counts, k, locale)


# ------------------------------------------------------------------------------ alerts


@dataclass(frozen=True)
class AlertList:
    """Complaint alerts of one filter, and the regions the filter can choose from."""

    alerts: list[ComplaintAlert]
    regions: list[OrgUnit]


def alert_list(
    session: Session,
    principal: Principal,
    status: str = "active",
    category: str = "",
    region: int | None = None,
) -> AlertList:
    """The 500 latest alerts in the principal's scope with ``status``, of a taxonomy
    ``category`` and in the subtree of ``region`` (an org unit id the principal sees)."""
    if status not in alert_svc.STATUS_FILTERS:
        raise RuleError(f"status must be one of {', '.join(alert_svc.STATUS_FILTERS)}")
    if category and category not in {c.code for c in CATEGORIES}:
        raise RuleError("category must be a taxonomy category code")
    area = None
    if region is not None:
        area = session.get(OrgUnit, region)
        if area is None or not principal.sees(area):
            raise MissingError("no such org unit in your scope")
    q = alert_svc.alerts_query(principal, status, category or None, area)
    regions = session.scalars(
        select(OrgUnit)
        .where(principal.unit_filter(), OrgUnit.kind.in_([UnitKind.PROVINCE, UnitKind.CITY]))
        .order_by(OrgUnit.path)
    )
    return AlertList(list(session.scalars(q.limit(500))), list(regions))


def local_time(t: datetime) -> datetime:
    """An instant in the complaints' local time zone (China time)."""
    return ch.as_utc(t).astimezone(ch.default_calendar().zone)


@dataclass(frozen=True)
class AlertDetail:
    """One alert's chart (complaints per day, and the area's network KPIs for network
    alerts) and its history's actors."""

    chart: dict[str, Any]
    network: AreaKpis | None
    is_network: bool
    actors: dict[int, str]


def alert_detail(
    session: Session, principal: Principal, alert: ComplaintAlert, locale: str
) -> AlertDetail:
    """The detail of an alert the principal sees (:func:`~.alerts.visible_alert`)."""
    start, end = local_time(alert.window_start).date(), local_time(alert.window_end).date()
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    counts = complaints_per_day(session, alert.unit_id, alert.code, start, end, by=alert.tested_by)
    is_network = is_network_code(alert.code)
    network = (
        area_daily_kpis(
            session, [HotspotArea(alert.unit, start, end)], visible=principal.unit_filter()
        )[0]
        if is_network
        else None
    )
    actors = alerting.history(session, alert).actors
    return AlertDetail(hotspot_chart(days, counts, network, locale), network, is_network, actors)
