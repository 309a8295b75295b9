"""Pages to design survey instruments and plan survey waves (``manage_surveys``).

- ``/survey-design`` — the instruments with their versions and answers;
- ``/survey-design/instruments/new`` — a new instrument from a shipped template or empty;
- ``/survey-design/instruments/{code}`` — its version history and previews;
- ``/survey-design/instruments/{code}/edit`` — the editor: dimensions, groups, questions of
  every type, bilingual texts, show/skip conditions. Structural edits (add a question …)
  re-render the draft without writing anything; *Save* checks every field and stores the
  instrument under the versioning rule (answers exist → a new version);
- ``/survey-design/instruments/{code}/versions/{n}/preview`` — the phone form of a version,
  drawn by the customers' own template in a frame that cannot send answers;
- ``/survey-design/waves/new`` — a new wave: period, instrument version, target stores by
  subtree and tier, quotas (proportional to traffic with a minimum per store, optionally
  interlocked with segments), what a full cell does, the link type, a live sample-size
  calculator; the quota allocation is previewed and then created exactly as previewed.

Opening and closing a wave is on the wave's own page (``/surveys/{id}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from sqm.domain.instrument import (
    PROFILE_DIMENSION,
    ConditionOp,
    Facet,
    ProfileKind,
    QuestionType,
)
from sqm.domain.instrument_draft import (
    AUDIENCES,
    POINTS,
    InstrumentDraft,
    apply_edit,
    draft_of,
    question_fields,
    unflatten,
)
from sqm.domain.org import TIER_LABELS, StoreTier
from sqm.domain.wave import FullPolicy, LinkMode
from sqm.services.scope import Principal
from sqm.services.surveys import design
from sqm.services.surveys.fielding import instrument_of
from sqm.services.surveys.links import links_csv, token_links
from sqm.store.models import SurveyInstrument
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.permissions import SurveyManager
from sqm.web.surveys.deps import Signer
from sqm.web.templating import render, request_locale, templates

router = APIRouter(
    prefix="/survey-design",
    include_in_schema=False,
    dependencies=[Depends(load_form), Depends(csrf_protect)],
)


class _Form(BaseModel):
    # a form's text fields come stripped, as typed values are checked by the services
    model_config = ConfigDict(str_strip_whitespace=True)


class NewInstrumentForm(_Form):
    """A new instrument: the template to copy (empty: start from nothing), code, names."""

    template: str = ""
    code: str = ""
    name_zh: str = ""
    name_en: str = ""


class EditorForm(BaseModel):
    """The editor's form. Its fields are the draft's own — ``g0.q1.code``, ``d2.name_en`` …,
    as many as the draft has — so they cannot be declared: the model keeps every posted
    field (``extra="allow"``; a field sent several times arrives as a list) and
    :meth:`fields` hands them to :func:`~sqm.domain.instrument_draft.unflatten`, which
    knows their shape. Only ``op`` (``save`` or a structural edit such as
    ``add_question:0``) and ``is_new`` are the form's own."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    op: str = "save"
    is_new: str = ""

    def fields(self) -> dict[str, list[str]]:
        """The draft's fields as ``key → values`` (text values only)."""
        out: dict[str, list[str]] = {}
        for key, value in (self.model_extra or {}).items():
            values = value if isinstance(value, list) else [value]
            texts = [v for v in values if isinstance(v, str)]
            if texts:
                out[key] = texts
        return out


