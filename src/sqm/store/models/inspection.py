"""Inspection tables: checklist versions, the monthly plan, visits, evidence, appeals, 整改.

A visit keeps its answers as one JSON object ``{item_code: value or null}`` (null = not
applicable) next to the checklist version it was filled against, so an old visit is always
scored with its own checklist. A draft visit carries the half-filled answers the phone last
sent (``status = "draft"``); submitting replaces them in one transaction. Evidence files
live outside the database under a storage key; only their hashes and metadata are here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sqm.store.base import Base, Timestamped, utcnow
from sqm.store.models.org import OrgUnit
from sqm.store.models.user import User


class InspectionChecklist(Timestamped, Base):
    """One version of a checklist; ``definition`` is the validated checklist tree (JSON)."""

    __tablename__ = "inspection_checklist"
    __audited__ = True
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class InspectionPlanEntry(Timestamped, Base):
    """One inspector's planned visit (team visits share ``visit_key``)."""

    __tablename__ = "inspection_plan_entry"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    planned_date: Mapped[date] = mapped_column(Date, index=True)
    visit_key: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")

    unit: Mapped[OrgUnit] = relationship(lazy="joined")
    inspector: Mapped[User] = relationship(lazy="joined")


class InspectionVisit(Timestamped, Base):
    """A mystery-shopping (暗访) or announced (明访) visit to a store or competitor store.

    Status: draft → submitted | needs_review → accepted | rejected. Only accepted visits
    count in scores; ``review_reasons`` lists why the evidence checks sent it to review.
    """

    __tablename__ = "inspection_visit"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("inspection_checklist.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    visit_key: Mapped[str | None] = mapped_column(String(64), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    team: Mapped[list[int]] = mapped_column(JSON, default=list)
    mode: Mapped[str] = mapped_column(String(16), default="covert")  # covert | announced
    purpose: Mapped[str] = mapped_column(String(16), default="regular")  # | calibration
    planned_date: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checkin_lat: Mapped[float | None] = mapped_column(Float)
    checkin_lon: Mapped[float | None] = mapped_column(Float)
    purchase_made: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    item_notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    overturned: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    review_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    total: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(8))
    passed: Mapped[bool | None] = mapped_column(Boolean)
    section_scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    vetoed: Mapped[list[str]] = mapped_column(JSON, default=list)
    profile_code: Mapped[str | None] = mapped_column(String(96))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[OrgUnit] = relationship(lazy="joined")
    checklist: Mapped[InspectionChecklist] = relationship(lazy="joined")
    inspector: Mapped[User] = relationship(lazy="joined", foreign_keys=[inspector_id])


class InspectionEvidence(Base):
    """An uploaded evidence file (photo, receipt) or note for a visit or one of its items."""

    __tablename__ = "inspection_evidence"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_visit.id", ondelete="CASCADE"), index=True
    )
    item_code: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # photo | receipt | note
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    ahash: Mapped[str | None] = mapped_column(String(16))
    storage_key: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InspectionAppeal(Timestamped, Base):
    """A store manager's appeal (申诉) against one finding, decided by a reviewer."""

    __tablename__ = "inspection_appeal"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_visit.id", ondelete="CASCADE"), index=True
    )
    item_code: Mapped[str] = mapped_column(String(64))
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)

    visit: Mapped[InspectionVisit] = relationship(lazy="joined")


class InspectionRectification(Timestamped, Base):
    """A rectification task (整改) opened by a failed item of an accepted visit."""

    __tablename__ = "inspection_rectification"
    __audited__ = True
    __table_args__ = (UniqueConstraint("visit_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_visit.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closing_note: Mapped[str | None] = mapped_column(Text)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_evidence.id"))

    unit: Mapped[OrgUnit] = relationship(lazy="joined")
