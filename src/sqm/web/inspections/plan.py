"""The visit plan pages: the month's calendar (edited by hand and re-checked against every
planning rule) and its Excel download. The read models are
:mod:`sqm.services.inspections.planning`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from sqm.services.inspections import planning
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.inspections.deps import PlanEntryInScope
from sqm.web.inspections.forms import MoveForm
from sqm.web.permissions import Reviewer
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


@router.get("/inspections/plan")
def plan_calendar(request: Request, p: Reviewer, db: Db) -> Response:
    """The month's plan as a calendar (per day, who visits which store), editable by hand;
    the whole month — planned entries plus visits already made — is re-checked against every
    planning rule after each edit."""
    cal = planning.plan_calendar(db, p)
    return render(
        request,
        "inspections/plan.html",
        {
            "by_day": cal.by_day,
            "violations": cal.violations[:200],
            "n_violations": len(cal.violations),
            "inspectors": cal.inspectors,
        },
    )


@router.get("/inspections/plan.xlsx")
def plan_excel(request: Request, p: Reviewer, db: Db) -> Response:
    """The stored plan of the latest planned month (stores in scope) as an Excel workbook,
    with the rule re-check on its own sheet."""
    code, data = planning.plan_workbook(db, p, request_locale(request))
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="visit-plan-{code}.xlsx"'},
    )


@router.post("/inspections/plan/{entry_id}/move")
def move_entry(
    p: Reviewer, entry: PlanEntryInScope, form: Annotated[MoveForm, Form()], db: Db
) -> Response:
    """Edit one planned visit by hand (new date and/or inspector); the plan page re-checks."""
    planning.move_entry(db, entry, day=form.date, inspector_id=form.inspector_id)
    return RedirectResponse("/inspections/plan", status_code=303)
