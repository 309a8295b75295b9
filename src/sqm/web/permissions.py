"""Who may do what: one named dependency per permission, declared once for every router.

A handler names its caller by what it may do — ``p: Reviewer``, ``p: ScoreViewer`` — and
FastAPI answers 401 for anonymous callers and 403 for callers without the permission. One
name means one permission everywhere; a page and the JSON API of the same thing use the
same name. Put the permission before any object-in-scope dependency in a signature, so a
caller without the permission gets 403 before the object's 404.

>>> from sqm.domain.roles import Permission, ROLE_PERMISSIONS, Role
>>> Permission.REVIEW_INSPECTIONS in ROLE_PERMISSIONS[Role.QUALITY_ANALYST]
True
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from sqm.domain.roles import Permission
from sqm.services.scope import Principal
from sqm.web.deps import current_principal, require, require_any

_P = Permission

SignedIn = Annotated[Principal, Depends(current_principal)]
"""Anyone signed in (what they then see is filtered by their scope)."""

OrgViewer = Annotated[Principal, Depends(require(_P.VIEW_ORG))]
OrgEditor = Annotated[Principal, Depends(require(_P.EDIT_ORG))]
IndicatorViewer = Annotated[Principal, Depends(require(_P.VIEW_INDICATORS))]
IndicatorEditor = Annotated[Principal, Depends(require(_P.EDIT_INDICATORS))]
WeightEditor = Annotated[Principal, Depends(require(_P.EDIT_WEIGHTS))]
ScoreViewer = Annotated[Principal, Depends(require(_P.VIEW_SCORES))]
UserAdmin = Annotated[Principal, Depends(require(_P.MANAGE_USERS))]
Auditor = Annotated[Principal, Depends(require(_P.VIEW_AUDIT))]
SurveyManager = Annotated[Principal, Depends(require(_P.MANAGE_SURVEYS))]
Inspector = Annotated[Principal, Depends(require(_P.DO_INSPECTIONS))]
Reviewer = Annotated[Principal, Depends(require(_P.REVIEW_INSPECTIONS))]
ComplaintHandler = Annotated[Principal, Depends(require(_P.HANDLE_COMPLAINTS))]
NetworkViewer = Annotated[Principal, Depends(require(_P.VIEW_NETWORK))]
AlertManager = Annotated[Principal, Depends(require(_P.MANAGE_ALERTS))]

InspectionReader = Annotated[
    Principal, Depends(require_any(_P.DO_INSPECTIONS, _P.REVIEW_INSPECTIONS, _P.VIEW_SCORES))
]
"""Inspectors, reviewers and everyone who may see scores: which visits each then sees is
decided by the inspection services' visibility rules."""

TaskViewer = Annotated[Principal, Depends(require_any(_P.VIEW_SCORES, _P.REVIEW_INSPECTIONS))]
"""Those who may see stores' rectification (整改) tasks: managers, analysts, reviewers."""

DesignReader = Annotated[
    Principal,
    Depends(require_any(_P.VIEW_INDICATORS, _P.REVIEW_INSPECTIONS)),
]
"""Readers of the design: those who read the indicator system or review inspections (store
managers read the standard they are checked against; inspectors have each visit's form)."""

PlanReader = Annotated[
    Principal,
    Depends(require_any(_P.DO_INSPECTIONS, _P.REVIEW_INSPECTIONS)),
]
"""Those with a visit plan to read: inspectors (their own assignments) and reviewers (the
plan of the stores in their scope), as :func:`sqm.services.inspections.access.plan_filter`
decides."""

ComplaintReader = Annotated[
    Principal,
    Depends(require_any(_P.HANDLE_COMPLAINTS, _P.VIEW_SCORES)),
]
"""Handlers, and anyone who may see scores (analysts, managers), may read complaints."""

ComplaintAlertManager = Annotated[
    Principal,
    Depends(require_any(_P.HANDLE_COMPLAINTS, _P.MANAGE_ALERTS)),
]
"""Complaint handlers and alert managers may acknowledge and resolve complaint alerts."""
