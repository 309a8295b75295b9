"""Primary keys drawn ahead of the insert, for high-rate batches on PostgreSQL.

A batch of new rows whose ids the database assigns is sent as one multi-row
``INSERT … VALUES (…), (…) RETURNING id``. Its text changes with the number of rows, so the
driver (psycopg) re-parses a long statement for every batch — a fifth of a complaint
batch's CPU. Drawing the ids from the table's own sequence first (one round trip for all
of them) lets the insert go as a single-row statement in a pipelined ``executemany``,
whose text never changes and is parsed once. SQLite has no sequences and no such cost: it
keeps the multi-row ``RETURNING``.

    ids = insert_with_ids(session, Complaint, rows)   # rows: dicts of column values, no "id"
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from sqm.store.base import Base

_SEQUENCE = text("SELECT pg_get_serial_sequence(:tbl, 'id')")
_DRAW = text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)")
_SEQUENCES: dict[tuple[str, str], str] = {}  # (database url, table) → sequence


def _draw(session: Session, table: str, n: int) -> list[int]:
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    seq = _SEQUENCES.get((url, table))
    if seq is None:
        seq = _SEQUENCES[(url, table)] = session.execute(_SEQUENCE, {"tbl": table}).scalar_one()
    return list(session.execute(_DRAW, {"seq": seq, "n": n}).scalars())


def insert_with_ids(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (dicts with the same keys, without ``id``) into ``model``'s table in the
    session's transaction and return their new ids in order; each row dict gets its ``id``.

    PostgreSQL: ids drawn from the sequence, then one pipelined ``executemany``; elsewhere:
    a multi-row ``INSERT … RETURNING`` in the rows' order."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        ids = _draw(session, table.name, len(rows))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        conn.execute(insert(table), rows)
        return ids
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = list(conn.execute(stmt, rows).scalars())
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
    return ids
