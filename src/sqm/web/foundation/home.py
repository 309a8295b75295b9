"""The home page: where quality stands for the user's scope."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sqm.domain.org import KIND_LABELS, TIER_LABELS, StoreTier, UnitKind
from sqm.services.audit_log import recent_actions
from sqm.services.evaluation.scorecard import QualityOverview, quality_overview
from sqm.services.org_tree import unit_counts
from sqm.web.deps import Db
from sqm.web.permissions import SignedIn
from sqm.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, p: SignedIn, db: Db) -> Response:
    locale = request_locale(request)
    li = 0 if locale == "zh" else 1
    counts = unit_counts(db, p)
    by_kind = counts.by_kind
    kinds = [(KIND_LABELS[k][li], by_kind[k.value]) for k in UnitKind if by_kind.get(k.value)]
    tiers = [(TIER_LABELS[t][li], counts.stores_by_tier.get(t.value, 0)) for t in StoreTier]
    recent = recent_actions(db, p.user_id)
    overview = _overview(quality_overview(db, p), locale)
    return render(
        request, "home.html", {"kinds": kinds, "tiers": tiers, "recent": recent, **overview}
    )


def _rounded(scores: list) -> list[float | None]:
    return [None if s.score is None else round(s.score, 1) for s in scores]


def _overview(o: QualityOverview, locale: str) -> dict[str, object]:
    """The overview as the template reads it: the top unit, its latest score, the charts."""
    if o.top is None:
        return {}
    if o.latest is None:
        return {"top": o.top}
    trend = {
        "type": "line",
        "labels": [h.period.code for h in o.history],
        "values": _rounded(o.history),
    }
    below_chart = {
        "type": "bar",
        "labels": [b.unit.name(locale) for b in o.below],
        "values": _rounded(o.below),
    }
    return {
        "top": o.top,
        "latest": o.latest,
        "trend": trend,
        "below_chart": below_chart,
        "movers": o.movers,
    }
