"""The surveys' JSON API and the scoped objects of their paths: a wave or a response outside
the caller's scope is answered 404 like one that does not exist, a caller without the
permission gets 403 first, and a path id that is no id gets 422."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from conftest import make_client, sign_in
from sqm.domain.roles import Role
from sqm.services.users import create_user, grant
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, SurveyResponse

DATA = Path(__file__).parent / "data"


@pytest.fixture
def scoped_analyst(demo_engine: Engine, waves: dict[str, object]) -> TestClient:
    """An analyst (``manage_surveys``) whose scope is the one store ``own``: they see the
    waves ``T-SQ``, ``T-C`` and ``T-T`` (which target it) but not ``T-Q``."""
    with make_sessionmaker(demo_engine)() as s:
        user = create_user(s, "analyst.store", "store-analyst-2026!", "门店分析师")
        own = s.scalar(select(OrgUnit).where(OrgUnit.code == str(waves["own"])))
        assert own is not None
        grant(s, None, user, Role.QUALITY_ANALYST, own)
        s.commit()
    return sign_in(make_client(demo_engine), "analyst.store", "store-analyst-2026!")


def _imported_response(analyst: TestClient, waves: dict[str, object]) -> int:
    data = (DATA / "wjx_nps_csat.csv").read_text(encoding="utf-8")
    data = data.replace("S001", str(waves["other"])).replace("S002", str(waves["other"]))
    r = analyst.post(
        f"/surveys/{waves['quick']}/import",
        files={"file": ("wjx.csv", data.encode("utf-8"), "text/csv")},
    )
    assert r.status_code == 200
    factory = analyst.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as s:
        rid = s.scalars(
            select(SurveyResponse.id).where(SurveyResponse.wave_id == waves["quick"])
        ).first()
    assert rid is not None
    return rid


def test_waves_and_quota_in_scope(
    waves: dict[str, object], client_as: Callable[[str], TestClient], scoped_analyst: TestClient
) -> None:
    listed = client_as("analyst").get("/api/v1/surveys/waves").json()["waves"]
    sq = next(w for w in listed if w["id"] == waves["sq"])
    assert sq["target"] == 15 and sq["achieved"] == 0 and sq["instrument"] == "servqual"
    mine = scoped_analyst.get("/api/v1/surveys/waves").json()["waves"]
    assert {w["code"] for w in mine} >= {"T-SQ", "T-C", "T-T"} and "T-Q" not in {
        w["code"] for w in mine
    }
    assert next(w for w in mine if w["id"] == waves["sq"])["target"] < 15
    cells = scoped_analyst.get(f"/api/v1/surveys/waves/{waves['sq']}/quota").json()["cells"]
    assert {c["unit"] for c in cells} == {waves["own"]} and "unit_id" not in cells[0]


@pytest.mark.parametrize("suffix", ["quota", "analysis", "responses/count"])
def test_a_wave_outside_the_scope_is_404_and_a_bad_id_422(
    waves: dict[str, object], scoped_analyst: TestClient, suffix: str
) -> None:
    api = "/api/v1/surveys/waves"
    assert scoped_analyst.get(f"{api}/{waves['sq']}/{suffix}").status_code == 200
    r = scoped_analyst.get(f"{api}/{waves['quick']}/{suffix}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert scoped_analyst.get(f"{api}/999999/{suffix}").status_code == 404
    for bad in ("0", "-1", str(2**63), "x"):
        assert scoped_analyst.get(f"{api}/{bad}/{suffix}").status_code == 422, bad


def test_wave_pages_outside_the_scope_are_404_after_the_permission(
    waves: dict[str, object], client_as: Callable[[str], TestClient], scoped_analyst: TestClient
) -> None:
    quick, sq = waves["quick"], waves["sq"]
    for path in (
        f"/surveys/{quick}",
        f"/surveys/{quick}/analysis",
        f"/surveys/{quick}/analysis.xlsx",
        f"/surveys/{quick}/answers.csv",
        f"/surveys/{quick}/import",
        f"/surveys/{quick}/qr/{waves['other']}.png",
    ):
        assert scoped_analyst.get(path).status_code == 404, path
    r = scoped_analyst.post(f"/surveys/{quick}/status", data={"status": "closed"})
    assert r.status_code == 404
    # in scope, but the store of the QR code is not; an unknown format is no download
    assert scoped_analyst.get(f"/surveys/{sq}/qr/{waves['other']}.png").status_code == 404
    assert scoped_analyst.get(f"/surveys/{sq}/qr/{waves['own']}.gif").status_code == 404
    assert scoped_analyst.get(f"/surveys/{sq}/answers.pdf").status_code == 404
    assert scoped_analyst.get(f"/surveys/{sq}/answers.csv").status_code == 200
    # a store manager may not manage surveys: 403, whether the wave is in scope or not
    manager = client_as("store.manager")
    for wave_id in (sq, quick, 999999):
        assert manager.get(f"/surveys/{wave_id}/import").status_code == 403
        assert (
            manager.post(f"/surveys/{wave_id}/status", data={"status": "closed"}).status_code == 403
        )


def test_wave_status_is_open_or_closed(
    waves: dict[str, object], client_as: Callable[[str], TestClient]
) -> None:
    analyst = client_as("analyst")
    r = analyst.post(f"/surveys/{waves['sq']}/status", data={"status": "closed"})
    assert r.status_code == 303 and r.headers["location"] == f"/surveys/{waves['sq']}"
    listed = analyst.get("/api/v1/surveys/waves").json()["waves"]
    assert next(w for w in listed if w["id"] == waves["sq"])["status"] == "closed"
    bad = analyst.post(f"/surveys/{waves['sq']}/status", data={"status": "paused"})
    assert bad.status_code == 422 and "&#39;open&#39; or &#39;closed&#39;" in bad.text
    listed = analyst.get("/api/v1/surveys/waves").json()["waves"]
    assert next(w for w in listed if w["id"] == waves["sq"])["status"] == "closed"


def test_a_response_outside_the_scope_is_404_for_amendments(
    waves: dict[str, object], client_as: Callable[[str], TestClient], scoped_analyst: TestClient
) -> None:
    analyst = client_as("analyst")
    rid = _imported_response(analyst, waves)
    body = {"changes": {"csat": 4}, "reason": "customer called back"}
    url = f"/api/v1/surveys/responses/{rid}/amendments"
    r = scoped_analyst.post(url, json=body)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert (
        scoped_analyst.post("/api/v1/surveys/responses/0/amendments", json=body).status_code == 422
    )
    # without the permission: 403 before any look-up
    manager = client_as("store.manager")
    assert manager.post("/api/v1/surveys/responses/999999/amendments", json=body).status_code == 403
    ok = analyst.post(url, json=body)
    assert ok.status_code == 201 and ok.json()["amendments"] == [
        {"field": "csat", "old": ok.json()["amendments"][0]["old"], "new": 4}
    ]
    # a correction the instrument refuses is a rule error, answered once by the app: 422
    refused = analyst.post(url, json={"changes": {"csat": 9}, "reason": "x"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_input"
