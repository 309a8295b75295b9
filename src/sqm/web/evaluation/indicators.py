"""Indicator system viewer and editor, and the weight profile viewer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from sqm.domain.indicator import Direction, IndicatorSource
from sqm.domain.org import TIER_LABELS, StoreTier
from sqm.domain.roles import Permission
from sqm.services.evaluation import indicator_system as ind
from sqm.services.evaluation.weight_profile import global_weights, node_refs
from sqm.services.scope import Principal
from sqm.store.models import IndicatorSystem, WeightProfile
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.errors import NotFound
from sqm.web.evaluation.deps import NodeOfSystem, SystemById
from sqm.web.permissions import IndicatorEditor, IndicatorViewer
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


class NodeForm(BaseModel):
    name_zh: str
    name_en: str = ""
    definition_zh: str = ""
    definition_en: str = ""
    source: str = ""
    source_ref: str = ""
    direction: str = "higher"
    unit: str = ""
    scale_min: str = ""
    scale_max: str = ""
    target: str = ""
    warning: str = ""
    is_veto: str = ""


class NewNodeForm(BaseModel):
    code: str
    name_zh: str
    name_en: str = ""
    parent_id: str = ""
    level: str


@router.get("/indicators")
def systems(request: Request, p: IndicatorViewer, db: Db) -> Response:
    return render(request, "indicators/systems.html", {"systems": ind.list_systems(db)})


def _tree_page(
    request: Request,
    p: Principal,
    s: IndicatorSystem,
    db: Session,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    can_edit = p.can(Permission.EDIT_INDICATORS) and s.status != "published"
    if problems is None:  # a draft's editor sees what stands in the way of publishing it
        problems = ind.publish_problems(db, s) if can_edit else []
    return render(
        request,
        "indicators/tree.html",
        {
            "system": s,
            "rows": ind.tree_rows(s),
            "can_edit": can_edit,
            "can_version": p.can(Permission.EDIT_INDICATORS),
            "profiles": ind.profiles_using(db, s),
            "problems": problems,
        },
        status_code=status_code,
    )


@router.get("/indicators/{sid}")
def system_tree(request: Request, p: IndicatorViewer, s: SystemById, db: Db) -> Response:
    return _tree_page(request, p, s, db)


@router.get("/indicators/{sid}/nodes/{nid}/edit")
def edit_node_form(
    request: Request, p: IndicatorEditor, s: SystemById, n: NodeOfSystem
) -> Response:
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
    p: IndicatorEditor, s: SystemById, n: NodeOfSystem, form: Annotated[NodeForm, Form()]
) -> Response:
    edit = ind.NodeEdit(**form.model_dump(exclude={"is_veto"}), is_veto=bool(form.is_veto))
    ind.edit_node(s, n, edit)
    return RedirectResponse(f"/indicators/{s.id}#n{n.id}", status_code=303)


@router.post("/indicators/{sid}/nodes")
def add_node(
    p: IndicatorEditor, s: SystemById, form: Annotated[NewNodeForm, Form()], db: Db
) -> Response:
    pid = form.parent_id.strip()
    parent = ind.system_node(db, s, int(pid)) if pid else None
    ind.add_node(
        db, s, parent, code=form.code, level=form.level, name_zh=form.name_zh, name_en=form.name_en
    )
    return RedirectResponse(f"/indicators/{s.id}", status_code=303)


@router.post("/indicators/{sid}/nodes/{nid}/delete")
def remove_node(p: IndicatorEditor, s: SystemById, n: NodeOfSystem, db: Db) -> Response:
    ind.delete_node(db, n)
    return RedirectResponse(f"/indicators/{s.id}", status_code=303)


@router.post("/indicators/{sid}/new-version")
def make_version(p: IndicatorEditor, s: SystemById, db: Db) -> Response:
    copy = ind.new_version(db, s)
    return RedirectResponse(f"/indicators/{copy.id}", status_code=303)


@router.post("/indicators/{sid}/publish")
def publish(request: Request, p: IndicatorEditor, s: SystemById, db: Db) -> Response:
    """Publish the version, or show the tree again with every problem (nothing changed)."""
    try:
        ind.publish(db, s)
    except ind.PublishRefused as exc:
        return _tree_page(request, p, s, db, exc.problems, status_code=422)
    return RedirectResponse(f"/indicators/{s.id}", status_code=303)


@router.get("/weights")
def profiles(request: Request, p: IndicatorViewer, db: Db) -> Response:
    li = 0 if request_locale(request) == "zh" else 1
    tiers = {t.value: TIER_LABELS[t][li] for t in StoreTier}
    return render(
        request, "indicators/profiles.html", {"profiles": ind.all_profiles(db), "tiers": tiers}
    )


@router.get("/weights/{pid}")
def profile_detail(
    request: Request, p: IndicatorViewer, pid: Annotated[int, Path(ge=1, le=2**63 - 1)], db: Db
) -> Response:
    prof = db.get(WeightProfile, pid)
    if prof is None or prof.system is None:  # a checklist's profile: the inspection design
        raise NotFound("no such weight profile")
    locale = request_locale(request)
    rows = ind.tree_rows(prof.system)
    local = {w.node.code: w.weight for w in prof.weights}
    li = 0 if locale == "zh" else 1
    return render(
        request,
        "indicators/profile.html",
        {
            "profile": prof,
            "rows": rows,
            "local": local,
            "glob": global_weights(node_refs([r.node for r in rows]), local),
            "chart": _sunburst(rows, local, locale),
            "tier_label": TIER_LABELS[StoreTier(prof.tier)][li] if prof.tier else None,
        },
    )


def _sunburst(
    rows: list[ind.TreeRow], local: dict[str, float], locale: str
) -> list[dict[str, Any]]:
    """ECharts sunburst data: each node sized by its global weight."""
    by_parent: dict[int | None, list[Any]] = {}
    for r in rows:
        by_parent.setdefault(r.node.parent_id, []).append(r.node)

    def build(parent: int | None, scale: float) -> list[dict[str, Any]]:
        out = []
        for n in by_parent.get(parent, []):
            g = scale * local.get(n.code, 0.0)
            item: dict[str, Any] = {"name": n.name(locale), "value": round(g * 100, 2)}
            kids = build(n.id, g)
            if kids:
                item["children"] = kids
            out.append(item)
        return out

    return build(None, 1.0)
