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
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sqm.domain.org import UnitKind
from sqm.services.inspections import planning, scores
from sqm.services.inspections import visits as iv
from sqm.store.models.inspection import (
    InspectionChecklist,
    InspectionRectification,
    InspectionVisit,
)
from sqm.web.deps import Db, Now, csrf_protect
from sqm.web.inspections.deps import OwnVisit, TaskInScope, VisitInScope
from sqm.web.permissions import InspectionReader, Inspector, PlanReader, TaskViewer

router = APIRouter(
    prefix="/api/v1/inspections", tags=["inspections"], dependencies=[Depends(csrf_protect)]
)
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


def _visit_out(v: InspectionVisit, rows: iv.VisitRows, detail: bool) -> VisitOut:
    row: InspectionChecklist = v.checklist
    users = rows.users
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
        period=rows.periods.get(v.period_id, ""),
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


def _one_visit_out(db: Db, v: InspectionVisit) -> VisitOut:
    return _visit_out(v, iv.visit_rows(db, [v]), detail=True)


def _submission(body: VisitAnswers) -> iv.Submission:
    return iv.Submission(
        answers=body.answers,
        started_at=body.started_at,
        ended_at=body.ended_at,
        checkin=(body.checkin.lat, body.checkin.lon) if body.checkin else None,
        purchase_made=body.purchase_made,
        notes=body.notes,
        item_notes=body.item_notes,
    )


# ------------------------------------------------------------------ visits


@router.get(
    "/visits",
    response_model=VisitPage,
    summary="Visits you may see",
    description="Filter by store code, period code and status; newest first. Inspectors get "
    "their own visits, store managers the accepted visits of their stores.",
)
def list_visits(
    p: InspectionReader,
    db: Db,
    store: str | None = Query(None, description="store code, e.g. GD-GZ-S001"),
    period: str | None = Query(None, description="period code, e.g. 2026-11"),
    status: VisitStatus | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> VisitPage:
    rows = iv.list_visits(
        db, p, store=store, period=period, status=status, limit=limit, offset=offset
    )
    return VisitPage(
        total=rows.total, items=[_visit_out(v, rows, detail=False) for v in rows.visits]
    )


@router.get(
    "/visits/{visit_id}",
    response_model=VisitOut,
    summary="One visit with its answers",
    responses={404: {"description": "no such visit in your scope"}},
)
def get_visit(p: InspectionReader, v: VisitInScope, db: Db) -> VisitOut:
    return _one_visit_out(db, v)


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
def create_visit(body: VisitIn, p: Inspector, db: Db, clock: Now) -> VisitOut:
    v = iv.create_visit(
        db,
        p,
        _submission(body),
        plan_entry_id=body.plan_entry_id,
        store_code=body.store_code,
        mode=body.mode,
        submit=body.submit,
        now=clock.now(),
    )
    return _one_visit_out(db, v)


@router.post(
    "/visits/{visit_id}/submit",
    response_model=VisitOut,
    summary="Submit one of your draft visits",
    responses={404: {"description": "no such draft among yours"}},
)
def submit_visit(body: VisitAnswers, p: Inspector, v: OwnVisit, db: Db, clock: Now) -> VisitOut:
    iv.submit_answers(db, v, _submission(body), inspector_id=p.user_id, now=clock.now())
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
    p: PlanReader,
    db: Db,
    period: str | None = Query(None, description="period code, e.g. 2026-11"),
    inspector_name: str | None = Query(
        None, alias="inspector", description="user name (reviewers only)"
    ),
    status: Literal["planned", "done"] | None = None,
) -> list[PlanEntryOut]:
    rows = planning.month_plan(db, p, period, inspector=inspector_name, status=status)
    return [PlanEntryOut.model_validate(r, from_attributes=True) for r in rows]


# ------------------------------------------------------------------ scores


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


@router.get(
    "/scores",
    response_model=list[StoreScoreOut],
    summary="Store inspection scores of a period",
    description="Per store in your scope: the mean of its accepted visits' totals (each "
    "weighted with its store's profile) with a 95 % bootstrap interval, grade, rank among "
    "its peers over the whole organisation (by default the stores of the same tier, "
    "competitors among competitors) with an interval, and the change since the store's "
    "previous period. A store's rank is the same whoever asks. `period` defaults to the "
    "latest period with accepted visits.",
)
def store_scores(
    p: TaskViewer,
    db: Db,
    period: str | None = Query(None, description="period code, e.g. 2026-11"),
    store: str | None = Query(None, description="one store code"),
    peer: Literal["tier", "city", "province", "all"] = Query(
        "tier", description="the peer group ranked in"
    ),
    corrected: bool = Query(False, description="remove each inspector's fitted effect first"),
) -> list[StoreScoreOut]:
    ranking = scores.store_ranking(db, p, period, peer=peer, corrected=corrected, store=store)
    return [
        StoreScoreOut(
            store_code=r.code,
            store_name=r.name_zh,
            competitor=r.competitor,
            tier=r.tier,
            peer=r.peer,
            period=r.period,
            n_visits=r.n,
            score=round(r.score, 2),
            score_low=round(r.low, 2),
            score_high=round(r.high, 2),
            grade=r.grade,
            rank=r.rank,
            rank_low=r.rank_low,
            rank_high=r.rank_high,
            n_peers=r.n_peers,
            change=_round(r.change),
            change_low=_round(r.change_low),
            change_high=_round(r.change_high),
            change_significant=r.change_sig,
        )
        for r in ranking.rows
    ]


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
    p: TaskViewer,
    db: Db,
    clock: Now,
    status: Literal["open", "closed", "cancelled"] | None = "open",
    store: str | None = Query(None, description="store code"),
    limit: int = Query(500, ge=1, le=5000),
) -> list[RectificationOut]:
    tasks = iv.rectification_tasks(db, p, status, store=store, limit=limit)
    today = clock.today()
    return [_task_out(t, today) for t in tasks]


@router.post(
    "/rectifications/{task_id}/close",
    response_model=RectificationOut,
    summary="Close a rectification task with a note on what was done",
    responses={404: {"description": "no such task in your scope"}},
)
def close_rectification(
    body: CloseIn, p: TaskViewer, t: TaskInScope, db: Db, clock: Now
) -> RectificationOut:
    iv.close_rectification(db, t, body.note, now=clock.now())
    return _task_out(t, clock.today())
