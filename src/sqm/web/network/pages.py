"""Network pages: overview per region, cell map, worst cells, cell page, alert list.

The figures come from :mod:`sqm.services.network.views` (KPIs computed on request over
the Parquet counters, restricted to the cells whose serving unit the user may see);
acknowledging and resolving alerts is the shared life cycle (:mod:`sqm.web.alerting`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from sqm.domain.roles import Permission
from sqm.services.network import views
from sqm.services.network.alerts import NETWORK_ALERT
from sqm.web.alerting import add_alert_actions
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.network.deps import AlertInScope, CellInScope
from sqm.web.permissions import AlertManager, NetworkViewer
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


@router.get("/network")
def overview(request: Request, p: NetworkViewer, db: Db, level: str = "province") -> Response:
    ctx = views.overview(db, p, level, request_locale(request))
    return render(request, "network/overview.html", ctx)


@router.get("/network/map")
def cell_map(request: Request, p: NetworkViewer, db: Db, kpi: str = "rrc_setup_sr") -> Response:
    option = views.cell_map(db, p, kpi)
    labels = views.kpi_labels(request_locale(request))
    ctx = {"option": option, "kpi": kpi, "kpis": views.MAP_KPIS, "labels": labels}
    return render(request, "network/map.html", ctx)


@router.get("/network/worst")
def worst(
    request: Request,
    p: NetworkViewer,
    db: Db,
    kpi: str = "rrc_setup_sr",
    rank_by: str = "failures",
) -> Response:
    rows = views.worst_cells(db, p, kpi, rank_by)
    ctx = {
        "rows": rows,
        "kpi": kpi,
        "kpis": views.worst_kpis(),
        "rank_by": rank_by,
        "labels": views.kpi_labels(request_locale(request)),
    }
    return render(request, "network/worst.html", ctx)


@router.get("/network/cells/{cell_pk}")
def cell_page(request: Request, p: NetworkViewer, cell: CellInScope, db: Db) -> Response:
    page = views.cell_page(db, p, cell, request_locale(request))
    ctx = {"cell": page.cell, "unit": page.unit, "charts": page.charts, "alerts": page.alerts}
    return render(request, "network/cell.html", ctx)


@router.get("/network/alerts")
def alert_list(request: Request, p: NetworkViewer, db: Db, status: str = "open") -> Response:
    ctx = {
        "alerts": views.alert_list(db, p, status),
        "status": status,
        "can_manage": p.can(Permission.MANAGE_ALERTS),
        "silences": views.visible_silences(db, p),
    }
    return render(request, "network/alerts.html", ctx)


class SilenceForm(BaseModel):
    """A maintenance window on a site or cell (all KPIs when ``kpi`` is empty)."""

    scope: str
    kpi: str = ""
    starts_at: datetime
    ends_at: datetime
    reason: str


@router.post("/network/silences", response_model=None)
def add_silence(p: AlertManager, form: Annotated[SilenceForm, Form()], db: Db) -> RedirectResponse:
    """A maintenance window: matching alerts are kept but not sent."""
    views.add_silence(db, p, **form.model_dump())
    return RedirectResponse("/network/alerts", status_code=303)


def _after(_alert: object, action: str) -> str:
    return "/network/alerts" if action == "ack" else "/network/alerts?status=resolved"


add_alert_actions(
    router,
    "/network/alerts",
    manager=AlertManager,
    alert=AlertInScope,
    kind=NETWORK_ALERT,
    then=_after,
)


@router.get("/network/crowd")
def crowd(
    request: Request, p: NetworkViewer, tech: str = "5G", isp: str = "China Mobile"
) -> Response:
    """Crowd-sourced speed tests: our operator against the others, province by province."""
    return render(request, "network/crowd.html", views.crowd(tech, isp))
