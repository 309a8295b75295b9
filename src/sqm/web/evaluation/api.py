"""/api/v1/indicator-systems: the indicator system (指标体系) and its versions."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.roles import Permission
from sqm.services.evaluation.indicator_system import IndicatorRuleError, tree_rows, upsert_system
from sqm.services.scope import Principal
from sqm.store.models import IndicatorSystem
from sqm.web.deps import csrf_protect, get_db, require
from sqm.web.errors import InvalidInput, NotFound
from sqm.web.schemas import IndicatorNodeOut, IndicatorSystemIn, IndicatorSystemOut

router = APIRouter(
    prefix="/api/v1/indicator-systems", tags=["indicators"], dependencies=[Depends(csrf_protect)]
)
viewer = require(Permission.VIEW_INDICATORS)
editor = require(Permission.EDIT_INDICATORS)


def system_out(s: IndicatorSystem, with_nodes: bool) -> IndicatorSystemOut:
    nodes = None
    if with_nodes:
        code_of = {n.id: n.code for n in s.nodes}
        nodes = []
        for r in tree_rows(s):
            o = IndicatorNodeOut.model_validate(r.node)
            o.parent_code = code_of.get(r.node.parent_id) if r.node.parent_id else None
            nodes.append(o)
    return IndicatorSystemOut(
        code=s.code,
        version=s.version,
        name_zh=s.name_zh,
        name_en=s.name_en,
        status=s.status,
        nodes=nodes,
    )


@router.get(
    "", response_model=list[IndicatorSystemOut], summary="All indicator systems and versions"
)
def list_systems(
    p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> list[IndicatorSystemOut]:
    rows = db.scalars(
        select(IndicatorSystem).order_by(IndicatorSystem.code, IndicatorSystem.version)
    )
    return [system_out(s, False) for s in rows]


@router.get("/{code}", response_model=IndicatorSystemOut, summary="Latest version with its tree")
def get_latest(
    code: str, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> IndicatorSystemOut:
    s = db.scalar(
        select(IndicatorSystem)
        .where(IndicatorSystem.code == code)
        .order_by(IndicatorSystem.version.desc())
        .limit(1)
    )
    if s is None:
        raise NotFound(f"no indicator system '{code}'")
    return system_out(s, True)


@router.get("/{code}/versions/{version}", response_model=IndicatorSystemOut, summary="One version")
def get_version(
    code: str, version: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> IndicatorSystemOut:
    s = db.scalar(
        select(IndicatorSystem).where(
            IndicatorSystem.code == code, IndicatorSystem.version == version
        )
    )
    if s is None:
        raise NotFound(f"no indicator system '{code}' v{version}")
    return system_out(s, True)


@router.put("/{code}", response_model=IndicatorSystemOut, summary="Create or update (idempotent)")
def put_system(
    code: str,
    body: IndicatorSystemIn,
    p: Principal = Depends(editor),
    db: Session = Depends(get_db),
) -> IndicatorSystemOut:
    if body.code != code:
        raise InvalidInput(f"code in the path ({code}) and body ({body.code}) differ")
    try:
        out = upsert_system(
            db, code, body.name_zh, body.name_en, [n.model_dump() for n in body.nodes]
        )
    except IndicatorRuleError as exc:
        raise InvalidInput(str(exc)) from exc
    return system_out(out.system, True)
