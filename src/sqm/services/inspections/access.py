"""Who sees which inspection records: visits, plan entries and rectification tasks.

- Reviewers (``review_inspections``) see every visit of the stores in their scope.
- Inspectors (``do_inspections``) see the visits they made or took part in, and only their
  own plan entries — never another inspector's assignments.
- Store and area managers (``view_scores``) see the *accepted* visits and the 整改 tasks of
  the stores in their scope; drafts and visits under review stay with inspectors and
  reviewers until decided.

A record outside these rules is reported as not found (404, :class:`MissingError`), so its
existence does not leak. The same rules serve the pages and the JSON API: the web layer's
object-in-scope dependencies (``VisitInScope``, ``TaskInScope``…) call the ``visible_*``
functions below.

>>> from sqm.services.scope import Principal
>>> from sqm.domain.roles import Permission
>>> p = Principal(7, "inspector07", "", frozenset(), ("/1/",), frozenset({Permission.DO_INSPECTIONS}))
>>> sees_plan_of(p), sees_all_plans(p)
(True, False)
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.orm import Session

from sqm.domain.errors import MissingError
from sqm.domain.roles import Permission
from sqm.services.scope import Principal
from sqm.store.models.inspection import (
    InspectionAppeal,
    InspectionEvidence,
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)


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


# ------------------------------------------------------------------ one record, or 404


def visible_visit(session: Session, p: Principal, visit_id: int) -> InspectionVisit:
    """The visit ``visit_id`` if ``p`` may see it (:func:`can_see_visit`); else
    :class:`MissingError` (404), whether it exists or not."""
    v = session.get(InspectionVisit, visit_id)
    if v is None or not can_see_visit(p, v):
        raise MissingError(f"no visit {visit_id} in your scope")
    return v


def assigned_visit(session: Session, p: Principal, visit_id: int) -> InspectionVisit:
    """A visit ``p`` fills: one they may see and made or were teamed on; else 404."""
    v = visible_visit(session, p, visit_id)
    if v.inspector_id != p.user_id and p.user_id not in v.team:
        raise MissingError(f"no visit {visit_id} among your assignments")
    return v


def own_visit(session: Session, p: Principal, visit_id: int) -> InspectionVisit:
    """A visit ``p`` made themselves (not one they were teamed on); else 404."""
    v = visible_visit(session, p, visit_id)
    if v.inspector_id != p.user_id:
        raise MissingError(f"no visit {visit_id} among yours")
    return v


def own_plan_entry(session: Session, p: Principal, entry_id: int) -> InspectionPlanEntry:
    """One of ``p``'s own plan entries (an inspector's assignment); else 404."""
    e = session.get(InspectionPlanEntry, entry_id)
    if e is None or e.inspector_id != p.user_id:
        raise MissingError(f"no plan entry {entry_id} among your assignments")
    return e


def plan_entry_in_scope(session: Session, p: Principal, entry_id: int) -> InspectionPlanEntry:
    """A plan entry at a store in ``p``'s scope (what a reviewer edits); else 404."""
    e = session.get(InspectionPlanEntry, entry_id)
    if e is None or not p.sees(e.unit):
        raise MissingError(f"no plan entry {entry_id} in your scope")
    return e


def visible_task(session: Session, p: Principal, task_id: int) -> InspectionRectification:
    """A rectification (整改) task of a store in ``p``'s scope; else 404."""
    t = session.get(InspectionRectification, task_id)
    if t is None or not p.sees(t.unit):
        raise MissingError(f"no task {task_id} in your scope")
    return t


def visible_appeal(session: Session, p: Principal, appeal_id: int) -> InspectionAppeal:
    """An appeal of a visit ``p`` may see; else 404."""
    a = session.get(InspectionAppeal, appeal_id)
    if a is None or not can_see_visit(p, a.visit):
        raise MissingError(f"no appeal {appeal_id} in your scope")
    return a


def visible_evidence(session: Session, p: Principal, evidence_id: int) -> InspectionEvidence:
    """An evidence file of a visit ``p`` may see; else 404."""
    e = session.get(InspectionEvidence, evidence_id)
    if e is None:
        raise MissingError(f"no evidence file {evidence_id} in your scope")
    v = session.get(InspectionVisit, e.visit_id)
    if v is None or not can_see_visit(p, v):
        raise MissingError(f"no evidence file {evidence_id} in your scope")
    return e
