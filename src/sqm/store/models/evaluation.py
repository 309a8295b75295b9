"""Measured indicator values and the scores an evaluation period produces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sqm.store.base import Base, utcnow
from sqm.store.models.org import OrgUnit
from sqm.store.models.period import Period


class IndicatorValue(Base):
    """A value entered or imported by hand for a leaf source (``source`` = ``manual`` or any
    source a capability does not compute itself) for one unit and period."""

    __tablename__ = "indicator_value"
    __table_args__ = (UniqueConstraint("unit_id", "period_id", "source", "source_ref"),)
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str] = mapped_column(String(128))
    value: Mapped[float] = mapped_column(Float)
    n: Mapped[int | None] = mapped_column(Integer)
    se: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(300))


class UnitScore(Base):
    """The evaluated score of a unit (store, city, province…) in a period.

    ``lower``/``upper`` is the 95 % interval of the score; ``rank_lower``/``rank_upper`` of
    its rank among its peers; ``dimensions`` holds the score of every tree node.
    """

    __tablename__ = "unit_score"
    __table_args__ = (UniqueConstraint("unit_id", "period_id", "system_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id", ondelete="CASCADE"), index=True)
    system_code: Mapped[str] = mapped_column(String(64))
    system_version: Mapped[int] = mapped_column(Integer)
    profile_code: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    se: Mapped[float | None] = mapped_column(Float)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    coverage: Mapped[float] = mapped_column(Float, default=0.0)
    grade: Mapped[str | None] = mapped_column(String(8))
    capped: Mapped[bool] = mapped_column(default=False)
    peer_group: Mapped[str | None] = mapped_column(String(64))
    rank: Mapped[int | None] = mapped_column(Integer)
    rank_lower: Mapped[int | None] = mapped_column(Integer)
    rank_upper: Mapped[int | None] = mapped_column(Integer)
    peers: Mapped[int | None] = mapped_column(Integer)
    change: Mapped[float | None] = mapped_column(Float)
    change_significant: Mapped[bool | None] = mapped_column()
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    vetoed: Mapped[list[str]] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    unit: Mapped[OrgUnit] = relationship(lazy="joined")
    period: Mapped[Period] = relationship(lazy="joined")