class WaveForm(_Form):
    """The new-wave form: the wave's request, what to do with it (``preview``, ``create``
    — as previewed, with the preview's fingerprint — or ``calc``), and the calculator."""

    code: str = ""
    name: str = ""
    period_id: str = ""
    instrument_id: str = ""
    root_id: str = ""
    tiers: list[str] = []
    total: str = ""
    minimum: str = ""
    interlocked: str = ""
    share_ordinary: str = ""
    share_business: str = ""
    full_policy: str = ""
    link_mode: str = ""
    tokens_per_store: str = ""
    open_now: str = ""
    action: str = "preview"
    previewed: str = ""
    calc_margin: str = ""
    calc_confidence: str = ""
    calc_population: str = ""
    calc_sd: str = ""

    def request(self) -> design.WaveRequest:
        """The wave as requested (all strings; the services check them)."""
        return design.WaveRequest(
            code=self.code,
            name=self.name,
            period_id=self.period_id,
            instrument_id=self.instrument_id,
            root_id=self.root_id,
            tiers=self.tiers,
            total=self.total,
            minimum=self.minimum,
            interlocked=self.interlocked == "1",
            shares={seg: getattr(self, f"share_{seg}") for seg in design.SEGMENTS},
            full_policy=self.full_policy,
            link_mode=self.link_mode,
            tokens_per_store=self.tokens_per_store,
            open_now=self.open_now == "1",
        )

    def calc_values(self) -> dict[str, str]:
        """The sample-size calculator's inputs."""
        return {
            "calc_margin": self.calc_margin,
            "calc_confidence": self.calc_confidence,
            "calc_population": self.calc_population,
            "calc_sd": self.calc_sd,
        }


# ---------------------------------------------------------------- instruments


@router.get("", response_class=HTMLResponse)
def instruments_page(request: Request, p: SurveyManager, db: Db) -> HTMLResponse:
    """Every instrument: code, names, versions, and whether answers exist."""
    return render(
        request, "surveys/design_instruments.html", {"instruments": design.instrument_summaries(db)}
    )


@router.get("/instruments/new", response_class=HTMLResponse)
def new_instrument_page(
    request: Request, p: SurveyManager, db: Db, template: str = "nps_csat"
) -> HTMLResponse:
    """Choose a template (or an empty instrument), a code and names."""
    template = template if template in dict(design.template_choices()) or template == "" else ""
    values = {
        "template": template,
        "code": design.suggest_code(db, template or "custom"),
        "name_zh": "",
        "name_en": "",
    }
    return render(request, "surveys/design_new.html", _new_context(values, {}))


def _new_context(values: dict[str, str], errors: dict[str, Any]) -> dict[str, Any]:
    return {"values": values, "errors": errors, "templates_": design.template_choices()}


@router.post("/instruments/new", response_model=None)
def new_instrument(
    request: Request, p: SurveyManager, form: Annotated[NewInstrumentForm, Form()], db: Db
) -> Response:
    """Store a copy of a template under the chosen code, or open the editor on an empty
    draft (stored at its first valid save)."""
    result = design.start_instrument(
        db, template=form.template, code=form.code, name_zh=form.name_zh, name_en=form.name_en
    )
    if result.errors:
        return render(
            request,
            "surveys/design_new.html",
            _new_context(form.model_dump(), result.errors),
            status_code=422,
        )
    if result.row is not None:
        return RedirectResponse(
            f"/survey-design/instruments/{result.row.code}?saved=created", status_code=303
        )
    assert result.draft is not None
    return _editor(request, result.draft, None, is_new=True)


@router.get("/instruments/{code}", response_class=HTMLResponse)
def instrument_page(
    request: Request, code: str, p: SurveyManager, db: Db, saved: str | None = None
) -> HTMLResponse:
    """The versions of one instrument with their answers, previews, and the editor link."""
    latest = design.instrument_row(db, code)
    return render(
        request,
        "surveys/design_instrument.html",
        {
            "row": latest,
            "inst": instrument_of(latest),
            "versions": design.version_history(db, code),
            "saved": saved,
        },
    )


def _condition_fields(draft: InstrumentDraft) -> dict[str, list[str]]:
    """For each group (``g0``) and question (``g0-q1``) the answer fields asked before it
    — what its show/skip condition may refer to."""
    out: dict[str, list[str]] = {}
    seen: list[str] = []
    for i, g in enumerate(draft.groups):
        out[f"g{i}"] = list(seen)
        for j, q in enumerate(g.questions):
            out[f"g{i}-q{j}"] = list(seen)
            seen.extend(f for f in question_fields(q) if f not in seen)
    return out


