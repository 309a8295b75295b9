"""Inspection use cases: checklist versions, drafts, submission with evidence checks, review,
appeals, rectification tasks (整改) and the per-store measures the indicator system reads.

Scores always follow the final decision: an item whose finding was overturned on appeal
counts as compliant, the visit is re-scored and its rectification task is cancelled; only
accepted visits feed store scores. Every change goes through audited tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.checklist import Checklist, Evidence, ItemKind, Traffic, WeightProfile
from sqm.domain.checklist_template import (
    TEMPLATE_CODE,
    ProfileKey,
    template_checklist,
    template_profile,
)
from sqm.domain.errors import RuleError
from sqm.domain.indicator import ProgrammeStage
from sqm.domain.org import StoreTier, UnitKind
from sqm.lazy import lazy_import
from sqm.methods.evidence_checks import (
    EvidenceRules,
    PhotoFingerprint,
    VisitEvidence,
    check_visit,
)
from sqm.methods.visit_score import answers_matrix, compile_checklist, score_visits
from sqm.services.clock import SYSTEM_CLOCK
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, Period
from sqm.store.models import WeightProfile as StoredProfile
from sqm.store.models.inspection import (
    InspectionAppeal,
    InspectionChecklist,
    InspectionEvidence,
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")

APPEAL_DAYS = 7  # a store manager may appeal a finding within 7 days of the review
RECTIFY_DAYS = 14  # a failed item must be rectified within 14 days
#: Section codes of the template → the indicator system's ``section:<code>`` references.
SECTION_REF = {"environment_facilities": "environment", "customer_retention": "retention"}


class InspectionError(RuleError):
    """A request that breaks an inspection rule; the message says which and why."""


def now_utc() -> datetime:
    """The current time in UTC (the system clock; the web layer passes its own clock)."""
    return SYSTEM_CLOCK.now()


def ensure_template_checklist(session: Session) -> InspectionChecklist:
    """The stored row of the shipped template checklist, created on first use."""
    cl = template_checklist()
    row = session.scalar(
        select(InspectionChecklist).where(
            InspectionChecklist.code == cl.code, InspectionChecklist.version == cl.version
        )
    )
    if row is None:
        row = InspectionChecklist(
            code=cl.code,
            version=cl.version,
            name_zh=cl.name_zh,
            name_en=cl.name_en,
            definition=cl.model_dump(mode="json"),
        )
        session.add(row)
        session.flush()
    return row


def current_checklist(session: Session, code: str = TEMPLATE_CODE) -> InspectionChecklist:
    """The checklist version new visits are filled against: the newest active version of
    ``code`` (the shipped template is stored on first use).

    Older versions stay for the visits made with them; a version is retired by setting
    ``active`` to false.
    """
    row = session.scalar(
        select(InspectionChecklist)
        .where(InspectionChecklist.code == code, InspectionChecklist.active.is_(True))
        .order_by(InspectionChecklist.version.desc())
        .limit(1)
    )
    if row is None and code == TEMPLATE_CODE:
        row = ensure_template_checklist(session)
    if row is None:
        raise InspectionError(f"checklist {code!r} has no active version")
    return row


@lru_cache(maxsize=32)
def _checklist_cached(checklist_id: int, code: str, version: int, blob: str) -> Checklist:
    return Checklist.model_validate_json(blob)


def checklist_of(row: InspectionChecklist) -> Checklist:
    """The validated checklist of a stored version."""
    import json

    return _checklist_cached(row.id, row.code, row.version, json.dumps(row.definition))


def traffic_class(unit: OrgUnit, tier_median: Mapping[str, float]) -> Traffic:
    """客流量大/小 relative to stores of the same tier: > 1.25× or < 0.75× the tier median.

    Competitor stores are compared with our first-level stores (as in :func:`profile_for`).
    """
    med = tier_median.get(str(unit.tier or "first_level"), 0.0)
    if not unit.traffic or med <= 0:
        return Traffic.NORMAL
    if unit.traffic > 1.25 * med:
        return Traffic.HIGH
    if unit.traffic < 0.75 * med:
        return Traffic.LOW
    return Traffic.NORMAL


def tier_medians(session: Session) -> dict[str, float]:
    """Median monthly traffic per store tier."""
    rows = session.execute(
        select(OrgUnit.tier, OrgUnit.traffic).where(
            OrgUnit.kind == UnitKind.STORE, OrgUnit.traffic.is_not(None)
        )
    ).all()
    df = pd.DataFrame(rows, columns=["tier", "traffic"])
    if df.empty:
        return {}
    return {str(k): float(v) for k, v in df.groupby("tier")["traffic"].median().items()}


def profile_for(
    checklist: Checklist, unit: OrgUnit, medians: Mapping[str, float], stage: str = "early"
) -> WeightProfile:
    """The plan's template profile of a store: its tier, province, traffic and the programme
    stage (edited profiles are applied by :func:`weight_profile_of`).

    Competitor stores have no tier of ours; they are weighed as first-level stores so
    rankings compare like with like.
    """
    return template_for(profile_key(unit, medians, stage), checklist)


def template_for(key: ProfileKey, checklist: Checklist) -> WeightProfile:
    """The plan's template profile for ``key`` on ``checklist``."""
    return template_profile(
        key.tier,
        stage=key.stage,
        traffic=key.traffic,
        in_province=key.in_province,
        checklist=checklist,
    )


