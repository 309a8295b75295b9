"""Scores of an evaluation period: rankings with intervals, store scorecards, roll-ups."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sqm.domain.org import TIER_LABELS, StoreTier
from sqm.services.evaluation.scorecard import Scorecard, store_ranking, unit_scorecard
from sqm.store.models import OrgUnit, UnitScore
from sqm.web.deps import Db, UnitInScope
from sqm.web.permissions import ScoreViewer
from sqm.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)


@router.get("/scores")
def ranking(
    request: Request, p: ScoreViewer, db: Db, period: str | None = None, tier: str | None = None
) -> Response:
    li = 0 if request_locale(request) == "zh" else 1
    tiers = [(t.value, TIER_LABELS[t][li]) for t in StoreTier]
    tier = tier if tier in {t for t, _ in tiers} or tier == "competitor" else None
    r = store_ranking(db, p, period, tier)
    return render(
        request,
        "scores/ranking.html",
        {
            "rows": r.rows,
            "periods": r.periods,
            "period": r.period,
            "tiers": tiers,
            "tier": tier,
            "grade_chart": {
                "type": "bar",
                "labels": list(r.grades),
                "values": list(r.grades.values()),
            },
        },
    )


@router.get("/scores/units/{unit_id}")
def scorecard(request: Request, p: ScoreViewer, unit: UnitInScope, db: Db) -> Response:
    locale = request_locale(request)
    card = unit_scorecard(db, p, unit, locale)
    return render(
        request,
        "scores/scorecard.html",
        {
            "unit": unit,
            "latest": card.latest,
            "history": card.history,
            "dims": card.dims,
            "indicators": card.indicators,
            "trend": _trend_chart(card.history),
            "radar": _radar_chart(card, unit, locale),
            "children": card.children,
            "names": card.names,
        },
    )


def _series(name: str, values: list[float | None], **style: Any) -> dict[str, Any]:
    data = [None if v is None else round(v, 1) for v in values]
    return {"type": "line", "name": name, "data": data, **style}


def _trend_chart(history: list[UnitScore]) -> dict[str, Any]:
    """The monthly score with its interval as dashed lines (an ECharts option)."""
    band = {"lineStyle": {"type": "dashed", "opacity": 0.5}, "symbol": "none"}
    return {
        "type": "echarts",
        "option": {
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 40, "right": 10, "top": 20, "bottom": 30},
            "xAxis": {"type": "category", "data": [h.period.code for h in history]},
            "yAxis": {"type": "value", "min": 0, "max": 100},
            "series": [
                _series("score", [h.score for h in history], smooth=True),
                _series("lower", [h.lower for h in history], **band),
                _series("upper", [h.upper for h in history], **band),
            ],
        },
    }


def _radar_chart(card: Scorecard, unit: OrgUnit, locale: str) -> dict[str, Any]:
    """The latest dimension scores as a radar (an ECharts option)."""
    values = [round(v or 0, 1) for _, _, v in card.dims]
    return {
        "type": "echarts",
        "option": {
            "radar": {"indicator": [{"name": n, "max": 100} for _, n, _ in card.dims]},
            "series": [{"type": "radar", "data": [{"value": values, "name": unit.name(locale)}]}],
        },
    }
