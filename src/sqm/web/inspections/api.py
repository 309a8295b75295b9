"""/api/v1/inspections: visits, the monthly plan, store scores and rectification tasks (整改)
for the systems around SQM (an inspectors' app, the stores' task system, BI).

Authentication is a bearer token (``Authorization: Bearer …``) or the browser session; every
answer is limited to what the caller may see (:mod:`sqm.services.inspections.access`):
reviewers see the visits and plan of the stores in their scope, inspectors only their own
visits and assignments, store and area managers the accepted visits, scores and tasks of
their stores. A record outside that is a 404.

A visit submitted here goes through the same service as the phone form: answers are checked
against the visit's checklist version, the visit is scored with its store's weight profile,
and the evidence checks (place, day, length, reused photos, required evidence) may send it to
review instead of straight into the scores.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.domain.period import PeriodKind
from sqm.domain.roles import Permission
from sqm.methods.visit_score import peer_ranks, store_period_scores
from sqm.services.clock import Clock, system_clock
from sqm.services.inspections import visits as iv
from sqm.services.inspections.access import (
    can_see_visit,
    plan_filter,
    sees_all_plans,
    sees_plan_of,
    visits_filter,
)
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, Period, User
from sqm.store.models.inspection import (
    InspectionChecklist,
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)
from sqm.web.deps import csrf_protect, current_principal, get_db, require
from sqm.web.errors import Forbidden, InvalidInput, NotFound
from sqm.web.inspections.auth import any_inspection_role as any_role
from sqm.web.inspections.auth import score_viewer

router = APIRouter(
    prefix="/api/v1/inspections", tags=["inspections"], dependencies=[Depends(csrf_protect)]
)
inspector = require(Permission.DO_INSPECTIONS)
VisitStatus = Literal["draft", "submitted", "needs_review", "accepted", "rejected"]


# ------------------------------------------------------------------ schemas


class ReviewReason(BaseModel):
    code: str = Field(..., examples=["too_short"])
    message: str


class VisitOut(BaseModel):
    """A visit: where, who, when, its score and its state."""

    id: int
    store_code: str
    store_name: str
    competitor: bool
    period: str
    checklist_code: str
    checklist_version: int
    inspector: str = Field(..., description="user name of the inspector who filled it")
    team: list[str]
    mode: str = Field(..., examples=["covert"], description="covert (暗访) or announced (明访)")
    purpose: str = Field(..., examples=["regular"], description="regular or calibration")
    status: str = Field(..., examples=["submitted"])
    planned_date: date | None
    started_at: datetime | None
    ended_at: datetime | None
    submitted_at: datetime | None
    reviewed_at: datetime | None
    purchase_made: bool
    total: float | None = Field(None, description="0–100, veto and N/A rules applied")
    grade: str | None
    passed: bool | None
    sections: dict[str, float | None]
    vetoed: list[str] = Field(..., description="indicators zeroed by a veto item (一票否决)")
    findings: list[str] = Field(..., description="failed items, overturned appeals excluded")
    review_reasons: list[ReviewReason]
    profile_code: str | None = Field(None, description="the weight profile that scored it")
    answers: dict[str, float | None] | None = Field(
        None, description="item code → answer (null: not applicable); detail only"
    )
    item_notes: dict[str, str] | None = None
    notes: str | None = None


class VisitPage(BaseModel):
    total: int
    items: list[VisitOut]


class Checkin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


class VisitAnswers(BaseModel):
    """What an inspector sends to submit a visit (as the phone form does)."""

    model_config = ConfigDict(extra="forbid")

    started_at: datetime = Field(..., description="check-in time, ISO 8601 with offset")
    ended_at: datetime | None = Field(None, description="defaults to the time of the request")
    checkin: Checkin | None = Field(None, description="check-in position (GPS)")
    purchase_made: bool = False
    answers: dict[str, float | None] = Field(
        ...,
        description="item code → answer: yes/no 1 or 0, scale items 0…N; null = not applicable",
        examples=[{"greet_on_entry": 1, "smile_eye_contact": 3, "offer_help": None}],
    )
    item_notes: dict[str, str] = Field(
        default_factory=dict, description="notes per item (required for failed note items)"
    )
    notes: str = Field("", max_length=10_000)


class VisitIn(VisitAnswers):
    """A visit to create: from one of the caller's plan entries, or unplanned at a store in
    their scope (planned for the day of ``started_at``). ``submit: false`` keeps a draft."""

    plan_entry_id: int | None = None
    store_code: str | None = Field(None, max_length=64)
    mode: Literal["covert", "announced"] = "covert"
    submit: bool = True

    @model_validator(mode="after")
    def _one_origin(self) -> VisitIn:
        if (self.plan_entry_id is None) == (self.store_code is None):
            raise ValueError("give either plan_entry_id or store_code")
        return self


class PlanEntryOut(BaseModel):
    id: int
    period: str
    date: date
    store_code: str
    store_name: str
    inspector: str
    inspector_name: str
    visit_key: str
    team: list[str]
    status: str


class StoreScoreOut(BaseModel):
    """A store's inspection score in a period: mean of its accepted visits' totals with a
    bootstrap interval, grade, rank among its peers with an interval, change since the
    store's previous period."""

    store_code: str
    store_name: str
    competitor: bool
    tier: str | None
    peer: str = Field(..., description="the peer group ranked in: tier, or 'competitor'")
    period: str
    n_visits: int
    score: float
    score_low: float
    score_high: float
    grade: str
    rank: int
    rank_low: int
    rank_high: int
    n_peers: int
    change: float | None
    change_low: float | None
    change_high: float | None
    change_significant: bool


