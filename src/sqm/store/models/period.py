"""Evaluation periods (month, quarter, year)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from sqm.domain.period import PeriodKind
from sqm.store.base import Base


class Period(Base):
    __tablename__ = "period"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    kind: Mapped[PeriodKind] = mapped_column(String(16))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    #: open (collecting), closed (evaluated), locked (published; no more changes).
    status: Mapped[str] = mapped_column(String(16), default="open")
