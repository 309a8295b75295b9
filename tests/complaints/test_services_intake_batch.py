"""Batch intake (set-based, no ORM) writes the same rows and audit entries as single intake
(ORM), so the API's group commit cannot drift from the web form and the import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.services.complaints import handling as ch
from sqm.store.audit import Actor, bind_actor
from sqm.store.engine import make_sessionmaker
from sqm.store.models import AuditEntry, Complaint, ComplaintStatusChange, OrgUnit

AT = datetime(2026, 11, 30, 10, tzinfo=UTC)
VOLATILE = {"id", "source_id", "complaint_id", "created_at", "updated_at", "at"}


def _input(sid: str) -> ch.ComplaintInput:
    return ch.ComplaintInput(
        "crm", sid, "regulator", AT, "CO", "投诉信号差", "13800000000", "network.no_signal"
    )


def _row(obj: Any) -> dict[str, Any]:
    return {c.name: getattr(obj, c.name) for c in obj.__table__.columns if c.name not in VOLATILE}


def test_batch_and_single_intake_write_the_same(any_engine: Engine) -> None:
    with Session(any_engine) as s:
        co = OrgUnit(code="CO", name_zh="公司", kind=UnitKind.COMPANY, path="/", depth=0)
        s.add(co)
        s.flush()
        co.path = f"/{co.id}/"
        s.commit()
    factory = make_sessionmaker(any_engine)
    with factory() as s:
        bind_actor(s, Actor(None, "single"))
        ch.intake(s, _input("ONE"))
        s.commit()
    with factory() as s:
        bind_actor(s, Actor(None, "batch"))
        results = ch.intake_many(s, [_input("TWO"), _input("THREE"), _input("TWO")])
        s.commit()
    assert [(r.created, r.error) for r in results] == [(True, None), (True, None), (False, None)]
    assert results[0].id == results[2].id
    with factory() as s:
        one, two = (
            s.scalars(select(Complaint).where(Complaint.source_id == sid)).one()
            for sid in ("ONE", "TWO")
        )
        assert _row(one) == _row(two)
        steps = {c.complaint_id: _row(c) for c in s.scalars(select(ComplaintStatusChange)).all()}
        assert steps[one.id] == steps[two.id]
        audit = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    by_actor: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for e in audit:
        changes = {k: v for k, v in e.changes.items() if k not in VOLATILE}
        by_actor.setdefault(e.username or "", []).append((e.action, e.entity, changes))
    single = sorted(by_actor["single"], key=lambda t: t[1])
    assert [a[:2] for a in single] == [
        ("create", "complaint"),
        ("create", "complaint_status_change"),
    ]
    # Two new complaints in the batch: each entry equals the single intake's, bar the ids.
    assert sorted(by_actor["batch"], key=lambda t: t[1]) == [
        single[0],
        single[0],
        single[1],
        single[1],
    ]
    ids = {e.entity_id for e in audit if e.entity == "complaint"}
    assert ids == {str(one.id), str(two.id), str(results[1].id)}
