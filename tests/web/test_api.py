"""The JSON API: scope, validation errors as structured JSON, idempotent PUTs, tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from conftest import make_client
from sqm.domain import plan_indicators
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import ApiToken, User


def test_org_units_are_scoped(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("area.gz")
    page = c.get("/api/v1/org-units", params={"kind": "store", "limit": 1000}).json()
    assert page["total"] > 0
    assert all(u["code"].startswith("GD-GZ-") for u in page["items"])
    assert c.get("/api/v1/org-units/SC-CD").status_code == 404
    assert c.get("/api/v1/org-units/GD-GZ").json()["name_zh"] == "广州市"


def test_create_and_patch_a_store(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("analyst")
    body = {
        "code": "GD-GZ-D1-S99",
        "name_zh": "新店",
        "kind": "store",
        "parent_code": "GD-GZ-D1",
        "tier": "first_level",
        "traffic": 3000,
        "lat": 23.1,
        "lon": 113.3,
    }
    r = c.post("/api/v1/org-units", json=body)
    assert r.status_code == 201, r.text
    assert c.post("/api/v1/org-units", json=body).status_code == 409
    r = c.patch("/api/v1/org-units/GD-GZ-D1-S99", json={"traffic": 3500, "tier": "supermarket"})
    assert r.status_code == 200 and r.json()["tier"] == "supermarket"


def test_invalid_input_comes_back_as_structured_json(
    client_as: Callable[[str], TestClient],
) -> None:
    c = client_as("analyst")
    r = c.post("/api/v1/org-units", json={"code": "X", "name_zh": "x", "kind": "shop", "lat": 123})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_input"
    fields = {d["field"] for d in err["details"]}
    assert {"kind", "lat"} <= fields
    r = c.post(
        "/api/v1/org-units",
        json={"code": "X", "name_zh": "x", "kind": "province", "parent_code": "GD-GZ"},
    )
    assert r.status_code == 422 and "cannot sit under city" in r.json()["error"]["message"]


def test_viewer_cannot_write(client_as: Callable[[str], TestClient]) -> None:
    r = client_as("exec").patch("/api/v1/org-units/GD-GZ", json={"name_en": "Canton"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_indicator_system_put_is_idempotent(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("analyst")
    got = c.get("/api/v1/indicator-systems/STORE_SQ").json()
    assert len(got["nodes"]) == len(plan_indicators.indicator_rows())
    body = {
        "code": "STORE_SQ",
        "name_zh": got["name_zh"],
        "name_en": got["name_en"],
        "nodes": got["nodes"],
    }
    again = c.put("/api/v1/indicator-systems/STORE_SQ", json=body).json()
    assert again["version"] == got["version"]  # same content: no new version
    body["nodes"][0]["name_en"] = "Customers"
    assert (
        c.put("/api/v1/indicator-systems/STORE_SQ", json=body).json()["version"]
        == got["version"] + 1
    )


def test_weight_profile_put_checks_sums(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("analyst")
    prof = c.get("/api/v1/weight-profiles/WP.partner.mature").json()
    assert abs(sum(v for k, v in prof["weights"].items() if "." not in k) - 1) < 1e-9
    body = {
        k: prof[k] for k in ("code", "name_zh", "name_en", "system_code", "valid_from", "weights")
    }
    body["weights"]["CUST"] = 0.5
    r = c.put("/api/v1/weight-profiles/WP.partner.mature", json=body)
    assert r.status_code == 422 and "sum to" in r.json()["error"]["message"]


def test_bearer_token_authenticates_systems(demo_engine: Engine) -> None:
    with transaction(make_sessionmaker(demo_engine)) as s:
        u = s.scalar(select(User).where(User.username == "handler"))
        assert u is not None
        s.add(
            ApiToken(
                user_id=u.id, name="hotline", token_sha256=hashlib.sha256(b"tok-123").hexdigest()
            )
        )
    c = make_client(demo_engine)
    assert c.get("/api/v1/org-units").status_code == 401
    r = c.get("/api/v1/org-units", headers={"Authorization": "Bearer tok-123"})
    assert r.status_code == 200 and r.json()["total"] > 300
    assert c.get("/api/v1/org-units", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_openapi_documents_the_api(demo_engine: Engine) -> None:
    spec = make_client(demo_engine).get("/api/v1/openapi.json").json()
    assert {
        "/api/v1/org-units",
        "/api/v1/indicator-systems/{code}",
        "/api/v1/weight-profiles/{code}",
    } <= set(spec["paths"])


def test_indicator_systems_missing_and_mismatched(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("analyst")
    r = c.get("/api/v1/indicator-systems/NOPE")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert c.get("/api/v1/indicator-systems/STORE_SQ/versions/99").status_code == 404
    latest = c.get("/api/v1/indicator-systems/STORE_SQ").json()
    assert latest["code"] == "STORE_SQ" and latest["nodes"]
    body = {
        "code": "OTHER",
        "name_zh": "x",
        "nodes": [{"code": "D", "level": "dimension", "name_zh": "d"}],
    }
    r = c.put("/api/v1/indicator-systems/STORE_SQ", json=body)
    assert r.status_code == 422 and "differ" in r.json()["error"]["message"]


def test_org_unit_errors_come_from_the_services(client_as: Callable[[str], TestClient]) -> None:
    body = {"code": "GD-GZ-X1", "name_zh": "x", "kind": "district", "parent_code": "GD-GZ"}
    assert client_as("area.gz").post("/api/v1/org-units", json=body).status_code == 403
    c = client_as("analyst")
    assert c.post("/api/v1/org-units", json=dict(body, parent_code="NOPE")).status_code == 404
    r = c.post("/api/v1/org-units", json=dict(body, parent_code=None))
    assert r.status_code == 422 and "parent_code" in r.json()["error"]["message"]
    assert c.patch("/api/v1/org-units/GD-GZ", json={"parent_code": "NOPE"}).status_code == 404
    assert c.patch("/api/v1/org-units/NOPE", json={"traffic": 1}).status_code == 404
