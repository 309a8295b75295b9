"""The upload pages through the real app on the demo: permission per kind, the error
table or the counts, dry run, scope of the uploader, and export downloads."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from conftest import make_client, sign_in
from sqm.domain.roles import Role
from sqm.services.exports import export_table
from sqm.services.users import create_user, grant
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import AuditEntry, OrgUnit

from .conftest import audit_count, csv_bytes

ClientAs = Callable[[str], TestClient]
HEAD = ["编码", "名称", "类型", "上级编码", "门店等级", "纬度"]


def _upload(c: TestClient, kind: str, data: bytes, name: str = "u.csv", dry_run: bool = False):  # type: ignore[no-untyped-def]
    form = {"dry_run": "1"} if dry_run else {}
    return c.post(f"/imports/{kind}", files={"file": (name, data, "text/csv")}, data=form)


def _units(engine: Engine, *codes: str) -> dict[str, OrgUnit]:
    with make_sessionmaker(engine)() as s:
        return {u.code: u for u in s.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))}


def test_analyst_uploads_a_good_then_a_bad_file(client_as: ClientAs, demo_engine: Engine) -> None:
    c = client_as("analyst")
    page = c.get("/imports/org")
    assert page.status_code == 200 and 'name="file"' in page.text
    assert "导入 / 导出" in page.text and "上级编码" in page.text  # Chinese by default
    assert c.get("/org/import").headers["location"] == "/imports/org"
    good = csv_bytes(
        [HEAD, ["GD-GZ-D1-S99", "新开店", "门店", "GD-GZ-D1", "一级店", "23.1"]], "gbk"
    )
    r = _upload(c, "org", good, dry_run=True)
    assert r.status_code == 200 and 'data-count="created">1<' in r.text
    assert _units(demo_engine, "GD-GZ-D1-S99") == {}
    r = _upload(c, "org", good)
    assert r.status_code == 200 and 'data-count="created">1<' in r.text
    unit = _units(demo_engine, "GD-GZ-D1-S99")["GD-GZ-D1-S99"]
    assert (unit.tier, unit.lat) == ("first_level", 23.1)
    with make_sessionmaker(demo_engine)() as s:
        who = s.scalars(
            select(AuditEntry.username).where(
                AuditEntry.entity == "org_unit", AuditEntry.entity_id == str(unit.id)
            )
        )
        assert set(who) == {"analyst"}
    n_audit = audit_count(demo_engine)
    r = _upload(c, "org", good)
    assert 'data-count="unchanged">1<' in r.text and audit_count(demo_engine) == n_audit
    bad = csv_bytes(
        [
            HEAD,
            ["GD-GZ-D1-S98", "店", "门店", "GD-GZ-D1", "", "123"],
            ["GD-GZ-D1-S97", "店", "shop", "NOPE", "", ""],
        ]
    )
    r = _upload(c, "org", bad, "bad.csv")
    assert r.status_code == 422 and 'id="import-errors"' in r.text
    body = r.text
    for bit in (
        '<td class="num">2</td>',
        "纬度",
        '<td class="num">3</td>',
        "类型",
        "上级编码",
        "NOPE",
    ):
        assert bit in body
    assert _units(demo_engine, "GD-GZ-D1-S98", "GD-GZ-D1-S97") == {}


def test_indicators_and_weights_pages_round_trip(client_as: ClientAs) -> None:
    c = client_as("analyst")
    for kind in ("indicators", "weights"):
        exported = c.get(f"/imports/{kind}/export.xlsx?lang=en")
        assert exported.status_code == 200 and exported.content[:2] == b"PK"
        r = _upload(c, kind, exported.content, f"{kind}.xlsx")
        assert r.status_code == 200, r.text
        assert 'data-count="created">0<' in r.text and 'data-count="updated">0<' in r.text


def test_permissions(client_as: ClientAs) -> None:
    viewer = client_as("exec")
    assert viewer.get("/imports/org").status_code == 403
    assert viewer.get("/imports/weights/export.csv").status_code == 403
    assert _upload(viewer, "org", b"x").status_code == 403
    assert client_as("analyst").get("/imports/nothing").status_code == 404
    home = client_as("analyst").get("/")
    assert 'href="/imports"' in home.text
    assert 'href="/imports"' not in client_as("store.manager").get("/").text


def test_upload_outside_the_uploaders_scope_is_refused(demo_engine: Engine) -> None:
    with transaction(make_sessionmaker(demo_engine)) as s:
        gd = s.scalars(select(OrgUnit).where(OrgUnit.code == "GD")).one()
        u = create_user(s, "analyst.gd", "sqm-demo-2026", "广东分析师")
        grant(s, None, u, Role.QUALITY_ANALYST, gd)
    c = sign_in(make_client(demo_engine), "analyst.gd")
    data = csv_bytes(
        [
            HEAD,
            ["GD-GZ-D1-S90", "省内店", "门店", "GD-GZ-D1", "", ""],
            ["ZJ-HZ-D1-S90", "省外店", "门店", "ZJ-HZ-D1", "", ""],
        ]
    )
    r = _upload(c, "org", data)
    assert r.status_code == 422 and "ZJ-HZ-D1-S90" in r.text
    assert "GD-GZ-D1-S90" not in r.text.split('id="import-errors"')[1]
    assert _units(demo_engine, "GD-GZ-D1-S90", "ZJ-HZ-D1-S90") == {}
    with make_sessionmaker(demo_engine)() as s:
        full = export_table(s, "org", fmt="csv", lang="en")
    exported = c.get("/imports/org/export.csv?lang=en").content
    assert len(exported.splitlines()) < len(full.splitlines())
    assert b"ZJ-HZ" not in exported


def test_an_upload_needs_a_file_and_an_importable_kind(client_as: ClientAs) -> None:
    c = client_as("analyst")
    r = c.post("/imports/org", data={"dry_run": "1"})
    assert r.status_code == 422 and "choose a CSV or xlsx file" in r.text
    assert _upload(c, "nope", b"x").status_code == 404
    assert _upload(client_as("area.gz"), "indicators", b"x").status_code == 403


def test_run_import_picks_the_importer_by_kind(sqlite_engine: Engine) -> None:
    from sqm.services.imports import IMPORTERS, run_import

    assert set(IMPORTERS) == {"org", "indicators", "weights"}
    rows = [HEAD, ["ZZ", "公司", "公司", "", "", ""], ["ZZ-P", "省", "省", "ZZ", "", ""]]
    with transaction(make_sessionmaker(sqlite_engine)) as s:
        outside = run_import(s, "org", csv_bytes(rows), "u.csv", scope_paths=("/999/",))
        assert {e.rule for e in outside.errors} == {"out_of_scope"}
        report = run_import(s, "org", csv_bytes(rows), "u.csv", dry_run=True)
        assert report.ok and report.created == 2 and report.dry_run
        assert run_import(s, "indicators", csv_bytes(rows), "u.csv").errors
