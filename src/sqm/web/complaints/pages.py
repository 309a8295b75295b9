"""Complaint pages: handler queues, complaint detail, and the analyst dashboard (the JSON
API is in :mod:`sqm.web.complaints.api`).

Customer references are masked on every page and in every API answer for principals
without ``view_customer_identity``.  Lists are always filtered to the principal's scope, so
a store manager sees complaints about their own stores only; a complaint outside the scope
is a 404.
"""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.complaint_taxonomy import (
    CATEGORIES,
    TRANSITIONS,
    Channel,
    Status,
    TransitionError,
    all_subcategories,
)
from sqm.domain.roles import Permission
from sqm.methods.complaint_measures import HotspotWindow, hotspots, pareto
from sqm.services.complaints import handling as ch
from sqm.services.complaints.alerts import count_active
from sqm.services.complaints.handling import default_calendar
from sqm.services.complaints.hotspots import HotspotArea, area_daily_kpis, is_network_code
from sqm.services.scope import Principal
from sqm.store.models import Complaint, OrgUnit, User
from sqm.web.complaints.alerts import hotspot_chart
from sqm.web.complaints.api import _get, handler, viewer
from sqm.web.deps import csrf_protect, get_db, load_form
from sqm.web.errors import InvalidInput
from sqm.web.templating import render, request_locale

# ---------------------------------------------------------------------------------- pages

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)

VIEWS = [
    ("mine", "Mine"),
    ("team", "My team's"),
    ("near_limit", "Near the limit"),
    ("overdue", "Overdue"),
]


def _sla_label(c: Complaint, now: datetime) -> tuple[str, str]:
    s = ch.sla_of(c, now)
    state = (
        s.resolution.state.value
        if s.first_response.state.value in ("met", "met_late", "running")
        else s.first_response.state.value
    )
    left = s.resolution.remaining
    hours = left.total_seconds() / 3600
    return state, f"{hours:+.1f} h"


