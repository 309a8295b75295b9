"""Inspection visit pages: the inspector's day list, the phone visit form, visit reports
with review and appeals, the review queue and rectification tasks (整改).

Who sees what (:mod:`sqm.services.inspections.access`): inspectors see only the visits they
made or are planned for (a visit of someone else is a 404); store and area managers see
accepted visits and tasks of the stores in their scope; reviewers (quality analysts) see
everything in their scope.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from sqm.services.clock import Clock
from sqm.services.inspections import visits as iv
from sqm.store.models.inspection import InspectionEvidence, InspectionVisit
from sqm.web.deps import Db, Now, csrf_protect, load_form
from sqm.web.inspections.deps import (
    AppealInScope,
    AssignedVisit,
    EvidenceInScope,
    OwnPlanEntry,
    TaskInScope,
    VisitInScope,
)
from sqm.web.inspections.forms import (
    AppealForm,
    DecisionForm,
    DraftIn,
    EvidenceForm,
    NoteForm,
    VisitForm,
)
from sqm.web.permissions import InspectionReader, Inspector, Reviewer, TaskViewer
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


def _evidence_root(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir) / "inspection_evidence"


def _today(request: Request, clock: Clock) -> date:
    # a demo may look at another day with ?today=YYYY-MM-DD; anything else is the clock's date
    raw = request.query_params.get("today")
    try:
        return date.fromisoformat(raw) if raw else clock.today()
    except ValueError:
        return clock.today()


# ------------------------------------------------------------------------- inspector


@router.get("/inspections/my")
def my_day(request: Request, p: Inspector, db: Db, clock: Now) -> Response:
    """The inspector's list: today's and upcoming planned visits, drafts and recent visits."""
    day = iv.inspector_day(db, p.user_id, _today(request, clock))
    return render(
        request,
        "inspections/my.html",
        {
            "today": day.today,
            "todays": day.todays,
            "later": day.later,
            "drafts": day.drafts,
            "recent": day.recent,
        },
    )


@router.post("/inspections/plan/{entry_id}/start")
def start_visit(p: Inspector, entry: OwnPlanEntry, db: Db) -> Response:
    """Open (or reopen) the draft visit of a planned entry."""
    v = iv.open_planned_visit(db, entry, p.user_id)
    return RedirectResponse(f"/inspections/visits/{v.id}/form", status_code=303)


def _form_page(
    request: Request,
    v: InspectionVisit,
    evidence: list[InspectionEvidence],
    error: str | None = None,
) -> Response:
    ctx = {
        "visit": v,
        "unit": v.unit,
        "cl": iv.checklist_of(v.checklist),
        "zh": request_locale(request) == "zh",
        "draft": json.dumps({"answers": v.answers, "notes": v.notes}),
        "evidence": {(e.item_code or ""): e for e in evidence},
    }
    if error is None:
        return render(request, "inspections/form.html", ctx)
    return render(request, "inspections/form.html", {**ctx, "error": error}, status_code=422)


@router.get("/inspections/visits/{visit_id}/form")
def visit_form(request: Request, p: Inspector, v: AssignedVisit, db: Db) -> Response:
    """The phone form: one section at a time on a 360-px screen, drafts kept locally and on
    the server, submitted all at once."""
    if v.status != "draft":
        return RedirectResponse(f"/inspections/visits/{v.id}", status_code=303)
    return _form_page(request, v, iv.visit_evidence(db, v))


@router.post("/inspections/visits/{visit_id}/draft")
def save_draft(p: Inspector, v: AssignedVisit, body: DraftIn, db: Db) -> Response:
    """Keep the half-filled answers on the server (JSON: {answers, notes})."""
    iv.save_draft(db, v, body.answers, body.notes)
    return JSONResponse({"saved": True, "n": len(body.answers)})


@router.post("/inspections/visits/{visit_id}/submit")
def submit(
    request: Request,
    p: Inspector,
    v: AssignedVisit,
    form: Annotated[VisitForm, Form()],
    db: Db,
    clock: Now,
) -> Response:
    """Submit the whole visit at once; evidence checks may send it to review. A refused
    submission shows the form again with the reason."""
    try:
        iv.submit_answers(db, v, form.submission(), inspector_id=p.user_id, now=clock.now())
    except iv.InspectionError as exc:
        return _form_page(request, v, [], str(exc))
    return RedirectResponse(f"/inspections/visits/{v.id}?submitted=1", status_code=303)


@router.post("/inspections/visits/{visit_id}/evidence")
async def upload_evidence(
    request: Request,
    p: Inspector,
    v: AssignedVisit,
    form: Annotated[EvidenceForm, Form()],
    db: Db,
) -> Response:
    """Attach a photo or receipt to a draft visit; stored by content hash outside the DB."""
    f = form.file
    if f is None:
        raise iv.InspectionError("no file uploaded")
    e = iv.add_evidence(
        db,
        v,
        await f.read(),
        root=_evidence_root(request),
        filename=f.filename or "upload",
        content_type=f.content_type or "",
        kind=form.kind,
        item_code=form.item_code,
        user_id=p.user_id,
    )
    return JSONResponse({"id": e.id, "sha256": e.sha256})


@router.get("/inspections/evidence/{evidence_id}")
def evidence_file(request: Request, p: InspectionReader, e: EvidenceInScope) -> Response:
    """Serve an evidence file only to those who may see its visit."""
    return FileResponse(
        iv.evidence_file(_evidence_root(request), e),
        media_type=e.content_type,
        headers={"Cache-Control": "private, no-store"},
    )


# ------------------------------------------------------------------------- report, review


@router.get("/inspections/visits/{visit_id}")
def visit_report(
    request: Request, p: InspectionReader, v: VisitInScope, db: Db, clock: Now
) -> Response:
    """The printable visit report: sections, total, grade, findings, evidence, appeals."""
    rep = iv.visit_report(db, p, v, clock.today())
    return render(
        request,
        "inspections/visit.html",
        {
            "v": v,
            "cl": rep.checklist,
            "zh": request_locale(request) == "zh",
            "unit": v.unit,
            "findings": rep.findings,
            "appeals": rep.appeals,
            "appealed": rep.appealed,
            "evidence": rep.evidence,
            "tasks": rep.tasks,
            "can_review": rep.can_review,
            "can_decide": rep.can_decide,
            "can_appeal": rep.can_appeal,
            "names": rep.names,
            "sections": rep.sections,
        },
    )


@router.post("/inspections/visits/{visit_id}/review")
def review(
    p: Reviewer, v: VisitInScope, form: Annotated[DecisionForm, Form()], db: Db, clock: Now
) -> Response:
    """Accept (findings become 整改 tasks) or reject a submitted visit."""
    iv.review_visit(
        db,
        v,
        accept=form.decision == "accept",
        reviewer_id=p.user_id,
        note=form.note,
        today=clock.today(),
        now=clock.now(),
    )
    return RedirectResponse(f"/inspections/visits/{v.id}", status_code=303)


@router.post("/inspections/visits/{visit_id}/appeal")
def appeal(
    p: TaskViewer, v: VisitInScope, form: Annotated[AppealForm, Form()], db: Db, clock: Now
) -> Response:
    """A store manager appeals one finding within the deadline."""
    iv.raise_appeal(db, v, form.item_code, p.user_id, form.reason, today=clock.today())
    return RedirectResponse(f"/inspections/visits/{v.id}", status_code=303)


@router.post("/inspections/appeals/{appeal_id}/decide")
def decide(
    p: Reviewer, a: AppealInScope, form: Annotated[DecisionForm, Form()], db: Db, clock: Now
) -> Response:
    """Uphold or overturn an appealed finding; the visit's score follows."""
    iv.decide_appeal(
        db,
        a,
        overturn=form.decision == "overturn",
        user_id=p.user_id,
        note=form.note,
        now=clock.now(),
    )
    return RedirectResponse(f"/inspections/visits/{a.visit_id}", status_code=303)


@router.get("/inspections/review")
def review_queue(request: Request, p: Reviewer, db: Db) -> Response:
    """Visits waiting for review (flagged ones first) and open appeals."""
    q = iv.review_queue(db, p)
    return render(request, "inspections/review.html", {"visits": q.visits, "appeals": q.appeals})


# ------------------------------------------------------------------------- tasks


@router.get("/inspections/rectifications")
def rectifications(
    request: Request, p: TaskViewer, db: Db, clock: Now, status: str = "open"
) -> Response:
    """整改 tasks of the stores in scope, overdue first."""
    status = status if status in ("open", "closed", "cancelled") else "open"
    return render(
        request,
        "inspections/rectifications.html",
        {
            "tasks": iv.rectification_tasks(db, p, status),
            "status": status,
            "today": clock.today(),
        },
    )


@router.post("/inspections/rectifications/{task_id}/close")
def close_task(
    p: TaskViewer, t: TaskInScope, form: Annotated[NoteForm, Form()], db: Db, clock: Now
) -> Response:
    """Close a 整改 task with a note saying what was done."""
    iv.close_rectification(db, t, form.note, now=clock.now())
    return RedirectResponse("/inspections/rectifications", status_code=303)
