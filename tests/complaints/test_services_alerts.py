"""Complaint alerts: hotspot scans raise exactly the injected rises, stay quiet on flat data,
are idempotent, follow open → acknowledged → resolved (the alert pages: test_pages.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sqm.services.complaints import alerts as svc
from sqm.store.audit import Actor, acting_as
from sqm.store.models import AuditEntry, User
from sqm.store.models.complaint_alert import ComplaintAlert, ComplaintAlertEvent

from .alert_data import AS_OF, burst, flat, stores_of


def _keys(alerts: Iterable[ComplaintAlert]) -> set[tuple[int, str]]:
    return {(a.unit_id, a.code) for a in alerts}


def test_injected_rises_raise_exactly_those_alerts(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        stores = stores_of(s, 30)
        flat(s, stores, AS_OF)
        burst(s, stores[3], "network.slow_data", 12)
        burst(s, stores[17], "billing.overcharge", 10)
        r = svc.watch(s, AS_OF)
        assert r.tested == 30 * 3
        assert _keys(r.raised) == {
            (stores[3].id, "network.slow_data"),
            (stores[17].id, "billing.overcharge"),
        }
        a = next(x for x in r.raised if x.unit_id == stores[3].id)
        # one complaint every 4 days: 6 in the 21 days (days 84, 88, …, 104), 21 in the 84 before
        assert (a.count_current, a.count_baseline) == (6 + 12, 21)
        assert a.expected == pytest.approx(21 * 21 / 84)
        assert a.rate_ratio == pytest.approx(18 / 5.25, rel=1e-3)
        assert (a.status, a.category, a.subcategory, a.tested_by) == (
            "open",
            "network",
            "network.slow_data",
            "subcategory",
        )
        assert a.window_end == AS_OF.astimezone(UTC)
        assert a.window_start == (AS_OF - timedelta(days=21)).astimezone(UTC)
        assert [e.kind for e in a.events] == ["detected"]


@pytest.mark.parametrize("seed", [None, 11, 12])
def test_flat_data_raises_none(demo_engine: Engine, seed: int | None) -> None:
    with Session(demo_engine) as s:
        flat(s, stores_of(s, 30), AS_OF, seed=seed)
        r = svc.watch(s, AS_OF)
        assert r.tested == 90 and r.raised == [] and r.hotspots == 0
        assert s.scalar(select(func.count()).select_from(ComplaintAlert)) == 0


def test_rerun_is_idempotent_and_redetection_updates_the_same_alert(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        stores = stores_of(s, 10)
        flat(s, stores, AS_OF)
        burst(s, stores[2], "service.rude_staff", 12)
        first = svc.watch(s, AS_OF)
        s.commit()
        assert len(first.raised) == 1
        alert_id = first.raised[0].id
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
        events_before = s.scalar(select(func.count()).select_from(ComplaintAlertEvent))
        again = svc.watch(s, AS_OF)
        s.commit()
        assert (again.raised, again.updated, again.resolved) == ([], [], [])
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
        assert s.scalar(select(func.count()).select_from(ComplaintAlertEvent)) == events_before

        # three more complaints in the same window: the alert is updated, not doubled
        burst(s, stores[2], "service.rude_staff", 3, last_days=5)
        upd = svc.watch(s, AS_OF)
        assert upd.raised == [] and [a.id for a in upd.updated] == [alert_id]
        assert s.scalar(select(func.count()).select_from(ComplaintAlert)) == 1
        a = s.get(ComplaintAlert, alert_id)
        assert a is not None and a.count_current == 6 + 12 + 3 and a.detections == 2
        # an older scan does not undo what a later one found
        older = svc.watch(s, AS_OF - timedelta(days=3))
        assert (older.raised, older.updated, older.resolved) == ([], [], [])


def test_alert_clears_when_the_rise_is_gone(demo_engine: Engine) -> None:
    later = AS_OF + timedelta(days=63)
    with Session(demo_engine) as s:
        stores = stores_of(s, 10)
        flat(s, stores, later)
        burst(s, stores[5], "network.slow_data", 12)
        (a,) = svc.watch(s, AS_OF).raised
        # 63 days later the burst lies in the baseline and the last 21 days are flat again
        r = svc.watch(s, later, now=later.astimezone(UTC))
        assert [x.id for x in r.resolved] == [a.id] and r.raised == []
        assert a.status == "resolved" and a.resolved_by is None
        assert a.resolved_at == later.astimezone(UTC)
        assert [e.kind for e in a.events] == ["detected", "cleared"]


def test_lifecycle_open_acknowledged_resolved_audited(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        stores = stores_of(s, 10)
        flat(s, stores, AS_OF + timedelta(days=7))
        burst(s, stores[1], "billing.overcharge", 16)
        (a,) = svc.watch(s, AS_OF).raised
        s.commit()
        handler = s.scalar(select(User).where(User.username == "handler"))
        assert handler is not None
        at = AS_OF.astimezone(UTC) + timedelta(hours=9)
        with pytest.raises(svc.ComplaintAlertError, match="comment"):
            svc.acknowledge(s, a, handler.id, "  ", at)
        with acting_as(Actor(handler.id, handler.username)):
            svc.acknowledge(s, a, handler.id, "门店已核查计费规则", at)
            s.commit()
        assert (a.status, a.acknowledged_by, a.ack_comment) == (
            "acknowledged",
            handler.id,
            "门店已核查计费规则",
        )
        with pytest.raises(svc.ComplaintAlertError, match="only an open alert"):
            svc.acknowledge(s, a, handler.id, "again", at)
        # still rising at the next scan: an acknowledged alert stays acknowledged
        svc.watch(s, AS_OF + timedelta(days=1))
        assert a.status == "acknowledged"
        with pytest.raises(svc.ComplaintAlertError, match="note"):
            svc.resolve(s, a, handler.id, "", at)
        with acting_as(Actor(handler.id, handler.username)):
            svc.resolve(s, a, handler.id, "退费已完成，计费规则已更正", at + timedelta(hours=2))
            s.commit()
        assert (a.status, a.resolved_by) == ("resolved", handler.id)
        with pytest.raises(svc.ComplaintAlertError, match="already resolved"):
            svc.resolve(s, a, handler.id, "x", at)
        assert [e.kind for e in a.events] == ["detected", "acknowledged", "updated", "resolved"]
        audited = s.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "complaint_alert", AuditEntry.action == "update"
            )
        ).all()
        assert {e.username for e in audited} >= {"handler"}
        # the scan of the same window does not raise it again; a later one that still sees
        # the rise opens a new alert (the person resolved it, the complaints did not stop)
        assert svc.watch(s, AS_OF + timedelta(days=1)).raised == []
        (b,) = svc.watch(s, AS_OF + timedelta(days=2)).raised
        assert b.id != a.id and b.dedup_key == a.dedup_key and b.status == "open"


def test_one_unresolved_alert_per_key_is_enforced_by_the_database(any_engine: Engine) -> None:
    from sqm.store.models import OrgUnit as Unit

    with Session(any_engine) as s:
        u = Unit(code="X1", name_zh="门店", name_en="Store", kind="store", path="/", depth=0)
        s.add(u)
        s.flush()
        u.path = f"/{u.id}/"
        t = datetime(2026, 11, 30, tzinfo=UTC)

        def alert(status: str) -> ComplaintAlert:
            return ComplaintAlert(
                dedup_key=f"{u.id}|subcategory|network.slow_data",
                unit_id=u.id,
                category="network",
                subcategory="network.slow_data",
                tested_by="subcategory",
                status=status,
                window_start=t,
                window_end=t,
                baseline_start=t,
                count_current=9,
                count_baseline=1,
                expected=0.25,
                rate_ratio=36.0,
                p_value=1e-6,
                q_value=1e-5,
                first_detected_at=t,
                last_detected_at=t,
            )

        s.add_all([alert("resolved"), alert("resolved"), alert("open")])
        s.flush()  # resolved ones may repeat
        s.add(alert("acknowledged"))
        with pytest.raises(IntegrityError):
            s.flush()


def test_webhook_routes_that_opt_in_get_new_alerts(demo_engine: Engine) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from sqm.store.models.network import NotificationRoute

    got: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        with Session(demo_engine) as s:
            s.add_all(
                [
                    NotificationRoute(
                        name="complaints desk",
                        channel="webhook",
                        target=url,
                        settings={"sources": ["complaints"]},
                    ),
                    NotificationRoute(name="NOC only", channel="webhook", target=url + "/noc"),
                ]
            )
            stores = stores_of(s, 10)
            flat(s, stores, AS_OF)
            burst(s, stores[4], "network.slow_data", 12)
            r = svc.watch(s, AS_OF, notify=True)
            assert r.notified == 1 and len(got) == 1
            body = got[0].decode()
            assert '"source":"complaints"' in body and stores[4].code in body
            assert [e.kind for e in r.raised[0].events] == ["detected", "notified"]
    finally:
        server.shutdown()


@pytest.mark.slow
def test_demo_step_raises_the_injected_hotspots_as_alerts(sqlite_engine: Engine) -> None:
    from sqm.services.complaints.demo import HOTSPOTS
    from sqm.services.demo import DEMO_STEPS, run_demo

    steps = [
        s for s in DEMO_STEPS if s[1].startswith("sqm.services.demo:") and "evaluate" not in s[1]
    ]
    ctx = run_demo(
        sqlite_engine,
        steps=[
            *steps,
            ("complaints", "sqm.services.complaints.demo:build_demo_complaints"),
            ("complaint alerts", "sqm.services.complaints.alerts:build_demo_alerts"),
        ],
    )
    with Session(sqlite_engine) as s:
        active = s.scalars(select(ComplaintAlert).where(ComplaintAlert.status != "resolved")).all()
        expected = {(ctx.stores[i].id, code) for i, code, _ in HOTSPOTS}
        assert expected <= _keys(active) and len(_keys(active) - expected) <= 1
        assert [a.status for a in active].count("acknowledged") == 1
        # one alert per unit × category, however many weekly scans saw it
        assert len({a.dedup_key for a in active}) == len(active)
