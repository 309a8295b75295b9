"""Idempotent intake under concurrency: the same complaint sent by many threads at once is
stored once (SQLite always; PostgreSQL with SQM_TEST_POSTGRES=1)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.services.complaints import handling as ch
from sqm.store.engine import make_sessionmaker
from sqm.store.models import Complaint, ComplaintStatusChange, OrgUnit


def test_same_complaint_from_many_threads_is_stored_once(any_engine: Engine) -> None:
    with Session(any_engine) as s:
        co = OrgUnit(code="CO", name_zh="公司", kind=UnitKind.COMPANY, path="/", depth=0)
        s.add(co)
        s.flush()
        co.path = f"/{co.id}/"
        s.commit()
    factory = make_sessionmaker(any_engine)
    data = ch.ComplaintInput(
        "crm", "SAME-1", "regulator", datetime(2026, 11, 30, 10, tzinfo=UTC), "CO", "申诉"
    )

    def send(_: int) -> tuple[int, bool]:
        with factory() as s:
            c, created = ch.intake(s, data)
            cid = c.id
            s.commit()
            return cid, created

    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(send, range(24)))
    assert len({cid for cid, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    with Session(any_engine) as s:
        assert s.scalar(select(func.count()).select_from(Complaint)) == 1
        assert s.scalar(select(func.count()).select_from(ComplaintStatusChange)) == 1
        c = s.scalar(select(Complaint))
        assert c is not None and c.complaint_class == "regulator"


def test_a_lost_race_undoes_only_its_own_insert(any_engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An import stores many complaints in one transaction; when another writer stores one
    of them between the look-up and the insert, only that insert is undone (a savepoint),
    and the complaints before it in the same transaction are kept."""
    with Session(any_engine) as s:
        co = OrgUnit(code="CO", name_zh="公司", kind=UnitKind.COMPANY, path="/", depth=0)
        s.add(co)
        s.flush()
        co.path = f"/{co.id}/"
        s.commit()
    factory = make_sessionmaker(any_engine)
    at = datetime(2026, 11, 30, 10, tzinfo=UTC)
    with factory() as other:  # the other writer wins the race for "RACED"
        ch.intake(other, ch.ComplaintInput("crm", "RACED", "hotline", at, "CO", "先到"))
        other.commit()
    real_stored = ch._stored
    calls = {"n": 0}

    def stale_look_up(session: Session, system: str, sid: str) -> Complaint | None:
        calls["n"] += 1
        return None if sid == "RACED" and calls["n"] <= 2 else real_stored(session, system, sid)

    monkeypatch.setattr(ch, "_stored", stale_look_up)
    with factory() as s:
        _, new = ch.intake(s, ch.ComplaintInput("crm", "EARLIER", "hotline", at, "CO", "早"))
        raced, created = ch.intake(s, ch.ComplaintInput("crm", "RACED", "hotline", at, "CO", "后"))
        s.commit()
    assert new and not created and raced.text == "先到"
    with Session(any_engine) as s:
        assert sorted(s.scalars(select(Complaint.source_id))) == ["EARLIER", "RACED"]
        assert s.scalar(select(func.count()).select_from(ComplaintStatusChange)) == 2