def profile_key(unit: OrgUnit, medians: Mapping[str, float], stage: str) -> ProfileKey:
    """The weight-profile key of a store: its tier (competitors: first-level), province flag,
    traffic class against its tier's median, and the programme stage."""
    tier = StoreTier(unit.tier) if unit.tier else StoreTier.FIRST_LEVEL
    return ProfileKey(tier, unit.in_province, ProgrammeStage(stage), traffic_class(unit, medians))


def stage_for(session: Session, unit: OrgUnit, period: Period) -> str:
    """The programme stage of a store in a period, as the indicator system's weight profiles
    say (the profile that applies to the store's tier in that period); early when none does.

    The plan moves stores from the early stage (norms, environment, on-site management) to
    the mature one (awareness, capability, results); the analyst sets when in the indicator
    system, and inspections follow it so a store is weighed the same way in both places.
    """
    from sqm.services.evaluation.weight_profile import profile_for_store

    tier = unit.tier or StoreTier.FIRST_LEVEL.value
    prof = profile_for_store(session, tier, unit.in_province, period.code)
    if prof is None or not prof.stage:
        return ProgrammeStage.EARLY.value
    return ProgrammeStage(prof.stage).value


def stored_profile(session: Session, checklist_id: int, key: ProfileKey) -> StoredProfile | None:
    """The active saved profile of a checklist version for ``key``, if one was saved."""
    from sqm.services.evaluation.weight_profile import active_checklist_profile

    return active_checklist_profile(session, checklist_id, key)


def as_weight_profile(row: StoredProfile, checklist: Checklist, key: ProfileKey) -> WeightProfile:
    """The domain profile of a saved checklist profile (weights renormalised against JSON
    rounding); its code ends in ``@<row id>`` so a visit names the exact weights that scored
    it."""
    weights = row.checklist_weights or {}
    total = sum(float(v) for v in weights.values())
    return WeightProfile(
        code=f"{checklist.code}.v{checklist.version}.{key.slug}@{row.id}",
        checklist_code=checklist.code,
        checklist_version=checklist.version,
        tier=key.tier.value,
        in_province=key.in_province,
        stage=key.stage.value,
        traffic=key.traffic,
        indicator_weights={k: float(v) / total for k, v in weights.items()},
        method=row.method,
        note=row.note,
    )


def weight_profile_of(
    session: Session, row: InspectionChecklist, checklist: Checklist, key: ProfileKey
) -> WeightProfile:
    """The profile that weighs ``key``'s stores on this checklist version: the edited one when
    saved, else the plan's template profile."""
    stored = stored_profile(session, row.id, key)
    if stored is not None:
        return as_weight_profile(stored, checklist, key)
    return template_for(key, checklist)


def visit_profile(
    session: Session, visit: InspectionVisit, stage: str | None = None
) -> WeightProfile:
    """The weight profile a visit is scored with: its store's key on the visit's checklist
    version; the stage is the one in force for the store in the visit's period unless given."""
    cl = checklist_of(visit.checklist)
    if stage is None:
        period = session.get(Period, visit.period_id)
        stage = stage_for(session, visit.unit, period) if period is not None else "early"
    key = profile_key(visit.unit, tier_medians(session), stage)
    return weight_profile_of(session, visit.checklist, cl, key)


@dataclass(frozen=True)
class VisitScore:
    """A scored visit: total, grade, pass, section scores and vetoed indicators."""

    total: float
    grade: str
    passed: bool
    sections: dict[str, float | None]
    vetoed: list[str]
    failed_items: list[str]


def score_answers(
    checklist: Checklist,
    answers: Mapping[str, Any],
    profile: WeightProfile,
    overturned: list[str] | tuple[str, ...] = (),
) -> VisitScore:
    """Score one visit's answers; overturned findings count as compliant (full marks)."""
    lay = compile_checklist(checklist)
    clean: dict[str, float | None] = {}
    for code, v in answers.items():
        clean[code] = None if v is None or v == "" else float(v)
    for code in overturned:
        clean[code] = float(checklist.item(code).scale_max)
    missing = [
        it.code for it in checklist.items() if not it.na_allowed and clean.get(it.code) is None
    ]
    if missing:
        raise InspectionError(
            f"answers missing for items {missing[:5]} (not applicable is not allowed)"
        )
    try:
        s = score_visits(lay, answers_matrix(lay, [clean]), profile)
    except RuleError as exc:  # an unknown item or an answer off the item's scale
        raise InspectionError(str(exc).replace("answers row 0, ", "")) from exc
    sections = {
        code: (None if np.isnan(v) else round(float(v), 2))
        for code, v in zip(lay.section_codes, s.section[0], strict=True)
    }
    vetoed = [k for k, flag in zip(lay.indicator_codes, s.vetoed[0], strict=True) if flag]
    failed = [
        it.code
        for it in checklist.items()
        if clean.get(it.code) is not None and clean[it.code] == 0
    ]
    return VisitScore(
        total=round(float(s.total[0]), 2),
        grade=str(s.grade[0]),
        passed=bool(s.passed[0]),
        sections=sections,
        vetoed=vetoed,
        failed_items=failed,
    )


