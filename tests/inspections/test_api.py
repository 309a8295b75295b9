"""The inspections JSON API through the real app with bearer tokens: an inspector sees only
their own assignments and visits, submits a visit through the same checks as the phone form
(validation against the checklist, scoring with the store's profile, evidence checks), store
scores per period against hand-computed means, ranks and changes, and 整改 tasks listed and
closed within scope."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from sqm.domain.roles import Role
from sqm.services.inspections import design
from sqm.services.inspections import visits as iv
from sqm.services.users import create_user, grant
from sqm.store.engine import make_sessionmaker
from sqm.store.models import ApiToken, OrgUnit, Period, User
from sqm.store.models.inspection import (
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)

from .conftest import NOW, TODAY, pinned_app

API = "/api/v1/inspections"


@pytest.fixture
def api(demo_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    """An unauthenticated client of the pinned-clock app; callers send bearer tokens."""
    yield TestClient(pinned_app(demo_engine, tmp_path), follow_redirects=False)


def token(engine: Engine, username: str) -> dict[str, str]:
    """A bearer token for ``username`` (only its hash is stored), issued on first use."""
    raw = f"tok-{username}"
    digest = hashlib.sha256(raw.encode()).hexdigest()
    with make_sessionmaker(engine)() as s:
        if s.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest)) is None:
            u = s.scalar(select(User).where(User.username == username))
            assert u is not None
            s.add(ApiToken(user_id=u.id, name="test", token_sha256=digest))
            s.commit()
    return {"Authorization": f"Bearer {raw}"}


def manager_of(engine: Engine, store_id: int, username: str = "mgr.api") -> None:
    with make_sessionmaker(engine)() as s:
        mgr = create_user(s, username, "pw-test-123456", "店长 接口")
        grant(s, None, mgr, Role.STORE_MANAGER, s.get(OrgUnit, store_id))
        s.commit()


def _equal_weights(engine: Engine, store_id: int) -> None:
    """Equal indicator weights (1/22 each) for the store's profile, so totals are by hand."""
    with make_sessionmaker(engine)() as s:
        row = iv.current_checklist(s)
        cl = iv.checklist_of(row)
        store = s.get(OrgUnit, store_id)
        assert store is not None
        key = iv.profile_key(store, iv.tier_medians(s), "mature")
        n = len(cl.indicators())
        design.save_profile(
            s,
            row,
            key,
            {i.code: 1 / n for i in cl.indicators()},
            method="manual",
            inputs={},
            user_id=None,
        )
        s.commit()


def _answers(fail: tuple[str, ...] = ()) -> dict[str, float | None]:
    from sqm.domain.checklist_template import template_checklist

    return {
        it.code: (0.0 if it.code in fail else float(it.scale_max))
        for it in template_checklist().items()
    }


