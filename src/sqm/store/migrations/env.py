"""Alembic environment: one set of migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import sqm.store.models  # noqa: F401  (registers every table on Base.metadata)
from sqm.store.base import Base
from sqm.store.engine import make_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
