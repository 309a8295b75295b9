"""Survey tables: instrument versions, waves, quota cells, single-use tokens, responses and
their audited amendments, and saved import mappings.

A response is immutable: its answers are written once, in the same transaction that
counts it in its quota cell and (for a token link) marks the token used, so a submission
is stored entirely or not at all and never counted twice. A correction is a
:class:`SurveyAmendment` row (audited) on top of the original answers.
Quota cells carry their own ``achieved`` counter, raised by a conditional UPDATE
(``… WHERE achieved < target``), which is atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sqm.store.base import Base, utcnow
from sqm.store.models.org import OrgUnit
from sqm.store.models.period import Period


class SurveyInstrument(Base):
    """One version of a questionnaire; ``definition`` is :meth:`Instrument.to_dict`."""

    __tablename__ = "survey_instrument"
    __audited__ = True
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(16), default="customer")
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SurveyWave(Base):
    """One fielding of an instrument version in a period (see :mod:`sqm.domain.wave`)."""

    __tablename__ = "survey_wave"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("survey_instrument.id"), index=True)
    full_policy: Mapped[str] = mapped_column(String(16), default="over_quota")
    link_mode: Mapped[str] = mapped_column(String(8), default="open")
    status: Mapped[str] = mapped_column(String(8), default="draft", index=True)
    interlocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    period: Mapped[Period] = relationship(lazy="joined")
    instrument: Mapped[SurveyInstrument] = relationship(lazy="joined")


class SurveyQuota(Base):
    """A quota cell: a store (``segment`` = ``"*"``) or a store × segment, with its counters."""

    __tablename__ = "survey_quota"
    __table_args__ = (UniqueConstraint("wave_id", "unit_id", "segment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("survey_wave.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    segment: Mapped[str] = mapped_column(String(16), default="*")
    target: Mapped[int] = mapped_column(Integer)
    achieved: Mapped[int] = mapped_column(Integer, default=0)
    over_quota: Mapped[int] = mapped_column(Integer, default=0)

    unit: Mapped[OrgUnit] = relationship(lazy="joined")


class SurveyToken(Base):
    """A single-use invitation; only the SHA-256 of the token is stored."""

    __tablename__ = "survey_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("survey_wave.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SurveyResponse(Base):
    """One respondent's answers, immutable once written."""

    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("survey_wave.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("survey_instrument.id"))
    segment: Mapped[str | None] = mapped_column(String(16))
    over_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16), default="web")  # web | import | demo
    source_ref: Mapped[str | None] = mapped_column(String(128))  # platform id on import
    token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_hash: Mapped[str | None] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)

    unit: Mapped[OrgUnit] = relationship(lazy="raise")


class SurveyAmendment(Base):
    """An audited correction of one answer of a response (the original stays as written)."""

    __tablename__ = "survey_amendment"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SurveyColumnMapping(Base):
    """A saved column mapping for importing one platform's exports of one instrument."""

    __tablename__ = "survey_column_mapping"
    __audited__ = True
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    instrument_code: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@event.listens_for(SurveyResponse, "before_update")
def _responses_are_immutable(_mapper: Any, _connection: Any, target: SurveyResponse) -> None:
    """A stored response is never changed in place; corrections are amendments."""
    raise ValueError(f"survey response {target.id} is immutable; record a SurveyAmendment instead")
