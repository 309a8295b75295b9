"""Complaint intake API and queues: idempotency, scope, masking per role, audit."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sqm.store.models import AuditEntry, Complaint, ComplaintRectification

from .intake_data import PHONE, api_body, own_and_other_store


def test_intake_is_idempotent_by_source_id(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    own, _ = own_and_other_store(demo_engine)
    c = client_as("handler")
    r1 = c.post("/api/v1/complaints", json=api_body(own))
    assert r1.status_code == 201, r1.text
    r2 = c.post("/api/v1/complaints", json=api_body(own, text="changed text is ignored"))
    assert r2.status_code == 200
    assert r2.json()["id"] == r1.json()["id"] and r2.json()["text"] == "营业员态度恶劣"
    with Session(demo_engine) as s:
        assert s.scalar(select(func.count()).select_from(Complaint)) == 1
    body = r1.json()
    assert body["customer_ref"] == PHONE  # handlers may see the customer
    assert body["category"] == "service"
    # ordinary hotline policy: first response within 8 business hours, after receipt
    assert body["first_response_due"] > body["received_at"]


def test_bad_input_names_the_field(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    own, _ = own_and_other_store(demo_engine)
    c = client_as("handler")
    r = c.post("/api/v1/complaints", json=api_body(own, subcategory="network.nonsense"))
    assert r.status_code in (400, 422) and "network.nonsense" in r.text
    r = c.post("/api/v1/complaints", json=api_body("NO-SUCH-UNIT"))
    assert r.status_code in (400, 422) and "unit_code" in r.text


def test_masking_and_scope_per_role(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    own, other = own_and_other_store(demo_engine)
    h = client_as("handler")
    mine = h.post("/api/v1/complaints", json=api_body(own, "A", text=f"请打{PHONE}回电")).json()
    theirs = h.post("/api/v1/complaints", json=api_body(other, "B")).json()
    masked = "138****5678"
    for role in ("analyst", "store.manager", "area.gz"):
        c = client_as(role)
        listing = c.get("/api/v1/complaints?view=team").json()
        for item in listing["items"]:
            assert item["customer_ref"] == masked, role
        assert all(PHONE not in i["text"] for i in listing["items"]), role
        page = c.get(f"/complaints/{mine['id']}")
        if page.status_code == 200:
            assert PHONE not in page.text and masked in page.text, role
        assert PHONE not in c.get("/complaints?view=team").text
        export = c.get("/complaints/export.csv?view=team")
        assert export.status_code == 200 and PHONE not in export.text, role
    sm = client_as("store.manager")
    ids = {i["id"] for i in sm.get("/api/v1/complaints?view=team").json()["items"]}
    assert ids == {mine["id"]}
    assert sm.get(f"/api/v1/complaints/{theirs['id']}").status_code == 404
    assert sm.get(f"/complaints/{theirs['id']}").status_code == 404
    # a store manager reads but does not handle
    assert sm.post(f"/api/v1/complaints/{mine['id']}/notes", json={"body": "x"}).status_code == 403
    assert h.get(f"/complaints/{mine['id']}").text.count(PHONE) >= 1
    assert PHONE in h.get("/complaints/export.csv?view=team").text


def test_status_assignment_notes_are_audited(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    own, _ = own_and_other_store(demo_engine)
    h = client_as("handler")
    cid = h.post("/api/v1/complaints", json=api_body(own)).json()["id"]
    assert (
        h.post(f"/api/v1/complaints/{cid}/assign", json={"username": "handler"}).json()["handler"]
        == "handler"
    )
    assert [i["id"] for i in h.get("/api/v1/complaints?view=mine").json()["items"]] == [cid]
    r = h.post(f"/api/v1/complaints/{cid}/status", json={"status": "closed"})
    assert r.status_code in (400, 422) and "allowed" in r.text
    r = h.post(
        f"/api/v1/complaints/{cid}/status", json={"status": "acknowledged", "note": "called back"}
    )
    assert r.json()["first_response_at"] is not None
    r = h.post(
        f"/api/v1/complaints/{cid}/status", json={"status": "resolved", "resolution": "apologised"}
    )
    assert r.json()["status"] == "resolved" and r.json()["resolved_at"] is not None
    assert (
        h.post(f"/api/v1/complaints/{cid}/notes", json={"body": "店长已约谈当事员工"}).status_code
        == 201
    )
    r = h.post(
        f"/complaints/{cid}/action",
        data={"kind": "rectify", "body": "服务规范培训", "due_on": "2026-12-15"},
    )
    assert r.status_code == 303
    with Session(demo_engine) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.entity.like("complaint%"))).all()
        assert {e.username for e in entries} == {"handler"}
        assert {e.entity for e in entries} >= {
            "complaint",
            "complaint_note",
            "complaint_status_change",
            "complaint_rectification",
        }
        assert s.scalar(select(func.count()).select_from(ComplaintRectification)) == 1


def test_batch_intake_judges_items_one_by_one(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    own, other = own_and_other_store(demo_engine)
    h = client_as("handler")
    first = h.post("/api/v1/complaints", json=api_body(own, "K-0")).json()["id"]
    items = [
        api_body(own, "K-0"),  # already stored
        api_body(own, "K-1"),
        api_body(own, "K-1"),  # repeated inside the batch
        api_body(own, "K-2", subcategory="network.nonsense"),  # invalid
        api_body("NO-SUCH", "K-3"),
        api_body(other, "K-4", complaint_class="regulator"),
    ]
    r = h.post("/api/v1/complaints/batch", json={"items": items})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert res[0] == {"index": 0, "id": first, "created": False, "error": None}
    assert res[1]["created"] and not res[2]["created"] and res[1]["id"] == res[2]["id"]
    assert res[3]["error"] and res[3]["id"] is None
    assert "unit_code" in res[4]["error"]
    assert res[5]["created"]
    assert r.json()["created"] == 2 and r.json()["errors"] == 2
    again = h.post("/api/v1/complaints/batch", json={"items": items}).json()
    assert again["created"] == 0
    with Session(demo_engine) as s:
        assert s.scalar(select(func.count()).select_from(Complaint)) == 3
    bad_schema = h.post(
        "/api/v1/complaints/batch", json={"items": [api_body(own, "K-9", channel="fax")]}
    )
    assert bad_schema.status_code == 422 and "items.0.channel" in bad_schema.text
    # a store manager cannot take complaints in
    sm = client_as("store.manager")
    assert sm.post("/api/v1/complaints/batch", json={"items": items}).status_code == 403


def test_parallel_calls_share_transactions_and_each_gets_its_own_answer(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    """Calls arriving together go through the intake group commit: every new complaint is
    stored once (repeats inside the burst answer 200 with the same id), a unit outside the
    caller's scope is refused on its own, and the audit log names the caller for each row."""
    own, _ = own_and_other_store(demo_engine)
    with Session(demo_engine) as s:
        before = s.scalar(select(func.count()).select_from(Complaint)) or 0
    c = client_as("handler")
    sids = [f"BURST-{i % 40}" for i in range(120)]  # 40 complaints, each sent three times

    def send(i: int) -> tuple[int, dict[str, object]]:
        unit = own if i % 10 else "NO-SUCH-UNIT"
        r = c.post("/api/v1/complaints", json=api_body(unit, sid=f"{sids[i]}-{unit}"))
        return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(send, range(120)))
    ok = [(code, body) for code, body in answers if code in (200, 201)]
    refused = [body for code, body in answers if code == 422]
    assert len(refused) == 12 and all("unit_code" in str(b) for b in refused)
    by_sid: dict[object, set[object]] = {}
    for _, body in ok:
        by_sid.setdefault(body["source_id"], set()).add(body["id"])
    assert len(by_sid) == 36 and all(len(ids) == 1 for ids in by_sid.values())
    assert sum(code == 201 for code, _ in ok) == 36
    with Session(demo_engine) as s:
        assert s.scalar(select(func.count()).select_from(Complaint)) == before + 36
        actors = set(
            s.scalars(
                select(AuditEntry.username).where(
                    AuditEntry.entity == "complaint", AuditEntry.action == "create"
                )
            )
        )
    assert actors == {"handler"}
