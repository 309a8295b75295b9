"""Complaint alerts: a unit × category whose complaints rose significantly, while it lasts.

A hotspot scan (:func:`sqm.methods.complaint_measures.hotspots`) finds the cells; the alert
keeps one row per (unit, category) while the rise lasts — ``dedup_key`` is unique among
alerts that are not resolved, enforced by a partial unique index so two scans running at
once cannot open the same alert twice.  Status: open → acknowledged → resolved; who moved
it and when is in the alert's events and in the audit log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sqm.store.base import Base, Timestamped, utcnow
from sqm.store.models.org import OrgUnit

#: SQL condition of the alerts that still count as "the" alert of their key.
NOT_RESOLVED = "status != 'resolved'"


class ComplaintAlert(Timestamped, Base):
    """A complaint hotspot raised as an alert (one per unit × category while it lasts).

    ``category`` is the taxonomy category (``network``); ``subcategory`` is set when the
    scan tested sub-categories (``network.slow_data``).  The figures are those of the
    latest scan that saw the rise: the current window ``[window_start, window_end)`` and
    its baseline, counts, expected count, rate ratio (None when the baseline had no
    complaint), p- and q-value.
    """

    __tablename__ = "complaint_alert"
    __audited__ = True
    __table_args__ = (
        Index(
            "uq_complaint_alert_open_key",
            "dedup_key",
            unique=True,
            sqlite_where=text(NOT_RESOLVED),
            postgresql_where=text(NOT_RESOLVED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(128), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    subcategory: Mapped[str | None] = mapped_column(String(64))
    #: What the scan tested: ``subcategory`` (unit × sub-category) or ``category``.
    tested_by: Mapped[str] = mapped_column(String(16), default="subcategory")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    severity: Mapped[str] = mapped_column(String(16), default="minor")
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    baseline_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    count_current: Mapped[int] = mapped_column(Integer)
    count_baseline: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    rate_ratio: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    q_value: Mapped[float] = mapped_column(Float)
    first_detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detections: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ack_comment: Mapped[str | None] = mapped_column(String(500))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_note: Mapped[str | None] = mapped_column(String(500))

    unit: Mapped[OrgUnit] = relationship(lazy="joined")
    events: Mapped[list[ComplaintAlertEvent]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", order_by="ComplaintAlertEvent.id"
    )

    @property
    def code(self) -> str:
        """The taxonomy code the alert is about: the sub-category if tested, else the category."""
        return self.subcategory or self.category


class ComplaintAlertEvent(Base):
    """The history of a complaint alert: detected, updated, notified, acknowledged, resolved."""

    __tablename__ = "complaint_alert_event"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("complaint_alert.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    count_current: Mapped[int | None] = mapped_column(Integer)
    rate_ratio: Mapped[float | None] = mapped_column(Float)
    target: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(500))

    alert: Mapped[ComplaintAlert] = relationship(back_populates="events")
