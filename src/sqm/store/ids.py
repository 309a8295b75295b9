"""Primary keys drawn ahead of the insert, for high-rate batches on PostgreSQL.

A batch of new rows whose ids the database assigns is sent as one multi-row
``INSERT … VALUES (…), (…) RETURNING id``. Its text changes with the number of rows, so the
driver (psycopg) re-parses a long statement for every batch — a fifth of a complaint
batch's CPU. Drawing the ids from the table's own sequence first (one round trip for all
of them) lets the flush send a single-row INSERT as a pipelined ``executemany``, whose
text never changes and is parsed once. SQLite has no sequences and no such cost: a no-op.

    assign_ids(session, complaints)   # then session.add_all(complaints); session.flush()
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from sqm.store.base import Base

_SEQUENCE = text("SELECT pg_get_serial_sequence(:tbl, 'id')")
_DRAW = text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)")
_SEQUENCES: dict[tuple[str, str], str] = {}  # (database url, table) → sequence


PREASSIGN = "sqm_preassign_ids"
"""``session.info`` flag: the audit log draws its entries' ids too (see store.audit)."""


def _draw(session: Session, table: str, n: int) -> list[int]:
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    seq = _SEQUENCES.get((url, table))
    if seq is None:
        seq = _SEQUENCES[(url, table)] = session.execute(_SEQUENCE, {"tbl": table}).scalar_one()
    return list(session.execute(_DRAW, {"seq": seq, "n": n}).scalars())


def insert_with_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (dicts with the same keys, without ``id``) into ``table`` in the
    session's transaction and return their new ids in order; each row dict gets its ``id``.

    PostgreSQL: ids drawn from the sequence, then one pipelined ``executemany``; elsewhere:
    a multi-row ``INSERT … RETURNING`` in the rows' order."""
    if not rows:
        return []
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


def assign_ids(session: Session, rows: Iterable[Base]) -> None:
    """Give every row without an ``id`` the next ids of its table's sequence (PostgreSQL
    only; tables whose primary key is not a single ``id`` column are left to the insert)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    by_table: dict[str, list[Base]] = {}
    for row in rows:
        table = cast(Table, row.__table__)
        pk = [c.name for c in table.primary_key.columns]
        if pk == ["id"] and getattr(row, "id", None) is None:
            by_table.setdefault(table.name, []).append(row)
    for name, need in by_table.items():
        for row, new_id in zip(need, _draw(session, name, len(need)), strict=True):
            row.id = new_id  # type: ignore[attr-defined]