def _editor(
    request: Request,
    draft: InstrumentDraft,
    latest: SurveyInstrument | None,
    *,
    is_new: bool,
    usage: tuple[int, int] = (0, 0),
    errors: dict[str, Any] | None = None,
    anchor: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "surveys/design_editor.html",
        {
            "draft": draft,
            "latest": latest,
            "is_new": is_new,
            "answers": usage[0],
            "waves": usage[1],
            "errors": errors or {},
            "anchor": anchor,
            "cond_fields": _condition_fields(draft),
            "types": [t.value for t in QuestionType],
            "points": {t.value: ps for t, ps in POINTS.items()},
            "ops": [o.value for o in ConditionOp],
            "facets": [f.value for f in Facet],
            "profiles": [k.value for k in ProfileKind],
            "audiences": AUDIENCES,
            "profile_dim": PROFILE_DIMENSION,
            "action": f"/survey-design/instruments/{draft.code}/edit",
        },
        status_code=status_code,
    )


@router.get("/instruments/{code}/edit", response_class=HTMLResponse)
def edit_page(request: Request, code: str, p: SurveyManager, db: Db) -> HTMLResponse:
    """The editor on the latest version of the instrument."""
    latest = design.instrument_row(db, code)
    return _editor(
        request,
        draft_of(instrument_of(latest)),
        latest,
        is_new=False,
        usage=design.usage_of(db, latest.id),
    )


@router.post("/instruments/{code}/edit", response_model=None)
def edit(
    request: Request, code: str, p: SurveyManager, form: Annotated[EditorForm, Form()], db: Db
) -> Response:
    """A structural edit (``op`` = ``add_question:0`` …) re-renders the draft; ``op`` =
    ``save`` checks and stores it (422 with the messages next to the fields otherwise)."""
    is_new = form.is_new == "1"
    latest = None if is_new else design.instrument_row(db, code)
    draft = unflatten(form.fields())
    draft.code = code
    if latest is not None:
        draft.kind = latest.kind
    usage = design.usage_of(db, latest.id) if latest is not None else (0, 0)
    if form.op != "save":
        draft, anchor = apply_edit(draft, form.op)
        return _editor(request, draft, latest, is_new=is_new, usage=usage, anchor=anchor)
    result = design.save_draft(db, draft, new=is_new)
    if result.errors or result.row is None:
        return _editor(
            request,
            draft,
            latest,
            is_new=is_new,
            usage=usage,
            errors=result.errors,
            status_code=422,
        )
    return RedirectResponse(
        f"/survey-design/instruments/{code}?saved={result.change}&v={result.row.version}",
        status_code=303,
    )


@router.get("/instruments/{code}/versions/{version}/preview", response_class=HTMLResponse)
def preview_page(
    request: Request,
    code: str,
    version: int,
    p: SurveyManager,
    db: Db,
    lang: str | None = None,
) -> HTMLResponse:
    """The phone form of one version in a phone-sized frame (answers cannot be sent)."""
    row = design.instrument_row(db, code, version)
    lang = lang or request_locale(request)
    return render(
        request,
        "surveys/design_preview.html",
        {"row": row, "inst": instrument_of(row), "lang": "en" if lang == "en" else "zh"},
    )


@router.get("/instruments/{code}/versions/{version}/form", response_class=HTMLResponse)
def preview_form(
    request: Request,
    code: str,
    version: int,
    p: SurveyManager,
    db: Db,
    lang: str | None = None,
) -> HTMLResponse:
    """The customers' form template itself, for the preview frame. The browser is told that
    this page may submit no form (``form-action 'none'``) and may only be framed by SQM."""
    row = design.instrument_row(db, code, version)
    inst = instrument_of(row)
    lang = "en" if lang == "en" else "zh"
    response = templates.TemplateResponse(
        request,
        "surveys/public_form.html",
        {
            "lang": lang,
            "inst": inst,
            "dims": inst.dimension_map(),
            "token": "preview",
            "store": "Preview — sample store" if lang == "en" else "预览 · 示例门店",
            "answers": {},
            "errors": {},
            "shown": None,
            "QuestionType": QuestionType,
        },
    )
    response.headers["Content-Security-Policy"] = "form-action 'none'; frame-ancestors 'self'"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# ---------------------------------------------------------------- sample size


def _calc(values: Mapping[str, str]) -> design.SampleSize:
    return design.sample_size(
        values.get("calc_margin", ""),
        values.get("calc_confidence") or "95",
        values.get("calc_population", ""),
        values.get("calc_sd", ""),
    )


