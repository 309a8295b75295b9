"""The org tree browser (lazy, with search) and the unit / store detail page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sqm.domain.org import KIND_LABELS, TIER_LABELS, StoreTier, UnitKind
from sqm.services.evaluation.weight_profile import profile_for_store
from sqm.services.org_tree import search_units, tree_children, tree_roots, unit_detail
from sqm.web.deps import Db, UnitInScope
from sqm.web.permissions import OrgViewer
from sqm.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)


@router.get("/org")
def org_tree(request: Request, p: OrgViewer, db: Db) -> Response:
    level = tree_roots(db, p)
    return render(request, "org/tree.html", {"roots": level.units, "counts": level.counts})


@router.get("/org/children/{unit_id}")
def org_children(request: Request, p: OrgViewer, unit: UnitInScope, db: Db) -> Response:
    level = tree_children(db, p, unit)
    return render(request, "org/_children.html", {"units": level.units, "counts": level.counts})


@router.get("/org/search")
def org_search(request: Request, p: OrgViewer, db: Db, q: str = "") -> Response:
    units = search_units(db, q.strip(), p.unit_filter()) if q.strip() else []
    return render(request, "org/_search.html", {"units": units, "q": q})


@router.get("/org/units/{unit_id}")
def unit_page(request: Request, p: OrgViewer, unit: UnitInScope, db: Db) -> Response:
    li = 0 if request_locale(request) == "zh" else 1
    d = unit_detail(db, p, unit)
    tier_counts: list[tuple[str, int]] = []
    if unit.kind not in (UnitKind.STORE, UnitKind.COMPETITOR_STORE):
        tier_counts = [(TIER_LABELS[t][li], d.stores_by_tier.get(t.value, 0)) for t in StoreTier]
    profile = None
    if d.latest_month:
        profile = profile_for_store(db, unit.tier, unit.in_province, d.latest_month)
    return render(
        request,
        "org/unit.html",
        {
            "unit": unit,
            "crumbs": d.crumbs,
            "children": d.children,
            "tier_counts": tier_counts,
            "kind_label": KIND_LABELS[UnitKind(unit.kind)][li],
            "tier_label": TIER_LABELS[StoreTier(unit.tier)][li] if unit.tier else None,
            "profile": profile,
        },
    )