def open_planned_visit(
    session: Session, entry: InspectionPlanEntry, inspector_id: int
) -> InspectionVisit:
    """The inspector's visit for a plan entry: their existing one (draft or not), else a new
    draft on the current checklist version, with the team of everyone planned on the entry's
    visit key."""
    v = session.scalar(
        select(InspectionVisit).where(
            InspectionVisit.visit_key == entry.visit_key,
            InspectionVisit.inspector_id == inspector_id,
        )
    )
    if v is not None:
        return v
    team = session.scalars(
        select(InspectionPlanEntry.inspector_id).where(
            InspectionPlanEntry.visit_key == entry.visit_key
        )
    )
    v = InspectionVisit(
        checklist_id=current_checklist(session).id,
        unit_id=entry.unit_id,
        period_id=entry.period_id,
        visit_key=entry.visit_key,
        inspector_id=inspector_id,
        team=sorted({*team, inspector_id}),
        planned_date=entry.planned_date,
        answers={},
        item_notes={},
        overturned=[],
        section_scores={},
        vetoed=[],
        review_reasons=[],
        status="draft",
    )
    session.add(v)
    session.flush()
    return v


def mark_planned_done(session: Session, visit: InspectionVisit, inspector_id: int) -> None:
    """After submission: the inspector's plan entries for this visit are done."""
    session.query(InspectionPlanEntry).filter(
        InspectionPlanEntry.visit_key == visit.visit_key,
        InspectionPlanEntry.inspector_id == inspector_id,
    ).update({"status": "done"})


def save_draft(
    session: Session, visit: InspectionVisit, answers: Mapping[str, Any], notes: str = ""
) -> InspectionVisit:
    """Keep a half-filled visit on the server (the phone also keeps it locally)."""
    if visit.status != "draft":
        raise InspectionError(f"visit {visit.id} is {visit.status}; only drafts can be saved")
    cl = checklist_of(visit.checklist)
    known = set(cl.item_codes())
    unknown = [k for k in answers if k not in known]
    if unknown:
        raise InspectionError(f"unknown item codes {unknown[:5]}")
    visit.answers = {k: answers[k] for k in answers}
    visit.notes = notes
    return visit


def submit_visit(
    session: Session,
    visit: InspectionVisit,
    answers: Mapping[str, Any],
    *,
    started_at: datetime | None,
    ended_at: datetime | None,
    checkin: tuple[float, float] | None,
    purchase_made: bool = False,
    notes: str = "",
    item_notes: Mapping[str, str] | None = None,
    stage: str | None = None,
    rules: EvidenceRules | None = None,
    now: datetime | None = None,
) -> InspectionVisit:
    """Submit a visit all at once: validate, score, run the evidence checks.

    The visit goes to ``needs_review`` when an evidence check fails (place, time, length,
    reused photos, missing required evidence), else to ``submitted``; a reviewer accepts it.
    It is scored with its store's weight profile (:func:`visit_profile`); ``now`` is the
    submission instant (the clock's, by default the system's).
    """
    if visit.status != "draft":
        raise InspectionError(f"visit {visit.id} was already submitted")
    now = now or now_utc()
    cl = checklist_of(visit.checklist)
    prof = visit_profile(session, visit, stage)
    item_notes = dict(item_notes or {})
    score = score_answers(cl, answers, prof)
    reasons: list[list[str]] = []
    for code in score.failed_items:
        it = cl.item(code)
        if Evidence.NOTE in it.evidence and not item_notes.get(code, "").strip():
            raise InspectionError(f"item {code!r} failed: a note is required ({it.text_zh})")
    photos = list(
        session.scalars(select(InspectionEvidence).where(InspectionEvidence.visit_id == visit.id))
    )
    kinds = {(e.item_code, e.kind) for e in photos}
    for code in score.failed_items:
        it = cl.item(code)
        for ev in (Evidence.PHOTO, Evidence.RECEIPT):
            if ev in it.evidence and (code, ev.value) not in kinds:
                reasons.append(
                    ["missing_evidence", f"{code}: {ev.value} missing / 缺少{ev.value}证据"]
                )
    mine = [
        PhotoFingerprint(str(visit.id), str(e.id), e.sha256, _ahash_int(e.ahash)) for e in photos
    ]
    others = _other_photos(session, visit, [e.sha256 for e in photos], now)
    lat, lon = checkin if checkin else (None, None)
    review = check_visit(
        VisitEvidence(
            visit_id=str(visit.id),
            store_lat=float(visit.unit.lat or 0.0),
            store_lon=float(visit.unit.lon or 0.0),
            checkin_lat=lat,
            checkin_lon=lon,
            started_at=started_at,
            ended_at=ended_at,
            planned_date=visit.planned_date,
            photos=mine,
        ),
        others,
        rules,
    )
    reasons += [[c, m] for c, m in review.reasons]
    visit.answers = {k: answers.get(k) for k in cl.item_codes()}
    visit.item_notes = item_notes
    visit.notes = notes
    visit.started_at, visit.ended_at = started_at, ended_at
    visit.checkin_lat, visit.checkin_lon = lat, lon
    visit.purchase_made = purchase_made
    _apply_score(visit, score, prof.code)
    visit.review_reasons = reasons
    visit.status = "needs_review" if reasons else "submitted"
    visit.submitted_at = now
    return visit


def _ahash_int(h: str | None) -> int | None:
    return int(h, 16) if h else None


