"""The org tree browser (lazy, with search) and the unit / store detail page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.org import KIND_LABELS, TIER_LABELS, StoreTier, UnitKind
from sqm.domain.roles import Permission
from sqm.services.evaluation.weight_profile import profile_for_store
from sqm.services.org_tree import ancestors, search_units
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, Period
from sqm.web.deps import get_db, require, unit_in_scope
from sqm.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
viewer = require(Permission.VIEW_ORG)


def _child_counts(db: Session, p: Principal, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = db.execute(
        select(OrgUnit.parent_id, func.count())
        .where(OrgUnit.parent_id.in_(ids), p.unit_filter())
        .group_by(OrgUnit.parent_id)
    ).all()
    return {int(a): int(b) for a, b in rows if a is not None}


@router.get("/org")
def org_tree(
    request: Request, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    # The tops of the user's scope: the granted units themselves.
    roots = list(
        db.scalars(select(OrgUnit).where(OrgUnit.path.in_(p.scope_paths)).order_by(OrgUnit.path))
    )
    counts = _child_counts(db, p, [u.id for u in roots])
    return render(request, "org/tree.html", {"roots": roots, "counts": counts})


@router.get("/org/children/{unit_id}")
def org_children(
    request: Request, unit_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    unit = unit_in_scope(db, p, unit_id)
    kids = list(
        db.scalars(
            select(OrgUnit)
            .where(OrgUnit.parent_id == unit.id, p.unit_filter())
            .order_by(OrgUnit.kind, OrgUnit.code)
        )
    )
    counts = _child_counts(db, p, [u.id for u in kids])
    return render(request, "org/_children.html", {"units": kids, "counts": counts})


@router.get("/org/search")
def org_search(
    request: Request, q: str = "", p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    units = search_units(db, q.strip(), p.unit_filter()) if q.strip() else []
    return render(request, "org/_search.html", {"units": units, "q": q})


@router.get("/org/units/{unit_id}")
def unit_detail(
    request: Request, unit_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    unit = unit_in_scope(db, p, unit_id)
    li = 0 if request_locale(request) == "zh" else 1
    crumbs = [a for a in ancestors(db, unit) if p.sees(a)]
    children = list(
        db.scalars(
            select(OrgUnit)
            .where(OrgUnit.parent_id == unit.id, p.unit_filter())
            .order_by(OrgUnit.code)
            .limit(200)
        )
    )
    tier_counts: list[tuple[str, int]] = []
    if unit.kind not in (UnitKind.STORE, UnitKind.COMPETITOR_STORE):
        rows: dict[str | None, int] = dict(
            db.execute(
                select(OrgUnit.tier, func.count())
                .where(OrgUnit.path.startswith(unit.path), OrgUnit.kind == UnitKind.STORE)
                .group_by(OrgUnit.tier)
            ).all()
        )
        tier_counts = [(TIER_LABELS[t][li], int(rows.get(t.value, 0))) for t in StoreTier]
    profile = None
    if unit.kind == UnitKind.STORE:
        latest = db.scalar(select(func.max(Period.code)).where(Period.kind == "month"))
        if latest:
            profile = profile_for_store(db, unit.tier, unit.in_province, latest)
    return render(
        request,
        "org/unit.html",
        {
            "unit": unit,
            "crumbs": crumbs,
            "children": children,
            "tier_counts": tier_counts,
            "kind_label": KIND_LABELS[UnitKind(unit.kind)][li],
            "tier_label": TIER_LABELS[StoreTier(unit.tier)][li] if unit.tier else None,
            "profile": profile,
        },
    )
