"""Inspection pages end to end on the foundation demo: an inspector fills today's visit,
a reviewer accepts it, the store's score follows; appeals, 整改 tasks and who-sees-what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import sign_in
from sqm.domain.checklist_template import template_checklist
from sqm.services.inspections.visits import ensure_template_checklist
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, Period, User
from sqm.store.models.inspection import (
    InspectionAppeal,
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)

from .conftest import NOW, TODAY


def _fill(
    c: TestClient, visit_id: int, planned: dict[str, int], fail: tuple[str, ...] = ()
) -> None:
    cl = template_checklist()
    form = {
        "csrf_token": c.headers["X-CSRF-Token"],
        "started_at": (NOW - timedelta(minutes=30)).isoformat(),
        "checkin_lat": str(planned["lat"]),
        "checkin_lon": str(planned["lon"]),
    }
    for it in cl.items():
        form[f"a_{it.code}"] = "0" if it.code in fail else str(it.scale_max)
        if it.code in fail:
            form[f"n_{it.code}"] = "seen on site"
    r = c.post(f"/inspections/visits/{visit_id}/submit", data=form)
    assert r.status_code == 303, r.text[:500]


def _start(c: TestClient, planned: dict[str, int]) -> int:
    r = c.get("/inspections/my")
    assert r.status_code == 200 and f"/inspections/plan/{planned['entry']}/start" in r.text
    r = c.post(
        f"/inspections/plan/{planned['entry']}/start",
        data={"csrf_token": c.headers["X-CSRF-Token"]},
    )
    assert r.status_code == 303
    m = re.search(r"/inspections/visits/(\d+)/form", r.headers["location"])
    assert m
    return int(m.group(1))


def test_inspector_fills_reviewer_accepts_score_follows(app_client, planned, demo_engine) -> None:  # type: ignore[no-untyped-def]
    insp = app_client("inspector01")
    vid = _start(insp, planned)
    form = insp.get(f"/inspections/visits/{vid}/form")
    assert form.status_code == 200 and 'name="a_greet_on_entry"' in form.text
    # the server keeps a draft
    r = insp.post(f"/inspections/visits/{vid}/draft", json={"answers": {"greet_on_entry": 1}})
    assert r.status_code == 200
    again = insp.get(f"/inspections/visits/{vid}/form")
    assert '"greet_on_entry": 1' in again.text
    _fill(insp, vid, planned)
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        v = s.get(InspectionVisit, vid)
        assert v is not None and v.status == "submitted" and v.total == pytest.approx(100)
    # another inspector cannot see it
    assert app_client("inspector02").get(f"/inspections/visits/{vid}").status_code == 404
    analyst = app_client("analyst")
    assert analyst.get(f"/inspections/visits/{vid}").status_code == 200
    r = analyst.post(
        f"/inspections/visits/{vid}/review",
        data={"csrf_token": analyst.headers["X-CSRF-Token"], "decision": "accept"},
    )
    assert r.status_code == 303
    card = analyst.get(f"/inspections/stores/{planned['store']}")
    assert card.status_code == 200 and "100.0" in card.text
    ranking = analyst.get("/inspections")
    assert ranking.status_code == 200


def test_findings_become_tasks_appeal_overturns(app_client, planned, demo_engine) -> None:  # type: ignore[no-untyped-def]
    insp = app_client("inspector01")
    vid = _start(insp, planned)
    _fill(insp, vid, planned, fail=("farewell", "no_dispute"))
    analyst = app_client("analyst")
    analyst.post(
        f"/inspections/visits/{vid}/review",
        data={"csrf_token": analyst.headers["X-CSRF-Token"], "decision": "accept"},
    )
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        v = s.get(InspectionVisit, vid)
        assert v is not None and v.status == "accepted" and "service_norms" in v.vetoed
        before = v.total
        tasks = s.scalars(
            select(InspectionRectification).where(InspectionRectification.visit_id == vid)
        ).all()
        assert {t.item_code for t in tasks} == {"farewell", "no_dispute"}
        assert all(t.due_date == TODAY + timedelta(days=14) for t in tasks)
        # the store manager of this store appeals (grant a manager over this store)
        from sqm.domain.roles import Role
        from sqm.services.users import create_user, grant

        mgr = create_user(s, "mgr.test", "pw-test-123456", "店长 测试")
        grant(s, None, mgr, Role.STORE_MANAGER, s.get(OrgUnit, planned["store"]))
        s.commit()
    manager = sign_in(TestClient(analyst.app, follow_redirects=False), "mgr.test", "pw-test-123456")
    page = manager.get(f"/inspections/visits/{vid}")
    assert page.status_code == 200
    r = manager.post(
        f"/inspections/visits/{vid}/appeal",
        data={
            "csrf_token": manager.headers["X-CSRF-Token"],
            "item_code": "no_dispute",
            "reason": "录像显示无争执",
        },
    )
    assert r.status_code == 303
    with factory() as s:
        appeal = s.scalar(select(InspectionAppeal).where(InspectionAppeal.visit_id == vid))
        assert appeal is not None and appeal.status == "open"
        aid = appeal.id
    r = analyst.post(
        f"/inspections/appeals/{aid}/decide",
        data={"csrf_token": analyst.headers["X-CSRF-Token"], "decision": "overturn"},
    )
    assert r.status_code == 303
    with factory() as s:
        v = s.get(InspectionVisit, vid)
        assert v is not None and "service_norms" not in v.vetoed and v.total > before
        t = s.scalar(
            select(InspectionRectification).where(
                InspectionRectification.visit_id == vid,
                InspectionRectification.item_code == "no_dispute",
            )
        )
        assert t is not None and t.status == "cancelled"
        # every step is in the audit log, attributed to the person who took it
        from sqm.store.models import AuditEntry

        trail = s.scalars(
            select(AuditEntry).where(
                AuditEntry.entity.in_(["inspection_appeal", "inspection_visit"])
            )
        ).all()
        who = {(e.entity, e.username) for e in trail}
        assert ("inspection_appeal", "mgr.test") in who
        assert ("inspection_appeal", "analyst") in who
        assert ("inspection_visit", "inspector01") in who
    # the manager closes the remaining task
    with factory() as s:
        t = s.scalar(
            select(InspectionRectification).where(
                InspectionRectification.visit_id == vid,
                InspectionRectification.item_code == "farewell",
            )
        )
        assert t is not None
        tid = t.id
    assert manager.get("/inspections/rectifications").status_code == 200
    r = manager.post(
        f"/inspections/rectifications/{tid}/close",
        data={"csrf_token": manager.headers["X-CSRF-Token"], "note": "已培训道别用语"},
    )
    assert r.status_code == 303


def test_scope_rules(app_client, planned, demo_engine) -> None:  # type: ignore[no-untyped-def]
    with make_sessionmaker(demo_engine)() as s:
        mgr_user = s.scalar(select(User).where(User.username == "store.manager"))
        assert mgr_user is not None
        own = mgr_user.grants[0].scope_unit.path
        foreign = s.scalar(
            select(OrgUnit.id).where(OrgUnit.kind == "store", ~OrgUnit.path.startswith(own))
        )
    insp = app_client("inspector02")
    # someone else's plan entry
    r = insp.post(
        f"/inspections/plan/{planned['entry']}/start",
        data={"csrf_token": insp.headers["X-CSRF-Token"]},
    )
    assert r.status_code == 404
    # a store manager elsewhere: the store page is not found; reviewer pages are forbidden
    mgr = app_client("store.manager")
    assert mgr.get(f"/inspections/stores/{foreign}").status_code == 404
    assert mgr.get("/inspections/review").status_code == 403
    assert mgr.get("/inspections/plan").status_code == 403
    # inspectors do not see rankings or tasks
    assert insp.get("/inspections/rectifications").status_code == 403


def test_submit_incomplete_keeps_the_form(app_client, planned) -> None:  # type: ignore[no-untyped-def]
    insp = app_client("inspector01")
    vid = _start(insp, planned)
    r = insp.post(
        f"/inspections/visits/{vid}/submit",
        data={"csrf_token": insp.headers["X-CSRF-Token"], "a_greet_on_entry": "1"},
    )
    assert r.status_code == 422 and "not answered" in r.text


def test_inspector_quality_page(app_client, demo_engine) -> None:  # type: ignore[no-untyped-def]
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        row = ensure_template_checklist(s)
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        stores = s.scalars(select(OrgUnit).where(OrgUnit.kind == "store").limit(6)).all()
        insp = s.scalars(select(User).where(User.username.like("inspector0%")).limit(3)).all()
        assert period and len(stores) == 6 and len(insp) == 3
        for k, st in enumerate(stores):
            for j, u in enumerate(insp):
                s.add(
                    InspectionVisit(
                        checklist_id=row.id,
                        unit_id=st.id,
                        period_id=period.id,
                        inspector_id=u.id,
                        team=[u.id],
                        answers={},
                        item_notes={},
                        overturned=[],
                        section_scores={},
                        vetoed=[],
                        review_reasons=[],
                        status="accepted",
                        total=70.0 + k + 8.0 * (j == 0) + 0.5 * ((k + j) % 2),
                    )
                )
        yn = [it.code for it in template_checklist().items() if it.kind == "yes_no"]
        for k, st in enumerate(stores[:3]):
            for j, u in enumerate(insp[:2]):
                ans = {c: float((n + k + (j if n < 3 else 0)) % 2) for n, c in enumerate(yn)}
                s.add(
                    InspectionVisit(
                        checklist_id=row.id,
                        unit_id=st.id,
                        period_id=period.id,
                        inspector_id=u.id,
                        team=[x.id for x in insp[:2]],
                        answers=ans,
                        item_notes={},
                        overturned=[],
                        section_scores={},
                        vetoed=[],
                        review_reasons=[],
                        status="accepted",
                        purpose="calibration",
                        visit_key=f"CAL-{st.code}",
                        total=60.0 + 10 * k + j * (3 if k == 1 else 1),
                    )
                )
        s.commit()
    analyst = app_client("analyst")
    r = analyst.get("/inspections/inspectors")
    assert 'id="calibration"' in r.text
    assert r.status_code == 200 and r.text.count("<tr>") >= 4
    assert app_client("inspector01").get("/inspections/inspectors").status_code == 403
    # the ranking corrected for inspector effects: inspector 0 scored 8 points high
    plain = analyst.get("/inspections?period=2026-11&peer=all")
    fixed = analyst.get("/inspections?period=2026-11&peer=all&corrected=1")
    assert plain.status_code == fixed.status_code == 200
    assert 'id="competitor-comparison"' in plain.text
    assert plain.text != fixed.text
    for peer in ("city", "province", "tier"):
        page = analyst.get(f"/inspections?period=2026-11&peer={peer}")
        assert page.status_code == 200 and 'id="ranking"' in page.text


def test_evidence_is_served_only_to_those_who_may_see_the_visit(app_client, planned) -> None:  # type: ignore[no-untyped-def]
    import io

    from PIL import Image

    insp = app_client("inspector01")
    vid = _start(insp, planned)
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buf, format="PNG")
    r = insp.post(
        f"/inspections/visits/{vid}/evidence",
        files={"file": ("shelf.png", buf.getvalue(), "image/png")},
        data={
            "item_code": "clean_tidy",
            "kind": "photo",
            "csrf_token": insp.headers["X-CSRF-Token"],
        },
    )
    assert r.status_code == 200, r.text
    eid = r.json()["id"]
    got = insp.get(f"/inspections/evidence/{eid}")
    assert got.status_code == 200 and got.content == buf.getvalue()
    assert app_client("inspector02").get(f"/inspections/evidence/{eid}").status_code == 404
    bad = insp.post(
        f"/inspections/visits/{vid}/evidence",
        files={"file": ("x.exe", b"MZ", "application/octet-stream")},
        data={"kind": "photo", "csrf_token": insp.headers["X-CSRF-Token"]},
    )
    assert bad.status_code == 422


def test_plan_calendar_rechecks_hand_edits(app_client, demo_engine) -> None:  # type: ignore[no-untyped-def]
    from sqm.services.inspections.planning import plan_period, save_plan
    from sqm.services.inspections.visit_plan import PlanRules

    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        assert period is not None
        save_plan(s, period, plan_period(s, period, PlanRules(time_limit_s=4)))
        s.commit()
        e = s.scalar(select(InspectionPlanEntry).order_by(InspectionPlanEntry.id))
        assert e is not None
        eid = e.id
    analyst = app_client("analyst")
    page = analyst.get("/inspections/plan")
    assert (
        page.status_code == 200 and "Every planning rule holds" in page.text
    ) or "所有计划规则均满足" in page.text
    # move a visit to a Sunday: the re-check flags it
    r = analyst.post(
        f"/inspections/plan/{eid}/move",
        data={"csrf_token": analyst.headers["X-CSRF-Token"], "date": "2026-11-29"},
    )
    assert r.status_code == 303
    page = analyst.get("/inspections/plan")
    assert "day_off" in page.text
    x = analyst.get("/inspections/plan.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(x.content))
    assert any(r[0].value == "day_off" for r in wb["规则 Rules"].iter_rows(min_row=2))


def test_checklist_list_shows_counts_not_python_objects(app_client, demo_engine) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: the 检查项 column showed ``<built-in method items of dict object …>``. Each
    count column shows the version's number of sections, indicators, items, veto and
    critical items."""
    from sqm.services.inspections.visits import checklist_of
    from sqm.store.models.inspection import InspectionChecklist

    page = app_client("analyst").get("/inspections/checklists")
    assert page.status_code == 200
    assert "built-in method" not in page.text and "object at 0x" not in page.text
    with make_sessionmaker(demo_engine)() as s:
        rows = list(s.scalars(select(InspectionChecklist)))
        assert rows
        for row in rows:
            cl = checklist_of(row)
            items = cl.items()
            want = [
                len(cl.sections),
                len(cl.indicators()),
                len(items),
                sum(1 for it in items if it.veto),
                sum(1 for it in items if it.critical),
            ]
            m = re.search(
                rf'href="/inspections/checklists/{row.id}">.*?</td>\s*<td>v{row.version}</td>\s*'
                + r"\s*".join([r'<td class="num">([^<]*)</td>'] * 5),
                page.text,
                re.S,
            )
            assert m, row.id
            assert [int(g) for g in m.groups()] == want
            assert want[2] > 0
