"""The home page: where quality stands for the user's scope."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.org import KIND_LABELS, TIER_LABELS, StoreTier, UnitKind
from sqm.services.scope import Principal
from sqm.store.models import AuditEntry, OrgUnit
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
    return render(request, "home.html", {"kinds": kinds, "tiers": tiers, "recent": recent})
