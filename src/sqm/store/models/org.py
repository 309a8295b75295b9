"""Organisation units: company → province → city → district → store, and other kinds."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sqm.domain.org import StoreTier, UnitKind, UnitStatus
from sqm.store.base import Base, Timestamped


class OrgUnit(Timestamped, Base):
    """A node of the org tree. ``path`` is the materialised path ``/1/4/17/`` of ids,
    so a subtree (a user's scope) is one ``LIKE '/1/4/%'`` query."""

    __tablename__ = "org_unit"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[UnitKind] = mapped_column(String(32), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(512), index=True, default="/")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    tier: Mapped[StoreTier | None] = mapped_column(String(32))
    in_province: Mapped[bool | None] = mapped_column(Boolean)
    #: "urban" (central city) or "county"; visit priority follows it.
    area_type: Mapped[str | None] = mapped_column(String(16))
    #: Customer traffic per month (stores); survey quotas are proportional to it.
    traffic: Mapped[int | None] = mapped_column(Integer)
    #: Customers served (for complaint rates per 10,000 customers).
    customers: Mapped[int | None] = mapped_column(Integer)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    opened_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[UnitStatus] = mapped_column(String(16), default=UnitStatus.ACTIVE)
    #: Competitor brand for competitor stores (None for our own units).
    brand: Mapped[str | None] = mapped_column(String(64))

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent")

    def name(self, locale: str) -> str:
        """The unit's name in ``locale`` (falls back to Chinese)."""
        return self.name_en if locale == "en" and self.name_en else self.name_zh

    def __repr__(self) -> str:
        return f"OrgUnit({self.code!r}, {self.kind})"
