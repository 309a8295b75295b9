"""The indicator system (指标体系) and weight profiles over it."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sqm.domain.indicator import Direction, IndicatorSource, NodeLevel, ProgrammeStage, WeightMethod
from sqm.domain.org import StoreTier
from sqm.store.base import Base, Timestamped

if TYPE_CHECKING:
    from sqm.store.models.inspection import InspectionChecklist
    from sqm.store.models.user import User


class IndicatorSystem(Timestamped, Base):
    """One version of an indicator system; a published version is never edited in place."""

    __tablename__ = "indicator_system"
    __table_args__ = (UniqueConstraint("code", "version"),)
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published

    nodes: Mapped[list[IndicatorNode]] = relationship(
        back_populates="system", cascade="all, delete-orphan", order_by="IndicatorNode.sort_order"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_zh


class IndicatorNode(Timestamped, Base):
    """A dimension, indicator or item; leaves carry source, direction, scale and thresholds."""

    __tablename__ = "indicator_node"
    __table_args__ = (UniqueConstraint("system_id", "code"),)
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("indicator_system.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_node.id"))
    level: Mapped[NodeLevel] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    definition_zh: Mapped[str] = mapped_column(Text, default="")
    definition_en: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[IndicatorSource | None] = mapped_column(String(32))
    #: What the source calls it: a survey item code, a checklist item, a KPI code…
    source_ref: Mapped[str | None] = mapped_column(String(128))
    direction: Mapped[Direction] = mapped_column(String(8), default=Direction.HIGHER_IS_BETTER)
    scale_min: Mapped[float | None] = mapped_column(Float)
    scale_max: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[float | None] = mapped_column(Float)
    warning: Mapped[float | None] = mapped_column(Float)
    is_veto: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    system: Mapped[IndicatorSystem] = relationship(back_populates="nodes")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_zh


class ProfileKind(StrEnum):
    """What a weight profile weighs: an indicator-system version or a checklist version."""

    INDICATOR_SYSTEM = "indicator_system"
    CHECKLIST = "checklist"


class WeightProfile(Timestamped, Base):
    """A named set of weights, with how it was made (``method`` + ``inputs``), who made it and
    whether it is in force — for the evaluation's indicator tree or an inspection checklist.

    One table holds both kinds (``kind``), so the editors, the API, the import/export and the
    history read one shape:

    - ``indicator_system``: local weights over one indicator-system version (``system_id``),
      one :class:`Weight` row per node, for a store tier (optionally in/out of the province,
      a traffic band and a programme stage) over the periods ``valid_from`` … ``valid_to``.
      The code is chosen by the analyst; an edit updates the row in place.
    - ``checklist``: indicator weights of one inspection checklist version (``checklist_id``),
      for one key tier × in/out of province × stage × traffic (``traffic_band``: high, normal
      or low). The checklist's indicators are not indicator-system nodes, so the weights are
      kept by checklist indicator code in ``checklist_weights`` (JSON, summing to 1). Every
      save is a new row ``<checklist>.v<version>.<key>.r<n>``; the previous row of the key
      stays with ``active = False``, so who set which weights, when and how can be read back
      and reproduced. A key without an active row is weighed by the plan's template profile.

    ``system_id`` is set exactly for the first kind and ``checklist_id`` for the second
    (a check constraint says so); ``valid_from`` is required for the first kind only.
    """

    __tablename__ = "weight_profile"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'indicator_system' AND system_id IS NOT NULL AND checklist_id IS NULL"
            " AND valid_from IS NOT NULL)"
            " OR (kind = 'checklist' AND checklist_id IS NOT NULL AND system_id IS NULL)",
            name="kind_target",
        ),
    )
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(96), unique=True, index=True)
    kind: Mapped[ProfileKind] = mapped_column(
        String(16), default=ProfileKind.INDICATOR_SYSTEM, index=True
    )
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    system_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_system.id"))
    checklist_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_checklist.id"), index=True
    )
    tier: Mapped[StoreTier | None] = mapped_column(String(32))
    in_province: Mapped[bool | None] = mapped_column(Boolean)
    traffic_band: Mapped[str | None] = mapped_column(String(16))  # high | (normal) | low | None
    stage: Mapped[ProgrammeStage | None] = mapped_column(String(16))
    valid_from: Mapped[str | None] = mapped_column(String(16))  # period code
    valid_to: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[WeightMethod] = mapped_column(String(32), default=WeightMethod.MANUAL)
    #: What the method was fed (judgment matrices, data summary, α…) to reproduce it.
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Checklist profiles: weight by checklist indicator code (the whole checklist sums to 1).
    checklist_weights: Mapped[dict[str, float] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    #: False once a later save (or a reset to the template) replaced it.
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    system: Mapped[IndicatorSystem | None] = relationship()
    checklist: Mapped[InspectionChecklist | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    weights: Mapped[list[Weight]] = relationship(
        back_populates="profile", cascade="all, delete-orphan"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_zh


class Weight(Base):
    """Local weight of a node among its siblings (siblings' weights sum to 1)."""

    __tablename__ = "weight"
    __table_args__ = (UniqueConstraint("profile_id", "node_id"),)
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("weight_profile.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("indicator_node.id", ondelete="CASCADE"))
    weight: Mapped[float] = mapped_column(Float)

    profile: Mapped[WeightProfile] = relationship(back_populates="weights")
    node: Mapped[IndicatorNode] = relationship()
