"""/api/v1/indicator-systems: the indicator system (指标体系) and its versions."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from sqm.services.evaluation.indicator_system import (
    find_system,
    list_systems,
    tree_rows,
    upsert_system,
)
from sqm.store.models import IndicatorSystem
from sqm.web.deps import Db, csrf_protect
from sqm.web.errors import InvalidInput
from sqm.web.permissions import IndicatorEditor, IndicatorViewer
from sqm.web.schemas import IndicatorNodeOut, IndicatorSystemIn, IndicatorSystemOut

router = APIRouter(
    prefix="/api/v1/indicator-systems", tags=["indicators"], dependencies=[Depends(csrf_protect)]
)


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
def get_systems(p: IndicatorViewer, db: Db) -> list[IndicatorSystemOut]:
    return [system_out(s, False) for s in list_systems(db)]


@router.get("/{code}", response_model=IndicatorSystemOut, summary="Latest version with its tree")
def get_latest(code: str, p: IndicatorViewer, db: Db) -> IndicatorSystemOut:
    return system_out(find_system(db, code), True)


@router.get("/{code}/versions/{version}", response_model=IndicatorSystemOut, summary="One version")
def get_version(code: str, version: int, p: IndicatorViewer, db: Db) -> IndicatorSystemOut:
    return system_out(find_system(db, code, version), True)


@router.put("/{code}", response_model=IndicatorSystemOut, summary="Create or update (idempotent)")
def put_system(
    code: str, body: IndicatorSystemIn, p: IndicatorEditor, db: Db
) -> IndicatorSystemOut:
    if body.code != code:
        raise InvalidInput(f"code in the path ({code}) and body ({body.code}) differ")
    nodes = [n.model_dump() for n in body.nodes]
    out = upsert_system(db, code, body.name_zh, body.name_en, nodes)
    return system_out(out.system, True)
