"""Analyst pages and JSON API of customer research: waves, quota progress, store links and
QR codes, raw-answer exports (CSV, Excel, SPSS) and the analysis with charts.

Everything is filtered to the user's scope: a store manager sees the quota and the
analysis of their own stores only; a wave's raw answers and links need
``manage_surveys``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.domain.roles import Permission
from sqm.domain.wave import WaveStatus
from sqm.ingest.survey_answers import (
    AnswerImportError,
    ColumnMapping,
    import_answers,
    read_table,
    suggest_mapping,
)
from sqm.services.scope import Principal
from sqm.services.surveys import export as survey_export
from sqm.services.surveys.fielding import (
    ImportRefused,
    amend,
    answers_frame,
    import_into_wave,
    instrument_of,
    quota_rows,
)
from sqm.services.surveys.links import LinkSigner, qr_png, qr_svg, survey_url
from sqm.services.surveys.quota import sample_size_for_margin
from sqm.services.surveys.reports import report_workbook, wave_report
from sqm.store.models import OrgUnit, SurveyQuota, SurveyResponse, SurveyWave
from sqm.web.deps import csrf_protect, get_db, load_form, require
from sqm.web.errors import InvalidInput, NotFound
from sqm.web.templating import render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)])
api = APIRouter(prefix="/api/v1/surveys", tags=["surveys"], dependencies=[Depends(csrf_protect)])

viewer = require(Permission.VIEW_SCORES)
manager = require(Permission.MANAGE_SURVEYS)


def _signer(request: Request) -> LinkSigner:
    signer = getattr(request.app.state, "survey_signer", None)
    if signer is None:
        signer = LinkSigner(request.app.state.settings.secret_key.encode("utf-8").ljust(16, b"."))
        request.app.state.survey_signer = signer
    return signer


def _scope_ids(db: Session, p: Principal) -> list[int]:
    return list(db.scalars(select(OrgUnit.id).where(p.unit_filter())))


def _wave(db: Session, wave_id: int, p: Principal) -> tuple[SurveyWave, list[int]]:
    wave = db.get(SurveyWave, wave_id)
    ids = _scope_ids(db, p)
    if wave is None:
        raise NotFound("no such survey wave")
    in_scope = db.scalar(
        select(func.count(SurveyQuota.id)).where(
            SurveyQuota.wave_id == wave.id, SurveyQuota.unit_id.in_(ids)
        )
    )
    if not in_scope:
        raise NotFound("no such survey wave in your scope")
    return wave, ids


def _wave_rows(db: Session, ids: list[int]) -> list[dict[str, Any]]:
    rows = db.execute(
        select(
            SurveyWave,
            func.sum(SurveyQuota.target).label("target"),
            func.sum(SurveyQuota.achieved).label("achieved"),
            func.sum(SurveyQuota.over_quota).label("over"),
        )
        .join(SurveyQuota, SurveyQuota.wave_id == SurveyWave.id)
        .where(SurveyQuota.unit_id.in_(ids))
        .group_by(SurveyWave.id)
        .order_by(SurveyWave.id.desc())
    ).all()
    return [
        {
            "id": w.id,
            "code": w.code,
            "name": w.name,
            "period": w.period.code,
            "instrument": w.instrument.code,
            "version": w.instrument.version,
            "kind": w.instrument.kind,
            "status": w.status,
            "target": int(t or 0),
            "achieved": int(a or 0),
            "over_quota": int(o or 0),
            "fill_pct": 100.0 * min(int(a or 0), int(t or 0)) / max(int(t or 0), 1),
        }
        for w, t, a, o in rows
    ]


# ---------------------------------------------------------------- pages


@pages.get("/surveys", response_class=HTMLResponse)
def waves_page(
    request: Request, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> HTMLResponse:
    """Survey waves in the user's scope with their quota fill, and a sample-size calculator
    (``?margin=5&population=2000``: interviews for ±5 points on a proportion)."""
    calc: dict[str, Any] | None = None
    margin = request.query_params.get("margin")
    if margin:
        try:
            m = float(margin) / 100.0
            pop_raw = request.query_params.get("population") or ""
            pop = float(pop_raw) if pop_raw.strip() else None
            calc = {
                "margin": float(margin),
                "population": pop,
                "n": sample_size_for_margin(m, population=pop),
            }
        except ValueError as exc:
            calc = {"error": str(exc)}
    return render(
        request, "surveys/waves.html", {"waves": _wave_rows(db, _scope_ids(db, p)), "calc": calc}
    )


@pages.get("/surveys/{wave_id}", response_class=HTMLResponse)
def wave_page(
    request: Request, wave_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> HTMLResponse:
    """Quota progress per store (and segment) of one wave, with the store links."""
    wave, ids = _wave(db, wave_id, p)
    quota = quota_rows(db, wave, ids)
    signer = _signer(request)
    base = str(request.base_url).rstrip("/")
    links = {}
    if p.can(Permission.MANAGE_SURVEYS) and wave.link_mode == "open":
        links = (
            {u: survey_url(base, signer.open_link(wave.code, u)) for u in quota["unit"].unique()}
            if not quota.empty
            else {}
        )
    return render(
        request,
        "surveys/wave.html",
        {
            "wave": wave,
            "quota": quota.to_dict("records") if not quota.empty else [],
            "links": links,
            "can_manage": p.can(Permission.MANAGE_SURVEYS),
        },
    )


@pages.post("/surveys/{wave_id}/status")
def wave_status(
    request: Request, wave_id: int, p: Principal = Depends(manager), db: Session = Depends(get_db)
) -> RedirectResponse:
    """Open or close a wave."""
    wave, _ = _wave(db, wave_id, p)
    form = request.scope.get("sqm.form") or {}
    status = str(form.get("status", ""))
    if status not in (WaveStatus.OPEN.value, WaveStatus.CLOSED.value):
        raise InvalidInput("status must be 'open' or 'closed'")
    wave.status = status
    return RedirectResponse(f"/surveys/{wave.id}", status_code=303)


@pages.get("/surveys/{wave_id}/analysis", response_class=HTMLResponse)
def analysis_page(
    request: Request, wave_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> HTMLResponse:
    """Charts and tables of the wave's analysis for the user's stores."""
    wave, ids = _wave(db, wave_id, p)
    report = wave_report(db, wave, ids)
    return render(
        request,
        "surveys/analysis.html",
        {"wave": wave, "r": report, "charts": _charts(report, request)},
    )


@pages.get("/surveys/{wave_id}/qr/{unit_code}.{fmt}")
def qr_code(
    request: Request,
    wave_id: int,
    unit_code: str,
    fmt: str,
    p: Principal = Depends(manager),
    db: Session = Depends(get_db),
) -> Response:
    """The QR code of a store's open link, PNG or SVG, to print."""
    wave, ids = _wave(db, wave_id, p)
    unit = db.scalar(select(OrgUnit).where(OrgUnit.code == unit_code, OrgUnit.id.in_(ids)))
    if unit is None:
        raise NotFound("no such store in this wave and your scope")
    url = survey_url(
        str(request.base_url).rstrip("/"), _signer(request).open_link(wave.code, unit.code)
    )
    if fmt == "png":
        return Response(qr_png(url), media_type="image/png")
    if fmt == "svg":
        return Response(qr_svg(url), media_type="image/svg+xml")
    raise NotFound("QR codes come as .png or .svg")


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
}