class RectificationOut(BaseModel):
    id: int
    visit_id: int
    store_code: str
    store_name: str
    item_code: str
    title_zh: str
    title_en: str
    due_date: date
    overdue: bool
    status: str
    closed_at: datetime | None
    closing_note: str | None


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(..., min_length=1, max_length=5_000, description="what was done")


# ------------------------------------------------------------------ helpers


def _usernames(db: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.scalars(select(User).where(User.id.in_(list(ids))))}


def _visit_out(v: InspectionVisit, period: str, users: dict[int, User], detail: bool) -> VisitOut:
    row: InspectionChecklist = v.checklist
    findings = [
        c
        for c, x in (v.answers or {}).items()
        if x is not None and x == 0 and c not in v.overturned
    ]
    return VisitOut(
        id=v.id,
        store_code=v.unit.code,
        store_name=v.unit.name_zh,
        competitor=v.unit.kind == UnitKind.COMPETITOR_STORE,
        period=period,
        checklist_code=row.code,
        checklist_version=row.version,
        inspector=users[v.inspector_id].username if v.inspector_id in users else "",
        team=[users[i].username for i in v.team if i in users],
        mode=v.mode,
        purpose=v.purpose,
        status=v.status,
        planned_date=v.planned_date,
        started_at=v.started_at,
        ended_at=v.ended_at,
        submitted_at=v.submitted_at,
        reviewed_at=v.reviewed_at,
        purchase_made=v.purchase_made,
        total=v.total,
        grade=v.grade,
        passed=v.passed,
        sections=dict(v.section_scores or {}),
        vetoed=list(v.vetoed or []),
        findings=findings,
        review_reasons=[ReviewReason(code=str(r[0]), message=str(r[1])) for r in v.review_reasons],
        profile_code=v.profile_code,
        answers=dict(v.answers) if detail else None,
        item_notes=dict(v.item_notes or {}) if detail else None,
        notes=v.notes if detail else None,
    )


def _one_visit_out(db: Session, v: InspectionVisit) -> VisitOut:
    period = db.get(Period, v.period_id)
    users = _usernames(db, {v.inspector_id, *v.team})
    return _visit_out(v, period.code if period else "", users, detail=True)


def _visible_visit(db: Session, p: Principal, visit_id: int) -> InspectionVisit:
    v = db.get(InspectionVisit, visit_id)
    if v is None or not can_see_visit(p, v):
        raise NotFound(f"no visit {visit_id} in your scope")
    return v


def _period(db: Session, code: str) -> Period:
    per = db.scalar(select(Period).where(Period.code == code))
    if per is None:
        raise InvalidInput(f"period: no period '{code}'", {"period": code})
    return per


def _submit(
    db: Session,
    p: Principal,
    v: InspectionVisit,
    body: VisitAnswers,
    clock: Clock,
) -> None:
    """Submit ``v`` with ``body`` through the visit service (the phone form's path)."""
    cl = iv.checklist_of(v.checklist)
    unknown = sorted(set(body.answers) - set(cl.item_codes()))
    missing = [c for c in cl.item_codes() if c not in body.answers and not cl.item(c).na_allowed]
    if unknown or missing:
        raise InvalidInput(
            "answers do not fit the visit's checklist "
            f"{cl.code} v{cl.version}: unknown {unknown[:10]}, unanswered {missing[:10]}",
            {"unknown": unknown, "unanswered": missing},
        )
    answers = {c: body.answers.get(c) for c in cl.item_codes()}
    now = clock.now()
    try:
        iv.submit_visit(
            db,
            v,
            answers,
            started_at=body.started_at,
            ended_at=body.ended_at or now,
            checkin=(body.checkin.lat, body.checkin.lon) if body.checkin else None,
            purchase_made=body.purchase_made,
            notes=body.notes,
            item_notes=body.item_notes,
            now=now,
        )
    except iv.InspectionError as exc:
        raise InvalidInput(str(exc)) from exc
    iv.mark_planned_done(db, v, p.user_id)