def _other_photos(
    session: Session, visit: InspectionVisit, shas: list[str], now: datetime
) -> list[PhotoFingerprint]:
    """Photos of other visits: exact matches by hash, and those of the 90 days before ``now``."""
    since = now - timedelta(days=90)
    rows = session.scalars(
        select(InspectionEvidence).where(
            InspectionEvidence.visit_id != visit.id,
            (InspectionEvidence.sha256.in_(shas)) | (InspectionEvidence.uploaded_at >= since),
        )
    )
    return [
        PhotoFingerprint(str(e.visit_id), str(e.id), e.sha256, _ahash_int(e.ahash)) for e in rows
    ]


def _apply_score(visit: InspectionVisit, score: VisitScore, profile_code: str) -> None:
    visit.total = score.total
    visit.grade = score.grade
    visit.passed = score.passed
    visit.section_scores = score.sections
    visit.vetoed = score.vetoed
    visit.profile_code = profile_code


def rescore(session: Session, visit: InspectionVisit, stage: str | None = None) -> InspectionVisit:
    """Score a visit again from its answers and overturned findings."""
    cl = checklist_of(visit.checklist)
    prof = visit_profile(session, visit, stage)
    _apply_score(visit, score_answers(cl, visit.answers, prof, visit.overturned), prof.code)
    return visit


def review_visit(
    session: Session,
    visit: InspectionVisit,
    *,
    accept: bool,
    reviewer_id: int,
    note: str = "",
    today: date | None = None,
    now: datetime | None = None,
) -> list[InspectionRectification]:
    """Accept or reject a submitted visit; acceptance opens a 整改 task per failed item,
    due ``RECTIFY_DAYS`` after ``today``."""
    if visit.status not in ("submitted", "needs_review"):
        raise InspectionError(
            f"visit {visit.id} is {visit.status}; only submitted visits are reviewed"
        )
    visit.status = "accepted" if accept else "rejected"
    visit.reviewed_by_id = reviewer_id
    visit.reviewed_at = now or now_utc()
    visit.review_note = note
    if not accept:
        return []
    cl = checklist_of(visit.checklist)
    due = (today or SYSTEM_CLOCK.today()) + timedelta(days=RECTIFY_DAYS)
    tasks = []
    for code, v in visit.answers.items():
        if v is None or float(v) != 0 or code in visit.overturned:
            continue
        it = cl.item(code)
        task = InspectionRectification(
            visit_id=visit.id,
            unit_id=visit.unit_id,
            item_code=code,
            title_zh=f"整改:{it.text_zh}",
            title_en=f"Rectify: {it.text_en}",
            due_date=due,
        )
        session.add(task)
        tasks.append(task)
    session.flush()
    return tasks


def raise_appeal(
    session: Session,
    visit: InspectionVisit,
    item_code: str,
    user_id: int,
    reason: str,
    today: date | None = None,
) -> InspectionAppeal:
    """A store manager appeals one finding of an accepted visit, within the deadline."""
    today = today or SYSTEM_CLOCK.today()
    if visit.status != "accepted" or visit.reviewed_at is None:
        raise InspectionError("only findings of accepted visits can be appealed")
    deadline = visit.reviewed_at.date() + timedelta(days=APPEAL_DAYS)
    if today > deadline:
        raise InspectionError(f"the appeal deadline was {deadline}")
    v = visit.answers.get(item_code)
    if v is None or float(v) != 0:
        raise InspectionError(f"item {item_code!r} is not a finding of this visit")
    if not reason.strip():
        raise InspectionError("an appeal needs a reason")
    open_ = session.scalar(
        select(InspectionAppeal).where(
            InspectionAppeal.visit_id == visit.id,
            InspectionAppeal.item_code == item_code,
        )
    )
    if open_ is not None:
        raise InspectionError(f"item {item_code!r} was already appealed")
    appeal = InspectionAppeal(
        visit_id=visit.id,
        item_code=item_code,
        raised_by_id=user_id,
        reason=reason,
        deadline=deadline,
    )
    session.add(appeal)
    session.flush()
    return appeal


def decide_appeal(
    session: Session,
    appeal: InspectionAppeal,
    *,
    overturn: bool,
    user_id: int,
    note: str = "",
    now: datetime | None = None,
) -> InspectionAppeal:
    """Uphold or overturn an appealed finding; the visit's score follows the decision."""
    if appeal.status != "open":
        raise InspectionError(f"appeal {appeal.id} was already decided")
    appeal.status = "overturned" if overturn else "upheld"
    appeal.decided_by_id = user_id
    appeal.decided_at = now or now_utc()
    appeal.decision_note = note
    if overturn:
        visit = appeal.visit
        visit.overturned = sorted({*visit.overturned, appeal.item_code})
        rescore(session, visit)
        task = session.scalar(
            select(InspectionRectification).where(
                InspectionRectification.visit_id == visit.id,
                InspectionRectification.item_code == appeal.item_code,
            )
        )
        if task is not None and task.status == "open":
            task.status = "cancelled"
            task.closing_note = "finding overturned on appeal / 申诉成立"
    return appeal


def close_rectification(
    session: Session,
    task: InspectionRectification,
    note: str,
    evidence_id: int | None = None,
    now: datetime | None = None,
) -> InspectionRectification:
    """Close a 整改 task with a note (and optionally an evidence file)."""
    if task.status != "open":
        raise InspectionError(f"task {task.id} is {task.status}")
    if not note.strip():
        raise InspectionError("closing a rectification task needs a note saying what was done")
    task.status = "closed"
    task.closed_at = now or now_utc()
    task.closing_note = note
    task.evidence_id = evidence_id
    return task


