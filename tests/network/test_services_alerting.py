"""The one alert life cycle (:mod:`sqm.services.alerting`) for both kinds of alert: a
network alert and a complaint alert go open → acknowledged → resolved through the same
functions; a complaint alert's resolution needs a note and keeps it, a network alert's
does not; the history names the people who acted; routes are on duty by one schedule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from sqm.services import alerting
from sqm.services.complaints.alerts import COMPLAINT_ALERT, ComplaintAlertError
from sqm.services.network.alerts import NETWORK_ALERT
from sqm.store.models import OrgUnit, User
from sqm.store.models.complaint_alert import ComplaintAlert, ComplaintAlertEvent
from sqm.store.models.network import NetworkAlert, NetworkAlertEvent

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture()
def session(sqlite_engine: Engine) -> Iterator[Session]:
    with Session(sqlite_engine) as s:
        s.add(OrgUnit(id=1, code="S1", name_zh="门店", kind="store", path="/1/"))
        s.add(User(id=7, username="netops", display_name="NetOps", password_hash="x"))
        s.flush()
        yield s


def _network(s: Session) -> NetworkAlert:
    a = NetworkAlert(
        dedup_key="static|drop_rate|SITE1",
        rule="static",
        kpi="drop_rate",
        site_id="SITE1",
        unit_id=1,
        cells=["C1"],
        status="open",
        first_fired_at=T0,
        last_seen_at=T0,
    )
    a.events.append(NetworkAlertEvent(kind="fired", at=T0))
    s.add(a)
    s.flush()
    return a


def _complaint(s: Session) -> ComplaintAlert:
    a = ComplaintAlert(
        dedup_key="1|subcategory|network.slow_data",
        unit_id=1,
        category="network",
        subcategory="network.slow_data",
        status="open",
        window_start=T0 - timedelta(days=21),
        window_end=T0,
        baseline_start=T0 - timedelta(days=105),
        count_current=18,
        count_baseline=21,
        expected=5.25,
        rate_ratio=3.43,
        p_value=0.001,
        q_value=0.01,
        first_detected_at=T0,
        last_detected_at=T0,
    )
    a.events.append(ComplaintAlertEvent(kind="detected", at=T0))
    s.add(a)
    s.flush()
    return a


@pytest.mark.parametrize("make", [_network, _complaint], ids=["network", "complaint"])
def test_both_kinds_follow_one_life_cycle(session: Session, make) -> None:  # type: ignore[no-untyped-def]
    alert = make(session)
    kind = NETWORK_ALERT if isinstance(alert, NetworkAlert) else COMPLAINT_ALERT
    with pytest.raises(alerting.AlertError, match="comment: say what is being done"):
        alerting.acknowledge(session, alert, kind, 7, "  ", T0)
    alerting.acknowledge(session, alert, kind, 7, " crew on the way ", T0 + timedelta(hours=1))
    assert (alert.status, alert.acknowledged_by, alert.ack_comment) == (
        "acknowledged",
        7,
        "crew on the way",
    )
    with pytest.raises(alerting.AlertError, match="only an open alert"):
        alerting.acknowledge(session, alert, kind, 7, "again", T0)
    alerting.resolve(session, alert, kind, 7, "antenna replaced", T0 + timedelta(hours=3))
    assert alert.status == "resolved" and alert.resolved_at is not None
    with pytest.raises(alerting.AlertError, match="already resolved"):
        alerting.resolve(session, alert, kind, 7, "x", T0)
    h = alerting.history(session, alert)
    assert [e.kind for e in h.events][-2:] == ["acknowledged", "resolved"]
    assert [e.note for e in h.events][-2:] == ["crew on the way", "antenna replaced"]
    assert h.actors == {7: "netops"}


def test_a_complaint_alert_needs_a_note_and_keeps_it(session: Session) -> None:
    alert = _complaint(session)
    with pytest.raises(ComplaintAlertError, match="note: say why"):
        alerting.resolve(session, alert, COMPLAINT_ALERT, 7, "  ", T0)
    assert alert.status == "open" and [e.kind for e in alert.events] == ["detected"]
    alerting.resolve(session, alert, COMPLAINT_ALERT, 7, "退费已完成", T0)
    assert (alert.resolved_by, alert.resolution_note) == (7, "退费已完成")


def test_a_network_alert_resolves_without_a_note(session: Session) -> None:
    alert = _network(session)
    alerting.resolve(session, alert, NETWORK_ALERT, None, "", T0)
    assert alert.status == "resolved"
    assert (alert.events[-1].kind, alert.events[-1].note) == ("resolved", None)
    assert alerting.history(session, alert).actors == {}


def test_the_kinds_raise_their_own_error_class(session: Session) -> None:
    alert = _complaint(session)
    with pytest.raises(ComplaintAlertError):
        alerting.acknowledge(session, alert, COMPLAINT_ALERT, None, "", T0)
    net = _network(session)
    with pytest.raises(alerting.AlertError) as caught:
        alerting.acknowledge(session, net, NETWORK_ALERT, None, "", T0)
    assert type(caught.value) is alerting.AlertError
    assert "about the alert" in str(caught.value)


def test_routes_are_on_duty_by_one_schedule() -> None:
    tue_10, tue_20, sat_10 = (
        datetime(2026, 11, 24, 10),
        datetime(2026, 11, 24, 20),
        datetime(2026, 11, 28, 10),
    )

    def route(schedule: str, active: bool = True) -> SimpleNamespace:
        return SimpleNamespace(active=active, schedule=schedule, hours=[9, 18])

    assert [alerting.on_duty(route("business_hours"), t) for t in (tue_10, tue_20, sat_10)] == [
        True,
        False,
        False,
    ]
    assert [alerting.on_duty(route("on_call"), t) for t in (tue_10, tue_20, sat_10)] == [
        False,
        True,
        True,
    ]
    assert alerting.on_duty(route("always"), tue_20)
    assert not alerting.on_duty(route("always", active=False), tue_20)


def test_the_life_cycle_module_docstring_examples() -> None:
    import doctest

    assert doctest.testmod(alerting).failed == 0


def test_routes_on_duty_by_channel_and_source(session: Session) -> None:
    from sqm.store.models.network import NotificationRoute

    session.add_all(
        [
            NotificationRoute(
                name="noc", channel="webhook", target="http://noc", schedule="always"
            ),
            NotificationRoute(
                name="cx",
                channel="webhook",
                target="http://cx",
                schedule="always",
                settings={"sources": ["complaints"]},
            ),
            NotificationRoute(
                name="mail", channel="email", target="a@b", schedule="business_hours"
            ),
        ]
    )
    session.flush()
    tue_10, tue_20 = datetime(2026, 11, 24, 10), datetime(2026, 11, 24, 20)
    names = lambda rs: sorted(r.name for r in rs)  # noqa: E731
    assert names(alerting.routes_on_duty(session, tue_10)) == ["cx", "mail", "noc"]
    assert names(alerting.routes_on_duty(session, tue_20)) == ["cx", "noc"]
    assert names(alerting.routes_on_duty(session, tue_10, channel="webhook")) == ["cx", "noc"]
    complaints = alerting.routes_on_duty(session, tue_10, channel="webhook", source="complaints")
    assert names(complaints) == ["cx"]
