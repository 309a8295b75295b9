"""Alert lifecycle on a real database: dedup per site, silences, schedules, webhook, SMTP."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sqm.services.alerting import on_duty
from sqm.services.network.alerts import (
    AlertError,
    Detection,
    SmtpSettings,
    acknowledge,
    notify,
    raise_alerts,
    resolve,
    resolve_cleared,
)
from sqm.store.models import OrgUnit
from sqm.store.models.network import NetworkAlert, NetworkSilence, NotificationRoute

T0 = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # a Tuesday evening


@pytest.fixture()
def session(sqlite_engine: Engine) -> Iterator[Session]:
    with Session(sqlite_engine) as s:
        s.add(OrgUnit(id=1, code="S1", name_zh="门店", kind="store", path="/1/"))
        s.flush()
        yield s


def _det(cell: str, site: str = "SITE1", at: datetime = T0, sev: str = "major") -> Detection:
    return Detection("static", "rrc_setup_sr", cell, site, 1, at, 95.0, 98.0, sev)


def test_forty_cells_of_one_site_make_one_alert(session: Session) -> None:
    new = raise_alerts(session, [_det(f"C{i}") for i in range(40)] + [_det("X1", site="SITE2")])
    assert len(new) == 2
    site1 = next(a for a in new if a.site_id == "SITE1")
    assert len(site1.cells) == 40 and site1.status == "open"
    # The rule keeps firing later: the same alert is updated, not duplicated.
    again = raise_alerts(session, [_det("C41", at=T0 + timedelta(minutes=15), sev="critical")])
    assert again == []
    assert len(site1.cells) == 41 and site1.severity == "critical"
    assert [e.kind for e in site1.events] == ["fired", "escalated"]


def test_acknowledge_resolve_and_history(session: Session) -> None:
    (alert,) = raise_alerts(session, [_det("C1")])
    with pytest.raises(AlertError, match="comment"):
        acknowledge(session, alert, None, "  ", T0)
    acknowledge(session, alert, None, "team dispatched to site", T0 + timedelta(minutes=5))
    assert alert.status == "acknowledged"
    with pytest.raises(AlertError, match="only an open alert"):
        acknowledge(session, alert, None, "again", T0)
    resolve(session, alert, None, "power restored", T0 + timedelta(hours=1))
    assert [e.kind for e in alert.events] == ["fired", "acknowledged", "resolved"]
    # After resolution the same problem opens a new alert.
    assert len(raise_alerts(session, [_det("C1", at=T0 + timedelta(hours=2))])) == 1


def test_recovered_alerts_are_resolved(session: Session) -> None:
    raise_alerts(session, [_det("C1"), _det("C2", site="SITE2")])
    done = resolve_cleared(session, ["static|rrc_setup_sr|SITE2"], T0 + timedelta(hours=1))
    assert [a.site_id for a in done] == ["SITE1"]
    open_sites = session.scalars(
        select(NetworkAlert.site_id).where(NetworkAlert.status == "open")
    ).all()
    assert open_sites == ["SITE2"]


def test_maintenance_window_silences(session: Session) -> None:
    session.add(
        NetworkSilence(
            scope="SITE1",
            kpi=None,
            starts_at=T0 - timedelta(hours=1),
            ends_at=T0 + timedelta(hours=1),
            reason="planned swap",
        )
    )
    session.flush()
    a, b = raise_alerts(session, [_det("C1"), _det("C9", site="SITE9")])
    assert a.silenced and not b.silenced


def test_schedules() -> None:
    business = NotificationRoute(
        name="noc",
        channel="webhook",
        target="x",
        schedule="business_hours",
        hours=[9, 18],
        active=True,
    )
    on_call = NotificationRoute(
        name="oncall", channel="webhook", target="x", schedule="on_call", hours=[9, 18], active=True
    )
    tue_10 = datetime(2026, 11, 24, 10, 0)
    tue_20 = datetime(2026, 11, 24, 20, 0)
    sat_10 = datetime(2026, 11, 28, 10, 0)
    assert (
        on_duty(business, tue_10)
        and not on_duty(business, tue_20)
        and not on_duty(business, sat_10)
    )
    assert not on_duty(on_call, tue_10) and on_duty(on_call, tue_20) and on_duty(on_call, sat_10)


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 to accept one message."""

    messages: ClassVar[list[str]] = []

    def handle(self) -> None:
        self.wfile.write(b"220 test\r\n")
        data: list[str] = []
        in_data = False
        for raw in self.rfile:
            line = raw.decode().rstrip("\r\n")
            if in_data:
                if line == ".":
                    in_data = False
                    _Smtp.messages.append("\n".join(data))
                    self.wfile.write(b"250 ok\r\n")
                else:
                    data.append(line)
                continue
            cmd = line[:4].upper()
            if cmd == "DATA":
                in_data = True
                self.wfile.write(b"354 go\r\n")
            elif cmd == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            elif cmd == "EHLO":
                self.wfile.write(b"250 test\r\n")
            else:
                self.wfile.write(b"250 ok\r\n")


def test_webhook_and_email_are_sent_and_recorded(session: Session) -> None:
    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    for srv in (hook, smtp):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        session.add_all(
            [
                NotificationRoute(
                    name="noc",
                    channel="webhook",
                    target=f"http://127.0.0.1:{hook.server_port}/a",
                    schedule="always",
                    hours=[9, 18],
                    min_severity="minor",
                    active=True,
                ),
                NotificationRoute(
                    name="mail",
                    channel="email",
                    target="noc@example.com",
                    schedule="always",
                    hours=[9, 18],
                    min_severity="critical",
                    active=True,
                ),
                NotificationRoute(
                    name="off",
                    channel="webhook",
                    target="http://127.0.0.1:9/x",
                    schedule="business_hours",
                    hours=[9, 18],
                    min_severity="minor",
                    active=True,
                ),
            ]
        )
        session.flush()
        new = raise_alerts(session, [_det("C1", sev="critical"), _det("C2", site="SITE2")])
        sent = notify(session, new, T0, smtp=SmtpSettings("127.0.0.1", smtp.server_address[1]))
        assert (
            sent == 3
        )  # two webhooks, one e-mail (only the critical alert); 20:00 is off-duty for "off"
        assert sorted(r["site"] for r in _Hook.received) == ["SITE1", "SITE2"]
        assert len(_Smtp.messages) == 1 and "SITE1" in _Smtp.messages[0]
        kinds = [(e.kind, e.channel) for e in new[0].events]
        assert ("notified", "webhook") in kinds and ("notified", "email") in kinds
    finally:
        hook.shutdown()
        smtp.shutdown()


def test_failed_send_is_recorded_not_raised(session: Session) -> None:
    session.add(
        NotificationRoute(
            name="mail",
            channel="email",
            target="noc@example.com",
            schedule="always",
            hours=[9, 18],
            min_severity="minor",
            active=True,
        )
    )
    session.flush()
    (alert,) = raise_alerts(session, [_det("C1")])
    assert notify(session, [alert], T0, smtp=None) == 0
    assert alert.events[-1].kind == "notify_failed" and "SMTP" in (alert.events[-1].note or "")