def accepted_visits_frame(session: Session, period_ids: list[int] | None = None) -> pd.DataFrame:
    """Accepted visits as a frame: visit_id, unit_id, period_id, inspector_id, total, sections."""
    stmt = select(
        InspectionVisit.id,
        InspectionVisit.unit_id,
        InspectionVisit.period_id,
        InspectionVisit.inspector_id,
        InspectionVisit.total,
        InspectionVisit.section_scores,
        InspectionVisit.vetoed,
    ).where(InspectionVisit.status == "accepted")
    if period_ids is not None:
        stmt = stmt.where(InspectionVisit.period_id.in_(period_ids))
    rows = session.execute(stmt).all()
    return pd.DataFrame(
        rows,
        columns=["visit_id", "unit_id", "period_id", "inspector_id", "total", "sections", "vetoed"],
    )


def inspection_values(session: Session, period: Period) -> pd.DataFrame:
    """Producer for the indicator system: per store, each section's mean score over the
    period's accepted visits (``section:<code>``, with n and standard error) and
    ``veto:basic_norms`` = 0 when any visit broke a basic service norm, else 1."""
    df = accepted_visits_frame(session, [period.id])
    cols = ["unit_id", "source_ref", "value", "n", "se"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    secs = pd.DataFrame(list(df["sections"])).astype(float)
    secs["unit_id"] = df["unit_id"].to_numpy()
    long = secs.melt(id_vars="unit_id", var_name="section", value_name="score").dropna()
    agg = long.groupby(["unit_id", "section"])["score"].agg(["mean", "count", "std"]).reset_index()
    out = pd.DataFrame(
        {
            "unit_id": agg["unit_id"],
            "source_ref": "section:" + agg["section"].map(lambda c: SECTION_REF.get(c, c)),
            "value": agg["mean"],
            "n": agg["count"],
            "se": agg["std"] / np.sqrt(agg["count"]),
        }
    )
    veto = df.assign(v=df["vetoed"].map(lambda v: "service_norms" in (v or [])))
    vv = veto.groupby("unit_id")["v"].agg(["any", "size"]).reset_index()
    norms = pd.DataFrame(
        {
            "unit_id": vv["unit_id"],
            "source_ref": "veto:basic_norms",
            "value": np.where(vv["any"], 0.0, 1.0),
            "n": vv["size"],
            "se": np.nan,
        }
    )
    return pd.concat([out, norms], ignore_index=True)[cols]


def failed_item_label(checklist: Checklist, code: str, locale: str) -> str:
    """The text of an item in the user's language."""
    it = checklist.item(code)
    return it.text_zh if locale.startswith("zh") else it.text_en


def item_is_yes_no(checklist: Checklist, code: str) -> bool:
    """Whether an item is answered yes/no."""
    return checklist.item(code).kind is ItemKind.YES_NO


def profile_from_ahp(
    base: WeightProfile,
    checklist: Checklist,
    matrix: Any,
    *,
    allow_inconsistent: bool = False,
) -> WeightProfile:
    """Set the sections' weights from an AHP pairwise matrix (sections in checklist order).

    Inside each section the indicators keep ``base``'s ratios. The AHP priorities and the
    consistency ratio come from :func:`sqm.methods.weights.ahp` (Saaty 1980); a matrix with
    CR ≥ 0.10 is refused unless ``allow_inconsistent``.
    """
    from sqm.domain.checklist_template import profile_from_section_weights
    from sqm.methods.weights import ahp

    res = ahp(matrix)
    if not res.consistent and not allow_inconsistent:
        raise InspectionError(
            f"the pairwise matrix is inconsistent (CR = {res.cr:.3f} ≥ 0.10); revisit the judgments"
        )
    w = np.asarray(res.weights, dtype=float).ravel()
    codes = [s.code for s in checklist.sections]
    if w.size != len(codes):
        raise InspectionError(f"the matrix must compare the {len(codes)} sections, got {w.size}")
    prof = profile_from_section_weights(
        base, checklist, dict(zip(codes, w.tolist(), strict=True)), method="ahp"
    )
    return prof.model_copy(update={"note": f"AHP on sections, CR = {res.cr:.3f}"})


def profile_from_importance(
    base: WeightProfile,
    checklist: Checklist,
    importance: Mapping[str, float],
    *,
    alpha: float = 0.5,
) -> WeightProfile:
    """Blend a profile with customer-derived importance of the matching indicators.

    w'_k ∝ (1 − α)·w_k + α·m_k, where m is the importance (e.g. relative weights of the
    survey items behind indicator k for overall satisfaction) normalised to sum to 1 over the
    indicators given; indicators without importance keep only their (1 − α)·w_k share.
    """
    if not 0 <= alpha <= 1:
        raise InspectionError(f"alpha must be within 0–1, got {alpha}")
    base.check_against(checklist)
    unknown = set(importance) - set(base.indicator_weights)
    if unknown or any(v < 0 for v in importance.values()):
        raise InspectionError(
            f"importance must be ≥ 0 for known indicators; unknown {sorted(unknown)}"
        )
    tot = sum(importance.values())
    if tot <= 0:
        raise InspectionError("importance values sum to 0")
    raw = {
        k: (1 - alpha) * w + alpha * importance.get(k, 0.0) / tot
        for k, w in base.indicator_weights.items()
    }
    norm = sum(raw.values())
    return base.model_copy(
        update={
            "indicator_weights": {k: v / norm for k, v in raw.items()},
            "method": "customer_importance",
            "code": f"{base.code}.ci",
            "note": f"blended with customer-derived importance, alpha = {alpha}",
        }
    )


def calibration_summary(session: Session, visits: list[InspectionVisit]) -> Any:
    """Agreement on calibration visits (pairs sharing a visit key, two inspectors, same day):
    κ on yes/no items and ICC on totals, via :func:`sqm.methods.visit_score.calibration_agreement`.
    Returns ``None`` when fewer than two pairs exist."""
    from sqm.methods.visit_score import calibration_agreement

    by_key: dict[str, list[InspectionVisit]] = {}
    for v in visits:
        if v.purpose == "calibration" and v.visit_key:
            by_key.setdefault(v.visit_key, []).append(v)
    pairs = [
        vs[:2]
        for vs in by_key.values()
        if len(vs) >= 2 and vs[0].inspector_id != vs[1].inspector_id
    ]
    if len(pairs) < 2:
        return None
    cl = checklist_of(pairs[0][0].checklist)
    lay = compile_checklist(cl)
    a = answers_matrix(lay, [p[0].answers for p in pairs])
    b = answers_matrix(lay, [p[1].answers for p in pairs])
    return calibration_agreement(
        lay, a, b, [p[0].total or 0.0 for p in pairs], [p[1].total or 0.0 for p in pairs]
    )


def publish_checklist(session: Session, checklist: Checklist) -> InspectionChecklist:
    """Store a checklist as the next version of its code; older versions stay for old visits.

    The stored version number is max(existing) + 1 whatever ``checklist.version`` says, so
    published versions never collide; new visits use the newest active version.
    """
    last = session.scalar(
        select(InspectionChecklist.version)
        .where(InspectionChecklist.code == checklist.code)
        .order_by(InspectionChecklist.version.desc())
        .limit(1)
    )
    version = (last or 0) + 1
    cl = checklist.model_copy(update={"version": version})
    row = InspectionChecklist(
        code=cl.code,
        version=version,
        name_zh=cl.name_zh,
        name_en=cl.name_en,
        definition=Checklist.model_validate(cl.model_dump()).model_dump(mode="json"),
    )
    session.add(row)
    session.flush()
    return row


# ------------------------------------------------------------------ submitting, evidence

MAX_UPLOAD = 8 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})


