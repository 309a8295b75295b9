"""The complaint read models and the intake helpers the pages and the API share: each
filters to the principal's scope and refuses, with the field named, what it cannot do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sqm.domain.errors import MissingError, RuleError
from sqm.domain.org import UnitKind
from sqm.services.complaints import handling as ch
from sqm.services.complaints import views
from sqm.services.scope import Principal, load_principal
from sqm.store.models import OrgUnit, User

PHONE = "13812345678"


@pytest.fixture()
def session(demo_engine: Engine) -> Iterator[Session]:
    with Session(demo_engine) as s:
        yield s


def _principal(s: Session, username: str) -> Principal:
    uid = s.scalar(select(User.id).where(User.username == username))
    assert uid is not None
    p = load_principal(s, uid)
    assert p is not None
    return p


def _two_stores(s: Session, p: Principal) -> tuple[OrgUnit, OrgUnit]:
    stores = s.scalars(
        select(OrgUnit).where(OrgUnit.kind == UnitKind.STORE).order_by(OrgUnit.id)
    ).all()
    return next(u for u in stores if p.sees(u)), next(u for u in stores if not p.sees(u))


def _data(unit: OrgUnit, sid: str) -> ch.ComplaintInput:
    return ch.ComplaintInput(
        source_system="test",
        source_id=sid,
        channel="hotline",
        received_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
        unit_code=unit.code,
        text="网速慢",
        customer_ref=PHONE,
    )


def test_intake_in_scope_refuses_other_units_and_reads_back_known_ones(session: Session) -> None:
    sm = _principal(session, "store.manager")
    mine, foreign = _two_stores(session, sm)
    first = ch.intake_in_scope(session, sm, [_data(mine, "A"), _data(foreign, "B")])
    assert [r.created for r in first] == [True, False]
    assert first[1].field == "unit_code" and first[1].id is None
    again = ch.intake_in_scope(session, sm, [_data(mine, "A")])
    assert again[0].created is False and again[0].complaint is not None
    assert again[0].complaint.id == first[0].id
    bare = ch.intake_in_scope(session, sm, [_data(mine, "A")], read_back=False)
    assert bare[0].complaint is None and bare[0].id == first[0].id


def test_take_in_by_hand_and_assign_name_the_field(session: Session) -> None:
    sm = _principal(session, "store.manager")
    mine, foreign = _two_stores(session, sm)
    with pytest.raises(ch.ComplaintError) as refused:
        ch.take_in_by_hand(session, sm, _data(foreign, "C"))
    assert refused.value.details == {"field": "unit_code"}
    c = ch.take_in_by_hand(session, sm, _data(mine, "C"))
    with pytest.raises(ch.ComplaintError) as unknown:
        ch.assign_by_username(session, c, "nobody")
    assert unknown.value.details == {"field": "username"}
    ch.assign_by_username(session, c, "handler")
    assert c.handler_id == session.scalar(select(User.id).where(User.username == "handler"))
    ch.assign_by_username(session, c, "")
    assert c.handler_id is None


def test_queue_and_csv_follow_the_scope_and_mask(session: Session) -> None:
    analyst, sm = _principal(session, "analyst"), _principal(session, "store.manager")
    mine, foreign = _two_stores(session, sm)
    ch.intake_in_scope(session, analyst, [_data(mine, "D"), _data(foreign, "E")])
    session.flush()
    q = views.queue(session, sm, "team", limit=10, with_total=True)
    assert q.total == len(q.complaints) >= 1
    assert {c.unit_id for c in q.complaints} == {mine.id}
    assert views.queue(session, sm, "team", limit=10).total is None
    text = views.queue_csv(session, analyst, "team")
    assert text.startswith("\ufeffid,source_system")
    assert PHONE not in text and "138****5678" in text


def test_dashboard_and_alert_list_stay_in_scope(session: Session) -> None:
    sm = _principal(session, "store.manager")
    mine, foreign = _two_stores(session, sm)
    ch.intake_in_scope(session, sm, [_data(mine, "F")])
    session.flush()
    d = views.dashboard(session, sm, "en", datetime(2026, 12, 1, tzinfo=UTC))
    assert d["n"] >= 1 and d["trend"]["type"] == "line"
    assert views.alert_list(session, sm).alerts == []
    with pytest.raises(MissingError):
        views.alert_list(session, sm, region=foreign.id)
    with pytest.raises(RuleError, match="status"):
        views.alert_list(session, sm, status="nonsense")
    with pytest.raises(RuleError, match="category"):
        views.alert_list(session, sm, category="nonsense")
