"""Inspection design pages: checklist versions and their editor, and the weight profiles of a
checklist version (by hand, by AHP, from the customer survey) with their provenance.

Who may do what: anyone who may read the indicator system (or review inspections) reads
checklists and weights; editing a checklist needs ``edit_indicators`` and setting weights
``edit_weights`` — store managers and inspectors have neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from sqm.domain.checklist import Capability, Checklist, Evidence, WeightProfile
from sqm.domain.checklist_template import ProfileKey
from sqm.domain.org import TIER_LABELS
from sqm.domain.roles import Permission
from sqm.lazy import lazy_import
from sqm.services.inspections import design
from sqm.services.inspections import visits as iv
from sqm.services.scope import Principal
from sqm.store.models.inspection import InspectionChecklist
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.errors import NotFound
from sqm.web.permissions import DesignReader, IndicatorEditor, WeightEditor
from sqm.web.templating import render, request_locale

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_import("numpy")

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


def checklist_row(cid: Annotated[int, Path(ge=1, le=2**63 - 1)], db: Db) -> InspectionChecklist:
    """The checklist version ``{cid}`` (404 when there is none)."""
    row = db.get(InspectionChecklist, cid)
    if row is None:
        raise NotFound("no such checklist version")
    return row


def profile_key(slug: str) -> ProfileKey:
    """The weight-profile key ``{slug}`` (``tier.in|out|any.stage.traffic``; 404 otherwise)."""
    try:
        return ProfileKey.parse(slug)
    except ValueError as exc:
        raise NotFound(f"no weight profile {slug!r}") from exc


ChecklistRow = Annotated[InspectionChecklist, Depends(checklist_row)]
Key = Annotated[ProfileKey, Depends(profile_key)]


async def form_fields(request: Request) -> dict[str, list[str]]:
    """Every field of a form whose field names depend on the checklist (the editor's node
    keys, ``w_<indicator>``, ``a<i>_<j>``), as lists; parsed once by :func:`load_large_form`."""
    form = await request.form()
    return {k: [str(v) for v in form.getlist(k)] for k in form}


FormFields = Annotated[dict[str, list[str]], Depends(form_fields)]


class ActiveForm(BaseModel):
    """Retire a checklist version (``0``) or bring it back (``1``)."""

    active: str = "0"


class SurveyForm(BaseModel):
    """Weights from the customers: the survey periods and the customers' share α."""

    periods: list[str] = []
    alpha: str = "0.5"
    note: str = ""


def _li(request: Request) -> int:
    return 0 if request_locale(request) == "zh" else 1


# ------------------------------------------------------------------ checklists


@router.get("/inspections/checklists")
def checklists(request: Request, p: DesignReader, db: Db) -> Response:
    """Every checklist and its versions: visits made with each, which one new visits use."""
    return render(
        request,
        "inspections/checklists.html",
        {
            "versions": design.checklist_versions(db),
            "can_edit": p.can(Permission.EDIT_INDICATORS),
        },
    )


@router.get("/inspections/checklists/{cid}")
def checklist_view(
    request: Request, p: DesignReader, row: ChecklistRow, db: Db, saved: str = ""
) -> Response:
    """One checklist version as a read-only tree (the printable standard)."""
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
    db: Db,
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
def checklist_edit(request: Request, p: IndicatorEditor, row: ChecklistRow, db: Db) -> Response:
    """The editor: the whole tree in one form, saved all at once."""
    cl = iv.checklist_of(row)
    return _editor(request, db, row, design.header_of(cl), design.checklist_nodes(cl))


@router.post("/inspections/checklists/{cid}/edit")
def checklist_save(
    request: Request, p: IndicatorEditor, row: ChecklistRow, fields: FormFields, db: Db
) -> Response:
    """Validate and save the edited tree: a new version when visits exist on this one, the
    same version otherwise; with any error nothing is written and the form comes back (an
    edit over someone else's newer save is refused: 409)."""
    header, nodes = design.nodes_from_fields(fields)
    revision = (fields.get("revision") or [""])[-1]
    try:
        edited = design.checklist_from_nodes(row.code, row.version, header, nodes)
        result = design.save_checklist(db, row, edited, revision=revision, user_id=p.user_id)
    except design.DesignError as exc:
        return _editor(
            request, db, row, header, nodes, errors=exc.errors, revision=revision, status_code=422
        )
    flag = "new" if result.new_version else ("same" if result.changed else "unchanged")
    extra = f"&carried={result.carried}&dropped={result.dropped}"
    return RedirectResponse(
        f"/inspections/checklists/{result.row.id}?saved={flag}{extra}", status_code=303
    )


@router.post("/inspections/checklists/{cid}/active")
def checklist_active(
    p: IndicatorEditor, row: ChecklistRow, form: Annotated[ActiveForm, Form()], db: Db
) -> Response:
    """Retire a version (new visits stop using it) or bring it back; the last active version
    of a checklist cannot retire (409)."""
    design.set_active(db, row, form.active == "1")
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
def weights(request: Request, p: DesignReader, db: Db, checklist: int | None = None) -> Response:
    """The 48 weight profiles of a checklist version (the current one by default): tier ×
    in/out of province × stage × traffic, each with its section weights and provenance."""
    row = checklist_row(checklist, db) if checklist else iv.current_checklist(db)
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
    db: Db,
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
    db: Db,
    p: Principal,
    row: InspectionChecklist,
    key: ProfileKey,
    make: Callable[[], Made],
    *,
    note: str,
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
            note=note.strip(),
            user_id=p.user_id,
        )
    except design.DesignError as exc:
        return _profile_page(
            request, db, p, row, key, errors=exc.errors, entered=entered, tab=tab, status_code=422
        )
    return RedirectResponse(f"/inspections/weights/{row.id}/{key.slug}", status_code=303)


