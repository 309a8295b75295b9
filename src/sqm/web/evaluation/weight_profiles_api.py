"""/api/v1/weight-profiles: every weight profile with its provenance — over an indicator-system
version (``kind = "indicator_system"``) or an inspection checklist version (``"checklist"``,
read-only here: the inspection design editor and the weight import set those)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from sqm.services.evaluation.indicator_system import tree_rows
from sqm.services.evaluation.weight_profile import (
    all_profiles,
    global_weights,
    node_refs,
    profile_by_code,
    system_named,
    upsert_profile,
)
from sqm.store.models import WeightProfile
from sqm.store.models.indicator import ProfileKind
from sqm.web.deps import Db, csrf_protect
from sqm.web.errors import InvalidInput, NotFound
from sqm.web.permissions import IndicatorViewer, WeightEditor
from sqm.web.schemas import WeightProfileIn, WeightProfileOut

router = APIRouter(
    prefix="/api/v1/weight-profiles", tags=["weight profiles"], dependencies=[Depends(csrf_protect)]
)


def profile_out(p: WeightProfile, with_weights: bool) -> WeightProfileOut:
    local: dict[str, float] | None = None
    glob = None
    if p.kind == ProfileKind.CHECKLIST:
        if with_weights:
            local = {str(k): float(v) for k, v in (p.checklist_weights or {}).items()}
            glob = dict(local)  # one level: an indicator's weight is its share of the whole
    elif with_weights and p.system is not None:
        local = {w.node.code: w.weight for w in p.weights}
        refs = node_refs([r.node for r in tree_rows(p.system)])
        glob = {c: round(v, 12) for c, v in global_weights(refs, local).items() if c in local}
    return WeightProfileOut(
        code=p.code,
        kind=ProfileKind(p.kind).value,
        name_zh=p.name_zh,
        name_en=p.name_en,
        system_code=p.system.code if p.system else None,
        system_version=p.system.version if p.system else None,
        checklist_code=p.checklist.code if p.checklist else None,
        checklist_version=p.checklist.version if p.checklist else None,
        tier=p.tier,
        in_province=p.in_province,
        traffic_band=p.traffic_band,
        stage=p.stage,
        valid_from=p.valid_from,
        valid_to=p.valid_to,
        method=p.method,
        inputs=p.inputs or {},
        note=p.note or "",
        active=p.active,
        weights=local,
        global_weights=glob,
    )


@router.get("", response_model=list[WeightProfileOut], summary="All weight profiles")
def list_profiles(p: IndicatorViewer, db: Db) -> list[WeightProfileOut]:
    """Both kinds, by code; a checklist's replaced revisions are listed with ``active: false``."""
    return [profile_out(x, False) for x in all_profiles(db)]


@router.get(
    "/{code}", response_model=WeightProfileOut, summary="One profile with local and global weights"
)
def get_profile(code: str, p: IndicatorViewer, db: Db) -> WeightProfileOut:
    prof = profile_by_code(db, code)
    if prof is None:
        raise NotFound(f"no weight profile '{code}'")
    return profile_out(prof, True)


@router.put("/{code}", response_model=WeightProfileOut, summary="Create or update (idempotent)")
def put_profile(code: str, body: WeightProfileIn, p: WeightEditor, db: Db) -> WeightProfileOut:
    """Indicator-system profiles only; a checklist profile's code is refused (422)."""
    if body.code != code:
        raise InvalidInput(f"code in the path ({code}) and body ({body.code}) differ")
    system = system_named(db, body.system_code, body.system_version)
    if system is None:
        raise InvalidInput(f"system_code: no indicator system '{body.system_code}'")
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
    return profile_out(prof, True)
