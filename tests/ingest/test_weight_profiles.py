"""Weight profile import over a hand-written indicator system: Chinese values, percent
weights, profile fields given once, idempotency, and every rule of a bad file."""

from __future__ import annotations

from sqlalchemy import Engine, select

from sqm.ingest.weight_profiles import read_weight_profiles
from sqm.services.evaluation.weight_profile import import_weight_profiles
from sqm.services.imports import import_indicator_systems
from sqm.store.engine import make_sessionmaker
from sqm.store.models import WeightProfile

from .conftest import IND_ZH, W_ZH, audit_count, csv_bytes, run, xlsx_bytes


def _profiles(engine: Engine) -> dict[str, tuple[WeightProfile, dict[str, float]]]:
    with make_sessionmaker(engine)() as s:
        return {
            p.code: (p, {w.node.code: w.weight for w in p.weights})
            for p in s.scalars(select(WeightProfile))
        }


def test_import_then_reimport_changes_nothing(any_engine: Engine) -> None:
    assert run(any_engine, import_indicator_systems, csv_bytes(IND_ZH), "i.csv").ok
    for data, name in ((csv_bytes(W_ZH, "utf-8-sig"), "w.csv"), (xlsx_bytes(W_ZH), "w.xlsx")):
        report = run(any_engine, import_weight_profiles, data, name)
        assert report.ok, report.format_table()
        got = _profiles(any_engine)
        p1, w1 = got["P1"]
        assert (
            p1.name_zh,
            p1.name_en,
            p1.tier,
            p1.in_province,
            p1.stage,
            p1.valid_from,
            p1.valid_to,
            p1.method,
        ) == (
            "旗舰店权重",
            "Flagship",
            "flagship_core",
            True,
            "early",
            "2026-01",
            "2026-06",
            "manual",
        )
        assert w1 == {
            "D1": 0.6,
            "D2": 0.4,
            "D1.I1": 1.0,
            "D1.I1.a": 0.7,
            "D1.I1.b": 0.3,
            "D2.I1": 1.0,
            "D2.I1.drop": 1.0,
        }
        p2, w2 = got["P2"]
        assert (p2.tier, p2.in_province, p2.stage, p2.valid_from, p2.valid_to, p2.method, w2) == (
            None,
            None,
            None,
            "2026Q1",
            None,
            "manual",
            {"D1": 0.5, "D2": 0.5},
        )
    n_audit = audit_count(any_engine)
    again = run(any_engine, import_weight_profiles, csv_bytes(W_ZH), "w.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert audit_count(any_engine) == n_audit


def test_changing_one_weight_updates_the_profile(sqlite_engine: Engine) -> None:
    run(sqlite_engine, import_indicator_systems, csv_bytes(IND_ZH), "i.csv")
    run(sqlite_engine, import_weight_profiles, csv_bytes(W_ZH), "w.csv")
    rows = [r[:] for r in W_ZH]
    rows[4][-1], rows[5][-1] = "0.5", "0.5"
    report = run(sqlite_engine, import_weight_profiles, csv_bytes(rows), "w.csv")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert _profiles(sqlite_engine)["P1"][1]["D1.I1.a"] == 0.5


def test_bad_file_every_error_nothing_written(sqlite_engine: Engine) -> None:
    run(sqlite_engine, import_indicator_systems, csv_bytes(IND_ZH), "i.csv")
    h = W_ZH[0]
    blank = [""] * len(h)

    def row(**kw: str) -> list[str]:
        r = blank[:]
        for k, v in kw.items():
            r[h.index(k)] = v
        return r

    rows = [
        h,
        row(
            权重方案编码="B1",
            权重方案名称="b1",
            指标体系编码="TST",
            生效期间="2026-01",
            失效期间="2025-12",
            指标编码="D1",
            权重="0.5",
        ),  # 2; 2 valid_to
        row(
            权重方案编码="B1", 指标编码="D2", 权重="0.4"
        ),  # 3 (root sums to 0.9, reported on row 2)
        row(权重方案编码="B1", 指标编码="NOPE", 权重="1"),  # 4 unknown node
        row(权重方案编码="B1", 指标编码="D1.I1", 权重="1.5"),  # 5 out of range
        row(权重方案编码="B1", 指标编码="D1.I1", 权重="1"),  # 6 fine
        row(权重方案编码="B1", 指标编码="D1.I1", 权重="1"),  # 7 duplicate
        row(
            权重方案编码="B1", 门店等级="旗舰核心店", 指标编码="D2.I1", 权重="1"
        ),  # 8 fine, tier given once
        row(
            权重方案编码="B1", 门店等级="一级店", 指标编码="D2.I1.drop", 权重="1"
        ),  # 9 conflicting tier
        row(
            权重方案编码="B2",
            权重方案名称="b2",
            指标体系编码="NOSYS",
            生效期间="2026-13",
            方法="拍脑袋",
            指标编码="D1",
            权重="1",
        ),  # 10
        row(
            权重方案编码="B3", 指标体系编码="TST", 生效期间="2026-01", 指标编码="D1", 权重="x"
        ),  # 11 no name; weight
        row(权重方案编码="B3", 指标编码="D2", 权重="1"),  # 12
    ]
    report = run(sqlite_engine, import_weight_profiles, csv_bytes(rows, "gbk"), "bad.csv")
    got = sorted((e.row, e.column, e.rule) for e in report.errors)
    assert got == sorted(
        [
            (2, "失效期间", "out_of_range"),
            (2, "权重", "weights_sum"),
            (4, "指标编码", "unknown_node"),
            (5, "权重", "out_of_range"),
            (7, "指标编码", "duplicate_code"),
            (9, "门店等级", "conflicting_value"),
            (10, "生效期间", "not_a_period"),
            (10, "方法", "unknown_value"),
            (10, "指标体系编码", "unknown_system"),
            (11, "权重方案名称", "required"),
            (11, "权重", "not_a_number"),
        ]
    ), report.format_table()
    sum_error = next(e for e in report.errors if e.rule == "weights_sum")
    assert "rows 2, 3" in sum_error.message and "0.9000" in sum_error.message
    assert _profiles(sqlite_engine) == {}


def test_unknown_system_version(sqlite_engine: Engine) -> None:
    run(sqlite_engine, import_indicator_systems, csv_bytes(IND_ZH), "i.csv")
    rows = [
        [
            "profile_code",
            "profile_name_zh",
            "system_code",
            "system_version",
            "valid_from",
            "node_code",
            "weight",
        ],
        ["P", "p", "TST", "2", "2026", "D1", "0.5"],
        ["P", "", "", "", "", "D2", "0.5"],
    ]
    report = run(sqlite_engine, import_weight_profiles, csv_bytes(rows), "w.csv")
    assert [(e.row, e.rule) for e in report.errors] == [(2, "unknown_system")]
    rows[1][3] = "1"
    assert run(sqlite_engine, import_weight_profiles, csv_bytes(rows), "w.csv").created == 1


def test_removing_weighted_nodes_from_a_draft_warns_about_the_profiles(
    sqlite_engine: Engine,
) -> None:
    run(sqlite_engine, import_indicator_systems, csv_bytes(IND_ZH), "i.csv")
    run(sqlite_engine, import_weight_profiles, csv_bytes(W_ZH), "w.csv")
    report = run(sqlite_engine, import_indicator_systems, csv_bytes(IND_ZH[:-1]), "i.csv")
    assert report.deleted == 1
    assert (
        report.notes[0].startswith("TST: nodes D2.I1.drop were removed") and "P1" in report.notes[0]
    )
    assert "D2.I1.drop" not in _profiles(sqlite_engine)["P1"][1]


def test_an_existing_profile_can_be_updated_from_just_codes_and_weights(
    sqlite_engine: Engine,
) -> None:
    run(sqlite_engine, import_indicator_systems, csv_bytes(IND_ZH), "i.csv")
    run(sqlite_engine, import_weight_profiles, csv_bytes(W_ZH), "w.csv")
    rows = [
        ["权重方案编码", "权重方案名称", "指标体系编码", "生效期间", "指标编码", "权重"],
        ["P2", "", "TST", "", "D1", "0.3"],
        ["P2", "", "", "", "D2", "0.7"],
    ]
    report = run(sqlite_engine, import_weight_profiles, csv_bytes(rows), "w.csv")
    assert report.ok and report.updated == 1, report.format_table()
    p2, w2 = _profiles(sqlite_engine)["P2"]
    assert (p2.name_zh, p2.valid_from, w2) == ("通用权重", "2026Q1", {"D1": 0.3, "D2": 0.7})


def test_reading_a_file_needs_no_database() -> None:
    wf = read_weight_profiles(csv_bytes(W_ZH), "w.csv")
    assert wf.report.ok, wf.report.format_table()
    assert list(wf.profiles) == ["P1", "P2"]
    assert wf.profiles["P1"].shared["tier"][0] == "flagship_core"
    assert {c: w for c, (w, _) in wf.profiles["P2"].weights.items()} == {"D1": 0.5, "D2": 0.5}
    # a profile weighs an indicator system or a checklist: not neither, not both
    rows = [
        ["profile_code", "system_code", "checklist_code", "node_code", "weight"],
        ["A", "", "", "x", "1"],
        ["B", "S", "C", "x", "1"],
        ["C", "S", "", "x", "1"],
    ]
    wf = read_weight_profiles(csv_bytes(rows), "w.csv")
    assert [(e.row, e.rule) for e in wf.report.errors] == [(2, "required"), (3, "required")]
