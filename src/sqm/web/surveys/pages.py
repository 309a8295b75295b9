"""Analyst pages and JSON API of customer research: waves, quota progress, store links and
QR codes, raw-answer exports (CSV, Excel, SPSS) and the analysis with charts.

Everything is filtered to the user's scope: a store manager sees the quota and the
analysis of their own stores only; a wave's raw answers and links need
``manage_surveys``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from sqm.domain.roles import Permission
from sqm.services.surveys import export, fielding, quota, waves
from sqm.services.surveys.links import QR_FORMATS, open_links, qr_image, survey_url
from sqm.services.surveys.reports import report_workbook, wave_report
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.errors import InvalidInput
from sqm.web.permissions import ScoreViewer, SurveyManager
from sqm.web.surveys.deps import ResponseInScope, Signer, WaveInScope
from sqm.web.templating import render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)])
api = APIRouter(prefix="/api/v1/surveys", tags=["surveys"], dependencies=[Depends(csrf_protect)])


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# ---------------------------------------------------------------- pages


@pages.get("/surveys", response_class=HTMLResponse)
def waves_page(
    request: Request,
    p: ScoreViewer,
    db: Db,
    margin: str | None = None,
    population: str | None = None,
) -> HTMLResponse:
    """Survey waves in the user's scope with their quota fill, and a sample-size calculator
    (``?margin=5&population=2000``: interviews for ±5 points on a proportion)."""
    return render(
        request,
        "surveys/waves.html",
        {
            "waves": waves.wave_summaries(db, p),
            "calc": quota.margin_calculator(margin, population),
        },
    )


@pages.get("/surveys/{wave_id}", response_class=HTMLResponse)
def wave_page(
    request: Request, p: ScoreViewer, w: WaveInScope, db: Db, signer: Signer
) -> HTMLResponse:
    """Quota progress per store (and segment) of one wave, with the store links."""
    cells = fielding.quota_rows(db, w.wave, w.unit_ids)
    can_manage = p.can(Permission.MANAGE_SURVEYS)
    links = {}
    if can_manage and w.wave.link_mode == "open" and not cells.empty:
        links = open_links(signer, _base(request), w.wave.code, cells["unit"].unique())
    return render(
        request,
        "surveys/wave.html",
        {
            "wave": w.wave,
            "quota": cells.to_dict("records") if not cells.empty else [],
            "links": links,
            "can_manage": can_manage,
        },
    )


class StatusForm(BaseModel):
    """Open or close a wave: ``status`` is ``open`` or ``closed``."""

    status: str = ""


@pages.post("/surveys/{wave_id}/status")
def wave_status(
    p: SurveyManager, w: WaveInScope, form: Annotated[StatusForm, Form()]
) -> RedirectResponse:
    """Open or close a wave."""
    waves.set_status(w.wave, form.status)
    return RedirectResponse(f"/surveys/{w.wave.id}", status_code=303)


@pages.get("/surveys/{wave_id}/analysis", response_class=HTMLResponse)
def analysis_page(request: Request, p: ScoreViewer, w: WaveInScope, db: Db) -> HTMLResponse:
    """Charts and tables of the wave's analysis for the user's stores."""
    report = wave_report(db, w.wave, w.unit_ids)
    return render(
        request,
        "surveys/analysis.html",
        {"wave": w.wave, "r": report, "charts": _charts(report, request)},
    )


@pages.get("/surveys/{wave_id}/qr/{unit_code}.{fmt}")
def qr_code(
    request: Request,
    unit_code: str,
    fmt: str,
    p: SurveyManager,
    w: WaveInScope,
    db: Db,
    signer: Signer,
) -> Response:
    """The QR code of a store's open link, PNG or SVG, to print."""
    unit = waves.store_of_scope(db, w, unit_code)
    url = survey_url(_base(request), signer.open_link(w.wave.code, unit.code))
    return Response(qr_image(url, fmt), media_type=QR_FORMATS[fmt])


@pages.get("/surveys/{wave_id}/answers.{fmt}")
def export_answers(
    fmt: str, p: SurveyManager, w: WaveInScope, db: Db, lang: str | None = None
) -> Response:
    """Raw answers of the wave (user's scope) as CSV, Excel or SPSS .sav with labels."""
    body = export.wave_answers_file(db, w.wave, w.unit_ids, fmt, "en" if lang == "en" else "zh")
    return Response(
        body,
        media_type=export.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{w.wave.code}.{fmt}"'},
    )


