"""Declarative base shared by every table, with a naming convention Alembic can rely on."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now in UTC (stored as UTC everywhere)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of all SQM tables.

    A model that sets ``__audited__ = True`` has every insert, update and delete
    written to the audit log (see :mod:`sqm.store.audit`).
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    __audited__: bool = False


class Timestamped:
    """Mixin: creation and last-update times."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
