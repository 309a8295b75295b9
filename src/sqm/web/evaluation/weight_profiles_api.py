"""/api/v1/weight-profiles: weights over an indicator-system version, with their provenance."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.roles import Permission
from sqm.services.evaluation.indicator_system import tree_rows
from sqm.services.evaluation.weight_profile import (
    WeightRuleError,
    global_weights,
    node_refs,
    upsert_profile,
)
from sqm.services.scope import Principal
from sqm.store.models import IndicatorSystem, WeightProfile
from sqm.web.deps import csrf_protect, get_db, require
from sqm.web.errors import InvalidInput, NotFound
from sqm.web.schemas import WeightProfileIn, WeightProfileOut

router = APIRouter(
    prefix="/api/v1/weight-profiles", tags=["weight profiles"], dependencies=[Depends(csrf_protect)]
)
viewer = require(Permission.VIEW_INDICATORS)
editor = require(Permission.EDIT_WEIGHTS)


def profile_out(p: WeightProfile, with_weights: bool) -> WeightProfileOut:
    local = {w.node.code: w.weight for w in p.weights} if with_weights else None
    glob = None
    if local is not None:
        refs = node_refs([r.node for r in tree_rows(p.system)])
        glob = {c: round(v, 12) for c, v in global_weights(refs, local).items() if c in local}
    return WeightProfileOut(
        code=p.code,
        name_zh=p.name_zh,
        name_en=p.name_en,
        system_code=p.system.code,
        system_version=p.system.version,
        tier=p.tier,
        in_province=p.in_province,
        traffic_band=p.traffic_band,
        stage=p.stage,
        valid_from=p.valid_from,
        valid_to=p.valid_to,
        method=p.method,
        inputs=p.inputs or {},
        weights=local,
        global_weights=glob,
    )


@router.get("", response_model=list[WeightProfileOut], summary="All weight profiles")
def list_profiles(
    p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> list[WeightProfileOut]:
    return [
        profile_out(x, False)
        for x in db.scalars(select(WeightProfile).order_by(WeightProfile.code))
    ]


@router.get(
    "/{code}", response_model=WeightProfileOut, summary="One profile with local and global weights"
)
def get_profile(
    code: str, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> WeightProfileOut:
    prof = db.scalar(select(WeightProfile).where(WeightProfile.code == code))
    if prof is None:
        raise NotFound(f"no weight profile '{code}'")
    return profile_out(prof, True)


@router.put("/{code}", response_model=WeightProfileOut, summary="Create or update (idempotent)")
def put_profile(
    code: str, body: WeightProfileIn, p: Principal = Depends(editor), db: Session = Depends(get_db)
) -> WeightProfileOut:
    if body.code != code:
        raise InvalidInput(f"code in the path ({code}) and body ({body.code}) differ")
    stmt = select(IndicatorSystem).where(IndicatorSystem.code == body.system_code)
    if body.system_version is not None:
        stmt = stmt.where(IndicatorSystem.version == body.system_version)
    system = db.scalar(stmt.order_by(IndicatorSystem.version.desc()).limit(1))
    if system is None:
        raise InvalidInput(f"system_code: no indicator system '{body.system_code}'")
    try:
        prof, _ = upsert_profile(
            db,
            code=code,
            name_zh=body.name_zh,
            name_en=body.name_en,
            system=system,
            weights=body.weights,
            tier=body.tier,
            in_province=body.in_province,
            traffic_band=body.traffic_band,
            stage=body.stage,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            method=body.method,
            inputs=body.inputs,
        )
    except WeightRuleError as exc:
        raise InvalidInput(str(exc)) from exc
    return profile_out(prof, True)
