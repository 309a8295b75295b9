"""Access rules over EVERY route of the app (the ones capabilities add included):

- an anonymous request never gets data (pages redirect to the login, the API says 401);
- a user scoped to one store sees nothing of other provinces on any list page, and
  gets 404 (or 403) for any org unit outside their scope.

Routes are enumerated from the app, so a new route is checked the day it is added.
Public routes live under ``/p/``, and the customer survey short links (printed as QR codes) under ``/s/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from conftest import make_client
from sqm.config import Settings
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit
from sqm.web.app import create_app

PUBLIC_EXACT = {"/login", "/logout", "/lang/{code}", "/healthz"}
PUBLIC_PREFIXES = ("/p/", "/s/", "/api/v1/openapi.json", "/api/v1/docs", "/docs", "/static")
FOREIGN = re.compile(r"\b(SC|ZJ)-[A-Z]{2}\b|成都市|杭州市|绵阳市|宁波市")


def _flatten(routes: list[object]) -> list[APIRoute]:
    out: list[APIRoute] = []
    for r in routes:
        if isinstance(r, APIRoute):
            out.append(r)
        elif hasattr(r, "original_router"):  # FastAPI ≥ 0.16x keeps included routers nested
            out.extend(_flatten(list(r.original_router.routes)))
    return out


def _routes() -> list[APIRoute]:
    app = create_app(Settings(database_url="sqlite://"))
    return _flatten(list(app.routes))


def _public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


def _fill(path: str, value: str = "1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


ROUTES = _routes()
PROTECTED = [
    (m, r.path) for r in ROUTES for m in sorted(r.methods - {"HEAD"}) if not _public(r.path)
]


def test_there_are_routes_to_check() -> None:
    assert len(PROTECTED) > 20


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
def test_anonymous_gets_no_data(demo_engine: Engine, method: str, path: str) -> None:
    c = make_client(demo_engine)
    r = c.request(method, _fill(path), json={} if method in ("POST", "PUT", "PATCH") else None)
    if path.startswith("/api/"):
        assert r.status_code in (401, 403, 422), f"{method} {path} → {r.status_code}"
        if r.status_code == 422:  # body validated before auth: still no data in it
            assert "error" in r.json() and not FOREIGN.search(r.text)
    else:
        assert r.status_code in (303, 401, 403), f"{method} {path} → {r.status_code}"
        if r.status_code == 303:
            assert r.headers["location"].startswith("/login")


LIST_PAGES = [
    r.path for r in ROUTES if "GET" in r.methods and "{" not in r.path and not _public(r.path)
]


@pytest.mark.parametrize("path", LIST_PAGES)
def test_store_manager_sees_nothing_outside_their_store(
    client_as: Callable[[str], TestClient], path: str
) -> None:
    c = client_as("store.manager")
    r = c.get(path)
    assert r.status_code in (200, 403, 404), f"{path} → {r.status_code}"
    if r.status_code == 200:
        m = FOREIGN.search(r.text)
        assert m is None, f"{path} shows {m.group(0) if m else ''} to a Guangzhou store manager"


UNIT_ROUTES = [r.path for r in ROUTES if "GET" in r.methods and "{unit_id}" in r.path]
CODE_ROUTES = [
    r.path for r in ROUTES if "GET" in r.methods and r.path.startswith("/api/v1/org-units/{code}")
]


@pytest.mark.parametrize("path", UNIT_ROUTES + CODE_ROUTES)
def test_units_outside_the_scope_are_not_found(
    client_as: Callable[[str], TestClient], demo_engine: Engine, path: str
) -> None:
    with make_sessionmaker(demo_engine)() as s:
        foreign = s.scalar(select(OrgUnit).where(OrgUnit.code == "SC-CD"))
        assert foreign is not None
    c = client_as("area.gz")
    value = foreign.code if "{code}" in path else str(foreign.id)
    r = c.get(_fill(path, value))
    assert r.status_code in (403, 404), f"{path} → {r.status_code}"
    assert "成都" not in r.text


def test_inspector_cannot_reach_admin_or_indicator_editing(
    client_as: Callable[[str], TestClient],
) -> None:
    c = client_as("inspector01")
    assert c.get("/admin/users").status_code == 403
    assert c.get("/admin/audit").status_code == 403
    assert c.post("/indicators/1/new-version").status_code == 403
    assert c.get("/api/v1/weight-profiles").status_code == 403
