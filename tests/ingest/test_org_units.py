"""Org unit import: a hand-written tree (children before parents) in every encoding and
format, idempotency (no update, no audit entry), moves, and a bad file whose every error
is reported with its Excel row while nothing is written."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from sqm.services.imports import import_org_units
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit

from .conftest import ORG_EN_HEADER, ORG_ZH, audit_count, csv_bytes, run, xlsx_bytes


def _units(engine: Engine) -> dict[str, OrgUnit]:
    with make_sessionmaker(engine)() as s:
        return {u.code: u for u in s.scalars(select(OrgUnit))}


def _check_tree(engine: Engine) -> None:
    u = _units(engine)
    assert len(u) == 7
    s1 = u["S-TH-01"]
    assert s1.path == f"/{u['HQ'].id}/{u['GD'].id}/{u['GZ'].id}/{u['GZ-TH'].id}/{s1.id}/"
    assert s1.depth == 4
    assert (s1.kind, s1.tier, s1.in_province, s1.area_type) == (
        "store",
        "flagship_core",
        True,
        "urban",
    )
    assert (s1.traffic, s1.customers, s1.lat, s1.lon) == (12000, 36000, 23.1291, 113.3245)
    assert (s1.opened_on, s1.status, s1.brand, s1.name_en) == (
        date(2019, 5, 1),
        "active",
        None,
        "Tianhe Flagship",
    )
    s2 = u["S-TH-02"]
    assert (s2.name_zh, s2.tier, s2.in_province, s2.area_type, s2.status, s2.lat) == (
        "天河合作店",
        "partner",
        False,
        "county",
        "suspended",
        23.10,
    )
    c = u["C-TH-01"]
    assert (c.kind, c.brand, c.parent_id) == ("competitor_store", "China Mobile", u["GZ-TH"].id)
    assert u["HQ"].parent_id is None and u["HQ"].path == f"/{u['HQ'].id}/"


@pytest.mark.parametrize(
    ("encoding", "fmt", "lang"),
    [
        ("utf-8", "csv", "zh"),
        ("utf-8-sig", "csv", "zh"),
        ("gbk", "csv", "zh"),
        ("utf-8", "csv", "en"),
        ("", "xlsx", "zh"),
        ("", "xlsx", "en"),
    ],
)
def test_good_file_creates_the_tree_then_reimport_changes_nothing(
    sqlite_engine: Engine, encoding: str, fmt: str, lang: str
) -> None:
    rows = ORG_ZH if lang == "zh" else [ORG_EN_HEADER, *ORG_ZH[1:]]
    rows = [*rows, [""] * 15, [""] * 15]  # Excel's empty trailing rows
    data = csv_bytes(rows, encoding) if fmt == "csv" else xlsx_bytes(rows)
    report = run(sqlite_engine, import_org_units, data, f"units.{fmt}")
    assert report.ok, report.format_table()
    assert (report.rows_read, report.created, report.updated, report.unchanged) == (7, 7, 0, 0)
    _check_tree(sqlite_engine)
    before = audit_count(sqlite_engine)
    again = run(sqlite_engine, import_org_units, data, f"units.{fmt}")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 7)
    assert audit_count(sqlite_engine) == before  # no update, no audit entry


def test_on_any_engine_idempotent_and_all_or_nothing(any_engine: Engine) -> None:
    data = csv_bytes(ORG_ZH)
    assert run(any_engine, import_org_units, data, "u.csv").created == 7
    _check_tree(any_engine)
    n_audit = audit_count(any_engine)
    assert run(any_engine, import_org_units, data, "u.csv").unchanged == 7
    assert audit_count(any_engine) == n_audit
    bad = csv_bytes(
        [
            ORG_ZH[0],
            ["NEW1", "新店", "", "门店", "GZ-TH", "", "", "", "", "", "", "", "", "", ""],
            ["NEW2", "坏店", "", "门店", "GZ-TH", "", "", "", "", "", "91", "", "", "", ""],
        ]
    )
    report = run(any_engine, import_org_units, bad, "bad.csv")
    assert [(e.row, e.rule) for e in report.errors] == [(3, "out_of_range")]
    assert "NEW1" not in _units(any_engine)  # the good row was not written either
    assert audit_count(any_engine) == n_audit


def test_update_and_move(sqlite_engine: Engine) -> None:
    run(sqlite_engine, import_org_units, csv_bytes(ORG_ZH), "u.csv")
    # A new district; the partner store moves there and its traffic changes.
    rows = [
        ["编码", "名称", "类型", "上级编码", "客流量"],
        ["S-TH-02", "天河合作店", "门店", "GZ-PY", "900"],
        ["GZ-PY", "番禺区", "区县", "GZ", ""],
    ]
    report = run(sqlite_engine, import_org_units, csv_bytes(rows), "u.csv")
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0), report.format_table()
    u = _units(sqlite_engine)
    s2 = u["S-TH-02"]
    assert s2.parent_id == u["GZ-PY"].id and s2.path == u["GZ-PY"].path + f"{s2.id}/"
    assert s2.traffic == 900
    # Absent columns (tier, lat, ...) were left as they were.
    assert (s2.tier, s2.lat, s2.status) == ("partner", 23.10, "suspended")


def test_bad_file_reports_every_error_and_writes_nothing(sqlite_engine: Engine) -> None:
    run(sqlite_engine, import_org_units, csv_bytes(ORG_ZH), "u.csv")
    n_units, n_audit = len(_units(sqlite_engine)), audit_count(sqlite_engine)
    h = [
        "编码",
        "名称",
        "类型",
        "上级编码",
        "门店等级",
        "省内",
        "客流量",
        "客户数",
        "纬度",
        "经度",
        "开业日期",
    ]
    rows = [
        h,
        ["X1", "店1", "shop", "GZ-TH", "", "", "", "", "", "", ""],  # 2 unknown kind
        ["X2", "", "门店", "GZ-TH", "", "", "", "", "", "", ""],  # 3 missing name
        ["X3", "店3", "门店", "NOPE", "", "", "", "", "", "", ""],  # 4 parent not found
        ["X4", "店4", "门店", "GD", "", "", "", "", "", "", ""],  # 5 store under a province
        ["X5", "店5", "门店", "GZ-TH", "", "", "", "", "", "", ""],  # 6 fine, but …
        ["X5", "店5b", "门店", "GZ-TH", "", "", "", "", "", "", ""],  # 7 … duplicated here
        ["X6", "店6", "门店", "GZ-TH", "", "", "", "", "95", "200", ""],  # 8 lat, lon
        ["X7", "店7", "门店", "GZ-TH", "", "", "", "", "", "", "2021-13-45"],  # 9 date
        ["X8", "店8", "门店", "GZ-TH", "", "", "many", "-5", "", "", ""],  # 10 numbers
        ["X9", "店9", "门店", "GZ-TH", "五星", "maybe", "", "", "", "", ""],  # 11 tier, yes/no
        [
            "X10",
            "区10",
            "区县",
            "GZ",
            "旗舰核心店",
            "",
            "",
            "",
            "",
            "",
            "",
        ],  # 12 tier on a district
        [
            "GZ",
            "广州市",
            "市",
            "GZ-TH",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],  # 13 cycle, and a city under a district
        ["", "无编码", "门店", "GZ-TH", "", "", "", "", "", "", ""],  # 14 missing code
    ]
    report = run(sqlite_engine, import_org_units, csv_bytes(rows, "gbk"), "bad.csv")
    got = sorted((e.row, e.column, e.rule) for e in report.errors)
    assert got == sorted(
        [
            (2, "类型", "unknown_value"),
            (3, "名称", "required"),
            (4, "上级编码", "parent_not_found"),
            (5, "上级编码", "parent_kind"),
            (7, "编码", "duplicate_code"),
            (8, "纬度", "out_of_range"),
            (8, "经度", "out_of_range"),
            (9, "开业日期", "not_a_date"),
            (10, "客流量", "not_a_number"),
            (10, "客户数", "out_of_range"),
            (11, "门店等级", "unknown_value"),
            (11, "省内", "not_a_boolean"),
            (12, "门店等级", "unknown_value"),
            (13, "上级编码", "parent_kind"),
            (13, "上级编码", "cycle"),
            (14, "编码", "required"),
        ]
    ), report.format_table()
    assert len(_units(sqlite_engine)) == n_units and audit_count(sqlite_engine) == n_audit
    assert "nothing written" in report.summary()


def test_kind_change_must_still_fit_the_children_in_the_database(sqlite_engine: Engine) -> None:
    run(sqlite_engine, import_org_units, csv_bytes(ORG_ZH), "u.csv")
    rows = [["编码", "名称", "类型", "上级编码"], ["GZ-TH", "天河区", "省", "HQ"]]
    report = run(sqlite_engine, import_org_units, csv_bytes(rows), "u.csv")
    assert {(e.row, e.rule) for e in report.errors} == {(2, "parent_kind")}
    assert "S-TH-01" in report.errors[0].message or "C-TH-01" in report.errors[0].message


def test_scope_limits_what_may_be_imported(sqlite_engine: Engine) -> None:
    run(sqlite_engine, import_org_units, csv_bytes(ORG_ZH), "u.csv")
    u = _units(sqlite_engine)
    scope = (u["GZ-TH"].path,)
    rows = [
        ["编码", "名称", "类型", "上级编码"],
        ["S-TH-03", "新店", "门店", "GZ-TH"],  # inside
        ["GZ-YX", "越秀区", "区县", "GZ"],  # outside: under GZ
        ["S-YX-01", "越秀店", "门店", "GZ-YX"],  # outside: under an outside new unit
        ["GZ", "广州市（改）", "市", "GD"],  # existing unit outside the scope
        ["S-X", "无上级", "门店", "NOPE"],  # only parent_not_found, not also out_of_scope
    ]
    report = run(sqlite_engine, import_org_units, csv_bytes(rows), "u.csv", scope_paths=scope)
    assert sorted((e.row, e.rule) for e in report.errors) == [
        (3, "out_of_scope"),
        (4, "out_of_scope"),
        (5, "out_of_scope"),
        (6, "parent_not_found"),
    ]
    ok = run(sqlite_engine, import_org_units, csv_bytes(rows[:2]), "u.csv", scope_paths=scope)
    assert ok.created == 1


def test_dry_run_counts_without_writing(sqlite_engine: Engine) -> None:
    from sqm.store.engine import transaction

    with transaction(make_sessionmaker(sqlite_engine)) as s:
        report = import_org_units(s, csv_bytes(ORG_ZH), "u.csv", dry_run=True)
        s.rollback()
    assert report.created == 7 and report.dry_run and "dry run" in report.summary()
    with make_sessionmaker(sqlite_engine)() as s:
        assert s.scalar(select(func.count()).select_from(OrgUnit)) == 0
