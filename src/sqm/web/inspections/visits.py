"""Inspection pages: rankings, the inspector's day list, the phone visit form, visit reports
with review and appeals, store scorecards, the plan calendar and rectification tasks (整改).

Who sees what: inspectors see only the visits they made or are planned for (a visit of
someone else is a 404); store and area managers see accepted visits and tasks of the stores
in their scope; reviewers (quality analysts) see everything in their scope.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.org import TIER_LABELS, UnitKind
from sqm.domain.roles import Permission
from sqm.methods.evidence_checks import average_hash
from sqm.methods.visit_score import peer_ranks, store_period_scores
from sqm.services.clock import Clock, system_clock
from sqm.services.inspections import visits as iv
from sqm.services.inspections.access import can_see_visit
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, Period, User
from sqm.store.models.inspection import (
    InspectionAppeal,
    InspectionEvidence,
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)
from sqm.web.deps import csrf_protect, current_principal, get_db, load_form, unit_in_scope
from sqm.web.errors import Forbidden, InvalidInput, NotFound
from sqm.web.inspections.auth import any_inspection_role as _any_role
from sqm.web.inspections.auth import score_viewer as _viewer
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)

MAX_UPLOAD = 8 * 1024 * 1024
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic"}


def _inspector(p: Principal = Depends(current_principal)) -> Principal:
    if not p.can(Permission.DO_INSPECTIONS):
        raise Forbidden("this needs the permission 'do_inspections'")
    return p


def _reviewer(p: Principal = Depends(current_principal)) -> Principal:
    if not p.can(Permission.REVIEW_INSPECTIONS):
        raise Forbidden("this needs the permission 'review_inspections'")
    return p


def _visit_for(db: Session, p: Principal, visit_id: int) -> InspectionVisit:
    """The visit if this principal may see it, else 404 (no leak of its existence)."""
    v = db.get(InspectionVisit, visit_id)
    if v is None:
        raise NotFound("no such visit")
    if can_see_visit(p, v):
        return v
    raise NotFound("no such visit in your scope")


def _own_draft(db: Session, p: Principal, visit_id: int) -> InspectionVisit:
    v = _visit_for(db, p, visit_id)
    if v.inspector_id != p.user_id and p.user_id not in v.team:
        raise NotFound("no such visit among your assignments")
    return v


def _periods(db: Session) -> list[Period]:
    ids = select(InspectionVisit.period_id).distinct()
    return list(db.scalars(select(Period).where(Period.id.in_(ids)).order_by(Period.code.desc())))


def _label(unit: OrgUnit, li: int) -> str:
    if unit.kind == UnitKind.COMPETITOR_STORE:
        return ("竞品 " if li == 0 else "Competitor ") + (unit.brand or "")
    return TIER_LABELS[unit.tier][li] if unit.tier else ""


# ------------------------------------------------------------------------- rankings


@router.get("/inspections")
def ranking(
    request: Request,
    period: str | None = None,
    peer: str = "tier",
    corrected: int = 0,
    p: Principal = Depends(_any_role),
    db: Session = Depends(get_db),
) -> Response:
    """Store ranking of a period from accepted visits: score with interval, rank with interval
    among peers, change since last period; competitor stores side by side. With
    ``corrected=1`` each visit's total first loses its inspector's fitted effect (two-way
    store + inspector model over the last six months)."""
    if not (p.can(Permission.VIEW_SCORES) or p.can(Permission.REVIEW_INSPECTIONS)):
        return RedirectResponse("/inspections/my", status_code=303)
    locale = request_locale(request)
    li = 0 if locale == "zh" else 1
    periods = _periods(db)
    codes = [x.code for x in periods]
    period = period if period in codes else (codes[0] if codes else None)
    rows: list[dict[str, Any]] = []
    comparison: list[dict[str, Any]] = []
    if period:
        k = codes.index(period)
        wanted = [x.id for x in periods[k : k + (6 if corrected else 2)]]
        stmt = (
            select(
                InspectionVisit.unit_id,
                InspectionVisit.period_id,
                InspectionVisit.total,
                InspectionVisit.inspector_id,
                InspectionVisit.section_scores,
            )
            .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
            .where(
                InspectionVisit.status == "accepted",
                InspectionVisit.period_id.in_(wanted),
                p.unit_filter(),
            )
        )
        df = pd.DataFrame(
            db.execute(stmt).all(),
            columns=["store", "period_id", "total", "inspector", "sections"],
        )
        if corrected and df["inspector"].nunique() > 1:
            from sqm.methods.visit_score import inspector_effects

            df["total"] = inspector_effects(df).corrected
        df = df[df["period_id"].isin([x.id for x in periods[k : k + 2]])]
        if not df.empty:
            comparison = _competitor_comparison(db, df[df["period_id"] == periods[k].id], locale)
            pcode = {x.id: x.code for x in periods}
            df["period"] = df["period_id"].map(pcode)
            sc = store_period_scores(df, layout=None, n_boot=300, seed=7)
            units = {
                u.id: u
                for u in db.scalars(
                    select(OrgUnit).where(OrgUnit.id.in_(df["store"].unique().tolist()))
                )
            }
            fr = sc.frame
            if peer == "tier":
                labels = [
                    "competitor"
                    if units[int(s)].kind == UnitKind.COMPETITOR_STORE
                    else str(units[int(s)].tier)
                    for s in fr["store"]
                ]
            elif peer in ("province", "city"):
                depth = 2 if peer == "province" else 3  # path /company/province/city/…

                def ancestor(path: str) -> int | None:
                    parts = path.strip("/").split("/")
                    return int(parts[depth - 1]) if len(parts) >= depth else None

                anc = {int(st): ancestor(units[int(st)].path) for st in fr["store"]}
                ids = [a for a in anc.values() if a is not None]
                names = {
                    a.id: a.name(locale)
                    for a in db.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))
                }
                labels = [
                    names.get(a, "—") if (a := anc[int(st)]) is not None else "—"
                    for st in fr["store"]
                ]
            else:
                labels = ["all"] * len(fr)
            rk = peer_ranks(sc, labels)
            fr = fr.assign(
                rank=rk["rank"],
                rank_low=rk["rank_low"],
                rank_high=rk["rank_high"],
                peer=labels,
                n_peers=rk["n_peers"],
            )
            fr = fr[fr["period"] == period].sort_values(["peer", "rank"])
            cl = iv.checklist_of(iv.current_checklist(db))  # grade bands in force
            for rec in fr.to_dict("records"):
                r: dict[str, Any] = {str(k): x for k, x in rec.items()}
                u = units[int(r["store"])]
                change = r["change"]
                rows.append(
                    {
                        "unit": u,
                        "name": u.name(locale),
                        "label": _label(u, li),
                        "competitor": u.kind == UnitKind.COMPETITOR_STORE,
                        "peer": r["peer"],
                        "n": int(r["n_visits"]),
                        "score": float(r["score"]),
                        "low": float(r["score_low"]),
                        "high": float(r["score_high"]),
                        "grade": cl.grade(float(r["score"])).code,
                        "rank": int(r["rank"]),
                        "rank_low": int(r["rank_low"]),
                        "rank_high": int(r["rank_high"]),
                        "n_peers": int(r["n_peers"]),
                        "change": None if change is None or change != change else float(change),
                        "change_sig": bool(r["change_significant"]),
                    }
                )
    return render(
        request,
        "inspections/ranking.html",
        {
            "rows": rows,
            "period": period,
            "periods": codes,
            "peer": peer,
            "corrected": corrected,
            "comparison": comparison,
        },
    )


def _competitor_comparison(db: Session, df: pd.DataFrame, locale: str) -> list[dict[str, Any]]:
    """Mean section scores of our stores by tier and of competitor stores, side by side."""
    cl = iv.checklist_of(iv.current_checklist(db))
    kinds = dict(
        db.execute(
            select(OrgUnit.id, OrgUnit.kind).where(OrgUnit.id.in_(df["store"].unique().tolist()))
        ).all()
    )
    secs = pd.DataFrame(list(df["sections"])).astype(float)
    secs["group"] = [
        "competitor" if kinds.get(int(u)) == UnitKind.COMPETITOR_STORE else "own"
        for u in df["store"]
    ]
    means: dict[str, dict[str, float]] = {
        str(g): {str(c): float(v) for c, v in row.items()}
        for g, row in secs.groupby("group").mean().to_dict("index").items()
    }
    out = []
    for sec in cl.sections:
        own = means.get("own", {}).get(sec.code, float("nan"))
        comp = means.get("competitor", {}).get(sec.code, float("nan"))
        out.append(
            {
                "name": sec.name_zh if locale == "zh" else sec.name_en,
                "own": None if np.isnan(own) else round(own, 1),
                "competitor": None if np.isnan(comp) else round(comp, 1),
            }
        )
    return out


# ------------------------------------------------------------------------- inspector


@router.get("/inspections/my")
def my_day(
    request: Request,
    p: Principal = Depends(_inspector),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> Response:
    """The inspector's list: today's and upcoming planned visits, drafts and recent visits."""
    today = _today(request, clock)
    entries = list(
        db.scalars(
            select(InspectionPlanEntry)
            .where(
                InspectionPlanEntry.inspector_id == p.user_id,
                InspectionPlanEntry.planned_date >= today,
                InspectionPlanEntry.status == "planned",
            )
            .order_by(InspectionPlanEntry.planned_date)
            .limit(60)
        )
    )
    drafts = {
        v.visit_key: v
        for v in db.scalars(
            select(InspectionVisit).where(
                InspectionVisit.inspector_id == p.user_id, InspectionVisit.status == "draft"
            )
        )
    }
    recent = list(
        db.scalars(
            select(InspectionVisit)
            .where(InspectionVisit.inspector_id == p.user_id, InspectionVisit.status != "draft")
            .order_by(InspectionVisit.planned_date.desc())
            .limit(15)
        )
    )
    return render(
        request,
        "inspections/my.html",
        {
            "today": today,
            "todays": [e for e in entries if e.planned_date == today],
            "later": [e for e in entries if e.planned_date > today],
            "drafts": drafts,
            "recent": recent,
        },
    )


def _today(request: Request, clock: Clock) -> date:
    # a demo may look at another day with ?today=YYYY-MM-DD; anything else is the clock's date
    raw = request.query_params.get("today")
    try:
        return date.fromisoformat(raw) if raw else clock.today()
    except ValueError:
        return clock.today()


@router.post("/inspections/plan/{entry_id}/start")
def start_visit(
    entry_id: int, p: Principal = Depends(_inspector), db: Session = Depends(get_db)
) -> Response:
    """Open (or reopen) the draft visit of a planned entry."""
    e = db.get(InspectionPlanEntry, entry_id)
    if e is None or e.inspector_id != p.user_id:
        raise NotFound("no such visit among your assignments")
    v = iv.open_planned_visit(db, e, p.user_id)
    return RedirectResponse(f"/inspections/visits/{v.id}/form", status_code=303)


@router.get("/inspections/visits/{visit_id}/form")
def visit_form(
    request: Request,
    visit_id: int,
    p: Principal = Depends(_inspector),
    db: Session = Depends(get_db),
) -> Response:
    """The phone form: one section at a time on a 360-px screen, drafts kept locally and on
    the server, submitted all at once."""
    v = _own_draft(db, p, visit_id)
    if v.status != "draft":
        return RedirectResponse(f"/inspections/visits/{v.id}", status_code=303)
    cl = iv.checklist_of(v.checklist)
    locale = request_locale(request)
    photos = list(db.scalars(select(InspectionEvidence).where(InspectionEvidence.visit_id == v.id)))
    return render(
        request,
        "inspections/form.html",
        {
            "visit": v,
            "unit": v.unit,
            "cl": cl,
            "zh": locale == "zh",
            "draft": json.dumps({"answers": v.answers, "notes": v.notes}),
            "evidence": {(e.item_code or ""): e for e in photos},
        },
    )


@router.post("/inspections/visits/{visit_id}/draft")
async def save_draft(
    request: Request,
    visit_id: int,
    p: Principal = Depends(_inspector),
    db: Session = Depends(get_db),
) -> Response:
    """Keep the half-filled answers on the server (JSON: {answers, notes})."""
    v = _own_draft(db, p, visit_id)
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidInput("the draft must be JSON") from exc
    answers = body.get("answers") if isinstance(body, dict) else None
    if not isinstance(answers, dict):
        raise InvalidInput("the draft needs an 'answers' object")
    try:
        iv.save_draft(db, v, answers, str(body.get("notes", "")))
    except iv.InspectionError as exc:
        raise InvalidInput(str(exc)) from exc
    return JSONResponse({"saved": True, "n": len(answers)})


def _parse_answers(form: Any, codes: list[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for c in codes:
        raw = form.get(f"a_{c}")
        if raw is None or raw == "":
            continue
        out[c] = None if raw == "na" else float(raw)
    return out


@router.post("/inspections/visits/{visit_id}/submit")
def submit(
    request: Request,
    visit_id: int,
    p: Principal = Depends(_inspector),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> Response:
    """Submit the whole visit at once; evidence checks may send it to review."""
    v = _own_draft(db, p, visit_id)
    form = request.scope.get("sqm.form") or {}
    cl = iv.checklist_of(v.checklist)
    codes = cl.item_codes()
    try:
        answers = _parse_answers(form, codes)
    except ValueError as exc:
        raise InvalidInput("answers must be numbers") from exc
    unanswered = [c for c in codes if c not in answers and not cl.item(c).na_allowed]
    started = _dt(form.get("started_at"))
    lat, lon = _float(form.get("checkin_lat")), _float(form.get("checkin_lon"))
    if unanswered:
        msg = f"{len(unanswered)} item(s) not answered: " + ", ".join(unanswered[:5])
        return _form_error(request, v, cl, msg)
    for c in codes:
        answers.setdefault(c, None)
    try:
        iv.submit_visit(
            db,
            v,
            answers,
            started_at=started,
            ended_at=clock.now(),
            checkin=(lat, lon) if lat is not None and lon is not None else None,
            purchase_made=form.get("purchase_made") == "1",
            notes=str(form.get("notes", "")),
            item_notes={c: str(form.get(f"n_{c}", "")) for c in codes if form.get(f"n_{c}")},
            now=clock.now(),
        )
    except iv.InspectionError as exc:
        return _form_error(request, v, cl, str(exc))
    iv.mark_planned_done(db, v, p.user_id)
    return RedirectResponse(f"/inspections/visits/{v.id}?submitted=1", status_code=303)


def _form_error(request: Request, v: InspectionVisit, cl: Any, msg: str) -> Response:
    return render(
        request,
        "inspections/form.html",
        {
            "visit": v,
            "unit": v.unit,
            "cl": cl,
            "zh": request_locale(request) == "zh",
            "draft": json.dumps({"answers": v.answers, "notes": v.notes}),
            "evidence": {},
            "error": msg,
        },
        status_code=422,
    )


def _dt(raw: Any) -> datetime | None:
    if not raw:
        return None
    try:
        d = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _float(raw: Any) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


@router.post("/inspections/visits/{visit_id}/evidence")
async def upload_evidence(
    request: Request,
    visit_id: int,
    p: Principal = Depends(_inspector),
    db: Session = Depends(get_db),
) -> Response:
    """Attach a photo or receipt to a draft visit; stored by content hash outside the DB."""
    v = _own_draft(db, p, visit_id)
    if v.status != "draft":
        raise InvalidInput("evidence can only be added before the visit is submitted")
    form = request.scope.get("sqm.form") or {}
    f = form.get("file")
    if f is None or not hasattr(f, "read"):
        raise InvalidInput("no file uploaded")
    data = await f.read()
    if len(data) > MAX_UPLOAD:
        raise InvalidInput(f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    ctype = (getattr(f, "content_type", "") or "").lower()
    kind = str(form.get("kind", "photo"))
    if kind not in ("photo", "receipt") or ctype not in IMAGE_TYPES:
        raise InvalidInput("evidence must be a photo or receipt image (jpeg, png, webp, heic)")
    sha = hashlib.sha256(data).hexdigest()
    root = Path(request.app.state.settings.data_dir) / "inspection_evidence"
    root.mkdir(parents=True, exist_ok=True)
    (root / sha).write_bytes(data)
    ah = average_hash(data)
    e = InspectionEvidence(
        visit_id=v.id,
        item_code=str(form.get("item_code") or "") or None,
        kind=kind,
        filename=Path(getattr(f, "filename", "") or "upload").name[:255],
        content_type=ctype,
        size=len(data),
        sha256=sha,
        ahash=f"{ah:016x}" if ah is not None else None,
        storage_key=sha,
        uploaded_by_id=p.user_id,
    )
    db.add(e)
    db.flush()
    return JSONResponse({"id": e.id, "sha256": sha})


@router.get("/inspections/evidence/{evidence_id}")
def evidence_file(
    request: Request,
    evidence_id: int,
    p: Principal = Depends(_any_role),
    db: Session = Depends(get_db),
) -> Response:
    """Serve an evidence file only to those who may see its visit."""
    e = db.get(InspectionEvidence, evidence_id)
    if e is None:
        raise NotFound("no such file")
    _visit_for(db, p, e.visit_id)
    path = Path(request.app.state.settings.data_dir) / "inspection_evidence" / e.storage_key
    if not path.is_file():
        raise NotFound("the file is no longer stored")
    return FileResponse(
        path, media_type=e.content_type, headers={"Cache-Control": "private, no-store"}
    )


# ------------------------------------------------------------------------- report, review


@router.get("/inspections/visits/{visit_id}")
def visit_report(
    request: Request,
    visit_id: int,
    p: Principal = Depends(_any_role),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> Response:
    """The printable visit report: sections, total, grade, findings, evidence, appeals."""
    v = _visit_for(db, p, visit_id)
    cl = iv.checklist_of(v.checklist)
    locale = request_locale(request)
    zh = locale == "zh"
    findings = [
        cl.item(c)
        for c, x in v.answers.items()
        if x is not None and float(x) == 0 and c not in v.overturned
    ]
    appeals = list(db.scalars(select(InspectionAppeal).where(InspectionAppeal.visit_id == v.id)))
    appealed = {a.item_code for a in appeals}
    evidence = list(
        db.scalars(select(InspectionEvidence).where(InspectionEvidence.visit_id == v.id))
    )
    tasks = list(
        db.scalars(select(InspectionRectification).where(InspectionRectification.visit_id == v.id))
    )
    can_appeal = (
        p.can(Permission.VIEW_SCORES)
        and not p.can(Permission.REVIEW_INSPECTIONS)
        and v.status == "accepted"
        and v.reviewed_at is not None
        and (clock.today() - v.reviewed_at.date()).days <= iv.APPEAL_DAYS
    )
    names = {
        u.id: u.display_name
        for u in db.scalars(select(User).where(User.id.in_([v.inspector_id, *v.team])))
    }
    return render(
        request,
        "inspections/visit.html",
        {
            "v": v,
            "cl": cl,
            "zh": zh,
            "unit": v.unit,
            "findings": findings,
            "appeals": appeals,
            "appealed": appealed,
            "evidence": evidence,
            "tasks": tasks,
            "can_review": p.can(Permission.REVIEW_INSPECTIONS)
            and v.status in ("submitted", "needs_review"),
            "can_decide": p.can(Permission.REVIEW_INSPECTIONS),
            "can_appeal": can_appeal,
            "names": names,
            "sections": [(s, v.section_scores.get(s.code)) for s in cl.sections],
        },
    )


@router.post("/inspections/visits/{visit_id}/review")
def review(
    request: Request,
    visit_id: int,
    p: Principal = Depends(_reviewer),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> Response:
    """Accept (findings become 整改 tasks) or reject a submitted visit."""
    v = _visit_for(db, p, visit_id)
    form = request.scope.get("sqm.form") or {}
    try:
        iv.review_visit(
            db,
            v,
            accept=form.get("decision") == "accept",
            reviewer_id=p.user_id,
            note=str(form.get("note", "")),
            today=clock.today(),
            now=clock.now(),
        )
    except iv.InspectionError as exc:
        raise InvalidInput(str(exc)) from exc
    return RedirectResponse(f"/inspections/visits/{v.id}", status_code=303)


@router.post("/inspections/visits/{visit_id}/appeal")
def appeal(
    request: Request,
    visit_id: int,
    p: Principal = Depends(_viewer),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> Response:
    """A store manager appeals one finding within the deadline."""
    v = _visit_for(db, p, visit_id)
    form = request.scope.get("sqm.form") or {}
    try:
        iv.raise_appeal(
            db,
            v,
            str(form.get("item_code", "")),
            p.user_id,
            str(form.get("reason", "")),
            today=clock.today(),
        )
    except iv.InspectionError as exc:
        raise InvalidInput(str(exc)) from exc
    return RedirectResponse(f"/inspections/visits/{v.id}", status_code=303)


@router.post("/inspections/appeals/{appeal_id}/decide")
def decide(
    request: Request,
    appeal_id: int,
    p: Principal = Depends(_reviewer),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> Response:
    """Uphold or overturn an appealed finding; the visit's score follows."""
    a = db.get(InspectionAppeal, appeal_id)
    if a is None:
        raise NotFound("no such appeal")
    _visit_for(db, p, a.visit_id)
    form = request.scope.get("sqm.form") or {}
    try:
        iv.decide_appeal(
            db,
            a,
            overturn=form.get("decision") == "overturn",
            user_id=p.user_id,
            note=str(form.get("note", "")),
            now=clock.now(),
        )
    except iv.InspectionError as exc:
        raise InvalidInput(str(exc)) from exc
    return RedirectResponse(f"/inspections/visits/{a.visit_id}", status_code=303)