@dataclass(frozen=True)
class Submission:
    """What an inspector sends to submit a visit (the phone form and the JSON API alike):
    item code → answer (None: not applicable), check-in time and place, notes."""

    answers: Mapping[str, float | None]
    started_at: datetime | None
    ended_at: datetime | None = None
    checkin: tuple[float, float] | None = None
    purchase_made: bool = False
    notes: str = ""
    item_notes: Mapping[str, str] | None = None


def submit_answers(
    session: Session,
    visit: InspectionVisit,
    sub: Submission,
    *,
    inspector_id: int,
    now: datetime | None = None,
) -> InspectionVisit:
    """Submit a draft with ``sub``: the answers must fit the visit's checklist version (no
    unknown item, every item answered unless it allows 不适用); then :func:`submit_visit`
    scores and evidence-checks it, and the inspector's plan entries for it are done."""
    if visit.status != "draft":
        raise InspectionError(f"visit {visit.id} is {visit.status}; only drafts can be submitted")
    cl = checklist_of(visit.checklist)
    codes = cl.item_codes()
    unknown = sorted(set(sub.answers) - set(codes))
    missing = [c for c in codes if c not in sub.answers and not cl.item(c).na_allowed]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"{len(missing)} item(s) not answered: " + ", ".join(missing[:5]))
        if unknown:
            parts.append(f"unknown items {unknown[:10]}")
        raise InspectionError(
            f"answers do not fit the visit's checklist {cl.code} v{cl.version}: "
            + "; ".join(parts),
            {"unknown": unknown, "unanswered": missing},
        )
    now = now or now_utc()
    submit_visit(
        session,
        visit,
        {c: sub.answers.get(c) for c in codes},
        started_at=sub.started_at,
        ended_at=sub.ended_at or now,
        checkin=sub.checkin,
        purchase_made=sub.purchase_made,
        notes=sub.notes,
        item_notes=sub.item_notes,
        now=now,
    )
    mark_planned_done(session, visit, inspector_id)
    return visit


def create_visit(
    session: Session,
    principal: Principal,
    sub: Submission,
    *,
    plan_entry_id: int | None = None,
    store_code: str | None = None,
    mode: str = "covert",
    submit: bool = True,
    now: datetime | None = None,
) -> InspectionVisit:
    """An inspector's visit from one of their plan entries, or unplanned at a store in their
    scope (planned for the day of ``sub.started_at``, in the monthly period holding it);
    submitted (:func:`submit_answers`) or kept as a draft (:func:`save_draft`).

    A plan entry or store outside the inspector's is :class:`MissingError` (404)."""
    from sqm.domain.errors import MissingError
    from sqm.domain.period import PeriodKind
    from sqm.services.inspections.access import own_plan_entry

    if plan_entry_id is not None:
        entry = own_plan_entry(session, principal, plan_entry_id)
    else:
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == store_code))
        if (
            unit is None
            or not principal.sees(unit)
            or unit.kind not in (UnitKind.STORE, UnitKind.COMPETITOR_STORE)
        ):
            raise MissingError(f"no store '{store_code}' in your scope")
        if sub.started_at is None:
            raise InspectionError("started_at: an unplanned visit needs its check-in time")
        day = sub.started_at.date()
        per = session.scalar(
            select(Period).where(
                Period.kind == PeriodKind.MONTH, Period.start <= day, Period.end >= day
            )
        )
        if per is None:
            raise InspectionError(f"started_at: no monthly period holds {day}")
        entry = InspectionPlanEntry(
            period_id=per.id,
            unit_id=unit.id,
            inspector_id=principal.user_id,
            planned_date=day,
            visit_key=f"{unit.code}@{day.isoformat()}",
        )
        session.add(entry)
        session.flush()
    v = open_planned_visit(session, entry, principal.user_id)
    if v.status != "draft":
        raise InspectionError(f"visit {v.id} of this assignment was already submitted")
    v.mode = mode
    if submit:
        submit_answers(session, v, sub, inspector_id=principal.user_id, now=now)
    else:
        save_draft(session, v, sub.answers, sub.notes)
    session.flush()
    return v