# ------------------------------------------------------------------ visits


@router.get(
    "/visits",
    response_model=VisitPage,
    summary="Visits you may see",
    description="Filter by store code, period code and status; newest first. Inspectors get "
    "their own visits, store managers the accepted visits of their stores.",
)
def list_visits(
    store: str | None = Query(None, description="store code, e.g. GD-GZ-S001"),
    period: str | None = Query(None, description="period code, e.g. 2026-11"),
    status: VisitStatus | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    p: Principal = Depends(any_role),
    db: Session = Depends(get_db),
) -> VisitPage:
    conds = [visits_filter(p)]
    if store is not None:
        conds.append(OrgUnit.code == store)
    if period is not None:
        conds.append(InspectionVisit.period_id == _period(db, period).id)
    if status is not None:
        conds.append(InspectionVisit.status == status)
    base = select(InspectionVisit).join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
    total = db.scalar(select(func.count()).select_from(base.where(*conds).subquery()))
    rows = list(
        db.scalars(
            base.where(*conds)
            .order_by(InspectionVisit.planned_date.desc(), InspectionVisit.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    users = _usernames(db, {i for v in rows for i in (v.inspector_id, *v.team)})
    codes = dict(db.execute(select(Period.id, Period.code)).all())
    return VisitPage(
        total=int(total or 0),
        items=[_visit_out(v, codes.get(v.period_id, ""), users, detail=False) for v in rows],
    )


@router.get(
    "/visits/{visit_id}",
    response_model=VisitOut,
    summary="One visit with its answers",
    responses={404: {"description": "no such visit in your scope"}},
)
def get_visit(
    visit_id: int, p: Principal = Depends(any_role), db: Session = Depends(get_db)
) -> VisitOut:
    return _one_visit_out(db, _visible_visit(db, p, visit_id))


@router.post(
    "/visits",
    response_model=VisitOut,
    status_code=201,
    summary="Create (and submit) a visit",
    description="From one of your plan entries (`plan_entry_id`) or unplanned at a store in "
    "your scope (`store_code`). With `submit` (the default) the answers are validated against "
    "the checklist version, scored and evidence-checked; `needs_review` says why in "
    "`review_reasons`. With `submit: false` the answers are kept as a draft.",
    responses={404: {"description": "no such plan entry or store among yours"}},
)
def create_visit(
    body: VisitIn,
    p: Principal = Depends(inspector),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> VisitOut:
    if body.plan_entry_id is not None:
        entry = db.get(InspectionPlanEntry, body.plan_entry_id)
        if entry is None or entry.inspector_id != p.user_id:
            raise NotFound(f"no plan entry {body.plan_entry_id} among your assignments")
    else:
        unit = db.scalar(select(OrgUnit).where(OrgUnit.code == body.store_code))
        if (
            unit is None
            or not p.sees(unit)
            or unit.kind
            not in (
                UnitKind.STORE,
                UnitKind.COMPETITOR_STORE,
            )
        ):
            raise NotFound(f"no store '{body.store_code}' in your scope")
        day = body.started_at.date()
        per = db.scalar(
            select(Period).where(
                Period.kind == PeriodKind.MONTH, Period.start <= day, Period.end >= day
            )
        )
        if per is None:
            raise InvalidInput(f"started_at: no monthly period holds {day}")
        entry = InspectionPlanEntry(
            period_id=per.id,
            unit_id=unit.id,
            inspector_id=p.user_id,
            planned_date=day,
            visit_key=f"{unit.code}@{day.isoformat()}",
        )
        db.add(entry)
        db.flush()
    v = iv.open_planned_visit(db, entry, p.user_id)
    if v.status != "draft":
        raise InvalidInput(f"visit {v.id} of this assignment was already submitted")
    v.mode = body.mode
    if body.submit:
        _submit(db, p, v, body, clock)
    else:
        try:
            iv.save_draft(db, v, body.answers, body.notes)
        except iv.InspectionError as exc:
            raise InvalidInput(str(exc)) from exc
    db.flush()
    return _one_visit_out(db, v)


@router.post(
    "/visits/{visit_id}/submit",
    response_model=VisitOut,
    summary="Submit one of your draft visits",
    responses={404: {"description": "no such draft among yours"}},
)
def submit_visit(
    visit_id: int,
    body: VisitAnswers,
    p: Principal = Depends(inspector),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> VisitOut:
    v = _visible_visit(db, p, visit_id)
    if v.inspector_id != p.user_id:
        raise NotFound(f"no visit {visit_id} among yours")
    if v.status != "draft":
        raise InvalidInput(f"visit {v.id} is {v.status}; only drafts can be submitted")
    _submit(db, p, v, body, clock)
    db.flush()
    return _one_visit_out(db, v)


# ------------------------------------------------------------------ plan


@router.get(
    "/plan",
    response_model=list[PlanEntryOut],
    summary="The month's visit plan",
    description="Reviewers get every assignment at the stores in their scope; an inspector "
    "gets only their own. `period` defaults to the latest planned month.",
)
def month_plan(
    period: str | None = Query(None, description="period code, e.g. 2026-11"),
    inspector_name: str | None = Query(
        None, alias="inspector", description="user name (reviewers only)"
    ),
    status: Literal["planned", "done"] | None = None,
    p: Principal = Depends(current_principal),
    db: Session = Depends(get_db),
) -> list[PlanEntryOut]:
    if not (sees_all_plans(p) or sees_plan_of(p)):
        raise Forbidden("this needs the permission 'do_inspections' or 'review_inspections'")
    if period is not None:
        per = _period(db, period)
    else:
        latest = db.scalar(
            select(InspectionPlanEntry.period_id)
            .join(OrgUnit, OrgUnit.id == InspectionPlanEntry.unit_id)
            .where(plan_filter(p))
            .order_by(InspectionPlanEntry.planned_date.desc())
            .limit(1)
        )
        if latest is None:
            return []
        found = db.get(Period, latest)
        assert found is not None
        per = found
    conds = [plan_filter(p), InspectionPlanEntry.period_id == per.id]
    if inspector_name is not None:
        conds.append(User.username == inspector_name)
    if status is not None:
        conds.append(InspectionPlanEntry.status == status)
    rows = list(
        db.scalars(
            select(InspectionPlanEntry)
            .join(OrgUnit, OrgUnit.id == InspectionPlanEntry.unit_id)
            .join(User, User.id == InspectionPlanEntry.inspector_id)
            .where(*conds)
            .order_by(InspectionPlanEntry.planned_date, InspectionPlanEntry.id)
        )
    )
    keys = {e.visit_key for e in rows}
    team: dict[str, list[str]] = {}
    if keys:
        for key, name in db.execute(
            select(InspectionPlanEntry.visit_key, User.username)
            .join(User, User.id == InspectionPlanEntry.inspector_id)
            .where(InspectionPlanEntry.visit_key.in_(list(keys)))
            .order_by(User.username)
        ):
            team.setdefault(key, []).append(name)
    return [
        PlanEntryOut(
            id=e.id,
            period=per.code,
            date=e.planned_date,
            store_code=e.unit.code,
            store_name=e.unit.name_zh,
            inspector=e.inspector.username,
            inspector_name=e.inspector.display_name or e.inspector.username,
            visit_key=e.visit_key,
            team=team.get(e.visit_key, []),
            status=e.status,
        )
        for e in rows
    ]


# ------------------------------------------------------------------ scores


def _nan(x: Any) -> float | None:
    return None if x is None or x != x else float(x)


@router.get(
    "/scores",
    response_model=list[StoreScoreOut],
    summary="Store inspection scores of a period",
    description="Per store in your scope: the mean of its accepted visits' totals (each "
    "weighted with its store's profile) with a 95 % bootstrap interval, grade, rank among "
    "the stores of the same tier (competitors among competitors) with an interval, and the "
    "change since the store's previous period. `period` defaults to the latest period with "
    "accepted visits.",
)
def store_scores(
    period: str | None = Query(None, description="period code, e.g. 2026-11"),
    store: str | None = Query(None, description="one store code"),
    p: Principal = Depends(score_viewer),
    db: Session = Depends(get_db),
) -> list[StoreScoreOut]:
    accepted = InspectionVisit.status == "accepted"
    periods = list(
        db.scalars(
            select(Period)
            .where(Period.id.in_(select(InspectionVisit.period_id).where(accepted).distinct()))
            .order_by(Period.code.desc())
        )
    )
    codes = [x.code for x in periods]
    if period is None:
        if not codes:
            return []
        period = codes[0]
    elif period not in codes:
        _period(db, period)
        return []
    k = codes.index(period)
    wanted = {x.id: x.code for x in periods[k : k + 2]}  # this period and the one before
    df = pd.DataFrame(
        db.execute(
            select(InspectionVisit.unit_id, InspectionVisit.period_id, InspectionVisit.total).where(
                accepted,
                InspectionVisit.period_id.in_(list(wanted)),
                InspectionVisit.total.is_not(None),
            )
        ).all(),
        columns=["store", "period_id", "total"],
    )
    if df.empty:
        return []
    df["period"] = df["period_id"].map(wanted)
    cl = iv.checklist_of(iv.current_checklist(db))
    sc = store_period_scores(df, layout=cl, n_boot=300, seed=7)
    units = {
        u.id: u
        for u in db.scalars(select(OrgUnit).where(OrgUnit.id.in_(df["store"].unique().tolist())))
    }
    fr = sc.frame
    peers = [
        "competitor"
        if units[int(s)].kind == UnitKind.COMPETITOR_STORE
        else str(units[int(s)].tier or "")
        for s in fr["store"]
    ]
    rk = peer_ranks(sc, peers)
    out = []
    for rec, r, peer in zip(fr.to_dict("records"), rk.to_dict("records"), peers, strict=True):
        u = units[int(rec["store"])]
        if rec["period"] != period or not p.sees(u) or (store is not None and u.code != store):
            continue
        out.append(
            StoreScoreOut(
                store_code=u.code,
                store_name=u.name_zh,
                competitor=u.kind == UnitKind.COMPETITOR_STORE,
                tier=u.tier,
                peer=peer,
                period=period,
                n_visits=int(rec["n_visits"]),
                score=round(float(rec["score"]), 2),
                score_low=round(float(rec["score_low"]), 2),
                score_high=round(float(rec["score_high"]), 2),
                grade=str(rec["grade"]),
                rank=int(r["rank"]),
                rank_low=int(r["rank_low"]),
                rank_high=int(r["rank_high"]),
                n_peers=int(r["n_peers"]),
                change=_nan(rec["change"]),
                change_low=_nan(rec["change_low"]),
                change_high=_nan(rec["change_high"]),
                change_significant=bool(rec["change_significant"]),
            )
        )
    return sorted(out, key=lambda x: (x.peer, x.rank, x.store_code))


# ------------------------------------------------------------------ rectifications


def _task_out(t: InspectionRectification, today: date) -> RectificationOut:
    return RectificationOut(
        id=t.id,
        visit_id=t.visit_id,
        store_code=t.unit.code,
        store_name=t.unit.name_zh,
        item_code=t.item_code,
        title_zh=t.title_zh,
        title_en=t.title_en,
        due_date=t.due_date,
        overdue=t.status == "open" and t.due_date < today,
        status=t.status,
        closed_at=t.closed_at,
        closing_note=t.closing_note,
    )


@router.get(
    "/rectifications",
    response_model=list[RectificationOut],
    summary="Rectification tasks (整改) of the stores in your scope",
    description="Oldest due date first; `overdue` is judged against today.",
)
def list_rectifications(
    status: Literal["open", "closed", "cancelled"] | None = "open",
    store: str | None = Query(None, description="store code"),
    limit: int = Query(500, ge=1, le=5000),
    p: Principal = Depends(score_viewer),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> list[RectificationOut]:
    conds = [p.unit_filter()]
    if status is not None:
        conds.append(InspectionRectification.status == status)
    if store is not None:
        conds.append(OrgUnit.code == store)
    rows = db.scalars(
        select(InspectionRectification)
        .join(OrgUnit, OrgUnit.id == InspectionRectification.unit_id)
        .where(*conds)
        .order_by(InspectionRectification.due_date, InspectionRectification.id)
        .limit(limit)
    )
    today = clock.today()
    return [_task_out(t, today) for t in rows]


@router.post(
    "/rectifications/{task_id}/close",
    response_model=RectificationOut,
    summary="Close a rectification task with a note on what was done",
    responses={404: {"description": "no such task in your scope"}},
)
def close_rectification(
    task_id: int,
    body: CloseIn,
    p: Principal = Depends(score_viewer),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> RectificationOut:
    t = db.get(InspectionRectification, task_id)
    if t is None or not p.sees(t.unit):
        raise NotFound(f"no task {task_id} in your scope")
    try:
        iv.close_rectification(db, t, body.note, now=clock.now())
    except iv.InspectionError as exc:
        raise InvalidInput(str(exc)) from exc
    return _task_out(t, clock.today())
