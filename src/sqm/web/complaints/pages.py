"""Complaint pages: handler queues, complaint detail, and the analyst dashboard (the JSON
API is in :mod:`sqm.web.complaints.api`).

Customer references are masked on every page and in every API answer for principals
without ``view_customer_identity``.  Lists are always filtered to the principal's scope, so
a store manager sees complaints about their own stores only; a complaint outside the scope
is a 404.
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from sqm.domain.complaint_taxonomy import TRANSITIONS, Channel, Status, all_subcategories
from sqm.domain.roles import Permission
from sqm.services.complaints import handling as ch
from sqm.services.complaints import views
from sqm.store.models import Complaint
from sqm.web.complaints.deps import ComplaintInScope
from sqm.web.deps import Db, Now, csrf_protect, load_form
from sqm.web.permissions import ComplaintHandler, ComplaintReader
from sqm.web.templating import render, request_locale

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
    request: Request, p: ComplaintReader, db: Db, clock: Now, view: ch.QueueView = "team"
) -> HTMLResponse:
    now = clock.now()
    rows = views.queue(db, p, view, limit=200, now=now).complaints
    items = [
        {"c": c, "customer": ch.shown_customer_ref(p, c.customer_ref), "sla": _sla_label(c, now)}
        for c in rows
    ]
    can_handle = p.can(Permission.HANDLE_COMPLAINTS)
    ctx = {"items": items, "view": view, "views": VIEWS, "can_handle": can_handle}
    return render(request, "complaints/queue.html", ctx)


@router.get("/complaints/suggest", response_class=HTMLResponse)
def suggest(p: ComplaintHandler, text: str = "") -> HTMLResponse:
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


def _new_page(
    request: Request, form: dict[str, str], error: str | None, status_code: int = 200
) -> HTMLResponse:
    ctx = {
        "channels": list(Channel),
        "subs": list(all_subcategories()),
        "error": error,
        "form": form,
    }
    return render(request, "complaints/new.html", ctx, status_code=status_code)


@router.get("/complaints/new", response_class=HTMLResponse)
def new_form(request: Request, p: ComplaintHandler) -> HTMLResponse:
    return _new_page(request, {}, None)


class NewComplaintForm(BaseModel):
    """A complaint a handler types in."""

    channel: str
    unit_code: str
    customer_ref: str = ""
    subcategory: str = ""
    text: str = ""


@router.post("/complaints/new", response_model=None)
def new_submit(
    request: Request,
    p: ComplaintHandler,
    form: Annotated[NewComplaintForm, Form()],
    db: Db,
    clock: Now,
) -> HTMLResponse | RedirectResponse:
    now = clock.now()
    data = ch.ComplaintInput(
        source_system="web-form",
        source_id=f"{p.user_id}-{now.strftime('%Y%m%d%H%M%S%f')}",
        channel=form.channel,
        received_at=now,
        unit_code=form.unit_code,
        text=form.text,
        customer_ref=form.customer_ref or None,
        subcategory=form.subcategory or None,
    )
    try:
        c = ch.take_in_by_hand(db, p, data)
    except ch.ComplaintError as exc:
        return _new_page(request, form.model_dump(), str(exc), status_code=422)
    return RedirectResponse(f"/complaints/{c.id}", status_code=303)


@router.get("/complaints/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, p: ComplaintReader, db: Db, clock: Now) -> HTMLResponse:
    ctx = views.dashboard(db, p, request_locale(request), clock.now())
    return render(request, "complaints/dashboard.html", ctx)


@router.get("/complaints/export.csv")
def export_csv(p: ComplaintReader, db: Db, view: ch.QueueView = "team") -> Response:
    """The queue as CSV (UTF-8 with BOM for Excel); customer references masked as on the pages."""
    return Response(
        views.queue_csv(db, p, view),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="complaints-{view}.csv"'},
    )


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def detail(
    request: Request, p: ComplaintReader, c: ComplaintInScope, db: Db, clock: Now
) -> HTMLResponse:
    can_handle = p.can(Permission.HANDLE_COMPLAINTS)
    ctx = {
        "c": c,
        "customer": ch.shown_customer_ref(p, c.customer_ref),
        "text": ch.shown_text(p, c.text),
        "resolution": ch.shown_text(p, c.resolution),
        "notes": [(n, ch.shown_text(p, n.body)) for n in c.notes],
        "sla": ch.sla_of(c, clock.now()),
        "statuses": sorted(s.value for s in TRANSITIONS[Status(c.status)]),
        "can_handle": can_handle,
        "handlers": views.handler_choices(db) if can_handle else [],
        "subs": list(all_subcategories()),
        "today": clock.today().isoformat(),
    }
    return render(request, "complaints/detail.html", ctx)


class ActionForm(BaseModel):
    """One of the detail page's forms: change the status, assign, add a note, confirm the
    category or open a rectification task (due in a week unless a day is given)."""

    kind: Literal["status", "assign", "note", "category", "rectify"]
    status: str = ""
    username: str = ""
    body: str = ""
    subcategory: str = ""
    due_on: date | None = None


@router.post("/complaints/{complaint_id}/action", response_model=None)
def action(
    p: ComplaintHandler,
    c: ComplaintInScope,
    form: Annotated[ActionForm, Form()],
    db: Db,
    clock: Now,
) -> RedirectResponse:
    body = form.body
    if form.kind == "status":
        ch.change_status(db, c, form.status, p.user_id, body or None, resolution=body or None)
    elif form.kind == "assign":
        ch.assign_by_username(db, c, form.username)
    elif form.kind == "note":
        ch.add_note(db, c, p.user_id, body)
    elif form.kind == "category":
        ch.confirm_category(db, c, form.subcategory)
    else:
        due = form.due_on or clock.today() + timedelta(days=7)
        ch.open_rectification(db, c, body, due, p.user_id)
    return RedirectResponse(f"/complaints/{c.id}", status_code=303)