@router.get("/inspections/weights/{cid}/{slug}")
def weight_profile(
    request: Request, p: DesignReader, row: ChecklistRow, key: Key, db: Db
) -> Response:
    """One profile: its weights (table and chart), how it was made, its history, and — for
    those who may — the three ways to set it."""
    return _profile_page(request, db, p, row, key)


@router.post("/inspections/weights/{cid}/{slug}/manual")
def weights_manual(
    request: Request, p: WeightEditor, row: ChecklistRow, key: Key, fields: FormFields, db: Db
) -> Response:
    """Weights typed by hand, in percent per indicator; they must make 100."""
    cl = iv.checklist_of(row)
    entered = {ind.code: (fields.get(f"w_{ind.code}") or [""])[-1] for ind in cl.indicators()}

    def make() -> Made:
        w = design.manual_weights(cl, entered)
        return w, "manual", {"percent": {k: float(v) for k, v in entered.items()}}

    note = (fields.get("note") or [""])[-1]
    return _save(request, db, p, row, key, make, note=note, tab="manual", entered=entered)


def _ahp_matrix(fields: dict[str, list[str]], n: int) -> np.ndarray:
    upper = {
        (i, j): (fields.get(f"a{i}_{j}") or [""])[-1] for i in range(n) for j in range(i + 1, n)
    }
    return design.pairwise_matrix(n, upper)


def _ahp(
    fields: dict[str, list[str]], db: Db, row: InspectionChecklist, key: ProfileKey
) -> tuple[design.AhpOutcome, np.ndarray, WeightProfile]:
    cl = iv.checklist_of(row)
    base = design.profile_state(db, row, key).profile
    matrix = _ahp_matrix(fields, len(cl.sections))
    return design.ahp_on_sections(cl, base, matrix), matrix, base


@router.post("/inspections/weights/{cid}/{slug}/ahp/preview")
def weights_ahp_preview(
    request: Request, p: WeightEditor, row: ChecklistRow, key: Key, fields: FormFields, db: Db
) -> Response:
    """The AHP result of the matrix as entered so far (HTMX fragment): priorities, λmax,
    CI and the consistency ratio, with the judgments to revisit first."""
    cl = iv.checklist_of(row)
    try:
        out, _, _ = _ahp(fields, db, row, key)
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
    request: Request, p: WeightEditor, row: ChecklistRow, key: Key, fields: FormFields, db: Db
) -> Response:
    """Save AHP weights of the sections (indicators keep their ratios inside a section);
    a matrix with CR ≥ 0.10 is refused."""

    def make() -> Made:
        out, matrix, base = _ahp(fields, db, row, key)
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

    note = (fields.get("note") or [""])[-1]
    return _save(request, db, p, row, key, make, note=note, tab="ahp")


def _survey(
    form: SurveyForm, db: Db, p: Principal, row: InspectionChecklist, key: ProfileKey
) -> tuple[design.SurveyImportance, WeightProfile, float, WeightProfile]:
    cl = iv.checklist_of(row)
    periods = [x for x in form.periods if x]
    try:
        alpha = float(form.alpha or "0.5")
    except ValueError:
        alpha = float("nan")
    if not 0 < alpha < 1:
        raise design.DesignError(
            [design.FieldError("", "alpha", "the customers' share must lie between 0 and 1")]
        )
    si = design.survey_importance(db, cl, periods, unit_ids=design.stores_seen_by(db, p))
    base = iv.template_for(key, cl)
    prof = iv.profile_from_importance(base, cl, si.indicators, alpha=alpha)
    return si, prof, alpha, base


@router.post("/inspections/weights/{cid}/{slug}/survey/preview")
def weights_survey_preview(
    request: Request,
    p: WeightEditor,
    row: ChecklistRow,
    key: Key,
    form: Annotated[SurveyForm, Form()],
    db: Db,
) -> Response:
    """What the customers' importance would give (HTMX fragment): item importance, the
    indicators it lands on, and the blended weights against the template."""
    cl = iv.checklist_of(row)
    zh = request_locale(request) == "zh"
    try:
        si, prof, alpha, base = _survey(form, db, p, row, key)
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
    p: WeightEditor,
    row: ChecklistRow,
    key: Key,
    form: Annotated[SurveyForm, Form()],
    db: Db,
) -> Response:
    """Save weights blended from the plan's template and the customers' derived importance."""

    def make() -> Made:
        si, prof, alpha, base = _survey(form, db, p, row, key)
        inputs = design.survey_inputs(si, alpha, base)
        return prof.indicator_weights, "customer_importance", inputs

    return _save(request, db, p, row, key, make, note=form.note, tab="survey")


@router.post("/inspections/weights/{cid}/{slug}/reset")
def weights_reset(p: WeightEditor, row: ChecklistRow, key: Key, db: Db) -> Response:
    """Go back to the plan's template profile (the edited rows stay in the history)."""
    design.reset_profile(db, row, key)
    return RedirectResponse(f"/inspections/weights/{row.id}/{key.slug}", status_code=303)
