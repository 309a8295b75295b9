"""Complaint pages: the queue views, the new-complaint form, the detail page's actions,
the dashboard, and the alert list and detail — each in the viewer's scope (a complaint or
an alert outside it is a 404, after the 403 of a caller without the permission)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.services.complaints import alerts as svc
from sqm.store.models import Complaint, ComplaintRectification, OrgUnit

from .alert_data import AS_OF, burst, flat, stores_of
from .intake_data import api_body, own_and_other_store


def test_queue_views_overdue_and_near_limit(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    own, _ = own_and_other_store(demo_engine)
    h = client_as("handler")
    old = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    late = h.post("/api/v1/complaints", json=api_body(own, "OLD", received_at=old)).json()["id"]
    fresh = h.post("/api/v1/complaints", json=api_body(own, "NEW")).json()["id"]
    overdue = {i["id"] for i in h.get("/api/v1/complaints?view=overdue").json()["items"]}
    assert late in overdue and fresh not in overdue
    page = h.get("/complaints?view=overdue")
    assert page.status_code == 200 and f"/complaints/{late}" in page.text


def test_pages_form_and_dashboard(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    own, _ = own_and_other_store(demo_engine)
    h = client_as("handler")
    assert h.get("/complaints/new").status_code == 200
    r = h.post(
        "/complaints/new",
        data={
            "channel": "store_counter",
            "unit_code": own,
            "text": "排队太久",
            "subcategory": "service.long_wait",
        },
    )
    assert r.status_code == 303
    assert h.get(r.headers["location"]).status_code == 200
    bad = h.post("/complaints/new", data={"channel": "fax", "unit_code": own})
    assert bad.status_code == 422 and "fax" in bad.text
    a = client_as("analyst")
    d = a.get("/complaints/dashboard")
    assert d.status_code == 200 and "data-chart" in d.text


def test_alert_pages_follow_scope_and_permissions(
    demo_engine: Engine, client_as: Callable[[str], TestClient]
) -> None:
    with Session(demo_engine) as s:
        gz = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
        assert gz is not None
        mine = s.scalar(
            select(OrgUnit)
            .where(OrgUnit.kind == UnitKind.STORE, OrgUnit.path.startswith(gz.path))
            .order_by(OrgUnit.id)
        )
        foreign = s.scalar(
            select(OrgUnit)
            .where(OrgUnit.kind == UnitKind.STORE, OrgUnit.code.startswith("SC-"))
            .order_by(OrgUnit.id)
        )
        assert mine is not None and foreign is not None
        stores = [mine, foreign, *stores_of(s, 8)]
        flat(s, stores, AS_OF)
        burst(s, mine, "network.slow_data", 12)
        burst(s, foreign, "billing.overcharge", 12)
        raised = {a.unit_id: a.id for a in svc.watch(s, AS_OF).raised}
        s.commit()
        mine_id, foreign_id, gz_id = raised[mine.id], raised[foreign.id], gz.id

    sm = client_as("store.manager")  # scoped to the first Guangzhou store
    page = sm.get("/complaints/alerts")
    assert page.status_code == 200
    assert re.findall(r'data-alert="(\d+)"', page.text) == [str(mine_id)]
    assert "SC-" not in page.text
    assert sm.get(f"/complaints/alerts/{foreign_id}").status_code == 404
    assert sm.get(f"/complaints/alerts/{mine_id}").status_code == 200
    assert sm.post(f"/complaints/alerts/{mine_id}/ack", data={"note": "x"}).status_code == 403

    analyst = client_as("analyst")
    both = analyst.get("/complaints/alerts")
    assert set(re.findall(r'data-alert="(\d+)"', both.text)) == {str(mine_id), str(foreign_id)}
    by_cat = analyst.get("/complaints/alerts", params={"category": "billing"})
    assert re.findall(r'data-alert="(\d+)"', by_cat.text) == [str(foreign_id)]
    by_region = analyst.get("/complaints/alerts", params={"region": gz_id})
    assert re.findall(r'data-alert="(\d+)"', by_region.text) == [str(mine_id)]
    assert analyst.get("/complaints/alerts", params={"status": "nonsense"}).status_code == 422
    dash = analyst.get("/complaints/dashboard")
    assert re.search(r'id="alert-count">[^<]*<strong>2</strong>', dash.text)

    h = client_as("handler")
    r = h.post(f"/complaints/alerts/{foreign_id}/ack", data={"note": "已安排核查"})
    assert r.status_code == 303
    assert h.post(f"/complaints/alerts/{foreign_id}/ack", data={"note": "x"}).status_code == 422
    r = h.post(f"/complaints/alerts/{foreign_id}/resolve", data={"note": "计费已更正"})
    assert r.status_code == 303
    detail = h.get(f"/complaints/alerts/{foreign_id}")
    assert "计费已更正" in detail.text and "已安排核查" in detail.text
    resolved = analyst.get("/complaints/alerts", params={"status": "resolved"})
    assert re.findall(r'data-alert="(\d+)"', resolved.text) == [str(foreign_id)]
    active = analyst.get("/complaints/alerts")
    assert re.findall(r'data-alert="(\d+)"', active.text) == [str(mine_id)]


def test_detail_actions_in_scope(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    """ComplaintInScope on the detail page's actions: a handler acts on a complaint
    (assign, note, rectify with the default due day); a store manager outside the
    complaint's scope gets 404 on the page and 403 on the action (no permission first)."""
    own, other = own_and_other_store(demo_engine)
    h = client_as("handler")
    mine = h.post("/api/v1/complaints", json=api_body(own, "P-1")).json()["id"]
    theirs = h.post("/api/v1/complaints", json=api_body(other, "P-2")).json()["id"]
    act = f"/complaints/{mine}/action"
    assert h.post(act, data={"kind": "assign", "username": "handler"}).status_code == 303
    assert h.post(act, data={"kind": "assign", "username": "nobody"}).status_code == 422
    assert h.post(act, data={"kind": "note", "body": "回访客户"}).status_code == 303
    assert h.post(act, data={"kind": "note", "body": " "}).status_code == 422
    r = h.post(act, data={"kind": "rectify", "body": "培训营业员", "due_on": ""})
    assert r.status_code == 303
    assert h.post(act, data={"kind": "rectify", "body": "x", "due_on": "soon"}).status_code == 422
    assert h.post(act, data={"kind": "fly"}).status_code == 422
    assert (
        h.post("/complaints/999999999/action", data={"kind": "note", "body": "x"}).status_code
        == 404
    )
    with Session(demo_engine) as s:
        c = s.get(Complaint, mine)
        assert c is not None and c.handler is not None and c.handler.username == "handler"
        task = s.scalar(
            select(ComplaintRectification).where(ComplaintRectification.complaint_id == mine)
        )
        assert task is not None and task.due_on > datetime.now(UTC).date()
    sm = client_as("store.manager")
    assert sm.get(f"/complaints/{theirs}").status_code == 404
    assert (
        sm.post(f"/complaints/{theirs}/action", data={"kind": "note", "body": "x"}).status_code
        == 403
    )