@router.get("/inspections/review")
def review_queue(
    request: Request, p: Principal = Depends(_reviewer), db: Session = Depends(get_db)
) -> Response:
    """Visits waiting for review (flagged ones first) and open appeals."""
    visits = list(
        db.scalars(
            select(InspectionVisit)
            .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
            .where(InspectionVisit.status.in_(["needs_review", "submitted"]), p.unit_filter())
            .order_by(InspectionVisit.status.desc(), InspectionVisit.submitted_at)
            .limit(200)
        )
    )
    appeals = list(
        db.scalars(
            select(InspectionAppeal)
            .join(InspectionVisit, InspectionVisit.id == InspectionAppeal.visit_id)
            .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
            .where(InspectionAppeal.status == "open", p.unit_filter())
            .order_by(InspectionAppeal.deadline)
        )
    )
    return render(request, "inspections/review.html", {"visits": visits, "appeals": appeals})


# ------------------------------------------------------------------------- store, tasks, plan


@router.get("/inspections/stores/{unit_id}")
def store_card(
    request: Request, unit_id: int, p: Principal = Depends(_viewer), db: Session = Depends(get_db)
) -> Response:
    """A store's inspection scorecard: monthly score trend, sections, visits, open tasks."""
    unit = unit_in_scope(db, p, unit_id)
    locale = request_locale(request)
    rows = db.execute(
        select(
            Period.code, InspectionVisit.total, InspectionVisit.section_scores, InspectionVisit.id
        )
        .join(Period, Period.id == InspectionVisit.period_id)
        .where(InspectionVisit.unit_id == unit.id, InspectionVisit.status == "accepted")
        .order_by(Period.code)
    ).all()
    df = pd.DataFrame(rows, columns=["period", "total", "sections", "id"])
    trend: dict[str, Any] = {"type": "line", "labels": [], "values": []}
    sections: list[tuple[str, float]] = []
    cl = iv.checklist_of(iv.current_checklist(db))
    if not df.empty:
        m = df.groupby("period")["total"].mean()
        trend = {
            "type": "line",
            "labels": list(m.index),
            "values": [round(float(x), 1) for x in m.to_numpy()],
        }
        last = df[df["period"] == m.index[-1]]
        sec = pd.DataFrame(list(last["sections"])).astype(float).mean()
        sections = [
            (s.name_zh if locale == "zh" else s.name_en, round(float(sec.get(s.code, np.nan)), 1))
            for s in cl.sections
            if not np.isnan(sec.get(s.code, np.nan))
        ]
    visits = list(
        db.scalars(
            select(InspectionVisit)
            .where(InspectionVisit.unit_id == unit.id, InspectionVisit.status == "accepted")
            .order_by(InspectionVisit.planned_date.desc())
            .limit(24)
        )
    )
    tasks = list(
        db.scalars(
            select(InspectionRectification)
            .where(
                InspectionRectification.unit_id == unit.id, InspectionRectification.status == "open"
            )
            .order_by(InspectionRectification.due_date)
        )
    )
    return render(
        request,
        "inspections/store.html",
        {
            "unit": unit,
            "trend": trend,
            "sections": sections,
            "visits": visits,
            "tasks": tasks,
            "cl": cl,
        },
    )


