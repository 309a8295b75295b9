"""Demo data for inspections: 12 months of visits to the demo stores and competitors, with
findings, reviews, appeals and rectification tasks, and next month's CP-SAT plan.

Each store has a latent service level that drifts over the year and improves a little after
its rectification tasks are closed; each inspector has a small leniency of their own, so the
inspector-quality pages have something to find. Inspectors work in their province
(territory) and rotate, as the plan asks.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import insert

from sqm.domain.indicator import ProgrammeStage
from sqm.domain.org import StoreTier, UnitKind
from sqm.methods.visit_score import ChecklistLayout, compile_checklist, score_visits
from sqm.services.demo_context import DemoContext
from sqm.services.inspections.visit_plan import PlanRules, plan_month
from sqm.services.inspections.visits import (
    APPEAL_DAYS,
    RECTIFY_DAYS,
    checklist_of,
    ensure_template_checklist,
    profile_key,
    stage_for,
    template_for,
    tier_medians,
)
from sqm.store.audit import record
from sqm.store.base import utcnow
from sqm.store.models import OrgUnit, Period
from sqm.store.models.inspection import (
    InspectionAppeal,
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)

DEMO_TODAY = date(2026, 11, 25)


def _province_of(unit: OrgUnit, provinces: list[OrgUnit]) -> int:
    return next(k for k, p in enumerate(provinces) if unit.path.startswith(p.path))


def build_demo_inspections(ctx: DemoContext) -> None:
    """12 months of visits (stores and competitors), appeals, 整改, and the November plan."""
    rng = ctx.rng("inspections")
    s = ctx.session
    row = ensure_template_checklist(s)
    cl = checklist_of(row)
    lay = compile_checklist(cl)
    medians = tier_medians(s)
    units = [*ctx.stores, *ctx.competitors]
    n_u = len(units)
    prov = np.array([_province_of(u, ctx.provinces) for u in units])
    insp_by_prov: dict[int, list[int]] = defaultdict(list)
    for k, user in enumerate(ctx.inspectors):
        insp_by_prov[k % len(ctx.provinces)].append(user.id)
    lenience = {user.id: float(rng.normal(0, 0.04)) for user in ctx.inspectors}
    level = rng.beta(7, 2, n_u)  # latent share of items a store gets right
    # each store's indicator weights in either programme stage; a visit takes the stage in
    # force for its store and period (the indicator system's profiles say which)
    weights = {st.value: np.zeros((n_u, len(lay.indicator_codes))) for st in ProgrammeStage}
    for st, w_st in weights.items():
        for k, u in enumerate(units):
            prof = template_for(profile_key(u, medians, st), cl)
            w_st[k] = [prof.indicator_weights[c] for c in lay.indicator_codes]
    stages: dict[tuple[str | None, bool | None, str], str] = {}

    def stage_of(u: OrgUnit, period: Period) -> str:
        key = (u.tier, u.in_province, period.code)
        if key not in stages:
            stages[key] = stage_for(s, u, period)
        return stages[key]

    visits: list[InspectionVisit] = []
    unit_of: list[int] = []  # index into ``units`` (and ``weights``) of each visit
    last_by: dict[tuple[int, int], date] = {}
    periods = ctx.periods
    for period in periods:
        level = np.clip(level + rng.normal(0.004, 0.02, n_u), 0.3, 0.995)
        n_vis = np.array([2 if u.tier == StoreTier.FLAGSHIP_CORE else 1 for u in units])
        for k, u in enumerate(units):
            team = insp_by_prov[int(prov[k])]
            for j in range(int(n_vis[k])):
                day = period.start + timedelta(days=int(rng.integers(0, 13)) + 14 * j)
                if day > DEMO_TODAY - timedelta(days=2):
                    continue
                free = [
                    i
                    for i in team
                    if (u.id, i) not in last_by or (day - last_by[(u.id, i)]).days > 92
                ]
                insp = int(rng.choice(free or team))
                last_by[(u.id, insp)] = day
                p = np.clip(level[k] + lenience[insp], 0.05, 0.999)
                ans = np.where(
                    lay.scale_max > 1,
                    rng.binomial(lay.scale_max.astype(int), p),
                    rng.random(lay.n_items) < p,
                ).astype(float)
                veto_ok = rng.random(lay.n_items) < 0.985  # basic norms are rarely broken
                ans = np.where(lay.veto, veto_ok.astype(float), ans)
                na = lay.na_allowed & (rng.random(lay.n_items) < 0.15)
                ans[na] = np.nan
                start = datetime.combine(
                    day, time(int(rng.integers(10, 18)), int(rng.integers(0, 60))), UTC
                )
                v = InspectionVisit(
                    checklist_id=row.id,
                    unit_id=u.id,
                    period_id=period.id,
                    visit_key=f"{u.code}@{day.isoformat()}",
                    inspector_id=insp,
                    team=[insp],
                    mode="covert" if rng.random() < 0.85 else "announced",
                    planned_date=day,
                    started_at=start,
                    ended_at=start + timedelta(minutes=int(rng.integers(20, 55))),
                    checkin_lat=(u.lat or 0) + float(rng.normal(0, 0.0004)),
                    checkin_lon=(u.lon or 0) + float(rng.normal(0, 0.0004)),
                    purchase_made=bool(rng.random() < 0.4),
                    answers={
                        c: (None if np.isnan(a) else float(a))
                        for c, a in zip(lay.item_codes, ans, strict=True)
                    },
                    item_notes={},
                    overturned=[],
                    status="accepted",
                    submitted_at=start + timedelta(hours=1),
                    reviewed_at=start + timedelta(days=1),
                    review_reasons=[],
                )
                unit_of.append(k)
                visits.append(v)
        _calibration_pairs(rng, lay, row.id, units, prov, insp_by_prov, period, visits, unit_of)
    # score all visits at once
    a = np.array(
        [[np.nan if v.answers[c] is None else v.answers[c] for c in lay.item_codes] for v in visits]
    )
    by_id = {x.id: x for x in periods}
    stage_of_visit = [
        stage_of(units[k], by_id[v.period_id]) for v, k in zip(visits, unit_of, strict=True)
    ]
    w = np.stack([weights[st][k] for st, k in zip(stage_of_visit, unit_of, strict=True)])
    sc = score_visits(lay, a, w)
    for r, v in enumerate(visits):
        v.total = round(float(sc.total[r]), 2)
        v.grade = str(sc.grade[r])
        v.passed = bool(sc.passed[r])
        v.section_scores = {
            c: (None if np.isnan(x) else round(float(x), 2))
            for c, x in zip(lay.section_codes, sc.section[r], strict=True)
        }
        v.vetoed = [c for c, f in zip(lay.indicator_codes, sc.vetoed[r], strict=True) if f]
        v.profile_code = None
        # the last fortnight: some still await review, a few flagged by the evidence checks
        if v.planned_date and v.planned_date >= DEMO_TODAY - timedelta(days=12):
            roll = rng.random()
            if roll < 0.3:
                v.status, v.reviewed_at = "submitted", None
            elif roll < 0.38:
                v.status, v.reviewed_at = "needs_review", None
                v.review_reasons = [
                    ["too_short", "检查时长 6 分钟,少于 10 分钟 / visit lasted 6 min, minimum 10"]
                ]
    reviewer = ctx.users["analyst"].id
    manager = ctx.users["store.manager"].id
    task_specs: list[tuple[InspectionVisit, str, bool, bool]] = []
    appeal_specs: list[tuple[InspectionVisit, str, bool, str]] = []
    for v, k, st in zip(visits, unit_of, stage_of_visit, strict=True):
        if v.status != "accepted" or v.reviewed_at is None:
            continue
        v.reviewed_by_id = reviewer
        failed = [c for c, x in v.answers.items() if x is not None and x == 0]
        reviewed = v.reviewed_at.date()
        overturned = ""
        if failed and rng.random() < 0.03:
            c = failed[int(rng.integers(len(failed)))]
            decided = reviewed + timedelta(days=APPEAL_DAYS) < DEMO_TODAY
            status = ("overturned" if rng.random() < 0.4 else "upheld") if decided else "open"
            appeal_specs.append((v, c, decided, status))
            if status == "overturned":
                overturned = c
                v.overturned = [c]
                full = {**v.answers, c: float(cl.item(c).scale_max)}
                row_a = np.array([[np.nan if full[x] is None else full[x] for x in lay.item_codes]])
                sc1 = score_visits(lay, row_a, weights[st][k])
                v.total = round(float(sc1.total[0]), 2)
                v.grade = str(sc1.grade[0])
        due = reviewed + timedelta(days=RECTIFY_DAYS)
        for c in failed:
            closed = due < DEMO_TODAY and rng.random() < 0.9
            task_specs.append((v, c, closed, c == overturned))

    # Bulk inserts (as the other demo steps do): the demo is one system action, not 20,000.
    now = utcnow()
    cols = [
        c.key
        for c in InspectionVisit.__table__.columns
        if c.key not in ("id", "created_at", "updated_at")
    ]
    rows = [
        {**{c: getattr(v, c) for c in cols}, "created_at": now, "updated_at": now} for v in visits
    ]
    ids = s.scalars(
        insert(InspectionVisit).returning(InspectionVisit.id, sort_by_parameter_order=True), rows
    ).all()
    for v, vid in zip(visits, ids, strict=True):
        v.id = vid
    tasks = []
    for v, c, closed, cancelled in task_specs:
        it = cl.item(c)
        assert v.reviewed_at is not None
        due = v.reviewed_at.date() + timedelta(days=RECTIFY_DAYS)
        status = "cancelled" if cancelled else ("closed" if closed else "open")
        note = {
            "cancelled": "申诉成立 / finding overturned on appeal",
            "closed": "已整改,店长复核 / fixed and checked by the store manager",
            "open": None,
        }[status]
        tasks.append(
            {
                "visit_id": v.id,
                "unit_id": v.unit_id,
                "item_code": c,
                "title_zh": f"整改:{it.text_zh}",
                "title_en": f"Rectify: {it.text_en}",
                "due_date": due,
                "status": status,
                "closed_at": datetime.combine(
                    due - timedelta(days=int(rng.integers(1, 10))), time(17), UTC
                )
                if status == "closed"
                else None,
                "closing_note": note,
                "created_at": now,
                "updated_at": now,
            }
        )
    for chunk in range(0, len(tasks), 5000):
        s.execute(insert(InspectionRectification), tasks[chunk : chunk + 5000])
    appeals = []
    for v, c, decided, status in appeal_specs:
        assert v.reviewed_at is not None
        reviewed = v.reviewed_at.date()
        appeals.append(
            {
                "visit_id": v.id,
                "item_code": c,
                "raised_by_id": manager,
                "reason": "当时顾客较多,店员已在接待其他顾客 / staff were serving other customers",
                "deadline": reviewed + timedelta(days=APPEAL_DAYS),
                "status": status,
                "decided_by_id": reviewer if decided else None,
                "decided_at": datetime.combine(reviewed + timedelta(days=5), time(10), UTC)
                if decided
                else None,
                "decision_note": (
                    "证据不足 / not enough evidence"
                    if status == "upheld"
                    else "申诉成立 / finding withdrawn"
                )
                if decided
                else None,
                "created_at": now,
                "updated_at": now,
            }
        )
    if appeals:
        s.execute(insert(InspectionAppeal), appeals)
    record(
        s,
        "demo",
        "inspection_visit",
        None,
        f"{len(visits)} demo visits, {len(tasks)} rectification tasks, {len(appeals)} appeals",
    )
    s.flush()
    _demo_plan(ctx, units, prov, insp_by_prov, visits)


def _calibration_pairs(
    rng: np.random.Generator,
    lay: ChecklistLayout,
    checklist_id: int,
    units: list[OrgUnit],
    prov: np.ndarray,
    insp_by_prov: dict[int, list[int]],
    period: Period,
    visits: list[InspectionVisit],
    unit_of: list[int],
) -> None:
    """Four calibration visits a month: two inspectors, same store, same day (校准检查).

    The second sheet agrees with the first except for a few honest disagreements, so κ and
    ICC land where a trained team would be (κ ≈ 0.7–0.8)."""
    day = period.start + timedelta(days=17)
    if day > DEMO_TODAY - timedelta(days=2):
        return
    own = [k for k, u in enumerate(units) if u.kind == UnitKind.STORE]
    for k in rng.choice(own, 4, replace=False):
        k = int(k)
        u = units[k]
        pair = [int(i) for i in rng.choice(insp_by_prov[int(prov[k])], 2, replace=False)]
        p = float(rng.beta(6, 2))
        base = np.where(
            lay.scale_max > 1,
            rng.binomial(lay.scale_max.astype(int), p),
            rng.random(lay.n_items) < p,
        ).astype(float)
        base = np.where(lay.veto, 1.0, base)
        second = base.copy()
        flip = (lay.scale_max == 1) & ~lay.veto & (rng.random(lay.n_items) < 0.08)
        second[flip] = 1 - second[flip]
        nudge = (lay.scale_max > 1) & (rng.random(lay.n_items) < 0.2)
        second[nudge] = np.clip(
            second[nudge] + rng.choice([-1, 1], int(nudge.sum())), 0, lay.scale_max[nudge]
        )
        start = datetime.combine(day, time(15, 0), UTC)
        for insp, ans in zip(pair, (base, second), strict=True):
            visits.append(
                InspectionVisit(
                    checklist_id=checklist_id,
                    unit_id=u.id,
                    period_id=period.id,
                    visit_key=f"CAL-{u.code}@{day.isoformat()}",
                    inspector_id=insp,
                    team=pair,
                    mode="announced",
                    purpose="calibration",
                    planned_date=day,
                    started_at=start,
                    ended_at=start + timedelta(minutes=40),
                    checkin_lat=u.lat,
                    checkin_lon=u.lon,
                    purchase_made=False,
                    answers={c: float(a) for c, a in zip(lay.item_codes, ans, strict=True)},
                    item_notes={},
                    overturned=[],
                    status="accepted",
                    submitted_at=start + timedelta(hours=1),
                    reviewed_at=start + timedelta(days=1),
                    review_reasons=[],
                )
            )
            unit_of.append(k)


def _demo_plan(
    ctx: DemoContext,
    units: list[OrgUnit],
    prov: np.ndarray,
    insp_by_prov: dict[int, list[int]],
    visits: list[InspectionVisit],
) -> None:
    """Plan November for our stores with CP-SAT and store the entries from today on."""
    own = [k for k, u in enumerate(units) if u.kind == "store"]
    stores = pd.DataFrame(
        {
            "store_id": [str(units[k].id) for k in own],
            "tier": [str(units[k].tier) for k in own],
            "territory": [f"P{prov[k]}" for k in own],
            "lat": [units[k].lat for k in own],
            "lon": [units[k].lon for k in own],
            "central_city": [units[k].area_type == "urban" for k in own],
        }
    )
    inspectors = pd.DataFrame(
        [
            {
                "inspector_id": str(i),
                "territory": f"P{p}",
                "lat": float(stores[stores["territory"] == f"P{p}"]["lat"].mean()),
                "lon": float(stores[stores["territory"] == f"P{p}"]["lon"].mean()),
            }
            for p, ids in insp_by_prov.items()
            for i in ids
        ]
    )
    hist = pd.DataFrame(
        [
            (str(v.unit_id), str(v.inspector_id), v.planned_date)
            for v in visits
            if v.planned_date and v.planned_date < date(2026, 11, 1)
        ],
        columns=["store_id", "inspector_id", "date"],
    )
    month = ctx.periods[-1]
    plan = plan_month(
        stores,
        inspectors,
        hist,
        month.start,
        PlanRules(time_limit_s=8.0, deterministic_time=1.0, explain=False),
    )
    entries = []
    a = plan.assignments
    for sid, iid, d, key in zip(
        a["store_id"], a["inspector_id"], a["date"], a["visit_id"], strict=True
    ):
        day: date = d
        if day < DEMO_TODAY:
            continue  # the month's earlier visits are already in the visit table
        entries.append(
            InspectionPlanEntry(
                period_id=month.id,
                unit_id=int(str(sid)),
                inspector_id=int(str(iid)),
                planned_date=day,
                visit_key=str(key),
                status="planned",
            )
        )
    # make sure the first inspector has a visit today (the phone walkthrough starts there)
    first = ctx.inspectors[0].id
    if not any(e.inspector_id == first and e.planned_date == DEMO_TODAY for e in entries):
        mine = sorted((e for e in entries if e.inspector_id == first), key=lambda e: e.planned_date)
        if mine:
            mine[-1].planned_date = DEMO_TODAY
    ctx.session.add_all(entries)
    ctx.session.flush()
    ctx.extra["inspection_plan"] = plan