@pages.get("/surveys/{wave_id}/analysis.xlsx")
def export_analysis(p: ScoreViewer, w: WaveInScope, db: Db) -> Response:
    """The wave's analysis as an Excel workbook (one sheet per table)."""
    return Response(
        report_workbook(wave_report(db, w.wave, w.unit_ids)),
        media_type=export.MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="{w.wave.code}-analysis.xlsx"'},
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
def api_waves(p: ScoreViewer, db: Db) -> JSONResponse:
    """Waves in scope with their quota fill."""
    return JSONResponse({"waves": [w.as_dict() for w in waves.wave_summaries(db, p)]})


@api.get("/waves/{wave_id}/quota")
def api_quota(p: ScoreViewer, w: WaveInScope, db: Db) -> JSONResponse:
    """Quota cells of one wave in scope: target, achieved, over-quota, fill."""
    cells = fielding.quota_rows(db, w.wave, w.unit_ids)
    return JSONResponse(
        {
            "wave": w.wave.code,
            "cells": cells.drop(columns=["unit_id"]).to_dict("records") if not cells.empty else [],
        }
    )


@api.get("/waves/{wave_id}/analysis")
def api_analysis(p: ScoreViewer, w: WaveInScope, db: Db) -> JSONResponse:
    """The wave's analysis (gaps, reliability, IPA, NPS, index … as the instrument has them)."""
    return JSONResponse(wave_report(db, w.wave, w.unit_ids))


@api.get("/waves/{wave_id}/responses/count")
def api_count(p: ScoreViewer, w: WaveInScope, db: Db) -> JSONResponse:
    """Number of stored responses of the wave in scope."""
    return JSONResponse({"wave": w.wave.code, "responses": waves.response_count(db, w)})


class AmendmentIn(BaseModel):
    """A correction of some answers of one response, with the reason (audited)."""

    changes: dict[str, Any] = Field(..., examples=[{"T1_p": 5}])
    reason: str = Field(..., min_length=1, examples=["typed on the wrong line"])


@api.post("/responses/{response_id}/amendments")
def api_amend(
    body: AmendmentIn, p: SurveyManager, response: ResponseInScope, db: Db
) -> JSONResponse:
    """Amend answers of a stored response; the original stays, the change is audited."""
    rows = fielding.amend(db, response.id, body.changes, reason=body.reason, user_id=p.user_id)
    return JSONResponse(
        {
            "response": response.id,
            "amendments": [
                {"field": r.field, "old": r.old_value, "new": r.new_value} for r in rows
            ],
        },
        status_code=201,
    )


@pages.get("/surveys/{wave_id}/import", response_class=HTMLResponse)
def import_page(request: Request, p: SurveyManager, w: WaveInScope) -> HTMLResponse:
    """Upload a questionnaire platform's export (CSV/XLSX) into this wave."""
    return render(request, "surveys/import.html", {"wave": w.wave, "errors": [], "done": None})


class ImportForm(BaseModel):
    """The upload of a questionnaire platform's export: the file, optionally a saved column
    mapping (JSON) and the number of extra header rows to skip."""

    file: UploadFile | None = None
    mapping: str = ""
    skip_rows: str = "0"


@pages.post("/surveys/{wave_id}/import", response_class=HTMLResponse)
def import_upload(
    request: Request,
    p: SurveyManager,
    w: WaveInScope,
    form: Annotated[ImportForm, Form()],
    db: Db,
) -> HTMLResponse:
    """Check every row of the upload and import all of it, or show a row-by-row report."""
    if form.file is None:
        raise InvalidInput("choose a CSV or Excel file")
    result = fielding.import_file(
        db,
        request.app.state.sessionmaker,
        w.wave,
        w.unit_ids,
        form.file.file.read(),
        form.file.filename or "upload.csv",
        mapping_json=form.mapping,
        skip_rows=form.skip_rows,
    )
    return render(
        request,
        "surveys/import.html",
        {"wave": w.wave, "errors": result.errors, "done": result.done},
        status_code=422 if result.errors else 200,
    )


router = APIRouter()
router.include_router(pages)
router.include_router(api)
