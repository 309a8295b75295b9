"""Complaint alert pages: the list (filter by status, category, region), one alert with its
daily chart and history, acknowledge and resolve.

Everyone who may read complaints sees the alerts about units in their scope (a store
manager: their stores); complaint handlers and alert managers acknowledge and resolve
them.  An alert about a unit outside the scope is a 404.  For alerts about network
quality the chart shows the network KPIs of the same area and days beside the complaints.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.complaint_taxonomy import CATEGORIES, all_subcategories
from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.domain.org import UnitKind
from sqm.domain.roles import Permission
from sqm.services.complaints import alerts as svc
from sqm.services.complaints.handling import as_utc, default_calendar
from sqm.services.complaints.hotspots import (
    AreaKpis,
    HotspotArea,
    area_daily_kpis,
    complaints_per_day,
    is_network_code,
)
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, User
from sqm.store.models.complaint_alert import ComplaintAlert
from sqm.web.complaints.api import viewer
from sqm.web.deps import csrf_protect, current_principal, get_db, load_form, unit_in_scope
from sqm.web.errors import Forbidden, InvalidInput, NotFound
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


def alert_manager(p: Principal = Depends(current_principal)) -> Principal:
    """Complaint handlers and alert managers may acknowledge and resolve complaint alerts."""
    if not (p.can(Permission.HANDLE_COMPLAINTS) or p.can(Permission.MANAGE_ALERTS)):
        raise Forbidden("this needs the permission 'handle_complaints' or 'manage_alerts'")
    return p


def _can_manage(p: Principal) -> bool:
    return p.can(Permission.HANDLE_COMPLAINTS) or p.can(Permission.MANAGE_ALERTS)


def _alert(db: Session, p: Principal, alert_id: int) -> ComplaintAlert:
    a = db.get(ComplaintAlert, alert_id)
    if a is None or not p.sees(a.unit):
        raise NotFound("no such complaint alert in your scope")
    return a


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


def _regions(db: Session, p: Principal) -> list[OrgUnit]:
    return list(
        db.scalars(
            select(OrgUnit)
            .where(p.unit_filter(), OrgUnit.kind.in_([UnitKind.PROVINCE, UnitKind.CITY]))
            .order_by(OrgUnit.path)
        )
    )


@router.get("/complaints/alerts", response_class=HTMLResponse)
def alert_list(
    request: Request,
    status: str = "active",
    category: str = "",
    region: int | None = None,
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> HTMLResponse:
    if status not in svc.STATUS_FILTERS:
        raise InvalidInput(f"status must be one of {', '.join(svc.STATUS_FILTERS)}")
    if category and category not in {c.code for c in CATEGORIES}:
        raise InvalidInput("category must be a taxonomy category code")
    area = unit_in_scope(db, p, region) if region is not None else None
    alerts = db.scalars(svc.alerts_query(p, status, category or None, area).limit(500)).all()
    locale = request_locale(request)
    return render(
        request,
        "complaints/alerts.html",
        {
            "alerts": alerts,
            "status": status,
            "statuses": svc.STATUS_FILTERS,
            "category": category,
            "categories": CATEGORIES,
            "region": region,
            "regions": _regions(db, p),
            "names": code_names(locale),
            "can_manage": _can_manage(p),
            "local": _local,
        },
    )


def _local(t: datetime) -> datetime:
    return as_utc(t).astimezone(default_calendar().zone)


def _window_days(a: ComplaintAlert) -> tuple[date, date]:
    return _local(a.window_start).date(), _local(a.window_end).date()


@router.get("/complaints/alerts/{alert_id}", response_class=HTMLResponse)
def alert_detail(
    alert_id: int,
    request: Request,
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> HTMLResponse:
    a = _alert(db, p, alert_id)
    locale = request_locale(request)
    start, end = _window_days(a)
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    counts = complaints_per_day(db, a.unit_id, a.code, start, end, by=a.tested_by)
    network = (
        area_daily_kpis(db, [HotspotArea(a.unit, start, end)], visible=p.unit_filter())[0]
        if is_network_code(a.code)
        else None
    )
    actor_ids = {e.actor_id for e in a.events if e.actor_id is not None}
    actors = (
        {u.id: u.username for u in db.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    return render(
        request,
        "complaints/alert.html",
        {
            "a": a,
            "names": code_names(locale),
            "chart": hotspot_chart(days, counts, network, locale),
            "network": network,
            "is_network": is_network_code(a.code),
            "actors": actors,
            "can_manage": _can_manage(p),
            "local": _local,
        },
    )


@router.post("/complaints/alerts/{alert_id}/{action}", response_model=None)
def alert_action(
    alert_id: int,
    action: Literal["ack", "resolve"],
    note: str = Form(""),
    p: Principal = Depends(alert_manager),
    db: Session = Depends(get_db),
) -> RedirectResponse:
    """Acknowledge (``ack``, with a comment) or resolve (with a note) an alert."""
    a = _alert(db, p, alert_id)
    step = svc.acknowledge if action == "ack" else svc.resolve
    try:
        step(db, a, p.user_id, note, datetime.now(UTC))
    except svc.ComplaintAlertError as exc:
        raise InvalidInput(str(exc)) from None
    return RedirectResponse(f"/complaints/alerts/{a.id}", status_code=303)
