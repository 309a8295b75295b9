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
from sqlalchemy.orm import Session

from sqm.domain.complaint_taxonomy import Channel, Status
from sqm.domain.roles import Permission
from sqm.services.complaints import handling as ch
from sqm.services.complaints import views
from sqm.services.scope import Principal
from sqm.store.audit import Actor, bind_actor
from sqm.store.group_commit import GroupCommit
from sqm.store.models import Complaint
from sqm.web.complaints.deps import ComplaintInScope
from sqm.web.deps import Db, csrf_protect, fast_principal
from sqm.web.errors import Forbidden, InvalidInput, NotFound
from sqm.web.permissions import ComplaintHandler, ComplaintReader

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
    out: list[_Taken] = []
    for r in ch.intake_in_scope(session, p, [i.data for i in items]):
        if r.id is None or r.complaint is None:
            out.append(_Taken(422, error=r.error, field=r.field))
        elif not r.created and not p.sees(r.complaint.unit):
            out.append(_Taken(404, error="no such complaint in your scope"))
        else:
            body = _out(r.complaint, p).model_dump(mode="json")
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
def create_batch(body: BatchIn, p: ComplaintHandler, db: Db) -> dict[str, Any]:
    """For systems that forward complaints in bulk (CRM, regulator interface): every item is
    judged on its own and answered with its stored id, whether it is new, or its error."""
    items = [ch.ComplaintInput(**i.model_dump(mode="python")) for i in body.items]
    results = ch.intake_in_scope(db, p, items, read_back=False)
    return {
        "created": sum(r.created for r in results),
        "errors": sum(r.error is not None for r in results),
        "results": [
            {"index": r.index, "id": r.id, "created": r.created, "error": r.error} for r in results
        ],
    }


@router.get("", summary="List complaints in your scope (a queue view)")
def list_complaints(
    p: ComplaintReader,
    db: Db,
    view: ch.QueueView = "team",
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    q = views.queue(db, p, view, limit=limit, offset=offset, with_total=True)
    return {
        "total": q.total,
        "limit": limit,
        "offset": offset,
        "items": [_out(c, p).model_dump(mode="json") for c in q.complaints],
    }


@router.get("/{complaint_id}", response_model=ComplaintOut, summary="One complaint")
def get_complaint(p: ComplaintReader, c: ComplaintInScope) -> ComplaintOut:
    return _out(c, p)


@router.post("/{complaint_id}/status", response_model=ComplaintOut, summary="Change the status")
def set_status(p: ComplaintHandler, c: ComplaintInScope, body: StatusIn, db: Db) -> ComplaintOut:
    ch.change_status(
        db,
        c,
        body.status.value,
        p.user_id,
        body.note,
        resolution=body.resolution,
        satisfaction=body.satisfaction,
    )
    db.flush()
    return _out(c, p)


@router.post("/{complaint_id}/assign", response_model=ComplaintOut, summary="Assign to a handler")
def set_handler(p: ComplaintHandler, c: ComplaintInScope, body: AssignIn, db: Db) -> ComplaintOut:
    ch.assign_by_username(db, c, body.username)
    db.flush()
    db.refresh(c)
    return _out(c, p)


@router.post("/{complaint_id}/notes", status_code=201, summary="Add a note")
def post_note(p: ComplaintHandler, c: ComplaintInScope, body: NoteIn, db: Db) -> dict[str, Any]:
    n = ch.add_note(db, c, p.user_id, body.body)
    db.flush()
    return {"id": n.id, "body": n.body}
