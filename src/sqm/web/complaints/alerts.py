"""Complaint alert pages: the list (filter by status, category, region), one alert with its
daily chart and history, acknowledge and resolve.

Everyone who may read complaints sees the alerts about units in their scope (a store
manager: their stores); complaint handlers and alert managers acknowledge and resolve
them (the shared life cycle, :mod:`sqm.web.alerting`).  An alert about a unit outside the
scope is a 404.  For alerts about network quality the chart shows the network KPIs of the
same area and days beside the complaints.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from sqm.domain.complaint_taxonomy import CATEGORIES
from sqm.domain.roles import Permission
from sqm.services.complaints import views
from sqm.services.complaints.alerts import COMPLAINT_ALERT, STATUS_FILTERS
from sqm.services.scope import Principal
from sqm.store.models.complaint_alert import ComplaintAlert
from sqm.web.alerting import add_alert_actions
from sqm.web.complaints.deps import ComplaintAlertInScope
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.permissions import ComplaintAlertManager, ComplaintReader
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


def _can_manage(p: Principal) -> bool:
    return p.can(Permission.HANDLE_COMPLAINTS) or p.can(Permission.MANAGE_ALERTS)


@router.get("/complaints/alerts", response_class=HTMLResponse)
def alert_list(
    request: Request,
    p: ComplaintReader,
    db: Db,
    status: str = "active",
    category: str = "",
    region: int | None = None,
) -> HTMLResponse:
    found = views.alert_list(db, p, status, category, region)
    ctx = {
        "alerts": found.alerts,
        "status": status,
        "statuses": STATUS_FILTERS,
        "category": category,
        "categories": CATEGORIES,
        "region": region,
        "regions": found.regions,
        "names": views.code_names(request_locale(request)),
        "can_manage": _can_manage(p),
        "local": views.local_time,
    }
    return render(request, "complaints/alerts.html", ctx)


@router.get("/complaints/alerts/{alert_id}", response_class=HTMLResponse)
def alert_detail(
    request: Request, p: ComplaintReader, a: ComplaintAlertInScope, db: Db
) -> HTMLResponse:
    locale = request_locale(request)
    d = views.alert_detail(db, p, a, locale)
    ctx = {
        "a": a,
        "names": views.code_names(locale),
        "chart": d.chart,
        "network": d.network,
        "is_network": d.is_network,
        "actors": d.actors,
        "can_manage": _can_manage(p),
        "local": views.local_time,
    }
    return render(request, "complaints/alert.html", ctx)


def _after(a: ComplaintAlert, _action: str) -> str:
    return f"/complaints/alerts/{a.id}"


add_alert_actions(
    router,
    "/complaints/alerts",
    manager=ComplaintAlertManager,
    alert=ComplaintAlertInScope,
    kind=COMPLAINT_ALERT,
    then=_after,
)
