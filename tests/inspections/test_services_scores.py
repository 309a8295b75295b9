"""Store ranking as one read model (:mod:`sqm.services.inspections.scores`): the page, the
JSON API and the CSV download rank with the same function, every store is ranked over the
whole organisation first and only then filtered to what the viewer sees — so a store
manager reads the same rank for their store as the analyst. Also the other read models
(scorecard, inspector quality) and the scope rules of single records (404 outside)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from conftest import sign_in
from sqm.domain.errors import MissingError
from sqm.domain.roles import ROLE_PERMISSIONS, Role
from sqm.services.inspections import access, scores
from sqm.services.inspections import visits as iv
from sqm.services.scope import Principal, load_principal
from sqm.services.users import create_user, grant
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, Period, User
from sqm.store.models.inspection import (
    InspectionAppeal,
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)

from .conftest import NOW, TODAY

API = "/api/v1/inspections"
ROW = re.compile(
    r'<td>(\d+) <span class="muted">\[(\d+)–(\d+)\] / (\d+)</span></td>\s*'
    r'<td><a href="/inspections/stores/(\d+)">'
)


def _visit(s: Any, unit: OrgUnit, period: Period, inspector: User, total: float) -> InspectionVisit:
    v = InspectionVisit(
        checklist_id=iv.ensure_template_checklist(s).id,
        unit_id=unit.id,
        period_id=period.id,
        inspector_id=inspector.id,
        team=[inspector.id],
        planned_date=period.start + timedelta(days=3),
        answers={},
        item_notes={},
        overturned=[],
        section_scores={"service_awareness": total},
        vetoed=[],
        review_reasons=[],
        status="accepted",
        total=total,
    )
    s.add(v)
    s.flush()
    return v


@pytest.fixture
def scored(demo_engine: Engine) -> dict[str, Any]:
    """First-level stores of Guangzhou (the demo store manager's among them) and of another
    province, with accepted visits in 2026-10 and 2026-11: the manager's store is neither
    first nor last of its tier over the whole organisation."""
    with make_sessionmaker(demo_engine)() as s:
        nov = s.scalar(select(Period).where(Period.code == "2026-11"))
        oct_ = s.scalar(select(Period).where(Period.code == "2026-10"))
        insp = s.scalars(select(User).where(User.username.like("inspector0%"))).all()[:2]
        mgr = s.scalar(select(User).where(User.username == "store.manager"))
        assert nov and oct_ and len(insp) == 2 and mgr
        own = mgr.grants[0].scope_unit
        tier = own.tier
        gz = s.scalars(
            select(OrgUnit)
            .where(
                OrgUnit.kind == "store",
                OrgUnit.tier == tier,
                OrgUnit.code.like("GD-GZ-%"),
                OrgUnit.id != own.id,
            )
            .order_by(OrgUnit.id)
            .limit(2)
        ).all()
        far = s.scalars(
            select(OrgUnit)
            .where(OrgUnit.kind == "store", OrgUnit.tier == tier, OrgUnit.code.like("SC-%"))
            .order_by(OrgUnit.id)
            .limit(3)
        ).all()
        assert len(gz) == 2 and len(far) == 3
        totals = {
            far[0].id: (96.0, 94.0),
            far[1].id: (91.0, 89.0),
            own.id: (84.0, 82.0),
            gz[0].id: (78.0, 74.0),
            far[2].id: (66.0, 70.0),
            gz[1].id: (55.0, 61.0),
        }
        units = {u.id: u for u in [own, *gz, *far]}
        for uid, (a, b) in totals.items():
            _visit(s, units[uid], nov, insp[0], a)
            _visit(s, units[uid], nov, insp[1], b)
            _visit(s, units[uid], oct_, insp[0], a - 5)
        s.commit()
        return {
            "own": own.id,
            "own_code": own.code,
            "gz": [u.id for u in gz],
            "far": [u.id for u in far],
            "codes": {u.id: u.code for u in units.values()},
            "tier": tier,
        }


def _page_ranks(c: TestClient, query: str) -> dict[int, tuple[int, int, int, int]]:
    r = c.get(f"/inspections?{query}")
    assert r.status_code == 200, r.text[:300]
    return {int(m[4]): (int(m[0]), int(m[1]), int(m[2]), int(m[3])) for m in ROW.findall(r.text)}


def _api_ranks(c: TestClient, params: dict[str, str]) -> dict[str, tuple[int, int, int, int]]:
    r = c.get(f"{API}/scores", params=params)
    assert r.status_code == 200, r.text[:300]
    return {
        x["store_code"]: (x["rank"], x["rank_low"], x["rank_high"], x["n_peers"]) for x in r.json()
    }


def _csv_ranks(c: TestClient, query: str) -> dict[str, tuple[int, int, int, int]]:
    r = c.get(f"/inspections/ranking.csv?{query}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    fields = [en for en, _ in scores.RANKING_COLUMNS]
    recs = [dict(zip(fields, row, strict=True)) for row in rows[1:]]
    return {
        x["store_code"]: (
            int(x["rank"]),
            int(x["rank_low"]),
            int(x["rank_high"]),
            int(x["n_peers"]),
        )
        for x in recs
    }


@pytest.mark.parametrize("peer", ["tier", "province", "all"])
def test_page_api_and_csv_give_the_same_ranks(app_client, scored, peer: str) -> None:  # type: ignore[no-untyped-def]
    analyst = app_client("analyst")
    query = f"period=2026-11&peer={peer}"
    page = _page_ranks(analyst, query)
    api = _api_ranks(analyst, {"period": "2026-11", "peer": peer})
    table = _csv_ranks(analyst, query)
    codes = scored["codes"]
    assert set(codes) <= set(page)
    for uid, code in codes.items():
        assert page[uid] == api[code] == table[code], (peer, code)
    if peer == "tier":
        # six first-level stores over two provinces: the manager's is third of six
        assert page[scored["own"]][0] == 3 and page[scored["own"]][3] == 6


def test_a_store_manager_reads_the_analysts_rank(app_client, scored) -> None:  # type: ignore[no-untyped-def]
    analyst = app_client("analyst")
    manager = app_client("store.manager")
    for peer in ("tier", "city", "all"):
        query = f"period=2026-11&peer={peer}"
        mine = _page_ranks(manager, query)
        assert set(mine) == {scored["own"]}  # only their store is shown…
        assert mine[scored["own"]] == _page_ranks(analyst, query)[scored["own"]]  # …as ranked
        params = {"period": "2026-11", "peer": peer}
        theirs = _api_ranks(manager, params)
        assert theirs == {scored["own_code"]: mine[scored["own"]]}
        assert _csv_ranks(manager, query) == theirs
    # the old page ranked within the viewer's scope: rank 1 of 1. Not any more.
    assert _page_ranks(manager, "period=2026-11&peer=tier")[scored["own"]][::3] == (3, 6)


def test_store_ranking_ranks_the_whole_organisation_then_filters(
    demo_engine: Engine, scored: dict[str, Any]
) -> None:
    with make_sessionmaker(demo_engine)() as s:
        analyst = load_principal(s, _uid(s, "analyst"))
        manager = load_principal(s, _uid(s, "store.manager"))
        assert analyst is not None and manager is not None
        everyone = scores.store_ranking(s, analyst, "2026-11")
        mine = scores.store_ranking(s, manager, "2026-11")
        assert [r.unit.id for r in mine.rows] == [scored["own"]]
        same = next(r for r in everyone.rows if r.unit.id == scored["own"])
        assert mine.rows[0] == same
        # score, grade and change by hand: mean of 84 and 82, up 4 on October's 79
        assert (same.score, same.grade, same.change, same.n) == (83.0, "B", 4.0, 2)
        # one store only (the API's ?store=)
        one = scores.store_ranking(s, analyst, "2026-11", store=scored["own_code"])
        assert [r.code for r in one.rows] == [scored["own_code"]] and one.rows[0].rank == same.rank
        # the default period is the latest with accepted visits; periods newest first
        assert everyone.periods[:2] == ["2026-11", "2026-10"]
        assert scores.store_ranking(s, analyst).period == "2026-11"
        # corrected for inspector effects: inspector 0 scored higher, every total moves
        fixed = scores.store_ranking(s, analyst, "2026-11", corrected=True)
        assert {r.code for r in fixed.rows} == {r.code for r in everyone.rows}
        # a period without accepted visits is empty; an unknown code is refused (422)
        assert scores.store_ranking(s, analyst, "2026-01").rows == []
        with pytest.raises(scores.UnknownPeriod) as exc:
            scores.store_ranking(s, analyst, "2031-01")
        assert exc.value.status_code == 422
        with pytest.raises(iv.InspectionError):
            scores.store_ranking(s, analyst, "2026-11", peer="galaxy")


def test_csv_cells_are_safe_for_excel(app_client, demo_engine: Engine, scored) -> None:  # type: ignore[no-untyped-def]
    with make_sessionmaker(demo_engine)() as s:
        u = s.get(OrgUnit, scored["own"])
        assert u is not None
        u.name_zh = u.name_en = '=HYPERLINK("http://x")'
        s.commit()
    r = app_client("analyst").get("/inspections/ranking.csv?period=2026-11")
    text = r.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert app_client("inspector01").get("/inspections/ranking.csv").status_code == 403


def test_ranking_page_links_its_csv_and_tolerates_old_bookmarks(app_client, scored) -> None:  # type: ignore[no-untyped-def]
    analyst = app_client("analyst")
    page = analyst.get("/inspections?period=1999-01&peer=city")
    assert page.status_code == 200 and 'id="ranking-csv"' in page.text
    assert "period=2026-11&amp;peer=city" in page.text
    # the API and the download refuse the unknown period instead
    assert analyst.get(f"{API}/scores", params={"period": "1999-01"}).status_code == 422


def test_store_card_and_inspector_quality(demo_engine: Engine, scored: dict[str, Any]) -> None:
    with make_sessionmaker(demo_engine)() as s:
        unit = s.get(OrgUnit, scored["own"])
        assert unit is not None
        card = scores.store_card(s, unit, "en")
        assert card.trend["labels"] == ["2026-10", "2026-11"]
        assert card.trend["values"] == [79.0, 83.0]
        assert card.sections and card.sections[0][1] == 83.0
        assert len(card.visits) == 3 and card.tasks == []
        analyst = load_principal(s, _uid(s, "analyst"))
        assert analyst is not None
        q = scores.inspector_quality(s, analyst)
        assert q.n_visits == 18 and len(q.rows) == 2
        assert q.periods[0] == "2026-11"
        # two inspectors: effects of opposite signs (their weighted mean is 0), lowest first
        assert q.rows[0].effect < 0 < q.rows[1].effect
        manager = load_principal(s, _uid(s, "store.manager"))
        assert manager is not None
        assert scores.inspector_quality(s, manager).n_visits == 3


def _uid(s: Any, username: str) -> int:
    uid = s.scalar(select(User.id).where(User.username == username))
    assert uid is not None
    return int(uid)


# ------------------------------------------------------------------ single records in scope


def _principal(uid: int, role: Role, path: str) -> Principal:
    return Principal(uid, "u", "", frozenset({role}), (path,), ROLE_PERMISSIONS[role])


def test_visible_records_follow_the_scope(demo_engine: Engine, scored: dict[str, Any]) -> None:
    with make_sessionmaker(demo_engine)() as s:
        analyst = s.scalar(select(User).where(User.username == "analyst"))
        assert analyst is not None
        near = s.scalar(
            select(InspectionVisit).where(InspectionVisit.unit_id == scored["own"]).limit(1)
        )
        far = s.scalar(
            select(InspectionVisit).where(InspectionVisit.unit_id == scored["far"][0]).limit(1)
        )
        assert near is not None and far is not None
        gz_path = s.get(OrgUnit, scored["own"]).path.rsplit("/", 2)[0] + "/"  # type: ignore[union-attr]
        area = _principal(9_999, Role.AREA_MANAGER, gz_path)
        assert access.visible_visit(s, area, near.id) is near
        with pytest.raises(MissingError):
            access.visible_visit(s, area, far.id)
        with pytest.raises(MissingError):
            access.visible_visit(s, area, 10**9)
        # the inspector who made it sees it; another one does not, a reviewer in scope does
        mine = _principal(near.inspector_id, Role.INSPECTOR, "/nowhere/")
        assert access.assigned_visit(s, mine, near.id) is near
        assert access.own_visit(s, mine, near.id) is near
        with pytest.raises(MissingError):
            access.assigned_visit(s, _principal(1, Role.INSPECTOR, "/nowhere/"), near.id)
        # tasks and appeals follow their store / visit
        far.status = "submitted"
        near.status = "submitted"
        s.flush()
        iv.review_visit(s, far, accept=True, reviewer_id=analyst.id, today=TODAY, now=NOW)
        far.answers = {"farewell": 0.0}
        task, appeal = _task_and_appeal(far.id, far.unit_id, analyst.id)
        s.add_all([task, appeal])
        s.flush()
        with pytest.raises(MissingError):
            access.visible_task(s, area, task.id)
        with pytest.raises(MissingError):
            access.visible_appeal(s, area, appeal.id)
        everywhere = load_principal(s, analyst.id)
        assert everywhere is not None
        assert access.visible_task(s, everywhere, task.id) is task
        assert access.visible_appeal(s, everywhere, appeal.id) is appeal
        s.rollback()


def test_scoped_dependencies_answer_404_outside_the_scope(
    app_client,
    demo_engine: Engine,
    scored: dict[str, Any],  # type: ignore[no-untyped-def]
) -> None:
    """A reviewer scoped to Guangzhou: visits, appeals, tasks and plan entries elsewhere are
    not found (404), for reading and for every action; inside they work."""
    with make_sessionmaker(demo_engine)() as s:
        gz = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
        analyst = s.scalar(select(User).where(User.username == "analyst"))
        nov = s.scalar(select(Period).where(Period.code == "2026-11"))
        insp = s.scalar(select(User).where(User.username == "inspector01"))
        assert gz and analyst and nov and insp
        rev = create_user(s, "rev.gz", "pw-test-123456", "审核 广州")
        grant(s, None, rev, Role.QUALITY_ANALYST, gz)
        far = s.get(OrgUnit, scored["far"][0])
        far_visit = s.scalar(select(InspectionVisit).where(InspectionVisit.unit_id == far.id))  # type: ignore[union-attr]
        assert far is not None and far_visit is not None
        far_visit.status = "submitted"
        far_visit.answers = {"farewell": 0.0}
        s.flush()
        far_visit.reviewed_at = NOW
        task, appeal = _task_and_appeal(far_visit.id, far.id, analyst.id)
        entry = InspectionPlanEntry(
            period_id=nov.id,
            unit_id=far.id,
            inspector_id=insp.id,
            planned_date=TODAY,
            visit_key=f"{far.code}@{TODAY}",
        )
        s.add_all([task, appeal, entry])
        s.commit()
        ids = {"visit": far_visit.id, "task": task.id, "appeal": appeal.id, "entry": entry.id}
    c = sign_in(
        TestClient(app_client("analyst").app, follow_redirects=False), "rev.gz", "pw-test-123456"
    )
    tok = {"csrf_token": c.headers["X-CSRF-Token"]}
    assert c.get(f"/inspections/visits/{ids['visit']}").status_code == 404
    assert (
        c.post(
            f"/inspections/visits/{ids['visit']}/review", data={**tok, "decision": "accept"}
        ).status_code
        == 404
    )
    assert (
        c.post(
            f"/inspections/appeals/{ids['appeal']}/decide", data={**tok, "decision": "overturn"}
        ).status_code
        == 404
    )
    assert (
        c.post(
            f"/inspections/rectifications/{ids['task']}/close", data={**tok, "note": "x"}
        ).status_code
        == 404
    )
    assert (
        c.post(
            f"/inspections/plan/{ids['entry']}/move", data={**tok, "date": "2026-11-20"}
        ).status_code
        == 404
    )
    assert c.get(f"{API}/visits/{ids['visit']}").status_code == 404
    assert (
        c.post(f"{API}/rectifications/{ids['task']}/close", json={"note": "x"}).status_code == 404
    )
    # ids that cannot be ids are refused before any lookup
    assert c.get("/inspections/visits/0").status_code == 422
    assert c.get(f"/inspections/visits/{2**63}").status_code == 422
    # the analyst (whole company) reaches the same records
    analyst_c = app_client("analyst")
    assert analyst_c.get(f"/inspections/visits/{ids['visit']}").status_code == 200
    r = analyst_c.post(
        f"/inspections/plan/{ids['entry']}/move",
        data={"csrf_token": analyst_c.headers["X-CSRF-Token"], "date": "not-a-date"},
    )
    assert r.status_code == 422
    r = analyst_c.post(
        f"/inspections/plan/{ids['entry']}/move",
        data={"csrf_token": analyst_c.headers["X-CSRF-Token"], "inspector_id": "999999"},
    )
    assert r.status_code == 422
    with make_sessionmaker(demo_engine)() as s:
        e = s.get(InspectionPlanEntry, ids["entry"])
        assert e is not None and e.inspector_id != 999999  # nothing half-written


# ------------------------------------------------------------------ both databases


def _small_org(s: Any) -> dict[str, Any]:
    """Two provinces, one city each, two first-level stores per city and one competitor."""
    from datetime import date

    from sqm.services.org_tree import place

    def unit(code: str, kind: str, parent: OrgUnit | None, **kw: Any) -> OrgUnit:
        u = OrgUnit(code=code, name_zh=code, name_en=code, kind=kind, **kw)
        place(s, u, parent)
        return u

    co = unit("CO", "company", None)
    out: dict[str, Any] = {"stores": {}}
    for prov in ("P1", "P2"):
        p = unit(prov, "province", co)
        c = unit(f"{prov}-C", "city", p)
        for k in (1, 2):
            out["stores"][f"{prov}-S{k}"] = unit(
                f"{prov}-S{k}", "store", c, tier="first_level", in_province=True
            )
        out[prov], out[f"{prov}-C"] = p, c
    out["comp"] = unit("P1-X", "competitor_store", out["P1-C"], brand="Rival")
    out["periods"] = [
        Period(code=f"2026-{m}", kind="month", start=date(2026, m, 1), end=date(2026, m, 28))
        for m in (10, 11)
    ]
    s.add_all(out["periods"])
    out["insp"] = create_user(s, "insp.t", "pw-test-123456", "检查员")
    s.flush()
    return out


def test_ranking_and_plan_read_models_on_both_databases(any_engine: Engine) -> None:
    from sqm.services.inspections import planning

    with make_sessionmaker(any_engine)() as s:
        org = _small_org(s)
        oct_, nov = org["periods"]
        totals = {"P1-S1": 90.0, "P1-S2": 70.0, "P2-S1": 80.0, "P2-S2": 60.0}
        for code, total in totals.items():
            _visit(s, org["stores"][code], nov, org["insp"], total)
            _visit(s, org["stores"][code], oct_, org["insp"], total - 10)
        _visit(s, org["comp"], nov, org["insp"], 75.0)
        s.add(
            InspectionPlanEntry(
                period_id=nov.id,
                unit_id=org["stores"]["P2-S1"].id,
                inspector_id=org["insp"].id,
                planned_date=nov.start,
                visit_key="P2-S1@x",
            )
        )
        s.commit()
        everyone = Principal(
            1, "a", "", frozenset(), ("/",), ROLE_PERMISSIONS[Role.QUALITY_ANALYST]
        )
        p2 = _principal(2, Role.AREA_MANAGER, org["P2"].path)
        full = scores.store_ranking(s, everyone, "2026-11")
        ranks = {r.code: (r.rank, r.n_peers, r.peer) for r in full.rows}
        assert ranks == {
            "P1-S1": (1, 4, "first_level"),
            "P2-S1": (2, 4, "first_level"),
            "P1-S2": (3, 4, "first_level"),
            "P2-S2": (4, 4, "first_level"),
            "P1-X": (1, 1, "competitor"),
        }
        mine = scores.store_ranking(s, p2, "2026-11")
        assert {r.code: (r.rank, r.n_peers, r.peer) for r in mine.rows} == {
            c: ranks[c] for c in ("P2-S1", "P2-S2")
        }
        assert all(r.change == 10.0 for r in mine.rows)
        by_prov = scores.store_ranking(s, p2, "2026-11", peer="province", locale="en")
        assert {r.code: (r.rank, r.n_peers, r.peer) for r in by_prov.rows} == {
            "P2-S1": (1, 2, "P2"),
            "P2-S2": (2, 2, "P2"),
        }
        comp = scores.section_comparison(s, everyone, "2026-11", "en")
        first = next(c for c in comp if c.own is not None)
        assert (first.own, first.competitor) == (75.0, 75.0)  # (90+70+80+60)/4 and the rival
        assert scores.section_comparison(s, p2, "2026-11")[0].competitor is None
        # the plan of the month: a reviewer's in scope, nothing for someone elsewhere
        rows = planning.month_plan(s, everyone)
        assert [(r.store_code, r.team, r.period) for r in rows] == [
            ("P2-S1", ["insp.t"], "2026-11")
        ]
        p1 = _principal(3, Role.QUALITY_ANALYST, org["P1"].path)
        assert planning.month_plan(s, p1) == []
        with pytest.raises(planning.UnknownPlanPeriod):
            planning.month_plan(s, everyone, "2031-01")


def _task_and_appeal(
    visit_id: int, unit_id: int, raised_by_id: int
) -> tuple[InspectionRectification, InspectionAppeal]:
    """A 整改 task and an appeal on the visit's "farewell" item, both due today."""
    task = InspectionRectification(
        visit_id=visit_id,
        unit_id=unit_id,
        item_code="farewell",
        title_zh="整改",
        title_en="Rectify",
        due_date=TODAY,
    )
    appeal = InspectionAppeal(
        visit_id=visit_id,
        item_code="farewell",
        raised_by_id=raised_by_id,
        reason="x",
        deadline=TODAY,
    )
    return task, appeal
