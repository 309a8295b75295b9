"""/api/v1/org-units: the org tree for the systems around SQM (CRM, hotline, OSS)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from sqm.domain.org import StoreTier, UnitKind
from sqm.domain.roles import Permission
from sqm.services.org_tree import OrgTreeError, place
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit
from sqm.web.deps import csrf_protect, get_db, require
from sqm.web.errors import Conflict, InvalidInput, NotFound
from sqm.web.schemas import OrgUnitIn, OrgUnitOut, OrgUnitPatch, Page

router = APIRouter(
    prefix="/api/v1/org-units", tags=["org units"], dependencies=[Depends(csrf_protect)]
)
viewer = require(Permission.VIEW_ORG)
editor = require(Permission.EDIT_ORG)


def unit_out(u: OrgUnit, parent_code: str | None) -> OrgUnitOut:
    out = OrgUnitOut.model_validate(u)
    out.parent_code = parent_code
    return out


def _by_code(db: Session, p: Principal, code: str) -> OrgUnit:
    u = db.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if u is None or not p.sees(u):
        raise NotFound(f"no org unit '{code}' in your scope")
    return u


@router.get("", response_model=Page, summary="List org units in your scope")
def list_units(
    kind: UnitKind | None = None,
    tier: StoreTier | None = None,
    parent_code: str | None = None,
    q: str | None = Query(None, description="search in code and names"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> Page:
    parent = aliased(OrgUnit)
    stmt = select(OrgUnit, parent.code).outerjoin(parent, OrgUnit.parent_id == parent.id)
    stmt = stmt.where(p.unit_filter())
    if kind:
        stmt = stmt.where(OrgUnit.kind == kind)
    if tier:
        stmt = stmt.where(OrgUnit.tier == tier)
    if parent_code:
        stmt = stmt.where(parent.code == parent_code)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            func.lower(OrgUnit.code).like(like)
            | func.lower(OrgUnit.name_zh).like(like)
            | func.lower(OrgUnit.name_en).like(like)
        )
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.execute(stmt.order_by(OrgUnit.path).limit(limit).offset(offset)).all()
    return Page(total=total, limit=limit, offset=offset, items=[unit_out(u, pc) for u, pc in rows])


@router.get("/{code}", response_model=OrgUnitOut, summary="One org unit")
def get_unit(
    code: str, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> OrgUnitOut:
    u = _by_code(db, p, code)
    return unit_out(u, u.parent.code if u.parent else None)


@router.post("", response_model=OrgUnitOut, status_code=201, summary="Create an org unit")
def create_unit(
    body: OrgUnitIn, p: Principal = Depends(editor), db: Session = Depends(get_db)
) -> OrgUnitOut:
    if db.scalar(select(OrgUnit.id).where(OrgUnit.code == body.code)) is not None:
        raise Conflict(f"org unit '{body.code}' exists already")
    if body.parent_code is None:
        raise InvalidInput("parent_code: a new unit must sit under a unit in your scope")
    parent = _by_code(db, p, body.parent_code)
    data = body.model_dump(exclude={"parent_code"})
    unit = OrgUnit(**data)
    try:
        place(db, unit, parent)
    except OrgTreeError as exc:
        raise InvalidInput(str(exc)) from exc
    return unit_out(unit, parent.code)


@router.patch("/{code}", response_model=OrgUnitOut, summary="Change an org unit")
def patch_unit(
    code: str, body: OrgUnitPatch, p: Principal = Depends(editor), db: Session = Depends(get_db)
) -> OrgUnitOut:
    u = _by_code(db, p, code)
    data = body.model_dump(exclude_unset=True)
    new_parent = data.pop("parent_code", None)
    for k, v in data.items():
        setattr(u, k, v)
    if new_parent is not None:
        parent = _by_code(db, p, new_parent)
        try:
            place(db, u, parent)
        except OrgTreeError as exc:
            raise InvalidInput(str(exc)) from exc
    db.flush()
    return unit_out(u, u.parent.code if u.parent else None)