@router.get("/complaints", response_class=HTMLResponse)
def queue_page(
    request: Request,
    view: Literal["mine", "team", "near_limit", "overdue", "all_open"] = "team",
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> HTMLResponse:
    now = datetime.now(UTC)
    rows = db.scalars(ch.queue_query(p, view, now).limit(200)).unique().all()
    items = [
        {"c": c, "customer": ch.shown_customer_ref(p, c.customer_ref), "sla": _sla_label(c, now)}
        for c in rows
    ]
    return render(
        request,
        "complaints/queue.html",
        {
            "items": items,
            "view": view,
            "views": VIEWS,
            "can_handle": p.can(Permission.HANDLE_COMPLAINTS),
        },
    )


@router.get("/complaints/suggest", response_class=HTMLResponse)
def suggest(text: str = "", p: Principal = Depends(handler)) -> HTMLResponse:
    """Category suggestions for the text being typed (HTMX fragment; empty without a model)."""
    from sqm.services.complaints.classifier import suggest_top

    items = suggest_top(text[:5000], top=3)
    if not items:
        return HTMLResponse("")
    names = {sc.code: sc.name_zh for sc in all_subcategories()}
    links = " · ".join(
        f'<button type="button" class="link" onclick="document.querySelector(\'[name=subcategory]\').value=\'{code}\'">'
        f"{html.escape(names.get(code, code))} ({prob:.0%})</button>"
        for code, prob in items
    )
    return HTMLResponse(f'<p class="muted suggestions">{links}</p>')


@router.get("/complaints/new", response_class=HTMLResponse)
def new_form(
    request: Request, p: Principal = Depends(handler), db: Session = Depends(get_db)
) -> HTMLResponse:
    return render(
        request,
        "complaints/new.html",
        {"channels": list(Channel), "subs": list(all_subcategories()), "error": None, "form": {}},
    )


@router.post("/complaints/new", response_model=None)
def new_submit(
    request: Request,
    channel: str = Form(...),
    unit_code: str = Form(...),
    customer_ref: str = Form(""),
    subcategory: str = Form(""),
    text: str = Form(""),
    p: Principal = Depends(handler),
    db: Session = Depends(get_db),
) -> HTMLResponse | RedirectResponse:
    form = {
        "channel": channel,
        "unit_code": unit_code,
        "customer_ref": customer_ref,
        "subcategory": subcategory,
        "text": text,
    }
    unit = db.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
    error = None
    if unit is None or not p.sees(unit):
        error = f"unit_code {unit_code!r} is not an org unit in your scope"
    else:
        now = datetime.now(UTC)
        data = ch.ComplaintInput(
            source_system="web-form",
            source_id=f"{p.user_id}-{now.strftime('%Y%m%d%H%M%S%f')}",
            channel=channel,
            received_at=now,
            unit_code=unit_code,
            text=text,
            customer_ref=customer_ref or None,
            subcategory=subcategory or None,
        )
        try:
            c, _ = ch.intake(db, data)
        except ch.ComplaintError as exc:
            error = str(exc)
        else:
            return RedirectResponse(f"/complaints/{c.id}", status_code=303)
    return render(
        request,
        "complaints/new.html",
        {
            "channels": list(Channel),
            "subs": list(all_subcategories()),
            "error": error,
            "form": form,
        },
        status_code=422,
    )


@router.get("/complaints/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> HTMLResponse:
    since = datetime.now(UTC) - timedelta(days=400)
    rows = db.execute(
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
        .where(p.unit_filter(), Complaint.received_at >= since)
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
    ctx: dict[str, Any] = {
        "n": len(df),
        "trend": None,
        "pareto": None,
        "hot": [],
        "on_time": None,
        "alerts": count_active(db, p),
    }
    if len(df):
        # Local (China) days, as handlers and the network counters count them.
        df["received_at"] = (
            pd.to_datetime(df["received_at"], utc=True)
            .dt.tz_convert(default_calendar().zone)
            .dt.tz_localize(None)
        )
        df["category"] = df["category"].fillna("unclassified")
        month = df["received_at"].dt.to_period("M").astype(str)
        trend = month.value_counts().sort_index()
        ctx["trend"] = {
            "type": "line",
            "labels": trend.index.tolist(),
            "values": [int(v) for v in trend],
        }
        par = pareto(df, "category")
        locale = request_locale(request)
        names = {c.code: c.name(locale) for c in CATEGORIES}
        ctx["pareto"] = {
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
            ctx["on_time"] = round(float(ok.mean()) * 100, 1)
        end = df["received_at"].max().normalize() + pd.Timedelta(days=1)
        df["subcategory"] = df["subcategory"].fillna("unclassified")
        window = HotspotWindow.trailing(end, 21, 84)
        h = hotspots(df, window, keys=("unit", "subcategory"))
        top = h[h["hotspot"]].head(20).reset_index()
        sub_names = {sc.code: sc.name(locale) for sc in all_subcategories()}
        ctx["hot"] = [
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
        _attach_network_kpis(db, p, ctx["hot"], df, window, locale)
    return render(request, "complaints/dashboard.html", ctx)


def _attach_network_kpis(
    db: Session,
    p: Principal,
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
        for u in db.scalars(select(OrgUnit).where(OrgUnit.code.in_([h["unit"] for h in net])))
    }
    net = [h for h in net if h["unit"] in units]
    kpis = area_daily_kpis(
        db,
        [HotspotArea(units[h["unit"]], start, end) for h in net],
        visible=p.unit_filter(),
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


@router.get("/complaints/export.csv")
def export_csv(
    view: Literal["mine", "team", "near_limit", "overdue", "all_open"] = "team",
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> Response:
    """The queue as CSV (UTF-8 with BOM for Excel); customer references masked as on the pages."""
    rows = db.scalars(ch.queue_query(p, view).limit(100_000)).unique().all()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
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
    )
    for c in rows:
        w.writerow(
            [
                c.id,
                c.source_system,
                c.source_id,
                c.channel,
                c.complaint_class,
                c.unit.code,
                ch.shown_customer_ref(p, c.customer_ref),
                c.category or "",
                c.subcategory or "",
                c.status,
                ch.as_utc(c.received_at).isoformat(),
                ch.as_utc(c.resolution_due).isoformat(),
                ch.as_utc(c.resolved_at).isoformat() if c.resolved_at else "",
                c.satisfaction or "",
            ]
        )
    return Response(
        "\ufeff" + buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="complaints-{view}.csv"'},
    )


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def detail(
    complaint_id: int,
    request: Request,
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> HTMLResponse:
    c = _get(db, p, complaint_id)
    now = datetime.now(UTC)
    handlers = (
        db.scalars(select(User).where(User.active.is_(True)).order_by(User.username)).all()
        if p.can(Permission.HANDLE_COMPLAINTS)
        else []
    )
    return render(
        request,
        "complaints/detail.html",
        {
            "c": c,
            "customer": ch.shown_customer_ref(p, c.customer_ref),
            "text": ch.shown_text(p, c.text),
            "resolution": ch.shown_text(p, c.resolution),
            "notes": [(n, ch.shown_text(p, n.body)) for n in c.notes],
            "sla": ch.sla_of(c, now),
            "statuses": sorted(s.value for s in TRANSITIONS[Status(c.status)]),
            "can_handle": p.can(Permission.HANDLE_COMPLAINTS),
            "handlers": handlers,
            "subs": list(all_subcategories()),
            "today": date.today().isoformat(),
        },
    )


@router.post("/complaints/{complaint_id}/action", response_model=None)
def action(
    complaint_id: int,
    request: Request,
    kind: Literal["status", "assign", "note", "category", "rectify"] = Form(...),
    status: str = Form(""),
    username: str = Form(""),
    body: str = Form(""),
    subcategory: str = Form(""),
    due_on: str = Form(""),
    p: Principal = Depends(handler),
    db: Session = Depends(get_db),
) -> RedirectResponse:
    c = _get(db, p, complaint_id)
    try:
        if kind == "status":
            ch.change_status(db, c, status, p.user_id, body or None, resolution=body or None)
        elif kind == "assign":
            uid = db.scalar(select(User.id).where(User.username == username)) if username else None
            ch.assign(db, c, uid)
        elif kind == "note":
            ch.add_note(db, c, p.user_id, body)
        elif kind == "category":
            ch.confirm_category(db, c, subcategory)
        elif kind == "rectify":
            due = date.fromisoformat(due_on) if due_on else date.today() + timedelta(days=7)
            ch.open_rectification(db, c, body, due, p.user_id)
    except (TransitionError, ch.ComplaintError, ValueError) as exc:
        raise InvalidInput(str(exc)) from None
    return RedirectResponse(f"/complaints/{c.id}", status_code=303)
