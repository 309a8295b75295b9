"""Indicator system import: a hand-written tree (Chinese and English values), idempotency,
draft updates in place, a new draft version over a published one, deletions, and a bad
file with every error reported and nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from sqm.services.evaluation.indicator_system import tree_rows
from sqm.services.imports import import_indicator_systems
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import IndicatorSystem

from .conftest import IND_ZH, audit_count, csv_bytes, run, xlsx_bytes


def _systems(engine: Engine) -> list[IndicatorSystem]:
    with make_sessionmaker(engine)() as s:
        out = list(s.scalars(select(IndicatorSystem).order_by(IndicatorSystem.version)))
        for x in out:
            _ = list(x.nodes)
        return out


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_creates_the_tree_and_reimport_changes_nothing(any_engine: Engine, fmt: str) -> None:
    data = csv_bytes(IND_ZH, "gbk") if fmt == "csv" else xlsx_bytes(IND_ZH)
    report = run(any_engine, import_indicator_systems, data, f"i.{fmt}")
    assert report.ok, report.format_table()
    assert (report.created, report.updated, report.deleted) == (7, 0, 0)
    (system,) = _systems(any_engine)
    assert (system.code, system.version, system.status, system.name_zh, system.name_en) == (
        "TST",
        1,
        "draft",
        "测试体系",
        "Test system",
    )
    by = {n.code: n for n in system.nodes}
    a, drop = by["D1.I1.a"], by["D2.I1.drop"]
    assert (
        a.level,
        a.source,
        a.source_ref,
        a.direction,
        a.scale_min,
        a.scale_max,
        a.unit,
        a.target,
        a.warning,
        a.is_veto,
    ) == ("item", "survey_item", "intercept.overall", "higher", 0.0, 100.0, "分", 90.0, 80.0, False)
    assert (drop.direction, drop.is_veto, drop.source, drop.target) == (
        "lower",
        True,
        "network_kpi",
        0.5,
    )
    assert by["D1.I1"].parent_id == by["D1"].id and by["D1"].parent_id is None
    assert [r.node.code for r in tree_rows(system)] == [
        "D1",
        "D1.I1",
        "D1.I1.a",
        "D1.I1.b",
        "D2",
        "D2.I1",
        "D2.I1.drop",
    ]
    n_audit = audit_count(any_engine)
    again = run(any_engine, import_indicator_systems, data, f"i.{fmt}")
    assert (again.created, again.updated, again.unchanged, again.deleted) == (0, 0, 7, 0)
    assert audit_count(any_engine) == n_audit


def test_draft_is_updated_in_place_and_published_gets_a_new_version(sqlite_engine: Engine) -> None:
    run(sqlite_engine, import_indicator_systems, csv_bytes(IND_ZH), "i.csv")
    changed = [r[:] for r in IND_ZH]
    changed[3][14] = "92"  # target of D1.I1.a
    report = run(sqlite_engine, import_indicator_systems, csv_bytes(changed), "i.csv")
    assert (report.updated, report.created) == (1, 0)
    assert len(_systems(sqlite_engine)) == 1
    with transaction(make_sessionmaker(sqlite_engine)) as s:
        s.scalars(select(IndicatorSystem)).one().status = "published"
    assert (
        run(sqlite_engine, import_indicator_systems, csv_bytes(changed), "i.csv").changed is False
    )
    dropped = changed[:-1]  # remove D2.I1.drop
    report = run(sqlite_engine, import_indicator_systems, csv_bytes(dropped), "i.csv")
    v1, v2 = _systems(sqlite_engine)
    assert (v1.status, len(v1.nodes), v2.version, v2.status, len(v2.nodes)) == (
        "published",
        7,
        2,
        "draft",
        6,
    )
    assert any("new draft version v2" in n for n in report.notes)
    report = run(sqlite_engine, import_indicator_systems, csv_bytes(changed), "i.csv")
    assert (report.created, report.deleted) == (1, 0)  # draft v2 gets the node back in place
    assert len(_systems(sqlite_engine)) == 2


def test_bad_file_every_error_nothing_written(sqlite_engine: Engine) -> None:
    h = IND_ZH[0]
    blank = [""] * len(h)

    def row(**kw: str) -> list[str]:
        r = blank[:]
        for k, v in kw.items():
            r[h.index(k)] = v
        return r

    rows = [
        h,
        row(
            指标体系编码="BAD", 指标体系名称="坏体系", 编码="D1", 层级="维度", 名称="维度一"
        ),  # 2 fine
        row(
            指标体系编码="BAD", 编码="I1", 层级="考核项", 名称="项", 上级编码="D1"
        ),  # 3 item under dimension
        row(指标体系编码="BAD", 编码="I2", 层级="指标", 名称="指标"),  # 4 indicator at the root
        row(指标体系编码="BAD", 编码="I3", 层级="层", 名称="x", 上级编码="D1"),  # 5 unknown level
        row(
            指标体系编码="BAD", 编码="I4", 层级="指标", 名称="x", 上级编码="NOPE"
        ),  # 6 parent not found
        row(指标体系编码="BAD", 编码="D1", 层级="维度", 名称="重复"),  # 7 duplicate
        row(
            指标体系编码="BAD", 指标体系名称="另一个名字", 编码="D2", 层级="维度", 名称="d2"
        ),  # 8 conflicting name
        row(
            指标体系编码="BAD",
            编码="I5",
            层级="指标",
            名称="x",
            上级编码="D1",
            最小值="10",
            最大值="5",
            目标值="abc",
            方向="越大越好",
            来源="猜的",
            一票否决="也许",
        ),  # 9
        row(指标体系编码="BAD", 编码="I6", 层级="指标", 上级编码="D1"),  # 10 no name
        row(指标体系编码="NONAME", 编码="D1", 层级="维度", 名称="d"),  # 11 system without a name
    ]
    report = run(sqlite_engine, import_indicator_systems, csv_bytes(rows), "bad.csv")
    got = sorted((e.row, e.column, e.rule) for e in report.errors)
    assert got == sorted(
        [
            (3, "上级编码", "parent_kind"),
            (4, "上级编码", "parent_kind"),
            (5, "层级", "unknown_value"),
            (6, "上级编码", "parent_not_found"),
            (7, "编码", "duplicate_code"),
            (8, "指标体系名称", "conflicting_value"),
            (9, "最大值", "out_of_range"),
            (9, "目标值", "not_a_number"),
            (9, "方向", "unknown_value"),
            (9, "来源", "unknown_value"),
            (9, "一票否决", "not_a_boolean"),
            (10, "名称", "required"),
            (11, "指标体系名称", "required"),
        ]
    ), report.format_table()
    assert _systems(sqlite_engine) == []


def test_cycle_is_reported_on_the_rows_in_it(sqlite_engine: Engine) -> None:
    h = ["system_code", "system_name_zh", "code", "parent_code", "level", "name_zh"]
    rows = [
        h,
        ["C", "c", "A", "B", "indicator", "a"],
        ["C", "", "B", "A", "indicator", "b"],
        ["C", "", "X", "A", "item", "x"],
    ]
    report = run(sqlite_engine, import_indicator_systems, csv_bytes(rows), "c.csv")
    assert sorted((e.row, e.rule) for e in report.errors if e.rule == "cycle") == [
        (2, "cycle"),
        (3, "cycle"),
    ]
