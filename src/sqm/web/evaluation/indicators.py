"""Indicator system viewer and editor, and the weight profile viewer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sqm.domain.indicator import Direction, IndicatorSource, NodeLevel
from sqm.domain.org import TIER_LABELS, StoreTier
from sqm.domain.roles import Permission
from sqm.services.evaluation.indicator_system import (
    IndicatorRuleError,
    check_child_level,
    check_editable,
    delete_node,
    new_version,
    profiles_using,
    tree_rows,
)
from sqm.services.evaluation.weight_profile import all_profiles, global_weights, node_refs
from sqm.services.scope import Principal
from sqm.store.models import IndicatorNode, IndicatorSystem, WeightProfile
from sqm.store.models.indicator import ProfileKind
from sqm.web.deps import csrf_protect, get_db, load_form, require
from sqm.web.errors import Conflict, InvalidInput, NotFound
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)
viewer = require(Permission.VIEW_INDICATORS)
editor = require(Permission.EDIT_INDICATORS)


def _system(db: Session, sid: int) -> IndicatorSystem:
    s = db.get(IndicatorSystem, sid)
    if s is None:
        raise NotFound("no such indicator system")
    return s


def _node(db: Session, system: IndicatorSystem, nid: int) -> IndicatorNode:
    n = db.get(IndicatorNode, nid)
    if n is None or n.system_id != system.id:
        raise NotFound("no such indicator in this system")
    return n


def _opt_float(field: str, raw: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise InvalidInput(f"{field}: '{raw}' is not a number") from exc


@router.get("/indicators")
def systems(
    request: Request, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    rows = list(
        db.scalars(select(IndicatorSystem).order_by(IndicatorSystem.code, IndicatorSystem.version))
    )
    return render(request, "indicators/systems.html", {"systems": rows})


@router.get("/indicators/{sid}")
def system_tree(
    request: Request, sid: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    s = _system(db, sid)
    return render(
        request,
        "indicators/tree.html",
        {
            "system": s,
            "rows": tree_rows(s),
            "can_edit": p.can(Permission.EDIT_INDICATORS) and s.status != "published",
            "can_version": p.can(Permission.EDIT_INDICATORS),
            "profiles": profiles_using(db, s),
        },
    )


@router.get("/indicators/{sid}/nodes/{nid}/edit")
def edit_node_form(
    request: Request,
    sid: int,
    nid: int,
    p: Principal = Depends(editor),
    db: Session = Depends(get_db),
) -> Response:
    s = _system(db, sid)
    n = _node(db, s, nid)
    return render(
        request,
        "indicators/edit_node.html",
        {
            "system": s,
            "node": n,
            "sources": list(IndicatorSource),
            "directions": list(Direction),
            "error": None,
        },
    )


@router.post("/indicators/{sid}/nodes/{nid}/edit")
def edit_node(
    request: Request,
    sid: int,
    nid: int,
    name_zh: str = Form(...),
    name_en: str = Form(""),
    definition_zh: str = Form(""),
    definition_en: str = Form(""),
    source: str = Form(""),
    source_ref: str = Form(""),
    direction: str = Form("higher"),
    unit: str = Form(""),
    scale_min: str = Form(""),
    scale_max: str = Form(""),
    target: str = Form(""),
    warning: str = Form(""),
    is_veto: str = Form(""),
    p: Principal = Depends(editor),
    db: Session = Depends(get_db),
) -> Response:
    s = _system(db, sid)
    n = _node(db, s, nid)
    try:
        check_editable(s)
    except IndicatorRuleError as exc:
        raise Conflict(str(exc)) from exc
    if not name_zh.strip():
        raise InvalidInput("name_zh: the Chinese name is required")
    if direction not in {d.value for d in Direction}:
        raise InvalidInput(f"direction: '{direction}' must be 'higher' or 'lower'")
    if source and source not in {x.value for x in IndicatorSource}:
        raise InvalidInput(f"source: '{source}' is not a known source")
    lo, hi = _opt_float("scale_min", scale_min), _opt_float("scale_max", scale_max)
    if lo is not None and hi is not None and lo >= hi:
        raise InvalidInput("scale_min must be below scale_max")
    n.name_zh, n.name_en = name_zh.strip(), name_en.strip()
    n.definition_zh, n.definition_en = definition_zh.strip(), definition_en.strip()
    n.source = IndicatorSource(source) if source else None
    n.source_ref = source_ref.strip() or None
    n.direction = Direction(direction)
    n.unit = unit.strip() or None
    n.scale_min, n.scale_max = lo, hi
    n.target, n.warning = _opt_float("target", target), _opt_float("warning", warning)
    n.is_veto = bool(is_veto)
    return RedirectResponse(f"/indicators/{s.id}#n{n.id}", status_code=303)


@router.post("/indicators/{sid}/nodes")
def add_node(
    request: Request,
    sid: int,
    code: str = Form(...),
    name_zh: str = Form(...),
    name_en: str = Form(""),
    parent_id: str = Form(""),
    level: str = Form(...),
    p: Principal = Depends(editor),
    db: Session = Depends(get_db),
) -> Response:
    s = _system(db, sid)
    parent = _node(db, s, int(parent_id)) if parent_id.strip() else None
    try:
        check_editable(s)
        if level not in {lv.value for lv in NodeLevel}:
            raise IndicatorRuleError(f"level '{level}' must be dimension, indicator or item")
        check_child_level(parent, NodeLevel(level))
    except IndicatorRuleError as exc:
        raise InvalidInput(str(exc)) from exc
    if not code.strip() or not name_zh.strip():
        raise InvalidInput("code and name_zh are required")
    db.add(
        IndicatorNode(
            system_id=s.id,
            code=code.strip(),
            parent_id=parent.id if parent else None,
            level=NodeLevel(level),
            name_zh=name_zh.strip(),
            name_en=name_en.strip(),
            sort_order=len(s.nodes),
        )
    )
    try:
        db.flush()
    except IntegrityError as exc:
        raise Conflict(f"an indicator with code '{code.strip()}' already exists") from exc
    return RedirectResponse(f"/indicators/{s.id}", status_code=303)


@router.post("/indicators/{sid}/nodes/{nid}/delete")
def remove_node(
    sid: int, nid: int, p: Principal = Depends(editor), db: Session = Depends(get_db)
) -> Response:
    s = _system(db, sid)
    n = _node(db, s, nid)
    try:
        delete_node(db, n)
    except IndicatorRuleError as exc:
        raise Conflict(str(exc)) from exc
    return RedirectResponse(f"/indicators/{s.id}", status_code=303)


@router.post("/indicators/{sid}/new-version")
def make_version(
    sid: int, p: Principal = Depends(editor), db: Session = Depends(get_db)
) -> Response:
    copy = new_version(db, _system(db, sid))
    return RedirectResponse(f"/indicators/{copy.id}", status_code=303)


@router.post("/indicators/{sid}/publish")
def publish(sid: int, p: Principal = Depends(editor), db: Session = Depends(get_db)) -> Response:
    s = _system(db, sid)
    s.status = "published"
    return RedirectResponse(f"/indicators/{s.id}", status_code=303)


@router.get("/weights")
def profiles(
    request: Request, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    li = 0 if request_locale(request) == "zh" else 1
    rows = all_profiles(db, ProfileKind.INDICATOR_SYSTEM)
    tiers = {t.value: TIER_LABELS[t][li] for t in StoreTier}
    return render(request, "indicators/profiles.html", {"profiles": rows, "tiers": tiers})


@router.get("/weights/{pid}")
def profile_detail(
    request: Request, pid: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    prof = db.get(WeightProfile, pid)
    if prof is None or prof.system is None:  # a checklist's profile: the inspection design
        raise NotFound("no such weight profile")
    locale = request_locale(request)
    rows = tree_rows(prof.system)
    local = {w.node.code: w.weight for w in prof.weights}
    glob = global_weights(node_refs([r.node for r in rows]), local)
    chart = _sunburst(rows, local, locale)
    li = 0 if locale == "zh" else 1
    return render(
        request,
        "indicators/profile.html",
        {
            "profile": prof,
            "rows": rows,
            "local": local,
            "glob": glob,
            "chart": chart,
            "tier_label": TIER_LABELS[StoreTier(prof.tier)][li] if prof.tier else None,
        },
    )


def _sunburst(rows: list, local: dict[str, float], locale: str) -> list[dict[str, object]]:
    """ECharts sunburst data: each node sized by its global weight."""
    by_parent: dict[int | None, list] = {}
    for r in rows:
        by_parent.setdefault(r.node.parent_id, []).append(r.node)

    def build(parent: int | None, scale: float) -> list[dict[str, object]]:
        out = []
        for n in by_parent.get(parent, []):
            g = scale * local.get(n.code, 0.0)
            item: dict[str, object] = {"name": n.name(locale), "value": round(g * 100, 2)}
            kids = build(n.id, g)
            if kids:
                item["children"] = kids
            out.append(item)
        return out

    return build(None, 1.0)