@pages.get("/surveys/{wave_id}/answers.{fmt}")
def export_answers(
    request: Request,
    wave_id: int,
    fmt: str,
    p: Principal = Depends(manager),
    db: Session = Depends(get_db),
) -> Response:
    """Raw answers of the wave (user's scope) as CSV, Excel or SPSS .sav with labels."""
    wave, ids = _wave(db, wave_id, p)
    if fmt not in EXPORT_TYPES:
        raise NotFound("exports come as .csv, .xlsx or .sav")
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    inst = instrument_of(wave.instrument)
    frame = answers_frame(db, [wave.id], unit_ids=ids)
    body = {
        "csv": survey_export.to_csv,
        "xlsx": survey_export.to_excel,
        "sav": survey_export.to_sav,
    }[fmt](frame, inst, lang)
    return Response(
        body,
        media_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{wave.code}.{fmt}"'},
    )


@pages.get("/surveys/{wave_id}/analysis.xlsx")
def export_analysis(
    wave_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    """The wave's analysis as an Excel workbook (one sheet per table)."""
    wave, ids = _wave(db, wave_id, p)
    return Response(
        report_workbook(wave_report(db, wave, ids)),
        media_type=EXPORT_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="{wave.code}-analysis.xlsx"'},
    )


def _charts(r: dict[str, Any], request: Request) -> dict[str, Any]:
    """ECharts specs for the analysis page."""
    zh = not request.session.get("locale", "zh").startswith("en")
    charts: dict[str, Any] = {}
    if "gaps" in r:
        dims = [g for g in r["gaps"] if g["level"] == "dimension"]
        charts["gap_bars"] = {
            "type": "echarts",
            "option": {
                "tooltip": {},
                "legend": {},
                "xAxis": {"type": "category", "data": [g["code"] for g in dims]},
                "yAxis": {"type": "value", "name": "P − E"},
                "series": [
                    {
                        "name": "expectation" if not zh else "期望",
                        "type": "bar",
                        "data": [g["expectation"] for g in dims],
                    },
                    {
                        "name": "perception" if not zh else "感知",
                        "type": "bar",
                        "data": [g["perception"] for g in dims],
                    },
                    {
                        "name": "gap" if not zh else "差距",
                        "type": "bar",
                        "data": [g["gap"] for g in dims],
                    },
                ],
            },
        }
    if r.get("ipa"):
        key = "dimension" if "dimension" in r["ipa"][0] else "item"
        charts["ipa"] = {
            "type": "echarts",
            "option": {
                "tooltip": {},
                "xAxis": {"type": "value", "name": "performance", "scale": True},
                "yAxis": {"type": "value", "name": "importance", "scale": True},
                "series": [
                    {
                        "type": "scatter",
                        "symbolSize": 14,
                        "label": {"show": True, "formatter": "{@[2]}", "position": "right"},
                        "data": [
                            [x["performance"], x["importance"], x["name_zh"] if zh else x[key]]
                            for x in r["ipa"]
                        ],
                    }
                ],
            },
        }
    if r.get("trend"):
        charts["trend"] = {
            "type": "line",
            "labels": [t["period"] for t in r["trend"]],
            "series": [
                {"name": "value", "data": [t["value"] for t in r["trend"]]},
                {"name": "lower", "data": [t["lower"] for t in r["trend"]]},
                {"name": "upper", "data": [t["upper"] for t in r["trend"]]},
            ],
        }
    if r.get("nps"):
        charts["nps_dist"] = {
            "type": "bar",
            "labels": [str(i) for i in range(11)],
            "values": [r["nps"][f"d{i}"] for i in range(11)],
        }
    return charts


# ---------------------------------------------------------------- API


@api.get("/waves")
def api_waves(p: Principal = Depends(viewer), db: Session = Depends(get_db)) -> JSONResponse:
    """Waves in scope with their quota fill."""
    return JSONResponse({"waves": _wave_rows(db, _scope_ids(db, p))})


@api.get("/waves/{wave_id}/quota")
def api_quota(
    wave_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> JSONResponse:
    """Quota cells of one wave in scope: target, achieved, over-quota, fill."""
    wave, ids = _wave(db, wave_id, p)
    quota = quota_rows(db, wave, ids)
    return JSONResponse(
        {
            "wave": wave.code,
            "cells": quota.drop(columns=["unit_id"]).to_dict("records") if not quota.empty else [],
        }
    )


@api.get("/waves/{wave_id}/analysis")
def api_analysis(
    wave_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> JSONResponse:
    """The wave's analysis (gaps, reliability, IPA, NPS, index … as the instrument has them)."""
    wave, ids = _wave(db, wave_id, p)
    return JSONResponse(wave_report(db, wave, ids))


@api.get("/waves/{wave_id}/responses/count")
def api_count(
    wave_id: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> JSONResponse:
    """Number of stored responses of the wave in scope."""
    wave, ids = _wave(db, wave_id, p)
    n = db.scalar(
        select(func.count(SurveyResponse.id)).where(
            SurveyResponse.wave_id == wave.id, SurveyResponse.unit_id.in_(ids)
        )
    )
    return JSONResponse({"wave": wave.code, "responses": int(n or 0)})


class AmendmentIn(BaseModel):
    """A correction of some answers of one response, with the reason (audited)."""

    changes: dict[str, Any] = Field(..., examples=[{"T1_p": 5}])
    reason: str = Field(..., min_length=1, examples=["typed on the wrong line"])


@api.post("/responses/{response_id}/amendments")
def api_amend(
    response_id: int,
    body: AmendmentIn,
    p: Principal = Depends(manager),
    db: Session = Depends(get_db),
) -> JSONResponse:
    """Amend answers of a stored response; the original stays, the change is audited."""
    response = db.get(SurveyResponse, response_id)
    if response is None or response.unit_id not in set(_scope_ids(db, p)):
        raise NotFound("no such response in your scope")
    try:
        rows = amend(db, response_id, body.changes, reason=body.reason, user_id=p.user_id)
    except RuleError as exc:
        raise InvalidInput(str(exc)) from exc
    return JSONResponse(
        {
            "response": response_id,
            "amendments": [
                {"field": r.field, "old": r.old_value, "new": r.new_value} for r in rows
            ],
        },
        status_code=201,
    )


@pages.get("/surveys/{wave_id}/import", response_class=HTMLResponse)
def import_page(
    request: Request, wave_id: int, p: Principal = Depends(manager), db: Session = Depends(get_db)
) -> HTMLResponse:
    """Upload a questionnaire platform's export (CSV/XLSX) into this wave."""
    wave, _ = _wave(db, wave_id, p)
    return render(request, "surveys/import.html", {"wave": wave, "errors": [], "done": None})


@pages.post("/surveys/{wave_id}/import", response_class=HTMLResponse)
async def import_upload(
    request: Request, wave_id: int, p: Principal = Depends(manager), db: Session = Depends(get_db)
) -> HTMLResponse:
    """Check every row of the upload and import all of it, or show a row-by-row report."""
    wave, ids = _wave(db, wave_id, p)
    form = request.scope.get("sqm.form") or await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidInput("choose a CSV or Excel file")
    data = await upload.read()
    inst = instrument_of(wave.instrument)
    quota = quota_rows(db, wave, ids)
    units = set(quota["unit"]) if not quota.empty else set()
    errors: list[dict[str, Any]] = []
    done = None
    try:
        table = read_table(data, upload.filename or "upload.csv")
        mapping_text = str(form.get("mapping") or "").strip()
        mapping = (
            ColumnMapping.from_json(mapping_text)
            if mapping_text
            else suggest_mapping(table.columns, inst)
        )
        skip = str(form.get("skip_rows") or "0")
        mapping.skip_rows = int(skip) if skip.isdigit() else 0
        imported = import_answers(table, inst, mapping, known_units=units)
        done = import_into_wave(request.app.state.sessionmaker, wave.id, imported.answers)
    except AnswerImportError as exc:
        errors = [e.to_dict() for e in exc.errors]
    except ImportRefused as exc:
        errors = [{"row": "", "column": "", "field": "", "zh": x, "en": x} for x in exc.problems]
    return render(
        request,
        "surveys/import.html",
        {"wave": wave, "errors": errors, "done": done},
        status_code=422 if errors else 200,
    )


router = APIRouter()
router.include_router(pages)
router.include_router(api)
