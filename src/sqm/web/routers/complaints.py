"""Complaints: the JSON intake API, handler queues, complaint detail, and the analyst dashboard.

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
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
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
from sqm.services import complaint_handling as ch
from sqm.services.scope import Principal
from sqm.store.models import Complaint, NetworkKpiValue, OrgUnit, Period, User
from sqm.web.deps import csrf_protect, current_principal, get_db, load_form, require
from sqm.web.errors import Forbidden, InvalidInput, NotFound
from sqm.web.templating import render, request_locale

handler = require(Permission.HANDLE_COMPLAINTS)


def viewer(p: Principal = Depends(current_principal)) -> Principal:
    """Handlers, and anyone who may see scores (analysts, managers), may read complaints."""
    if not (p.can(Permission.HANDLE_COMPLAINTS) or p.can(Permission.VIEW_SCORES)):
        raise Forbidden("this needs the permission 'handle_complaints' or 'view_scores'")
    return p


# ------------------------------------------------------------------------------------ API

api = APIRouter(
    prefix="/api/v1/complaints", tags=["complaints"], dependencies=[Depends(csrf_protect)]
)


class ComplaintIn(BaseModel):
    """A complaint sent by a capturing system (CRM, hotline, app, regulator interface)."""

    source_system: str = Field(..., max_length=32, examples=["hotline"])
    source_id: str = Field(
        ..., max_length=128, description="the source's own id: the idempotency key"
    )
    channel: Channel
    received_at: datetime = Field(..., description="ISO 8601; without an offset it is China time")
    unit_code: str = Field(
        ..., max_length=64, description="org unit (store, city…) the complaint is about"
    )
    text: str = Field("", max_length=20_000)
    customer_ref: str | None = Field(None, max_length=64)
    subcategory: str | None = Field(None, description="taxonomy code, e.g. network.slow_data")
    complaint_class: Literal["ordinary", "escalated", "regulator"] | None = None
    repeat_of_source_id: str | None = None


class ComplaintOut(BaseModel):
    id: int
    source_system: str
    source_id: str
    channel: str
    complaint_class: str
    unit_code: str
    customer_ref: str
    category: str | None
    subcategory: str | None
    status: str
    received_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    handler: str | None
    satisfaction: int | None
    text: str


class StatusIn(BaseModel):
    status: Status
    note: str | None = None
    resolution: str | None = None
    satisfaction: int | None = Field(None, ge=1, le=5)


class AssignIn(BaseModel):
    username: str | None = None


class NoteIn(BaseModel):
    body: str = Field(..., min_length=1, max_length=10_000)


def _out(c: Complaint, p: Principal) -> ComplaintOut:
    return ComplaintOut(
        id=c.id,
        source_system=c.source_system,
        source_id=c.source_id,
        channel=c.channel,
        complaint_class=c.complaint_class,
        unit_code=c.unit.code,
        customer_ref=ch.shown_customer_ref(p, c.customer_ref),
        category=c.category,
        subcategory=c.subcategory,
        status=c.status,
        received_at=ch.as_utc(c.received_at),
        first_response_due=ch.as_utc(c.first_response_due),
        resolution_due=ch.as_utc(c.resolution_due),
        first_response_at=ch.as_utc(c.first_response_at) if c.first_response_at else None,
        resolved_at=ch.as_utc(c.resolved_at) if c.resolved_at else None,
        handler=c.handler.username if c.handler else None,
        satisfaction=c.satisfaction,
        text=ch.shown_text(p, c.text),
    )


def _get(db: Session, p: Principal, complaint_id: int) -> Complaint:
    c = ch.complaint_in_scope(db, p, complaint_id)
    if c is None:
        raise NotFound("no such complaint in your scope")
    return c


@api.post(
    "", response_model=ComplaintOut, status_code=201, summary="Take in a complaint (idempotent)"
)
def create_complaint(
    body: ComplaintIn, p: Principal = Depends(handler), db: Session = Depends(get_db)
) -> Any:
    """Store the complaint once per (source_system, source_id): 201 when new, 200 with the
    stored complaint when the same complaint was sent before."""
    unit = db.scalar(select(OrgUnit).where(OrgUnit.code == body.unit_code))
    if unit is None or not p.sees(unit):
        raise InvalidInput(
            f"unit_code {body.unit_code!r} is not an org unit in your scope", {"field": "unit_code"}
        )
    try:
        c, created = ch.intake(db, ch.ComplaintInput(**body.model_dump(mode="python")), unit)
    except ch.ComplaintError as exc:
        raise InvalidInput(str(exc)) from None
    if not created and not p.sees(c.unit):
        raise NotFound("no such complaint in your scope")
    out = _out(c, p).model_dump(mode="json")
    return JSONResponse(out, status_code=201 if created else 200)


class BatchIn(BaseModel):
    items: list[ComplaintIn] = Field(..., min_length=1, max_length=1000)


@api.post("/batch", summary="Take in up to 1,000 complaints in one call (each idempotent)")
def create_batch(
    body: BatchIn, p: Principal = Depends(handler), db: Session = Depends(get_db)
) -> dict[str, Any]:
    """For systems that forward complaints in bulk (CRM, regulator interface): every item is
    judged on its own and answered with its stored id, whether it is new, or its error."""
    codes = sorted({i.unit_code for i in body.items})
    allowed = {
        u.code: u
        for u in db.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes), p.unit_filter()))
    }
    items = [ch.ComplaintInput(**i.model_dump(mode="python")) for i in body.items]
    results = ch.intake_many(db, items, allowed)
    return {
        "created": sum(r.created for r in results),
        "errors": sum(r.error is not None for r in results),
        "results": [
            {"index": r.index, "id": r.id, "created": r.created, "error": r.error} for r in results
        ],
    }


@api.get("", summary="List complaints in your scope (a queue view)")
def list_complaints(
    view: Literal["mine", "team", "near_limit", "overdue", "all_open"] = "team",
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    stmt = ch.queue_query(p, view)
    total = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.scalars(stmt.limit(limit).offset(offset)).unique().all()
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": [_out(c, p).model_dump(mode="json") for c in rows],
    }


@api.get("/{complaint_id}", response_model=ComplaintOut, summary="One complaint")
def get_complaint(
    complaint_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> ComplaintOut:
    return _out(_get(db, p, complaint_id), p)


@api.post("/{complaint_id}/status", response_model=ComplaintOut, summary="Change the status")
def set_status(
    complaint_id: int,
    body: StatusIn,
    p: Principal = Depends(handler),
    db: Session = Depends(get_db),
) -> ComplaintOut:
    c = _get(db, p, complaint_id)
    try:
        ch.change_status(
            db,
            c,
            body.status.value,
            p.user_id,
            body.note,
            resolution=body.resolution,
            satisfaction=body.satisfaction,
        )
    except (TransitionError, ch.ComplaintError) as exc:
        raise InvalidInput(str(exc), {"field": "status"}) from None
    db.flush()
    return _out(c, p)


@api.post("/{complaint_id}/assign", response_model=ComplaintOut, summary="Assign to a handler")
def set_handler(
    complaint_id: int,
    body: AssignIn,
    p: Principal = Depends(handler),
    db: Session = Depends(get_db),
) -> ComplaintOut:
    c = _get(db, p, complaint_id)
    uid = None
    if body.username:
        u = db.scalar(select(User).where(User.username == body.username))
        if u is None:
            raise InvalidInput(f"no user {body.username!r}", {"field": "username"})
        uid = u.id
    ch.assign(db, c, uid)
    db.flush()
    db.refresh(c)
    return _out(c, p)


@api.post("/{complaint_id}/notes", status_code=201, summary="Add a note")
def post_note(
    complaint_id: int, body: NoteIn, p: Principal = Depends(handler), db: Session = Depends(get_db)
) -> dict[str, Any]:
    c = _get(db, p, complaint_id)
    try:
        n = ch.add_note(db, c, p.user_id, body.body)
    except ch.ComplaintError as exc:
        raise InvalidInput(str(exc), {"field": "body"}) from None
    db.flush()
    return {"id": n.id, "body": n.body}


# ---------------------------------------------------------------------------------- pages

pages = APIRouter(include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)])

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


@pages.get("/complaints", response_class=HTMLResponse)
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


@pages.get("/complaints/suggest", response_class=HTMLResponse)
def suggest(text: str = "", p: Principal = Depends(handler)) -> HTMLResponse:
    """Category suggestions for the text being typed (HTMX fragment; empty without a model)."""
    from sqm.services.complaint_classifier import suggest_top

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


@pages.get("/complaints/new", response_class=HTMLResponse)
def new_form(
    request: Request, p: Principal = Depends(handler), db: Session = Depends(get_db)
) -> HTMLResponse:
    return render(
        request,
        "complaints/new.html",
        {"channels": list(Channel), "subs": list(all_subcategories()), "error": None, "form": {}},
    )


@pages.post("/complaints/new", response_model=None)
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


@pages.get("/complaints/dashboard", response_class=HTMLResponse)
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
    ctx: dict[str, Any] = {"n": len(df), "trend": None, "pareto": None, "hot": [], "on_time": None}
    if len(df):
        df["received_at"] = pd.to_datetime(df["received_at"], utc=True).dt.tz_localize(None)
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
        h = hotspots(df, HotspotWindow.trailing(end, 21, 84), keys=("unit", "subcategory"))
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
        _attach_network_kpis(db, ctx["hot"])
    return render(request, "complaints/dashboard.html", ctx)


def _attach_network_kpis(db: Session, hot: list[dict[str, Any]]) -> None:
    """Beside each network or broadband hotspot, the network KPIs of the store's area.

    Reads the per-unit KPI summaries of the latest period for the store and its district
    and city (the nearest level that has values), so the handler sees whether the network
    moved where the complaints rose.
    """
    for h in hot:
        if not str(h["code"]).startswith(("network.", "broadband.")):
            continue
        unit = db.scalar(select(OrgUnit).where(OrgUnit.code == h["unit"]))
        if unit is None:
            continue
        ids = [int(x) for x in unit.path.strip("/").split("/") if x][::-1]
        rows = db.execute(
            select(NetworkKpiValue.unit_id, NetworkKpiValue.kpi, NetworkKpiValue.value, Period.code)
            .join(Period, NetworkKpiValue.period_id == Period.id)
            .where(NetworkKpiValue.unit_id.in_(ids), NetworkKpiValue.value.is_not(None))
            .order_by(Period.end.desc())
        ).all()
        for uid in ids:
            mine = [r for r in rows if r[0] == uid]
            if mine:
                latest = mine[0][3]
                h["network"] = {
                    "unit_id": uid,
                    "period": latest,
                    "kpis": {
                        k: round(float(v), 3)
                        for _, k, v, pc in mine
                        if pc == latest and v is not None
                    },
                }
                break


@pages.get("/complaints/export.csv")
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


@pages.get("/complaints/{complaint_id}", response_class=HTMLResponse)
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


@pages.post("/complaints/{complaint_id}/action", response_model=None)
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


router = APIRouter()
router.include_router(api)
router.include_router(pages)
