"""The inspection records a request names, resolved once: each dependency reads the path id,
asks :mod:`sqm.services.inspections.access` whether the caller may see the record and
answers 404 when not (the record's existence does not leak).

Put the permission alias (``p: Reviewer``) before these in a handler's signature, so that a
caller without the permission gets 403 before the record's 404.

>>> VisitInScope.__metadata__[0].dependency.__name__
'_visit_in_scope'
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from sqm.services.inspections import access
from sqm.store.models.inspection import (
    InspectionAppeal,
    InspectionEvidence,
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)
from sqm.web.deps import Db
from sqm.web.permissions import SignedIn

Id = Path(ge=1, le=2**63 - 1)


def _visit_in_scope(visit_id: Annotated[int, Id], db: Db, p: SignedIn) -> InspectionVisit:
    return access.visible_visit(db, p, visit_id)


def _assigned_visit(visit_id: Annotated[int, Id], db: Db, p: SignedIn) -> InspectionVisit:
    return access.assigned_visit(db, p, visit_id)


def _own_visit(visit_id: Annotated[int, Id], db: Db, p: SignedIn) -> InspectionVisit:
    return access.own_visit(db, p, visit_id)


def _own_plan_entry(entry_id: Annotated[int, Id], db: Db, p: SignedIn) -> InspectionPlanEntry:
    return access.own_plan_entry(db, p, entry_id)


def _plan_entry_in_scope(entry_id: Annotated[int, Id], db: Db, p: SignedIn) -> InspectionPlanEntry:
    return access.plan_entry_in_scope(db, p, entry_id)


def _task_in_scope(task_id: Annotated[int, Id], db: Db, p: SignedIn) -> InspectionRectification:
    return access.visible_task(db, p, task_id)


def _appeal_in_scope(appeal_id: Annotated[int, Id], db: Db, p: SignedIn) -> InspectionAppeal:
    return access.visible_appeal(db, p, appeal_id)


def _evidence_in_scope(evidence_id: Annotated[int, Id], db: Db, p: SignedIn) -> InspectionEvidence:
    return access.visible_evidence(db, p, evidence_id)


VisitInScope = Annotated[InspectionVisit, Depends(_visit_in_scope)]
"""The visit of ``{visit_id}`` if the caller may see it (reviewers: stores in scope;
inspectors: their own; managers: accepted visits of their stores); else 404."""

AssignedVisit = Annotated[InspectionVisit, Depends(_assigned_visit)]
"""The visit of ``{visit_id}`` if the caller made it or was teamed on it; else 404."""

OwnVisit = Annotated[InspectionVisit, Depends(_own_visit)]
"""The visit of ``{visit_id}`` if the caller made it themselves; else 404."""

OwnPlanEntry = Annotated[InspectionPlanEntry, Depends(_own_plan_entry)]
"""The plan entry of ``{entry_id}`` if it is the caller's own assignment; else 404."""

PlanEntryInScope = Annotated[InspectionPlanEntry, Depends(_plan_entry_in_scope)]
"""The plan entry of ``{entry_id}`` at a store in the caller's scope; else 404."""

TaskInScope = Annotated[InspectionRectification, Depends(_task_in_scope)]
"""The rectification (整改) task of ``{task_id}`` at a store in the caller's scope; else 404."""

AppealInScope = Annotated[InspectionAppeal, Depends(_appeal_in_scope)]
"""The appeal of ``{appeal_id}`` on a visit the caller may see; else 404."""

EvidenceInScope = Annotated[InspectionEvidence, Depends(_evidence_in_scope)]
"""The evidence file of ``{evidence_id}`` of a visit the caller may see; else 404."""
