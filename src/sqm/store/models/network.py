"""Network quality tables: cells, per-unit KPI values, and the alert lifecycle.

The 15-minute counters themselves live in the Parquet dataset (see
:mod:`sqm.ingest.network.counters`); the database keeps the inventory, the summarised
KPI values the indicator system reads, and everything an alert goes through: firing,
de-duplication per site, silences, notifications, acknowledgement and resolution.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sqm.store.base import Base, Timestamped, utcnow


class NetworkCell(Base):
    """One radio cell of the inventory; ``unit_id`` is the org unit whose area it serves
    (the nearest store, or a city), which also decides who may see it."""

    __tablename__ = "network_cell"

    id: Mapped[int] = mapped_column(primary_key=True)
    cell_id: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    district: Mapped[str] = mapped_column(String(64))
    city: Mapped[str] = mapped_column(String(64))
    province: Mapped[str] = mapped_column(String(64))
    tech: Mapped[str] = mapped_column(String(8))
    band: Mapped[str | None] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)


class NetworkKpiValue(Base):
    """A network KPI summarised for an org unit and period (what scorecards read)."""

    __tablename__ = "network_kpi_value"
    __table_args__ = (UniqueConstraint("unit_id", "period_id", "kpi"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id", ondelete="CASCADE"), index=True)
    kpi: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int | None] = mapped_column(Integer)
    #: Standard error of ``value`` in its own unit (None when not known).
    se: Mapped[float | None] = mapped_column(Float)


class NetworkAlert(Timestamped, Base):
    """One alert: a rule firing for a KPI on a site (its cells grouped into one alert).

    ``status``: open → acknowledged → resolved. ``dedup_key`` (rule, KPI, site) is unique
    among alerts that are not resolved, so a rule that keeps firing updates its alert.
    """

    __tablename__ = "network_alert"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    kpi: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    cells: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(16), default="major")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    silenced: Mapped[bool] = mapped_column(default=False)
    first_fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(String(500), default="")
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ack_comment: Mapped[str | None] = mapped_column(String(500))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    events: Mapped[list[NetworkAlertEvent]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", order_by="NetworkAlertEvent.at"
    )


class NetworkAlertEvent(Base):
    """The history of an alert: fired, updated, notified, acknowledged, resolved."""

    __tablename__ = "network_alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("network_alert.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    value: Mapped[float | None] = mapped_column(Float)
    channel: Mapped[str | None] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(500))

    alert: Mapped[NetworkAlert] = relationship(back_populates="events")


class NetworkSilence(Base):
    """A maintenance window: alerts matching it fire silently (kept, not sent).

    ``scope`` is a site id, a cell id or ``*``; ``kpi`` None matches every KPI.
    """

    __tablename__ = "network_silence"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    kpi: Mapped[str | None] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class NotificationRoute(Base):
    """Where alerts go: a webhook URL or an e-mail address, on a schedule.

    ``schedule``: ``always``, ``business_hours`` (Mon–Fri within ``hours``) or ``on_call``
    (outside them); ``hours`` = [start, end) in local hours, default [9, 18).
    """

    __tablename__ = "network_notification_route"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))  # webhook | email
    target: Mapped[str] = mapped_column(String(300))
    schedule: Mapped[str] = mapped_column(String(16), default="always")
    hours: Mapped[list[int]] = mapped_column(JSON, default=lambda: [9, 18])
    min_severity: Mapped[str] = mapped_column(String(16), default="minor")
    active: Mapped[bool] = mapped_column(default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