def add_evidence(
    session: Session,
    visit: InspectionVisit,
    data: bytes,
    *,
    root: Any,
    filename: str,
    content_type: str,
    kind: str,
    item_code: str | None,
    user_id: int,
) -> InspectionEvidence:
    """Attach a photo or receipt to a draft visit; the file is stored under ``root`` by its
    content hash (outside the database), its perceptual hash kept for the reuse check."""
    import hashlib
    from pathlib import Path

    from sqm.methods.evidence_checks import average_hash

    if visit.status != "draft":
        raise InspectionError("evidence can only be added before the visit is submitted")
    if len(data) > MAX_UPLOAD:
        raise InspectionError(f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    ctype = (content_type or "").lower()
    if kind not in ("photo", "receipt") or ctype not in IMAGE_TYPES:
        raise InspectionError("evidence must be a photo or receipt image (jpeg, png, webp, heic)")
    sha = hashlib.sha256(data).hexdigest()
    folder = Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / sha).write_bytes(data)
    ah = average_hash(data)
    e = InspectionEvidence(
        visit_id=visit.id,
        item_code=item_code or None,
        kind=kind,
        filename=Path(filename or "upload").name[:255],
        content_type=ctype,
        size=len(data),
        sha256=sha,
        ahash=f"{ah:016x}" if ah is not None else None,
        storage_key=sha,
        uploaded_by_id=user_id,
    )
    session.add(e)
    session.flush()
    return e


def evidence_file(root: Any, evidence: InspectionEvidence) -> Any:
    """The stored file of ``evidence`` under ``root``; :class:`MissingError` when gone."""
    from pathlib import Path

    from sqm.domain.errors import MissingError

    path = Path(root) / evidence.storage_key
    if not path.is_file():
        raise MissingError("the file is no longer stored")
    return path


# ------------------------------------------------------------------ read models


def visit_evidence(session: Session, visit: InspectionVisit) -> list[InspectionEvidence]:
    """The evidence files of a visit."""
    return list(
        session.scalars(select(InspectionEvidence).where(InspectionEvidence.visit_id == visit.id))
    )


@dataclass(frozen=True)
class InspectorDay:
    """An inspector's list: today's and later planned visits (up to 60), their drafts by
    visit key and their 15 most recent submitted visits."""

    today: date
    todays: list[InspectionPlanEntry]
    later: list[InspectionPlanEntry]
    drafts: dict[str, InspectionVisit]
    recent: list[InspectionVisit]


def inspector_day(session: Session, inspector_id: int, today: date) -> InspectorDay:
    """What an inspector has to do from ``today`` on, and what they did lately."""
    entries = list(
        session.scalars(
            select(InspectionPlanEntry)
            .where(
                InspectionPlanEntry.inspector_id == inspector_id,
                InspectionPlanEntry.planned_date >= today,
                InspectionPlanEntry.status == "planned",
            )
            .order_by(InspectionPlanEntry.planned_date)
            .limit(60)
        )
    )
    drafts = {
        str(v.visit_key): v
        for v in session.scalars(
            select(InspectionVisit).where(
                InspectionVisit.inspector_id == inspector_id, InspectionVisit.status == "draft"
            )
        )
    }
    recent = list(
        session.scalars(
            select(InspectionVisit)
            .where(InspectionVisit.inspector_id == inspector_id, InspectionVisit.status != "draft")
            .order_by(InspectionVisit.planned_date.desc())
            .limit(15)
        )
    )
    return InspectorDay(
        today=today,
        todays=[e for e in entries if e.planned_date == today],
        later=[e for e in entries if e.planned_date > today],
        drafts=drafts,
        recent=recent,
    )


@dataclass(frozen=True)
class VisitReport:
    """The printable report of a visit and what the viewer may do with it."""

    checklist: Checklist
    findings: list[Any]  # checklist items failed and not overturned
    appeals: list[InspectionAppeal]
    appealed: set[str]
    evidence: list[InspectionEvidence]
    tasks: list[InspectionRectification]
    names: dict[int, str]  # inspector and team: user id → display name
    sections: list[tuple[Any, float | None]]
    can_review: bool
    can_decide: bool
    can_appeal: bool


