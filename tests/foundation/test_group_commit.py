"""Group commit: one writer thread, one transaction per batch, each caller its own result,
and a failing item failing alone (nothing else lost, nothing written twice)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sqm.store.engine import make_sessionmaker
from sqm.store.group_commit import GroupCommit
from sqm.store.models import Period


def _write_periods(session: Session, codes: Sequence[str]) -> list[int]:
    """Insert one month per code (the code is unique: a repeated code breaks its batch)."""
    rows = [
        Period(code=code, kind="month", start=date(2026, 1, 1), end=date(2026, 1, 31))
        for code in codes
    ]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


def test_every_caller_gets_its_own_row_once(any_engine: Engine) -> None:
    factory = make_sessionmaker(any_engine)
    writer: GroupCommit[str, int] = GroupCommit(factory, _write_periods, name="t", max_batch=32)
    codes = [f"P{i:04d}" for i in range(300)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        ids = list(pool.map(writer.submit_wait, codes))
    with factory() as s:
        stored = dict(s.execute(select(Period.code, Period.id)).all())
    assert stored == dict(zip(codes, ids, strict=True))
    assert writer.items == 300 and 10 <= writer.batches <= 300  # 300 / max_batch 32 → ≥ 10


def test_a_failing_item_fails_alone(any_engine: Engine) -> None:
    """A duplicate key breaks the whole batch's transaction; the writer then writes the
    items one by one: the duplicates get the database's error, the rest are stored once."""
    factory = make_sessionmaker(any_engine)
    with factory() as s:
        _write_periods(s, ["TAKEN"])
        s.commit()
    gate = threading.Event()
    batches: list[list[str]] = []

    def write(session: Session, items: Sequence[str]) -> list[int]:
        gate.wait(30)  # hold the writer on its first batch while the others queue up
        batches.append(list(items))
        return _write_periods(session, items)

    writer: GroupCommit[str, int] = GroupCommit(factory, write, name="t")
    codes = ["A", "TAKEN", "B", "C", "TAKEN", "D"]
    futures = [writer.submit_future(codes[0])]
    futures += [writer.submit_future(c) for c in codes[1:]]
    gate.set()
    outcomes: list[object] = []
    for fut in futures:
        try:
            outcomes.append(fut.result(30))
        except IntegrityError:
            outcomes.append("refused")
    assert [o == "refused" for o in outcomes] == [False, True, False, False, True, False]
    with factory() as s:
        assert s.scalar(select(func.count(Period.id))) == 5
    assert any(len(b) > 2 for b in batches)  # the failing batch was one, then one by one


def test_a_key_keeps_transactions_apart(sqlite_engine: Engine) -> None:
    """Items of different keys (e.g. actors of the audit log) never share a transaction."""
    seen: list[list[str]] = []

    def write(session: Session, items: Sequence[str]) -> list[int]:
        seen.append(list(items))
        return _write_periods(session, items)

    writer: GroupCommit[str, int] = GroupCommit(
        make_sessionmaker(sqlite_engine), write, name="t", key=lambda code: code[0]
    )
    futures = [writer.submit_future(c) for c in ["a1", "b1", "a2", "b2", "a3"]]
    assert all(f.result(30) > 0 for f in futures)
    assert all(len({code[0] for code in batch}) == 1 for batch in seen)


def test_results_must_match_items(sqlite_engine: Engine) -> None:
    writer: GroupCommit[str, int] = GroupCommit(
        make_sessionmaker(sqlite_engine), lambda s, items: [], name="t"
    )
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        writer.submit_wait("X")
