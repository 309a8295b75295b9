"""Complaint tables: the ticket, its notes, its status history, and rectification requests.

One queue for every channel (一点接入、全网共享): a complaint is stored once per
(source system, source id), so the same complaint sent twice by a capturing system is
recorded once.  SLA deadlines are computed at intake and kept on the row, so queue views
("near the limit", "overdue") are plain indexed queries.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
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


class Complaint(Timestamped, Base):
    """A complaint ticket from any channel."""

    __tablename__ = "complaint"
    __audited__ = True
    __table_args__ = (UniqueConstraint("source_system", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_system: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32), index=True)
    complaint_class: Mapped[str] = mapped_column(String(16), default="ordinary")
    customer_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    subcategory: Mapped[str | None] = mapped_column(String(64))
    suggested_subcategory: Mapped[str | None] = mapped_column(String(64))
    suggestion_confidence: Mapped[float | None] = mapped_column(Float)
    category_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_response_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolution_due: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(24), default="new", index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    resolution: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    contacts: Mapped[int] = mapped_column(Integer, default=1)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))

    unit: Mapped[OrgUnit] = relationship(lazy="joined")
    handler: Mapped[User | None] = relationship(lazy="joined")
    notes: Mapped[list[ComplaintNote]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintNote.id"
    )
    history: Mapped[list[ComplaintStatusChange]] = relationship(
        back_populates="complaint",
        cascade="all, delete-orphan",
        order_by="ComplaintStatusChange.id",
    )


class ComplaintNote(Base):
    """A handler's note on a complaint (internal working record)."""

    __tablename__ = "complaint_note"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    body: Mapped[str] = mapped_column(Text)

    complaint: Mapped[Complaint] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship(lazy="joined")


class ComplaintStatusChange(Base):
    """One step of a complaint's life-cycle: from, to, who, when, why."""

    __tablename__ = "complaint_status_change"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    complaint: Mapped[Complaint] = relationship(back_populates="history")


class ComplaintRectification(Timestamped, Base):
    """A rectification task (整改) a complaint about a store opens for that store."""

    __tablename__ = "complaint_rectification"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