@router.get("/inspections/rectifications")
def rectifications(
    request: Request,
    status: str = "open",
    p: Principal = Depends(_viewer),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> Response:
    """整改 tasks of the stores in scope, overdue first."""
    status = status if status in ("open", "closed", "cancelled") else "open"
    tasks = list(
        db.scalars(
            select(InspectionRectification)
            .join(OrgUnit, OrgUnit.id == InspectionRectification.unit_id)
            .where(InspectionRectification.status == status, p.unit_filter())
            .order_by(InspectionRectification.due_date)
            .limit(300)
        )
    )
    return render(
        request,
        "inspections/rectifications.html",
        {"tasks": tasks, "status": status, "today": clock.today()},
    )


@router.post("/inspections/rectifications/{task_id}/close")
def close_task(
    request: Request,
    task_id: int,
    p: Principal = Depends(_viewer),
    db: Session = Depends(get_db),
    clock: Clock = Depends(system_clock),
) -> Response:
    """Close a 整改 task with a note saying what was done."""
    t = db.get(InspectionRectification, task_id)
    if t is None or not p.sees(t.unit):
        raise NotFound("no such task in your scope")
    form = request.scope.get("sqm.form") or {}
    try:
        iv.close_rectification(db, t, str(form.get("note", "")), now=clock.now())
    except iv.InspectionError as exc:
        raise InvalidInput(str(exc)) from exc
    return RedirectResponse("/inspections/rectifications", status_code=303)


@router.get("/inspections/plan")
def plan_calendar(
    request: Request, p: Principal = Depends(_reviewer), db: Session = Depends(get_db)
) -> Response:
    """The month's plan as a calendar (per day, who visits which store), editable by hand;
    the whole month — planned entries plus visits already made — is re-checked against every
    planning rule after each edit."""
    from sqm.services.inspections.planning import planning_frames
    from sqm.services.inspections.visit_plan import PlanRules, check_plan, working_days

    entries = list(
        db.scalars(
            select(InspectionPlanEntry)
            .join(OrgUnit, OrgUnit.id == InspectionPlanEntry.unit_id)
            .where(p.unit_filter(), InspectionPlanEntry.status == "planned")
            .order_by(InspectionPlanEntry.planned_date, InspectionPlanEntry.inspector_id)
            .limit(2000)
        )
    )
    by_day: dict[date, list[InspectionPlanEntry]] = {}
    for e in entries:
        by_day.setdefault(e.planned_date, []).append(e)
    violations: list[Any] = []
    inspectors: list[tuple[int, str]] = []
    if entries:
        period = db.get(Period, entries[-1].period_id)
        assert period is not None
        stores, insp, history = planning_frames(db, period)
        inspectors = [
            (u.id, u.display_name)
            for u in db.scalars(
                select(User).where(User.id.in_([int(x) for x in insp["inspector_id"]]))
            )
        ]
        done = db.execute(
            select(
                InspectionVisit.unit_id, InspectionVisit.inspector_id, InspectionVisit.planned_date
            ).where(
                InspectionVisit.period_id == period.id,
                InspectionVisit.status != "draft",
                InspectionVisit.planned_date.is_not(None),
            )
        ).all()
        planned = db.execute(
            select(
                InspectionPlanEntry.unit_id,
                InspectionPlanEntry.inspector_id,
                InspectionPlanEntry.planned_date,
            ).where(
                InspectionPlanEntry.period_id == period.id,
                InspectionPlanEntry.status == "planned",
            )
        ).all()
        assignments = pd.DataFrame(
            [(str(u), str(i), d) for u, i, d in [*done, *planned]],
            columns=["store_id", "inspector_id", "date"],
        )
        rules = PlanRules()
        in_scope = {
            str(u.id)
            for u in db.scalars(select(OrgUnit).where(p.unit_filter(), OrgUnit.kind == "store"))
        }
        violations = [
            v
            for v in check_plan(
                assignments, stores, insp, history, working_days(period.start, rules), rules
            )
            if v.store_id is None or v.store_id in in_scope
        ]
    return render(
        request,
        "inspections/plan.html",
        {
            "by_day": by_day,
            "violations": violations[:200],
            "n_violations": len(violations),
            "inspectors": inspectors,
        },
    )


@router.get("/inspections/plan.xlsx")
def plan_excel(
    request: Request, p: Principal = Depends(_reviewer), db: Session = Depends(get_db)
) -> Response:
    """The stored plan of the latest planned month (stores in scope) as an Excel workbook,
    with the rule re-check on its own sheet."""
    import io

    from sqm.services.inspections.planning import planning_frames
    from sqm.services.inspections.visit_plan import (
        PlanRules,
        VisitPlan,
        check_plan,
        export_plan_xlsx,
        working_days,
    )

    latest = db.scalar(
        select(InspectionPlanEntry.period_id)
        .order_by(InspectionPlanEntry.planned_date.desc())
        .limit(1)
    )
    period = db.get(Period, latest) if latest is not None else None
    if period is None:
        raise NotFound("no plan yet")
    rows = db.execute(
        select(
            InspectionPlanEntry.visit_key,
            InspectionPlanEntry.unit_id,
            InspectionPlanEntry.inspector_id,
            InspectionPlanEntry.planned_date,
        )
        .join(OrgUnit, OrgUnit.id == InspectionPlanEntry.unit_id)
        .where(InspectionPlanEntry.period_id == period.id, p.unit_filter())
        .order_by(InspectionPlanEntry.planned_date)
    ).all()
    a = pd.DataFrame(
        [(k, str(u), str(i), d, 1) for k, u, i, d in rows],
        columns=["visit_id", "store_id", "inspector_id", "date", "team_size"],
    )
    stores, insp, history = planning_frames(db, period)
    in_scope = set(a["store_id"])
    stores = stores[stores["store_id"].isin(in_scope)]
    insp = insp[insp["inspector_id"].isin(set(a["inspector_id"]))]
    rules = PlanRules()
    days = working_days(period.start, rules)
    names = {
        str(u.id): u.name(request_locale(request))
        for u in db.scalars(select(OrgUnit).where(OrgUnit.id.in_([int(x) for x in in_scope])))
    }
    stores = stores.assign(name=stores["store_id"].map(names))
    plan = VisitPlan(period.start, days, a, check_plan(a, stores, insp, history, days, rules), [])
    buf = io.BytesIO()
    export_plan_xlsx(plan, stores, insp, buf)
    return Response(
        buf.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="visit-plan-{period.code}.xlsx"'},
    )


@router.post("/inspections/plan/{entry_id}/move")
def move_entry(
    request: Request,
    entry_id: int,
    p: Principal = Depends(_reviewer),
    db: Session = Depends(get_db),
) -> Response:
    """Edit one planned visit by hand (new date and/or inspector); the plan page re-checks."""
    e = db.get(InspectionPlanEntry, entry_id)
    if e is None or not p.sees(e.unit):
        raise NotFound("no such plan entry in your scope")
    form = request.scope.get("sqm.form") or {}
    raw_date = str(form.get("date", "")).strip()
    raw_insp = str(form.get("inspector_id", "")).strip()
    try:
        if raw_date:
            e.planned_date = date.fromisoformat(raw_date)
        if raw_insp:
            e.inspector_id = int(raw_insp)
    except ValueError as exc:
        raise InvalidInput("date must be YYYY-MM-DD and inspector an id") from exc
    if db.get(User, e.inspector_id) is None:
        raise InvalidInput("no such inspector")
    return RedirectResponse("/inspections/plan", status_code=303)


@router.get("/inspections/inspectors")
def inspector_quality(
    request: Request, p: Principal = Depends(_reviewer), db: Session = Depends(get_db)
) -> Response:
    """Inspector quality over the last six months: leniency/severity flags (mean residual vs
    peers on the same stores, Holm-adjusted t-test) and the fitted inspector effect that the
    corrected store scores remove."""
    from sqm.methods.visit_score import inspector_effects, inspector_leniency

    periods = _periods(db)[:6]
    stmt = (
        select(InspectionVisit.unit_id, InspectionVisit.inspector_id, InspectionVisit.total)
        .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
        .where(
            InspectionVisit.status == "accepted",
            InspectionVisit.period_id.in_([x.id for x in periods]),
            p.unit_filter(),
        )
    )
    df = pd.DataFrame(db.execute(stmt).all(), columns=["store", "inspector", "total"])
    rows: list[dict[str, Any]] = []
    if len(df) and df["inspector"].nunique() > 1:
        flags = inspector_leniency(df).set_index("inspector")
        eff = inspector_effects(df).inspector_effect
        names = {
            u.id: u.display_name
            for u in db.scalars(select(User).where(User.id.in_([int(i) for i in eff.index])))
        }
        recs = {int(str(k)): v for k, v in flags.to_dict("index").items()}
        for key, b in eff.sort_values().items():
            i = int(str(key))
            f = recs.get(i)
            rows.append(
                {
                    "name": names.get(i, str(i)),
                    "n": int(f["n"]) if f is not None else 0,
                    "mean_residual": float(f["mean_residual"]) if f is not None else float("nan"),
                    "p": float(f["p_holm"]) if f is not None else float("nan"),
                    "flag": str(f["flag"]) if f is not None else "",
                    "effect": float(b),
                }
            )
    cal_visits = list(
        db.scalars(
            select(InspectionVisit)
            .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
            .where(
                InspectionVisit.purpose == "calibration",
                InspectionVisit.status == "accepted",
                InspectionVisit.period_id.in_([x.id for x in periods]),
                p.unit_filter(),
            )
        )
    )
    calibration = iv.calibration_summary(db, cal_visits)
    return render(
        request,
        "inspections/inspectors.html",
        {
            "rows": rows,
            "periods": [x.code for x in periods],
            "n_visits": len(df),
            "calibration": calibration,
        },
    )
