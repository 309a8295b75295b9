"""Inspection score pages: the store ranking (and its CSV download), a store's scorecard and
the inspectors' quality. The read models are :mod:`sqm.services.inspections.scores`; the
JSON API's ``/scores`` ranks with the same function, so a store has one rank everywhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from sqm.domain.roles import Permission
from sqm.services.inspections import scores
from sqm.web.deps import Db, UnitInScope, csrf_protect, load_form
from sqm.web.permissions import InspectionReader, Reviewer, TaskViewer
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


@router.get("/inspections")
def ranking(
    request: Request,
    p: InspectionReader,
    db: Db,
    period: str | None = None,
    peer: str = "tier",
    corrected: int = 0,
) -> Response:
    """Store ranking of a period from accepted visits: score with interval, rank with interval
    among peers over the whole organisation, change since last period; competitor stores
    side by side. With ``corrected=1`` each visit's total first loses its inspector's fitted
    effect (two-way store + inspector model over the last six months)."""
    if not (p.can(Permission.VIEW_SCORES) or p.can(Permission.REVIEW_INSPECTIONS)):
        return RedirectResponse("/inspections/my", status_code=303)
    page = scores.ranking_page(
        db, p, period, peer=peer, corrected=bool(corrected), locale=request_locale(request)
    )
    return render(
        request,
        "inspections/ranking.html",
        {
            "rows": page.ranking.rows,
            "period": page.ranking.period,
            "periods": page.ranking.periods,
            "peer": peer,
            "corrected": corrected,
            "comparison": page.comparison,
        },
    )


@router.get("/inspections/ranking.csv")
def ranking_csv(
    request: Request,
    p: TaskViewer,
    db: Db,
    period: str | None = None,
    peer: str = "tier",
    corrected: int = 0,
) -> Response:
    """The ranking as a CSV file for Excel (the same ranks as the page and the API)."""
    code, data = scores.ranking_csv(
        db, p, period, peer=peer, corrected=bool(corrected), locale=request_locale(request)
    )
    name = f"inspection-ranking-{code or 'none'}-{peer}.csv"
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/inspections/stores/{unit_id}")
def store_card(request: Request, p: TaskViewer, unit: UnitInScope, db: Db) -> Response:
    """A store's inspection scorecard: monthly score trend, sections, visits, open tasks."""
    card = scores.store_card(db, unit, request_locale(request))
    return render(
        request,
        "inspections/store.html",
        {
            "unit": unit,
            "trend": card.trend,
            "sections": card.sections,
            "visits": card.visits,
            "tasks": card.tasks,
        },
    )


@router.get("/inspections/inspectors")
def inspector_quality(request: Request, p: Reviewer, db: Db) -> Response:
    """Inspector quality over the last six months: leniency/severity flags (mean residual vs
    peers on the same stores, Holm-adjusted t-test) and the fitted inspector effect that the
    corrected store scores remove."""
    q = scores.inspector_quality(db, p)
    return render(
        request,
        "inspections/inspectors.html",
        {
            "rows": q.rows,
            "periods": q.periods,
            "n_visits": q.n_visits,
            "calibration": q.calibration,
        },
    )