class CalcQuery(BaseModel):
    """The sample-size calculator's inputs (margin, confidence, population, sd), as typed."""

    calc_margin: str = ""
    calc_confidence: str = ""
    calc_population: str = ""
    calc_sd: str = ""


@router.get("/sample-size", response_class=HTMLResponse)
def sample_size_fragment(
    request: Request, p: SurveyManager, q: Annotated[CalcQuery, Query()]
) -> HTMLResponse:
    """The calculator's result (an HTML fragment, refreshed live as the inputs change)."""
    return render(request, "surveys/design_sample_size.html", {"calc": _calc(q.model_dump())})


# ---------------------------------------------------------------- waves


def _wave_page(
    request: Request,
    db: Session,
    p: Principal,
    req: design.WaveRequest,
    *,
    errors: dict[str, Any] | None = None,
    plan: design.WavePlan | None = None,
    calc: design.SampleSize | None = None,
    calc_values: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    locale = request_locale(request)
    calc_values = calc_values or {"calc_margin": "5", "calc_confidence": "95"}
    if calc is None:
        calc = _calc(calc_values)
    return render(
        request,
        "surveys/design_wave_new.html",
        {
            "req": req,
            "errors": errors or {},
            "periods": design.period_choices(db),
            "instruments": design.instrument_choices(db),
            "subtrees": design.subtree_choices(db, p),
            "tiers": [(t.value, TIER_LABELS[t][1 if locale == "en" else 0]) for t in StoreTier],
            "no_tier": design.NO_TIER,
            "segments": design.SEGMENTS,
            "policies": [f.value for f in FullPolicy],
            "link_modes": [m.value for m in LinkMode],
            "plan": plan,
            "preview": design.allocation_preview(plan) if plan is not None else None,
            "fingerprint": design.plan_fingerprint(plan) if plan is not None else "",
            "tier_label": design.tier_label,
            "calc": calc,
            "calc_values": calc_values,
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/waves/new", response_class=HTMLResponse)
def new_wave_page(
    request: Request, p: SurveyManager, db: Db, instrument_id: str = ""
) -> HTMLResponse:
    """The new-wave form (``?instrument_id=`` preselects an instrument version)."""
    req = design.WaveRequest(instrument_id=instrument_id)
    periods = design.period_choices(db)
    open_periods = [x for x in periods if x.status == "open"]
    if periods:
        req.period_id = str((open_periods or periods)[0].id)
    roots = design.subtree_choices(db, p)
    if roots:
        req.root_id = str(roots[0].id)
    return _wave_page(request, db, p, req)


@router.post("/waves/new", response_model=None)
def new_wave(
    request: Request,
    p: SurveyManager,
    form: Annotated[WaveForm, Form()],
    db: Db,
    signer: Signer,
) -> Response:
    """``action=preview`` shows the quota allocation; ``action=create`` creates the wave as
    previewed (a plan that differs from the preview is shown again instead);
    ``action=calc`` runs the sample-size calculator without JavaScript."""
    req = form.request()
    calc_values = form.calc_values()
    if form.action == "calc":
        return _wave_page(request, db, p, req, calc_values=calc_values)
    plan, errors = design.check_wave_request(db, p, req)
    if plan is None:
        return _wave_page(
            request, db, p, req, errors=errors, calc_values=calc_values, status_code=422
        )
    if form.action != "create":
        return _wave_page(request, db, p, req, plan=plan, calc_values=calc_values)
    if form.previewed != design.plan_fingerprint(plan):
        return _wave_page(
            request,
            db,
            p,
            req,
            plan=plan,
            calc_values=calc_values,
            notice="changed",
            status_code=409,
        )
    wave, tokens = design.create_planned_wave(db, signer, plan)
    if not tokens:
        return RedirectResponse(f"/surveys/{wave.id}", status_code=303)
    links = token_links(str(request.base_url), tokens)
    return render(
        request,
        "surveys/design_wave_created.html",
        {
            "wave": wave,
            "links": links,
            "stores": {s.code: s for s in plan.stores},
            "csv": links_csv(links),
        },
        status_code=201,
    )
