"""Inspection design pages: checklist versions and their editor, and the weight profiles of a
checklist version (by hand, by AHP, from the customer survey) with their provenance.

Who may do what: anyone who may read the indicator system (or review inspections) reads
checklists and weights; editing a checklist needs ``edit_indicators`` and setting weights
``edit_weights`` — store managers and inspectors have neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.checklist import Capability, Checklist, Evidence, WeightProfile
from sqm.domain.checklist_template import ProfileKey
from sqm.domain.org import TIER_LABELS, UnitKind
from sqm.domain.roles import Permission
from sqm.services.inspections import design
from sqm.services.inspections import visits as iv
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit
from sqm.store.models.inspection import InspectionChecklist
from sqm.web.deps import csrf_protect, current_principal, get_db, load_form, require
from sqm.web.errors import Conflict, Forbidden, NotFound
from sqm.web.templating import render, request_locale

#: The checklist editor sends the whole tree as one form: about a dozen fields per item, so a
#: checklist of 100 items is some 1,500 fields — above Starlette's default limit of 1,000.
MAX_FORM_FIELDS = 20_000


async def load_large_form(request: Request) -> None:
    """:func:`sqm.web.deps.load_form` with room for a whole checklist: the form is parsed
    once here with the larger field limit, and ``load_form`` then reads Starlette's cached
    copy."""
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        await request.form(max_fields=MAX_FORM_FIELDS)
    await load_form(request)


router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_large_form), Depends(csrf_protect)]
)
checklist_editor = require(Permission.EDIT_INDICATORS)
weights_editor = require(Permission.EDIT_WEIGHTS)


def reader(p: Principal = Depends(current_principal)) -> Principal:
    """Readers of the design: those who read the indicator system or review inspections."""
    if not (p.can(Permission.VIEW_INDICATORS) or p.can(Permission.REVIEW_INSPECTIONS)):
        raise Forbidden("this needs the permission 'view_indicators'")
    return p


def _checklist(db: Session, cid: int) -> InspectionChecklist:
    row = db.get(InspectionChecklist, cid)
    if row is None:
        raise NotFound("no such checklist version")
    return row


def _key(slug: str) -> ProfileKey:
    try:
        return ProfileKey.parse(slug)
    except ValueError as exc:
        raise NotFound(f"no weight profile {slug!r}") from exc


def _fields(request: Request) -> dict[str, list[str]]:
    form = request.scope.get("sqm.form")
    if form is None:
        return {}
    return {k: [str(v) for v in form.getlist(k)] for k in form}


def _li(request: Request) -> int:
    return 0 if request_locale(request) == "zh" else 1


# ------------------------------------------------------------------ checklists


@router.get("/inspections/checklists")
def checklists(
    request: Request, p: Principal = Depends(reader), db: Session = Depends(get_db)
) -> Response:
    """Every checklist and its versions: visits made with each, which one new visits use."""
    versions = design.checklist_versions(db)
    stats = {}
    for v in versions:
        cl = iv.checklist_of(v.row)
        stats[v.row.id] = {
            "sections": len(cl.sections),
            "indicators": len(cl.indicators()),
            "items": len(cl.items()),
            "veto": sum(1 for it in cl.items() if it.veto),
            "critical": sum(1 for it in cl.items() if it.critical),
        }
    return render(
        request,
        "inspections/checklists.html",
        {
            "versions": versions,
            "stats": stats,
            "can_edit": p.can(Permission.EDIT_INDICATORS),
        },
    )


@router.get("/inspections/checklists/{cid}")
def checklist_view(
    request: Request,
    cid: int,
    saved: str = "",
    p: Principal = Depends(reader),
    db: Session = Depends(get_db),
) -> Response:
    """One checklist version as a read-only tree (the printable standard)."""
    row = _checklist(db, cid)
    return render(
        request,
        "inspections/checklist.html",
        {
            "row": row,
            "cl": iv.checklist_of(row),
            "zh": request_locale(request) == "zh",
            "n_visits": design.visit_count(db, row.id),
            "saved": saved,
            "can_edit": p.can(Permission.EDIT_INDICATORS),
            "can_weigh": p.can(Permission.EDIT_WEIGHTS),
        },
    )


def _editor(
    request: Request,
    db: Session,
    row: InspectionChecklist,
    header: dict[str, Any],
    nodes: list[dict[str, Any]],
    *,
    errors: list[design.FieldError] | None = None,
    revision: str | None = None,
    status_code: int = 200,
) -> Response:
    by_node: dict[str, list[str]] = {}
    for e in errors or []:
        by_node.setdefault(e.node, []).append(f"{e.field}: {e.message}")
    children: dict[str, list[dict[str, Any]]] = {}
    for n in nodes:
        children.setdefault(str(n.get("parent") or ""), []).append(n)
    return render(
        request,
        "inspections/checklist_edit.html",
        {
            "row": row,
            "header": header,
            "children": children,
            "errors": errors or [],
            "by_node": by_node,
            "revision": revision or design.revision_of(row),
            "n_visits": design.visit_count(db, row.id),
            "capabilities": [c.value for c in Capability],
            "evidence_kinds": [e.value for e in Evidence],
        },
        status_code=status_code,
    )


@router.get("/inspections/checklists/{cid}/edit")
def checklist_edit(
    request: Request,
    cid: int,
    p: Principal = Depends(checklist_editor),
    db: Session = Depends(get_db),
) -> Response:
    """The editor: the whole tree in one form, saved all at once."""
    row = _checklist(db, cid)
    cl = iv.checklist_of(row)
    return _editor(request, db, row, design.header_of(cl), design.checklist_nodes(cl))


@router.post("/inspections/checklists/{cid}/edit")
def checklist_save(
    request: Request,
    cid: int,
    p: Principal = Depends(checklist_editor),
    db: Session = Depends(get_db),
) -> Response:
    """Validate and save the edited tree: a new version when visits exist on this one, the
    same version otherwise; with any error nothing is written and the form comes back."""
    row = _checklist(db, cid)
    fields = _fields(request)
    header, nodes = design.nodes_from_fields(fields)
    revision = (fields.get("revision") or [""])[-1]
    try:
        edited = design.checklist_from_nodes(row.code, row.version, header, nodes)
        result = design.save_checklist(db, row, edited, revision=revision, user_id=p.user_id)
    except design.DesignError as exc:
        return _editor(
            request, db, row, header, nodes, errors=exc.errors, revision=revision, status_code=422
        )
    except design.DesignConflict as exc:
        raise Conflict(str(exc)) from exc
    flag = "new" if result.new_version else ("same" if result.changed else "unchanged")
    extra = f"&carried={result.carried}&dropped={result.dropped}"
    return RedirectResponse(
        f"/inspections/checklists/{result.row.id}?saved={flag}{extra}", status_code=303
    )


@router.post("/inspections/checklists/{cid}/active")
def checklist_active(
    request: Request,
    cid: int,
    p: Principal = Depends(checklist_editor),
    db: Session = Depends(get_db),
) -> Response:
    """Retire a version (new visits stop using it) or bring it back."""
    row = _checklist(db, cid)
    fields = _fields(request)
    try:
        design.set_active(db, row, (fields.get("active") or ["0"])[-1] == "1")
    except design.DesignError as exc:
        raise Conflict(str(exc)) from exc
    return RedirectResponse("/inspections/checklists", status_code=303)


# ------------------------------------------------------------------ weight profiles


def _key_label(key: ProfileKey, li: int, tr: Any) -> str:
    prov = {True: tr("in province"), False: tr("out of province"), None: tr("all")}
    return " · ".join(
        [
            TIER_LABELS[key.tier][li],
            prov[key.in_province],
            tr(key.stage.value),
            tr(f"{key.traffic.value} traffic"),
        ]
    )


@router.get("/inspections/weights")
def weights(
    request: Request,
    checklist: int | None = None,
    p: Principal = Depends(reader),
    db: Session = Depends(get_db),
) -> Response:
    """The 48 weight profiles of a checklist version (the current one by default): tier ×
    in/out of province × stage × traffic, each with its section weights and provenance."""
    row = _checklist(db, checklist) if checklist else iv.current_checklist(db)
    cl = iv.checklist_of(row)
    states = design.profile_states(db, row)
    li = _li(request)
    grid: list[dict[str, Any]] = []
    for st in states:
        sw = st.profile.section_weights(cl)
        grid.append(
            {
                "state": st,
                "tier": TIER_LABELS[st.key.tier][li],
                "sections": [round(100 * sw[s.code], 1) for s in cl.sections],
            }
        )
    return render(
        request,
        "inspections/weights.html",
        {
            "row": row,
            "cl": cl,
            "zh": li == 0,
            "grid": grid,
            "versions": [v.row for v in design.checklist_versions(db) if v.row.code == row.code],
        },
    )


def _profile_chart(cl: Checklist, prof: WeightProfile, zh: bool) -> dict[str, Any]:
    """ECharts sunburst: sections (inner ring) → indicators, sized by weight in %."""
    data = []
    for s in cl.sections:
        kids = [
            {
                "name": ind.name_zh if zh else ind.name_en,
                "value": round(100 * prof.indicator_weights[ind.code], 2),
            }
            for ind in s.indicators
        ]
        data.append({"name": s.name_zh if zh else s.name_en, "children": kids})
    return {"type": "sunburst", "data": data}


def _comparison_chart(
    cl: Checklist, prof: WeightProfile, template: WeightProfile, zh: bool, tr: Any
) -> dict[str, Any]:
    """ECharts bars: each section's weight in this profile against the plan's template."""
    mine, base = prof.section_weights(cl), template.section_weights(cl)
    names = [s.name_zh if zh else s.name_en for s in cl.sections]
    return {
        "type": "echarts",
        "option": {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": {"left": 40, "right": 10, "top": 40, "bottom": 70},
            "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 30}},
            "yAxis": {"type": "value", "name": "%"},
            "series": [
                {
                    "type": "bar",
                    "name": tr("This profile"),
                    "data": [round(100 * mine[s.code], 1) for s in cl.sections],
                },
                {
                    "type": "bar",
                    "name": tr("Plan template"),
                    "data": [round(100 * base[s.code], 1) for s in cl.sections],
                },
            ],
        },
    }


def _profile_page(
    request: Request,
    db: Session,
    p: Principal,
    row: InspectionChecklist,
    key: ProfileKey,
    *,
    errors: list[design.FieldError] | None = None,
    entered: dict[str, str] | None = None,
    tab: str = "manual",
    status_code: int = 200,
) -> Response:
    from sqm.web.i18n import gettext_for

    cl = iv.checklist_of(row)
    state = design.profile_state(db, row, key)
    template = iv.template_for(key, cl)
    zh = request_locale(request) == "zh"
    tr = gettext_for(request_locale(request)).gettext
    sw = state.profile.section_weights(cl)
    history = design.profile_history(db, row, key)
    return render(
        request,
        "inspections/weights_profile.html",
        {
            "row": row,
            "cl": cl,
            "key": key,
            "label": _key_label(key, 0 if zh else 1, tr),
            "state": state,
            "zh": zh,
            "sw": sw,
            "chart": _profile_chart(cl, state.profile, zh),
            "comparison": _comparison_chart(cl, state.profile, template, zh, tr),
            "history": history,
            "errors": errors or [],
            "entered": entered or {},
            "tab": tab,
            "periods": design.intercept_periods(db),
            "can_edit": p.can(Permission.EDIT_WEIGHTS),
            "n": len(cl.sections),
        },
        status_code=status_code,
    )


Made = tuple[Mapping[str, float], str, dict[str, Any]]  # weights, method, inputs


def _save(
    request: Request,
    db: Session,
    p: Principal,
    row: InspectionChecklist,
    key: ProfileKey,
    make: Callable[[], Made],
    *,
    tab: str,
    entered: dict[str, str] | None = None,
) -> Response:
    """Make the weights and store them with their provenance; on a rule broken, nothing is
    written and the profile page comes back with the errors (and what was entered)."""
    try:
        weights, method, inputs = make()
        design.save_profile(
            db,
            row,
            key,
            weights,
            method=method,
            inputs=inputs,
            note=(_fields(request).get("note") or [""])[-1].strip(),
            user_id=p.user_id,
        )
    except design.DesignError as exc:
        return _profile_page(
            request, db, p, row, key, errors=exc.errors, entered=entered, tab=tab, status_code=422
        )
    return RedirectResponse(f"/inspections/weights/{row.id}/{key.slug}", status_code=303)


@router.get("/inspections/weights/{cid}/{slug}")
def weight_profile(
    request: Request,
    cid: int,
    slug: str,
    p: Principal = Depends(reader),
    db: Session = Depends(get_db),
) -> Response:
    """One profile: its weights (table and chart), how it was made, its history, and — for
    those who may — the three ways to set it."""
    return _profile_page(request, db, p, _checklist(db, cid), _key(slug))


@router.post("/inspections/weights/{cid}/{slug}/manual")
def weights_manual(
    request: Request,
    cid: int,
    slug: str,
    p: Principal = Depends(weights_editor),
    db: Session = Depends(get_db),
) -> Response:
    """Weights typed by hand, in percent per indicator; they must make 100."""
    row, key = _checklist(db, cid), _key(slug)
    cl = iv.checklist_of(row)
    fields = _fields(request)
    entered = {ind.code: (fields.get(f"w_{ind.code}") or [""])[-1] for ind in cl.indicators()}

    def make() -> Made:
        w = design.manual_weights(cl, entered)
        return w, "manual", {"percent": {k: float(v) for k, v in entered.items()}}

    return _save(request, db, p, row, key, make, tab="manual", entered=entered)


def _ahp_matrix(fields: dict[str, list[str]], n: int) -> np.ndarray:
    upper = {
        (i, j): (fields.get(f"a{i}_{j}") or [""])[-1] for i in range(n) for j in range(i + 1, n)
    }
    return design.pairwise_matrix(n, upper)


def _ahp(
    request: Request, db: Session, row: InspectionChecklist, key: ProfileKey
) -> tuple[design.AhpOutcome, np.ndarray, WeightProfile]:
    cl = iv.checklist_of(row)
    base = design.profile_state(db, row, key).profile
    matrix = _ahp_matrix(_fields(request), len(cl.sections))
    return design.ahp_on_sections(cl, base, matrix), matrix, base


@router.post("/inspections/weights/{cid}/{slug}/ahp/preview")
def weights_ahp_preview(
    request: Request,
    cid: int,
    slug: str,
    p: Principal = Depends(weights_editor),
    db: Session = Depends(get_db),
) -> Response:
    """The AHP result of the matrix as entered so far (HTMX fragment): priorities, λmax,
    CI and the consistency ratio, with the judgments to revisit first."""
    row, key = _checklist(db, cid), _key(slug)
    cl = iv.checklist_of(row)
    try:
        out, _, _ = _ahp(request, db, row, key)
    except design.DesignError as exc:
        return render(request, "inspections/weights_ahp.html", {"errors": exc.errors, "out": None})
    zh = request_locale(request) == "zh"
    names = {s.code: (s.name_zh if zh else s.name_en) for s in cl.sections}
    return render(
        request,
        "inspections/weights_ahp.html",
        {"out": out, "names": names, "errors": [], "labels": [names[c] for c in out.sections]},
    )


@router.post("/inspections/weights/{cid}/{slug}/ahp")
def weights_ahp(
    request: Request,
    cid: int,
    slug: str,
    p: Principal = Depends(weights_editor),
    db: Session = Depends(get_db),
) -> Response:
    """Save AHP weights of the sections (indicators keep their ratios inside a section);
    a matrix with CR ≥ 0.10 is refused."""
    row, key = _checklist(db, cid), _key(slug)

    def make() -> Made:
        out, matrix, base = _ahp(request, db, row, key)
        if not out.result.consistent:
            raise design.DesignError(
                [
                    design.FieldError(
                        "",
                        "matrix",
                        f"the judgments are inconsistent (CR = {out.result.cr:.3f} ≥ 0.10); "
                        "revisit them before saving",
                    )
                ]
            )
        return out.profile.indicator_weights, "ahp", design.ahp_inputs(out, matrix, base)

    return _save(request, db, p, row, key, make, tab="ahp")


def _survey(
    request: Request, db: Session, p: Principal, row: InspectionChecklist, key: ProfileKey
) -> tuple[design.SurveyImportance, WeightProfile, float, WeightProfile]:
    cl = iv.checklist_of(row)
    fields = _fields(request)
    periods = [x for x in fields.get("periods", []) if x]
    try:
        alpha = float((fields.get("alpha") or ["0.5"])[-1])
    except ValueError:
        alpha = float("nan")
    if not 0 < alpha < 1:
        raise design.DesignError(
            [design.FieldError("", "alpha", "the customers' share must lie between 0 and 1")]
        )
    units = list(
        db.scalars(select(OrgUnit.id).where(p.unit_filter(), OrgUnit.kind == UnitKind.STORE))
    )
    si = design.survey_importance(db, cl, periods, unit_ids=units)
    base = iv.template_for(key, cl)
    prof = iv.profile_from_importance(base, cl, si.indicators, alpha=alpha)
    return si, prof, alpha, base


@router.post("/inspections/weights/{cid}/{slug}/survey/preview")
def weights_survey_preview(
    request: Request,
    cid: int,
    slug: str,
    p: Principal = Depends(weights_editor),
    db: Session = Depends(get_db),
) -> Response:
    """What the customers' importance would give (HTMX fragment): item importance, the
    indicators it lands on, and the blended weights against the template."""
    row, key = _checklist(db, cid), _key(slug)
    cl = iv.checklist_of(row)
    zh = request_locale(request) == "zh"
    try:
        si, prof, alpha, base = _survey(request, db, p, row, key)
    except design.DesignError as exc:
        return render(
            request, "inspections/weights_survey.html", {"errors": exc.errors, "si": None}
        )
    names = {ind.code: (ind.name_zh if zh else ind.name_en) for ind in cl.indicators()}
    return render(
        request,
        "inspections/weights_survey.html",
        {
            "si": si,
            "prof": prof,
            "base": base,
            "alpha": alpha,
            "names": names,
            "cl": cl,
            "zh": zh,
            "errors": [],
        },
    )


@router.post("/inspections/weights/{cid}/{slug}/survey")
def weights_survey(
    request: Request,
    cid: int,
    slug: str,
    p: Principal = Depends(weights_editor),
    db: Session = Depends(get_db),
) -> Response:
    """Save weights blended from the plan's template and the customers' derived importance."""
    row, key = _checklist(db, cid), _key(slug)

    def make() -> Made:
        si, prof, alpha, base = _survey(request, db, p, row, key)
        inputs = design.survey_inputs(si, alpha, base)
        return prof.indicator_weights, "customer_importance", inputs

    return _save(request, db, p, row, key, make, tab="survey")


@router.post("/inspections/weights/{cid}/{slug}/reset")
def weights_reset(
    cid: int,
    slug: str,
    p: Principal = Depends(weights_editor),
    db: Session = Depends(get_db),
) -> Response:
    """Go back to the plan's template profile (the edited rows stay in the history)."""
    row, key = _checklist(db, cid), _key(slug)
    design.reset_profile(db, row, key)
    return RedirectResponse(f"/inspections/weights/{row.id}/{key.slug}", status_code=303)
