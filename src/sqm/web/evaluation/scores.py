"""Scores of an evaluation period: rankings with intervals, store scorecards, roll-ups."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.org import TIER_LABELS, StoreTier, UnitKind
from sqm.domain.roles import Permission
from sqm.services.evaluation.evaluate import GRADE_CUTOFFS
from sqm.services.scope import Principal
from sqm.store.models import IndicatorNode, IndicatorSystem, OrgUnit, Period, UnitScore
from sqm.web.deps import get_db, require, unit_in_scope
from sqm.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
viewer = require(Permission.VIEW_SCORES)


def scored_periods(db: Session) -> list[str]:
    """Periods that have scores, newest first."""
    rows = db.execute(
        select(Period.code)
        .join(UnitScore, UnitScore.period_id == Period.id)
        .distinct()
        .order_by(Period.code.desc())
    ).all()
    return [r[0] for r in rows]


def node_names(db: Session, system_code: str, locale: str) -> dict[str, str]:
    system = db.scalar(
        select(IndicatorSystem)
        .where(IndicatorSystem.code == system_code)
        .order_by(IndicatorSystem.version.desc())
        .limit(1)
    )
    if system is None:
        return {}
    return {
        n.code: n.name(locale)
        for n in db.scalars(
            select(IndicatorNode)
            .where(IndicatorNode.system_id == system.id)
            .order_by(IndicatorNode.id)
        )
    }


@router.get("/scores")
def ranking(
    request: Request,
    period: str | None = None,
    tier: str | None = None,
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> Response:
    locale = request_locale(request)
    li = 0 if locale == "zh" else 1
    periods = scored_periods(db)
    period = period if period in periods else (periods[0] if periods else None)
    tiers = [(t.value, TIER_LABELS[t][li]) for t in StoreTier]
    tier = tier if tier in {t for t, _ in tiers} or tier == "competitor" else None
    rows: list[UnitScore] = []
    grades: dict[str, int] = {g: 0 for g in GRADE_CUTOFFS}
    if period:
        stmt = (
            select(UnitScore)
            .join(OrgUnit, OrgUnit.id == UnitScore.unit_id)
            .join(Period, Period.id == UnitScore.period_id)
            .where(
                Period.code == period,
                p.unit_filter(),
                OrgUnit.kind.in_([UnitKind.STORE, UnitKind.COMPETITOR_STORE]),
            )
        )
        if tier:
            stmt = stmt.where(UnitScore.peer_group == tier)
        rows = sorted(db.scalars(stmt).all(), key=lambda r: (r.score is None, -(r.score or 0)))
        for r in rows:
            if r.grade:
                grades[r.grade] = grades.get(r.grade, 0) + 1
    return render(
        request,
        "scores/ranking.html",
        {
            "rows": rows,
            "periods": periods,
            "period": period,
            "tiers": tiers,
            "tier": tier,
            "grade_chart": {"type": "bar", "labels": list(grades), "values": list(grades.values())},
        },
    )


@router.get("/scores/units/{unit_id}")
def scorecard(
    request: Request, unit_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    unit = unit_in_scope(db, p, unit_id)
    locale = request_locale(request)
    history = db.scalars(
        select(UnitScore)
        .join(Period, Period.id == UnitScore.period_id)
        .where(UnitScore.unit_id == unit.id, Period.kind == "month")
        .order_by(Period.code)
    ).all()
    latest = history[-1] if history else None
    names = node_names(db, latest.system_code, locale) if latest else {}
    order = {c: i for i, c in enumerate(names)}
    parts = sorted(
        (latest.dimensions if latest else {}).items(), key=lambda kv: order.get(kv[0], 10**6)
    )
    dims = [(c, names.get(c, c), v) for c, v in parts if "." not in c]
    indicators = [(c, names.get(c, c), v) for c, v in parts if "." in c]
    trend = {
        "type": "echarts",
        "option": {
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 40, "right": 10, "top": 20, "bottom": 30},
            "xAxis": {"type": "category", "data": [h.period.code for h in history]},
            "yAxis": {"type": "value", "min": 0, "max": 100},
            "series": [
                {
                    "type": "line",
                    "name": "score",
                    "data": [None if h.score is None else round(h.score, 1) for h in history],
                    "smooth": True,
                },
                {
                    "type": "line",
                    "name": "lower",
                    "data": [None if h.lower is None else round(h.lower, 1) for h in history],
                    "lineStyle": {"type": "dashed", "opacity": 0.5},
                    "symbol": "none",
                },
                {
                    "type": "line",
                    "name": "upper",
                    "data": [None if h.upper is None else round(h.upper, 1) for h in history],
                    "lineStyle": {"type": "dashed", "opacity": 0.5},
                    "symbol": "none",
                },
            ],
        },
    }
    radar = {
        "type": "echarts",
        "option": {
            "radar": {"indicator": [{"name": n, "max": 100} for _, n, _ in dims]},
            "series": [
                {
                    "type": "radar",
                    "data": [
                        {"value": [round(v or 0, 1) for _, _, v in dims], "name": unit.name(locale)}
                    ],
                }
            ],
        },
    }
    children: list[UnitScore] = []
    if unit.kind not in (UnitKind.STORE, UnitKind.COMPETITOR_STORE) and latest is not None:
        children = list(
            db.scalars(
                select(UnitScore)
                .join(OrgUnit, OrgUnit.id == UnitScore.unit_id)
                .where(
                    UnitScore.period_id == latest.period_id,
                    OrgUnit.parent_id == unit.id,
                    p.unit_filter(),
                )
                .order_by(UnitScore.score.desc())
            ).all()
        )
    return render(
        request,
        "scores/scorecard.html",
        {
            "unit": unit,
            "latest": latest,
            "history": history,
            "dims": dims,
            "indicators": indicators,
            "trend": trend,
            "radar": radar,
            "children": children,
            "names": names,
        },
    )
