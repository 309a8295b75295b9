"""The web shell through the real app: sign-in, CSRF, language, the foundation pages."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from conftest import csrf_of, make_client, sign_in
from sqm.store.engine import make_sessionmaker
from sqm.store.models import AuditEntry, IndicatorNode, OrgUnit


def test_anonymous_is_sent_to_login_and_wrong_password_is_refused(demo_engine: Engine) -> None:
    c = make_client(demo_engine)
    r = c.get("/org")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/org"
    r = c.post(
        "/login", data={"username": "admin", "password": "wrong-password", "csrf_token": csrf_of(c)}
    )
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text  # Chinese by default
    with make_sessionmaker(demo_engine)() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "login_failed")) is not None


def test_login_without_csrf_token_is_rejected(demo_engine: Engine) -> None:
    c = make_client(demo_engine)
    c.get("/login")
    r = c.post("/login", data={"username": "admin", "password": "sqm-demo-2026"})
    assert r.status_code == 403
    assert "CSRF" in r.text


def test_forms_need_the_session_csrf_token(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("analyst")
    del c.headers["X-CSRF-Token"]
    r = c.post("/indicators/1/new-version", data={"csrf_token": "forged"})
    assert r.status_code == 403


def test_chinese_by_default_english_by_switch(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("exec")
    assert "组织架构" in c.get("/").text
    r = c.get("/lang/en?next=/org")
    assert r.status_code == 303 and r.headers["location"] == "/org"
    page = c.get("/org").text
    assert "Organisation" in page and "组织架构" not in page
    assert c.get("/lang/zh").status_code == 303
    assert "组织架构" in c.get("/").text
    # An off-site "next" is never followed.
    assert c.get("/lang/en?next=//evil.example").headers["location"] == "/"


def test_logout_ends_the_session(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("exec")
    assert c.post("/logout").status_code == 303
    assert c.get("/").status_code == 303


def test_foundation_pages_render_for_the_analyst(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("analyst")
    for path in [
        "/",
        "/org",
        "/org/children/1",
        "/org/search?q=广州",
        "/org/units/1",
        "/indicators",
        "/indicators/1",
        "/weights",
        "/weights/1",
        "/admin/audit",
    ]:
        r = c.get(path)
        assert r.status_code == 200, path
    assert "中域广州" in c.get("/org/search?q=广州").text
    # The analyst manages no users.
    assert c.get("/admin/users").status_code == 403


def test_indicator_editor_saves_and_audits(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    c = client_as("analyst")
    f = make_sessionmaker(demo_engine)
    # The demo system is published: editing needs a new version first.
    r = c.post("/indicators/1/new-version")
    assert r.status_code == 303
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    with f() as s:
        node = s.scalar(
            select(IndicatorNode).where(
                IndicatorNode.system_id == sid, IndicatorNode.code == "NET.VOICE.mos"
            )
        )
        assert node is not None
        nid = node.id
    form = {
        "name_zh": "语音质量 MOS",
        "name_en": "Voice MOS",
        "direction": "higher",
        "source": "network_kpi",
        "source_ref": "voice_mos",
        "scale_min": "1",
        "scale_max": "4.5",
        "target": "4.1",
        "warning": "3.5",
    }
    assert c.post(f"/indicators/{sid}/nodes/{nid}/edit", data=form).status_code == 303
    bad = dict(form, scale_min="5")
    r = c.post(f"/indicators/{sid}/nodes/{nid}/edit", data=bad)
    assert r.status_code == 422 and "scale_min must be below scale_max" in r.text
    with f() as s:
        node = s.get(IndicatorNode, nid)
        assert node is not None and node.target == 4.1 and node.name_zh == "语音质量 MOS"
        e = s.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "indicator_node", AuditEntry.action == "update"
            )
        ).all()[-1]
        assert e.username == "analyst" and e.changes["target"] == [4.0, 4.1]
    # The published version stays as it was.
    assert c.post(f"/indicators/1/nodes/{nid}/edit", data=form).status_code in (404, 409)


def test_admin_creates_a_user_with_a_scope(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    c = client_as("admin")
    r = c.post(
        "/admin/users/new",
        data={
            "username": "mgr.sz",
            "display_name": "深圳经理",
            "password": "long-enough-1",
            "role": "area_manager",
            "scope_code": "GD-SZ",
        },
    )
    assert r.status_code == 303
    r = c.post(
        "/admin/users/new",
        data={
            "username": "mgr.sz",
            "password": "long-enough-1",
            "role": "area_manager",
            "scope_code": "GD-SZ",
        },
    )
    assert r.status_code == 422 and "taken" in r.text
    r = c.post(
        "/admin/users/new",
        data={"username": "x", "password": "short", "role": "viewer", "scope_code": "ZY"},
    )
    assert r.status_code == 422 and "12 characters" in r.text
    new = sign_in(make_client(demo_engine), "mgr.sz", "long-enough-1")
    units = new.get("/api/v1/org-units?limit=1000").json()
    assert units["total"] > 0 and all(u["code"].startswith("GD-SZ") for u in units["items"])


def test_healthz(demo_engine: Engine) -> None:
    r = make_client(demo_engine).get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_unit_page_shows_the_store_and_its_weight_profile(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    with make_sessionmaker(demo_engine)() as s:
        st = s.scalar(select(OrgUnit).where(OrgUnit.tier == "flagship_core").limit(1))
        assert st is not None
    page = client_as("analyst").get(f"/org/units/{st.id}").text
    assert st.name_zh in page and "旗舰核心店" in page
    assert re.search(r"旗舰核心店·深化期权重", page)


def test_path_objects_answer_403_before_404_and_404_outside_the_scope(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    from sqm.domain.roles import Role
    from sqm.services.users import create_user, grant
    from sqm.store.engine import transaction
    from sqm.store.models import User

    with transaction(make_sessionmaker(demo_engine)) as s:
        gz = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
        assert gz is not None
        u = create_user(s, "admin.gz", "long-enough-1")
        grant(s, None, u, Role.ADMIN, gz)
        analyst_id = s.scalar(select(User.id).where(User.username == "analyst"))
        area_id = s.scalar(select(User.id).where(User.username == "area.gz"))
        other_node = s.scalar(select(IndicatorNode).where(IndicatorNode.system_id != 1))
    # Without the permission: 403, whether or not the object exists.
    inspector = client_as("inspector01")
    assert inspector.get("/admin/users/999999999").status_code == 403
    assert inspector.get("/indicators/999999999/nodes/1/edit").status_code == 403
    # A Guangzhou administrator manages Guangzhou's users only.
    c = sign_in(make_client(demo_engine), "admin.gz", "long-enough-1")
    assert c.get(f"/admin/users/{area_id}").status_code == 200
    r = c.get(f"/admin/users/{analyst_id}")
    assert r.status_code == 404 and "质量分析师" not in r.text
    assert c.post(f"/admin/users/{analyst_id}", data={"display_name": "x"}).status_code == 404
    assert c.post(f"/admin/users/{area_id}/grants/999999999/delete").status_code == 404
    assert c.get("/admin/users/0").status_code == 422  # not an id at all
    analyst = client_as("analyst")
    assert analyst.get("/indicators/999999999").status_code == 404
    if other_node is not None:  # a node of another system is not a node of this one
        assert analyst.get(f"/indicators/1/nodes/{other_node.id}/edit").status_code == 404


def test_a_published_version_refuses_changes_with_409(
    client_as: Callable[[str], TestClient],
) -> None:
    c = client_as("analyst")
    form = {"code": "NEWDIM", "name_zh": "新维度", "level": "dimension"}
    r = c.post("/indicators/1/nodes", data=form)
    assert r.status_code == 409 and "published" in r.text
    sid = int(c.post("/indicators/1/new-version").headers["location"].rsplit("/", 1)[1])
    assert c.post(f"/indicators/{sid}/nodes", data=form).status_code == 303
    r = c.post(f"/indicators/{sid}/nodes", data=form)
    assert r.status_code == 409 and "already exists" in r.text
    r = c.post(f"/indicators/{sid}/nodes", data=dict(form, code="X", level="item"))
    assert r.status_code == 422 and "cannot sit" in r.text


def test_publishing_shows_every_problem_and_changes_nothing(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    """Issue 18: a draft's page lists what stands in the way of publishing it; publishing
    anyway answers 422 with the same list, and the version stays a draft."""
    from sqm.store.models import IndicatorSystem

    c = client_as("analyst")
    sid = int(c.post("/indicators/1/new-version").headers["location"].rsplit("/", 1)[1])
    assert 'id="publish-problems"' not in c.get(f"/indicators/{sid}").text
    form = {"code": "NEWDIM", "name_zh": "新维度", "level": "dimension"}
    assert c.post(f"/indicators/{sid}/nodes", data=form).status_code == 303
    page = c.get(f"/indicators/{sid}").text
    assert 'id="publish-problems"' in page and "NEWDIM: no source" in page
    r = c.post(f"/indicators/{sid}/publish")
    assert r.status_code == 422
    assert "NEWDIM: no source" in r.text and "no weight for NEWDIM" in r.text
    with make_sessionmaker(demo_engine)() as s:
        assert s.get_one(IndicatorSystem, sid).status == "draft"
