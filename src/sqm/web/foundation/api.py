"""/api/v1/org-units: the org tree for the systems around SQM (CRM, hotline, OSS)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from sqm.domain.org import StoreTier, UnitKind
from sqm.services import org_tree
from sqm.store.models import OrgUnit
from sqm.web.deps import Db, csrf_protect
from sqm.web.permissions import OrgEditor, OrgViewer
from sqm.web.schemas import OrgUnitIn, OrgUnitOut, OrgUnitPatch, Page

router = APIRouter(
    prefix="/api/v1/org-units", tags=["org units"], dependencies=[Depends(csrf_protect)]
)


def unit_out(u: OrgUnit, parent_code: str | None) -> OrgUnitOut:
    out = OrgUnitOut.model_validate(u)
    out.parent_code = parent_code
    return out


@router.get("", response_model=Page, summary="List org units in your scope")
def list_units(
    p: OrgViewer,
    db: Db,
    kind: UnitKind | None = None,
    tier: StoreTier | None = None,
    parent_code: str | None = None,
    q: str | None = Query(None, description="search in code and names"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> Page:
    page = org_tree.list_units(
        db, p, kind=kind, tier=tier, parent_code=parent_code, q=q, limit=limit, offset=offset
    )
    items = [unit_out(u, pc) for u, pc in page.items]
    return Page(total=page.total, limit=limit, offset=offset, items=items)


@router.get("/{code}", response_model=OrgUnitOut, summary="One org unit")
def get_unit(code: str, p: OrgViewer, db: Db) -> OrgUnitOut:
    u = org_tree.unit_by_code(db, p, code)
    return unit_out(u, u.parent.code if u.parent else None)


@router.post("", response_model=OrgUnitOut, status_code=201, summary="Create an org unit")
def create_unit(body: OrgUnitIn, p: OrgEditor, db: Db) -> OrgUnitOut:
    values = body.model_dump(exclude={"parent_code"})
    unit = org_tree.create_unit(db, p, values, body.parent_code)
    return unit_out(unit, body.parent_code)


@router.patch("/{code}", response_model=OrgUnitOut, summary="Change an org unit")
def patch_unit(code: str, body: OrgUnitPatch, p: OrgEditor, db: Db) -> OrgUnitOut:
    u = org_tree.unit_by_code(db, p, code)
    values = body.model_dump(exclude_unset=True)
    new_parent = values.pop("parent_code", None)
    org_tree.update_unit(db, p, u, values, new_parent)
    return unit_out(u, u.parent.code if u.parent else None)
