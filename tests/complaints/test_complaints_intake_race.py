"""Idempotent intake under concurrency: the same complaint sent by many threads at once is
stored once (SQLite always; PostgreSQL with SQM_TEST_POSTGRES=1)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.services import complaint_handling as ch
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