def visit_report(
    session: Session, principal: Principal, visit: InspectionVisit, today: date
) -> VisitReport:
    """The report of a visit the viewer may see: sections, findings, evidence, appeals and
    整改 tasks; reviewers may review a submitted visit and decide appeals, and store managers
    may appeal a finding within :data:`APPEAL_DAYS` of the review."""
    from sqm.domain.roles import Permission
    from sqm.store.models import User

    cl = checklist_of(visit.checklist)
    findings = [
        cl.item(c)
        for c, x in visit.answers.items()
        if x is not None and float(x) == 0 and c not in visit.overturned
    ]
    appeals = list(
        session.scalars(select(InspectionAppeal).where(InspectionAppeal.visit_id == visit.id))
    )
    tasks = list(
        session.scalars(
            select(InspectionRectification).where(InspectionRectification.visit_id == visit.id)
        )
    )
    names = {
        u.id: u.display_name
        for u in session.scalars(select(User).where(User.id.in_([visit.inspector_id, *visit.team])))
    }
    reviewer = principal.can(Permission.REVIEW_INSPECTIONS)
    can_appeal = (
        principal.can(Permission.VIEW_SCORES)
        and not reviewer
        and visit.status == "accepted"
        and visit.reviewed_at is not None
        and (today - visit.reviewed_at.date()).days <= APPEAL_DAYS
    )
    return VisitReport(
        checklist=cl,
        findings=findings,
        appeals=appeals,
        appealed={a.item_code for a in appeals},
        evidence=visit_evidence(session, visit),
        tasks=tasks,
        names=names,
        sections=[(s, visit.section_scores.get(s.code)) for s in cl.sections],
        can_review=reviewer and visit.status in ("submitted", "needs_review"),
        can_decide=reviewer,
        can_appeal=bool(can_appeal),
    )


@dataclass(frozen=True)
class ReviewQueue:
    """Visits waiting for review (flagged first, up to 200) and open appeals (by deadline)."""

    visits: list[InspectionVisit]
    appeals: list[InspectionAppeal]


def review_queue(session: Session, principal: Principal) -> ReviewQueue:
    """A reviewer's queue at the stores in their scope."""
    visits = list(
        session.scalars(
            select(InspectionVisit)
            .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
            .where(
                InspectionVisit.status.in_(["needs_review", "submitted"]),
                principal.unit_filter(),
            )
            .order_by(InspectionVisit.status.desc(), InspectionVisit.submitted_at)
            .limit(200)
        )
    )
    appeals = list(
        session.scalars(
            select(InspectionAppeal)
            .join(InspectionVisit, InspectionVisit.id == InspectionAppeal.visit_id)
            .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
            .where(InspectionAppeal.status == "open", principal.unit_filter())
            .order_by(InspectionAppeal.deadline)
        )
    )
    return ReviewQueue(visits, appeals)


def rectification_tasks(
    session: Session,
    principal: Principal,
    status: str | None = "open",
    *,
    store: str | None = None,
    limit: int = 300,
) -> list[InspectionRectification]:
    """整改 tasks of the stores in ``principal``'s scope (optionally of one status or store
    code), oldest due date first."""
    conds = [principal.unit_filter()]
    if status is not None:
        conds.append(InspectionRectification.status == status)
    if store is not None:
        conds.append(OrgUnit.code == store)
    return list(
        session.scalars(
            select(InspectionRectification)
            .join(OrgUnit, OrgUnit.id == InspectionRectification.unit_id)
            .where(*conds)
            .order_by(InspectionRectification.due_date, InspectionRectification.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class VisitRows:
    """Visits with what their presentation needs: the total matched (before paging), the
    people named (user id → user) and the period codes (period id → code)."""

    total: int
    visits: list[InspectionVisit]
    users: dict[int, Any]
    periods: dict[int, str]


def _visit_rows(session: Session, visits: list[InspectionVisit], total: int) -> VisitRows:
    from sqm.store.models import User

    ids = {i for v in visits for i in (v.inspector_id, *v.team)}
    users = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(ids))))}
        if ids
        else {}
    )
    pids = {v.period_id for v in visits}
    periods = (
        dict(session.execute(select(Period.id, Period.code).where(Period.id.in_(pids))).all())
        if pids
        else {}
    )
    return VisitRows(total, visits, users, periods)


def visit_rows(session: Session, visits: list[InspectionVisit]) -> VisitRows:
    """``visits`` (already checked visible) with their people and period codes."""
    return _visit_rows(session, visits, len(visits))


def list_visits(
    session: Session,
    principal: Principal,
    *,
    store: str | None = None,
    period: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> VisitRows:
    """The visits ``principal`` may list (:func:`sqm.services.inspections.access.visits_filter`),
    filtered by store code, period code and status; newest first. An unknown period code
    raises :class:`InspectionError`."""
    from sqlalchemy import func

    from sqm.services.inspections.access import visits_filter

    conds = [visits_filter(principal)]
    if store is not None:
        conds.append(OrgUnit.code == store)
    if period is not None:
        pid = session.scalar(select(Period.id).where(Period.code == period))
        if pid is None:
            raise InspectionError(f"period: no period '{period}'", {"period": period})
        conds.append(InspectionVisit.period_id == pid)
    if status is not None:
        conds.append(InspectionVisit.status == status)
    base = select(InspectionVisit).join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
    total = session.scalar(select(func.count()).select_from(base.where(*conds).subquery()))
    rows = list(
        session.scalars(
            base.where(*conds)
            .order_by(InspectionVisit.planned_date.desc(), InspectionVisit.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return _visit_rows(session, rows, int(total or 0))
