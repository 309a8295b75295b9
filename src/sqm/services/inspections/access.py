"""Who sees which inspection records: visits, plan entries and rectification tasks.

- Reviewers (``review_inspections``) see every visit of the stores in their scope.
- Inspectors (``do_inspections``) see the visits they made or took part in, and only their
  own plan entries — never another inspector's assignments.
- Store and area managers (``view_scores``) see the *accepted* visits and the 整改 tasks of
  the stores in their scope; drafts and visits under review stay with inspectors and
  reviewers until decided.

A record outside these rules is reported as not found (404), so its existence does not leak.
The same rules serve the pages and the JSON API.

>>> from sqm.services.scope import Principal
>>> from sqm.domain.roles import Permission
>>> p = Principal(7, "inspector07", "", frozenset(), ("/1/",), frozenset({Permission.DO_INSPECTIONS}))
>>> sees_plan_of(p), sees_all_plans(p)
(True, False)
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_

from sqm.domain.roles import Permission
from sqm.services.scope import Principal
from sqm.store.models.inspection import InspectionPlanEntry, InspectionVisit


def can_see_visit(p: Principal, v: InspectionVisit) -> bool:
    """Whether ``p`` may see visit ``v`` (its unit must be loaded)."""
    if p.can(Permission.REVIEW_INSPECTIONS) and p.sees(v.unit):
        return True
    if p.can(Permission.DO_INSPECTIONS) and (v.inspector_id == p.user_id or p.user_id in v.team):
        return True
    return p.can(Permission.VIEW_SCORES) and p.sees(v.unit) and v.status == "accepted"


def visits_filter(p: Principal) -> ColumnElement[bool]:
    """The SQL condition selecting the visits ``p`` may list (join ``OrgUnit`` on the visit's
    unit). Team members each have a visit of their own, so an inspector's are those they made.
    """
    conds: list[ColumnElement[bool]] = []
    if p.can(Permission.REVIEW_INSPECTIONS):
        conds.append(p.unit_filter())
    if p.can(Permission.DO_INSPECTIONS):
        conds.append(InspectionVisit.inspector_id == p.user_id)
    if p.can(Permission.VIEW_SCORES):
        conds.append(and_(p.unit_filter(), InspectionVisit.status == "accepted"))
    return or_(*conds) if conds else false()


def sees_all_plans(p: Principal) -> bool:
    """Whether ``p`` sees the whole plan of the stores in scope (reviewers plan visits)."""
    return p.can(Permission.REVIEW_INSPECTIONS)


def sees_plan_of(p: Principal) -> bool:
    """Whether ``p`` has a plan of their own to see (inspectors)."""
    return p.can(Permission.DO_INSPECTIONS)


def plan_filter(p: Principal) -> ColumnElement[bool]:
    """The SQL condition selecting the plan entries ``p`` may list (join ``OrgUnit`` on the
    entry's unit): the stores in scope for reviewers, their own entries for inspectors."""
    conds: list[ColumnElement[bool]] = []
    if sees_all_plans(p):
        conds.append(p.unit_filter())
    if sees_plan_of(p):
        conds.append(InspectionPlanEntry.inspector_id == p.user_id)
    return or_(*conds) if conds else false()
