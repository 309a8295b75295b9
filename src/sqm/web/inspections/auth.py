"""Permission checks shared by the inspection pages and the inspections JSON API.

Which records a permitted user then sees is decided by :mod:`sqm.services.inspections.access`.
"""

from __future__ import annotations

from fastapi import Depends

from sqm.domain.roles import Permission
from sqm.services.scope import Principal
from sqm.web.deps import current_principal
from sqm.web.errors import Forbidden


def any_inspection_role(p: Principal = Depends(current_principal)) -> Principal:
    """Inspectors, reviewers and everyone who may see scores (403 for the rest)."""
    if not (
        p.can(Permission.DO_INSPECTIONS)
        or p.can(Permission.REVIEW_INSPECTIONS)
        or p.can(Permission.VIEW_SCORES)
    ):
        raise Forbidden("this needs an inspection or score permission")
    return p


def score_viewer(p: Principal = Depends(current_principal)) -> Principal:
    """Those who may see store scores and 整改 tasks: managers, analysts, reviewers."""
    if not (p.can(Permission.VIEW_SCORES) or p.can(Permission.REVIEW_INSPECTIONS)):
        raise Forbidden("this needs the permission 'view_scores'")
    return p