def test_an_inspector_sees_only_their_assignments(
    api: TestClient, demo_engine: Engine, planned: dict[str, int]
) -> None:
    with make_sessionmaker(demo_engine)() as s:
        e1 = s.get(InspectionPlanEntry, planned["entry"])
        other = s.scalar(select(User).where(User.username == "inspector02"))
        assert e1 is not None and other is not None
        # inspector02 joins the same visit (a team) and has a solo visit elsewhere
        team = InspectionPlanEntry(
            period_id=e1.period_id,
            unit_id=e1.unit_id,
            inspector_id=other.id,
            planned_date=e1.planned_date,
            visit_key=e1.visit_key,
        )
        solo_store = s.scalars(
            select(OrgUnit).where(OrgUnit.kind == "store", OrgUnit.id != e1.unit_id)
        ).first()
        assert solo_store is not None
        solo = InspectionPlanEntry(
            period_id=e1.period_id,
            unit_id=solo_store.id,
            inspector_id=other.id,
            planned_date=TODAY + timedelta(days=1),
            visit_key=f"{solo_store.code}@{TODAY + timedelta(days=1)}",
        )
        s.add_all([team, solo])
        s.commit()
        ids = {"mine": e1.id, "team": team.id, "solo": solo.id}
    mine = api.get(
        f"{API}/plan", params={"period": "2026-11"}, headers=token(demo_engine, "inspector01")
    )
    assert mine.status_code == 200
    assert [e["id"] for e in mine.json()] == [ids["mine"]]
    assert mine.json()[0]["team"] == ["inspector01", "inspector02"]
    assert mine.json()[0]["inspector"] == "inspector01" and mine.json()[0]["status"] == "planned"
    # asking for someone else's list gives nothing of theirs
    peek = api.get(
        f"{API}/plan",
        params={"period": "2026-11", "inspector": "inspector02"},
        headers=token(demo_engine, "inspector01"),
    )
    assert peek.status_code == 200 and peek.json() == []
    theirs = api.get(f"{API}/plan", headers=token(demo_engine, "inspector02"))
    assert sorted(e["id"] for e in theirs.json()) == sorted([ids["team"], ids["solo"]])
    analyst = api.get(
        f"{API}/plan", params={"period": "2026-11"}, headers=token(demo_engine, "analyst")
    )
    assert {e["id"] for e in analyst.json()} >= set(ids.values())
    # store managers plan no visits; nobody anonymous sees anything
    assert api.get(f"{API}/plan", headers=token(demo_engine, "store.manager")).status_code == 403
    assert api.get(f"{API}/plan").status_code == 401
    assert api.get(f"{API}/plan", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_submit_a_visit_like_the_phone_form(
    api: TestClient, demo_engine: Engine, planned: dict[str, int]
) -> None:
    _equal_weights(demo_engine, planned["store"])
    auth = token(demo_engine, "inspector01")
    body = {
        "plan_entry_id": planned["entry"],
        "started_at": (NOW - timedelta(minutes=35)).isoformat(),
        "ended_at": (NOW - timedelta(minutes=5)).isoformat(),
        "checkin": {"lat": planned["lat"], "lon": planned["lon"]},
        "purchase_made": True,
        "answers": _answers(("farewell",)),
        "item_notes": {},
        "notes": "周三上午",
    }
    # answers that do not fit the checklist are refused, and nothing is written
    missing = {
        **body,
        "answers": {k: v for k, v in body["answers"].items() if k != "greet_on_entry"},
    }
    r = api.post(f"{API}/visits", json=missing, headers=auth)
    assert r.status_code == 422 and r.json()["error"]["details"]["unanswered"] == ["greet_on_entry"]
    unknown = {**body, "answers": {**body["answers"], "free_coffee": 1}}
    r = api.post(f"{API}/visits", json=unknown, headers=auth)
    assert r.status_code == 422 and r.json()["error"]["details"]["unknown"] == ["free_coffee"]
    off_scale = {**body, "answers": {**body["answers"], "farewell": 2}}
    r = api.post(f"{API}/visits", json=off_scale, headers=auth)
    assert r.status_code == 422 and "from 0 to 1" in r.json()["error"]["message"]
    no_note = {**body, "answers": {**body["answers"], "no_dispute": 0}}
    r = api.post(f"{API}/visits", json=no_note, headers=auth)
    assert r.status_code == 422 and "note is required" in r.json()["error"]["message"]
    both = {**body, "store_code": "GD-GZ-S001"}
    assert api.post(f"{API}/visits", json=both, headers=auth).status_code == 422
    with make_sessionmaker(demo_engine)() as s:
        assert s.scalar(select(func.count(InspectionVisit.id))) == 0

    r = api.post(f"{API}/visits", json=body, headers=auth)
    assert r.status_code == 201, r.text
    v = r.json()
    # 服务亲和力 loses one of its three equally weighted items (farewell): 66.67;
    # every indicator weighs 1/22 → total = 100 · (1 − (1/3)/22)
    assert v["status"] == "submitted" and v["review_reasons"] == []
    assert v["total"] == pytest.approx(round(100 * (1 - 1 / 66), 2))
    assert v["findings"] == ["farewell"] and v["answers"]["farewell"] == 0
    assert v["checklist_version"] == 1 and v["inspector"] == "inspector01"
    assert v["profile_code"].rsplit("@", 1)[1].isdigit()
    with make_sessionmaker(demo_engine)() as s:
        e = s.get(InspectionPlanEntry, planned["entry"])
        assert e is not None and e.status == "done"
    again = api.post(f"{API}/visits", json=body, headers=auth)
    assert again.status_code == 422 and "already submitted" in again.json()["error"]["message"]
    # who sees it: the inspector and the reviewer; not another inspector; a store manager
    # only once it is accepted
    assert api.get(f"{API}/visits/{v['id']}", headers=auth).status_code == 200
    assert (
        api.get(f"{API}/visits/{v['id']}", headers=token(demo_engine, "inspector02")).status_code
        == 404
    )
    assert (
        api.get(f"{API}/visits/{v['id']}", headers=token(demo_engine, "analyst")).status_code == 200
    )
    manager_of(demo_engine, planned["store"])
    mgr = token(demo_engine, "mgr.api")
    assert api.get(f"{API}/visits/{v['id']}", headers=mgr).status_code == 404
    listed = api.get(f"{API}/visits", params={"period": "2026-11"}, headers=auth).json()
    assert listed["total"] == 1 and listed["items"][0]["answers"] is None
    assert api.get(f"{API}/visits", headers=token(demo_engine, "inspector02")).json()["total"] == 0

    # unplanned, six minutes long, 1 km away: the evidence checks send it to review
    store_code = v["store_code"]
    quick = {
        "store_code": store_code,
        "mode": "announced",
        "started_at": (NOW - timedelta(days=1, minutes=6)).isoformat(),
        "ended_at": (NOW - timedelta(days=1)).isoformat(),
        "checkin": {"lat": planned["lat"] + 0.009, "lon": planned["lon"]},
        "answers": _answers(),
    }
    r = api.post(f"{API}/visits", json=quick, headers=auth)
    assert r.status_code == 201, r.text
    q = r.json()
    assert q["status"] == "needs_review" and q["mode"] == "announced"
    assert [x["code"] for x in q["review_reasons"]] == ["far_from_store", "too_short"]
    assert q["planned_date"] == str(TODAY - timedelta(days=1))
    # the same store on the same day again: that visit was already submitted
    today_again = {**quick, "started_at": (NOW - timedelta(hours=3)).isoformat()}
    r = api.post(f"{API}/visits", json=today_again, headers=auth)
    assert r.status_code == 422 and "already submitted" in r.json()["error"]["message"]
    # a draft kept first (two days ago), submitted later
    two_days = NOW - timedelta(days=2)
    draft = {**quick, "started_at": (two_days - timedelta(hours=3)).isoformat(), "submit": False}
    draft["answers"] = {"greet_on_entry": 1}
    r = api.post(f"{API}/visits", json=draft, headers=auth)
    assert r.status_code == 201 and r.json()["status"] == "draft"
    assert r.json()["answers"] == {"greet_on_entry": 1}
    d = r.json()["id"]
    sub = {
        "answers": _answers(),
        "started_at": (two_days - timedelta(minutes=40)).isoformat(),
        "ended_at": two_days.isoformat(),
        "checkin": {"lat": planned["lat"], "lon": planned["lon"]},
    }
    assert (
        api.post(
            f"{API}/visits/{d}/submit", json=sub, headers=token(demo_engine, "inspector02")
        ).status_code
        == 404
    )
    r = api.post(f"{API}/visits/{d}/submit", json=sub, headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
    assert r.json()["total"] == pytest.approx(100.0)
    # a store outside the inspector's province is not found
    with make_sessionmaker(demo_engine)() as s:
        far = s.scalar(
            select(OrgUnit.code).where(OrgUnit.code.like("SC-%"), OrgUnit.kind == "store")
        )
    r = api.post(f"{API}/visits", json={**quick, "store_code": far}, headers=auth)
    assert r.status_code == 404


def _accepted(
    s,
    unit: OrgUnit,
    period: Period,
    inspector: User,
    total: float,
    answers=None,  # type: ignore[no-untyped-def]
) -> InspectionVisit:
    row = iv.ensure_template_checklist(s)
    v = InspectionVisit(
        checklist_id=row.id,
        unit_id=unit.id,
        period_id=period.id,
        inspector_id=inspector.id,
        team=[inspector.id],
        planned_date=period.start + timedelta(days=3),
        answers=answers or {},
        item_notes={},
        overturned=[],
        section_scores={},
        vetoed=[],
        review_reasons=[],
        status="accepted",
        total=total,
    )
    s.add(v)
    s.flush()
    return v


def test_store_scores_per_period_by_hand(api: TestClient, demo_engine: Engine) -> None:
    with make_sessionmaker(demo_engine)() as s:
        nov = s.scalar(select(Period).where(Period.code == "2026-11"))
        oct_ = s.scalar(select(Period).where(Period.code == "2026-10"))
        insp = s.scalar(select(User).where(User.username == "inspector01"))
        a, b = s.scalars(
            select(OrgUnit)
            .where(OrgUnit.kind == "store", OrgUnit.tier == "first_level")
            .order_by(OrgUnit.id)
            .limit(2)
        ).all()
        assert nov and oct_ and insp
        for total in (80.0, 90.0):
            _accepted(s, a, nov, insp, total)
        _accepted(s, a, oct_, insp, 70.0)
        _accepted(s, b, nov, insp, 60.0)
        s.commit()
        a_id, a_code, b_code = a.id, a.code, b.code
    r = api.get(
        f"{API}/scores", params={"period": "2026-11"}, headers=token(demo_engine, "analyst")
    )
    assert r.status_code == 200
    got = {x["store_code"]: x for x in r.json()}
    assert set(got) == {a_code, b_code}
    sa, sb = got[a_code], got[b_code]
    # A: mean of 80 and 90 = 85 (grade B: 80 ≤ 85 < 90), up 15 on October's 70; B: 60 (C)
    assert (sa["score"], sa["n_visits"], sa["grade"], sa["change"]) == (85.0, 2, "B", 15.0)
    assert (sb["score"], sb["n_visits"], sb["grade"], sb["change"]) == (60.0, 1, "C", None)
    assert (sa["rank"], sb["rank"], sa["n_peers"], sa["peer"]) == (1, 2, 2, "first_level")
    assert sa["score_low"] <= 85.0 <= sa["score_high"]
    october = api.get(
        f"{API}/scores", params={"period": "2026-10"}, headers=token(demo_engine, "analyst")
    )
    assert [x["score"] for x in october.json()] == [70.0]
    # a store manager sees their store only; an inspector sees no scores
    manager_of(demo_engine, a_id)
    mine = api.get(f"{API}/scores", headers=token(demo_engine, "mgr.api")).json()
    assert [x["store_code"] for x in mine] == [a_code] and mine[0]["n_peers"] == 2
    assert api.get(f"{API}/scores", headers=token(demo_engine, "inspector01")).status_code == 403
    assert (
        api.get(
            f"{API}/scores", params={"period": "2031-01"}, headers=token(demo_engine, "analyst")
        ).status_code
        == 422
    )


def test_rectifications_listed_and_closed_in_scope(api: TestClient, demo_engine: Engine) -> None:
    with make_sessionmaker(demo_engine)() as s:
        nov = s.scalar(select(Period).where(Period.code == "2026-11"))
        insp = s.scalar(select(User).where(User.username == "inspector01"))
        analyst = s.scalar(select(User).where(User.username == "analyst"))
        gz = s.scalar(select(OrgUnit).where(OrgUnit.kind == "store", OrgUnit.code.like("GD-GZ-%")))
        sc = s.scalar(select(OrgUnit).where(OrgUnit.kind == "store", OrgUnit.code.like("SC-%")))
        assert nov and insp and analyst and gz and sc
        tasks = {}
        for unit, day in ((gz, TODAY), (sc, TODAY - timedelta(days=20))):
            v = _accepted(s, unit, nov, insp, 90.0, _answers(("farewell",)))
            v.status = "submitted"
            made = iv.review_visit(s, v, accept=True, reviewer_id=analyst.id, today=day, now=NOW)
            tasks[unit.code] = made[0].id
        s.commit()
        gz_id = gz.id
    manager_of(demo_engine, gz_id)
    mgr = token(demo_engine, "mgr.api")
    listed = api.get(f"{API}/rectifications", headers=mgr).json()
    assert [t["id"] for t in listed] == [tasks[gz.code]]
    assert listed[0]["due_date"] == str(TODAY + timedelta(days=14)) and not listed[0]["overdue"]
    everyone = api.get(f"{API}/rectifications", headers=token(demo_engine, "analyst")).json()
    overdue = {t["store_code"]: t["overdue"] for t in everyone}
    assert overdue == {gz.code: False, sc.code: True}  # due 6 days before the clock's day
    # closing needs a note; another province's task is not found
    url = f"{API}/rectifications/{tasks[gz.code]}/close"
    assert api.post(url, json={"note": ""}, headers=mgr).status_code == 422
    assert (
        api.post(
            f"{API}/rectifications/{tasks[sc.code]}/close", json={"note": "x"}, headers=mgr
        ).status_code
        == 404
    )
    r = api.post(url, json={"note": "已培训道别用语"}, headers=mgr)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert r.json()["closed_at"].startswith(str(TODAY))
    assert api.post(url, json={"note": "again"}, headers=mgr).status_code == 422
    assert (
        api.get(f"{API}/rectifications", params={"status": "closed"}, headers=mgr).json()[0][
            "closing_note"
        ]
        == "已培训道别用语"
    )
    with make_sessionmaker(demo_engine)() as s:
        t = s.get(InspectionRectification, tasks[gz.code])
        assert t is not None and t.status == "closed"
    assert (
        api.get(f"{API}/rectifications", headers=token(demo_engine, "inspector01")).status_code
        == 403
    )


def test_openapi_documents_the_inspections_api(api: TestClient) -> None:
    spec = api.get("/api/v1/openapi.json").json()
    paths = {p for p in spec["paths"] if p.startswith(API)}
    assert paths == {
        f"{API}/visits",
        f"{API}/visits/{{visit_id}}",
        f"{API}/visits/{{visit_id}}/submit",
        f"{API}/plan",
        f"{API}/scores",
        f"{API}/rectifications",
        f"{API}/rectifications/{{task_id}}/close",
    }
    post = spec["paths"][f"{API}/visits"]["post"]
    assert post["tags"] == ["inspections"] and post["summary"]
    assert {"VisitIn", "VisitOut", "StoreScoreOut", "RectificationOut"} <= set(
        spec["components"]["schemas"]
    )
    assert date.fromisoformat("2026-11-18") == TODAY
