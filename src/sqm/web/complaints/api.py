"""Complaints JSON API: intake from capturing systems (idempotent by the source's own id),
queue views, and the handler's actions (status, assignment, notes).

Customer references are masked in every answer for principals without
``view_customer_identity``; lists are filtered to the principal's scope and a complaint
outside it is a 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.complaint_taxonomy import Channel, Status, TransitionError
from sqm.domain.roles import Permission
from sqm.services.complaints import handling as ch
from sqm.services.scope import Principal
from sqm.store.audit import Actor, bind_actor
from sqm.store.group_commit import GroupCommit
from sqm.store.models import Complaint, OrgUnit, User
from sqm.web.deps import csrf_protect, current_principal, fast_principal, get_db, require
from sqm.web.errors import Forbidden, InvalidInput, NotFound

handler = require(Permission.HANDLE_COMPLAINTS)


def viewer(p: Principal = Depends(current_principal)) -> Principal:
    """Handlers, and anyone who may see scores (analysts, managers), may read complaints."""
    if not (p.can(Permission.HANDLE_COMPLAINTS) or p.can(Permission.VIEW_SCORES)):
        raise Forbidden("this needs the permission 'handle_complaints' or 'view_scores'")
    return p


router = APIRouter(
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


@dataclass(frozen=True)
class _Intake:
    """One complaint from one API call, waiting for the intake group commit."""

    data: ch.ComplaintInput
    principal: Principal


@dataclass(frozen=True)
class _Taken:
    status: int  # 201 stored now, 200 stored before, 422 refused, 404 stored outside scope
    body: dict[str, Any] | None = None
    error: str | None = None
    field: str | None = None


def _write_intake(session: Session, items: Sequence[_Intake]) -> list[_Taken]:
    """Store one group-commit batch of API calls (all from one caller: the group key is the
    user, so the audit log attributes every row to them) and answer each call."""
    p = items[0].principal
    bind_actor(session, Actor(p.user_id, p.username))
    codes = sorted({i.data.unit_code for i in items})
    allowed = {
        u.code: u
        for u in session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes), p.unit_filter()))
    }
    results = ch.intake_many(session, [i.data for i in items], allowed)
    # New complaints are at hand; only those sent before are read back.
    stored = {r.id: r.complaint for r in results if r.complaint is not None}
    again = sorted({r.id for r in results if r.id is not None and r.id not in stored})
    if again:
        stored.update(
            (c.id, c) for c in session.scalars(select(Complaint).where(Complaint.id.in_(again)))
        )
    out: list[_Taken] = []
    for r in results:
        if r.id is None:
            out.append(_Taken(422, error=r.error, field=r.field))
        elif not r.created and not p.sees(stored[r.id].unit):
            out.append(_Taken(404, error="no such complaint in your scope"))
        else:
            body = _out(stored[r.id], p).model_dump(mode="json")
            out.append(_Taken(201 if r.created else 200, body))
    return out


def _intake_writer(request: Request) -> GroupCommit[_Intake, _Taken]:
    writer: GroupCommit[_Intake, _Taken] | None = getattr(
        request.app.state, "complaint_writer", None
    )
    if writer is None:
        writer = GroupCommit(
            request.app.state.sessionmaker,
            _write_intake,
            name="complaints",
            key=lambda item: item.principal.user_id,
        )
        request.app.state.complaint_writer = writer
    return writer


@router.post(
    "", response_model=ComplaintOut, status_code=201, summary="Take in a complaint (idempotent)"
)
async def create_complaint(
    body: ComplaintIn, request: Request, p: Principal = Depends(fast_principal)
) -> Any:
    """Store the complaint once per (source_system, source_id): 201 when new, 200 with the
    stored complaint when the same complaint was sent before.

    Calls arriving together are stored in one transaction by a group commit; each is still
    judged on its own, and its answer is sent only once it has been committed."""
    if not p.can(Permission.HANDLE_COMPLAINTS):
        raise Forbidden(f"this needs the permission '{Permission.HANDLE_COMPLAINTS.value}'")
    data = ch.ComplaintInput(**body.model_dump(mode="python"))
    taken = await _intake_writer(request).submit(_Intake(data, p))
    if taken.status == 422:
        raise InvalidInput(
            taken.error or "invalid complaint", {"field": taken.field} if taken.field else None
        )
    if taken.status == 404:
        raise NotFound(taken.error or "no such complaint in your scope")
    return JSONResponse(taken.body, status_code=taken.status)


class BatchIn(BaseModel):
    items: list[ComplaintIn] = Field(..., min_length=1, max_length=1000)


@router.post("/batch", summary="Take in up to 1,000 complaints in one call (each idempotent)")
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


@router.get("", summary="List complaints in your scope (a queue view)")
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


@router.get("/{complaint_id}", response_model=ComplaintOut, summary="One complaint")
def get_complaint(
    complaint_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> ComplaintOut:
    return _out(_get(db, p, complaint_id), p)


@router.post("/{complaint_id}/status", response_model=ComplaintOut, summary="Change the status")
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


@router.post("/{complaint_id}/assign", response_model=ComplaintOut, summary="Assign to a handler")
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


@router.post("/{complaint_id}/notes", status_code=201, summary="Add a note")
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
