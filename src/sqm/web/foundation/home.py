"""The home page: where quality stands for the user's scope."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.org import KIND_LABELS, TIER_LABELS, StoreTier, UnitKind
from sqm.services.scope import Principal
from sqm.store.models import AuditEntry, OrgUnit, Period, UnitScore
from sqm.web.deps import current_principal, get_db
from sqm.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(
    request: Request, p: Principal = Depends(current_principal), db: Session = Depends(get_db)
) -> Response:
    locale = request_locale(request)
    li = 0 if locale == "zh" else 1
    by_kind: dict[str, int] = dict(
        db.execute(
            select(OrgUnit.kind, func.count()).where(p.unit_filter()).group_by(OrgUnit.kind)
        ).all()
    )
    by_tier: dict[str | None, int] = dict(
        db.execute(
            select(OrgUnit.tier, func.count())
            .where(p.unit_filter(), OrgUnit.kind == UnitKind.STORE)
            .group_by(OrgUnit.tier)
        ).all()
    )
    kinds = [
        (KIND_LABELS[k][li], by_kind.get(k.value, 0)) for k in UnitKind if by_kind.get(k.value)
    ]
    tiers = [(TIER_LABELS[t][li], by_tier.get(t.value, 0)) for t in StoreTier]
    recent: list[AuditEntry] = []
    if p.user_id:
        recent = list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.user_id == p.user_id)
                .order_by(AuditEntry.id.desc())
                .limit(8)
            )
        )
    return render(
        request,
        "home.html",
        {"kinds": kinds, "tiers": tiers, "recent": recent, **_quality_overview(db, p, locale)},
    )


def _quality_overview(db: Session, p: Principal, locale: str) -> dict[str, object]:
    """The executive's view: where quality stands in the user's scope, where it moved."""
    tops = list(
        db.scalars(select(OrgUnit).where(OrgUnit.path.in_(p.scope_paths)).order_by(OrgUnit.path))
    )
    if not tops:
        return {}
    top = tops[0]
    history = db.scalars(
        select(UnitScore)
        .join(Period, Period.id == UnitScore.period_id)
        .where(UnitScore.unit_id == top.id, Period.kind == "month")
        .order_by(Period.code)
    ).all()
    if not history:
        return {"top": top}
    latest = history[-1]
    trend = {
        "type": "line",
        "labels": [h.period.code for h in history],
        "values": [None if h.score is None else round(h.score, 1) for h in history],
    }
    below = db.scalars(
        select(UnitScore)
        .join(OrgUnit, OrgUnit.id == UnitScore.unit_id)
        .where(UnitScore.period_id == latest.period_id, OrgUnit.parent_id == top.id)
        .order_by(UnitScore.score.desc())
    ).all()
    below_chart = {
        "type": "bar",
        "labels": [b.unit.name(locale) for b in below],
        "values": [None if b.score is None else round(b.score, 1) for b in below],
    }
    movers = db.scalars(
        select(UnitScore)
        .join(OrgUnit, OrgUnit.id == UnitScore.unit_id)
        .where(
            UnitScore.period_id == latest.period_id,
            OrgUnit.kind == UnitKind.STORE,
            UnitScore.change_significant.is_(True),
            p.unit_filter(),
        )
        .order_by(UnitScore.change)
        .limit(6)
    ).all()
    return {
        "top": top,
        "latest": latest,
        "trend": trend,
        "below_chart": below_chart,
        "movers": movers,
    }
