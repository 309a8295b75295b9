"""Reading CSV/xlsx with header aliasing, encodings and Excel row numbers; typed cells;
the error report. Expected values are written out by hand from the fixture rows."""

from __future__ import annotations

import codecs
import json
from datetime import date, datetime

import pytest

from sqm.ingest.errors import ImportReport
from sqm.ingest.tabular import Column, RowReader, Table, read_table, write_table

from .conftest import csv_bytes, xlsx_bytes

COLS = [
    Column("code", "编码", ("unit code",), required=True),
    Column("traffic", "客流量"),
    Column("opened_on", "开业日期"),
    Column("in_province", "省内"),
]
ROWS = [
    ["编码", "客流量", "开业日期", "省内"],
    ["S1", "1,200", "2019/5/1", "是"],
    ["S2", "30", "", "否"],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_read_the_same(encoding: str) -> None:
    report = ImportReport(kind="t")
    table = read_table(csv_bytes(ROWS, encoding), "x.csv", COLS, report)
    assert report.ok and not report.ignored_columns
    assert table.headers == {
        "code": "编码",
        "traffic": "客流量",
        "opened_on": "开业日期",
        "in_province": "省内",
    }
    assert [r.cells["code"] for r in table.rows] == ["S1", "S2"]
    r = RowReader(table.rows[0], table, report)
    assert (r.integer("traffic"), r.day("opened_on"), r.boolean("in_province")) == (
        1200,
        date(2019, 5, 1),
        True,
    )


def test_bom_is_not_part_of_the_first_header() -> None:
    data = codecs.BOM_UTF8 + "编码,客流量\nS1,3\n".encode()
    report = ImportReport(kind="t")
    table = read_table(data, "x.csv", COLS, report)
    assert table.headers["code"] == "编码" and report.ok


def test_english_headers_aliases_case_and_spacing() -> None:
    data = csv_bytes(
        [["Unit Code", " TRAFFIC ", "opened_on", "Mystery"], ["S1", "5", "2024-03-01", "x"]]
    )
    report = ImportReport(kind="t")
    table = read_table(data, "x.csv", COLS, report)
    assert set(table.headers) == {"code", "traffic", "opened_on"}
    assert report.ignored_columns == ["Mystery"]


def test_row_numbers_are_excel_rows_and_blank_rows_are_skipped() -> None:
    rows = [
        ["", "", "", ""],
        ["编码", "客流量", "", ""],
        ["S1", "1", "", ""],
        ["", " ", "", ""],
        ["S2", "2", "", ""],
        ["", "", "", ""],
        ["", "", "", ""],
    ]
    for data, name in ((csv_bytes(rows), "x.csv"), (xlsx_bytes(rows), "x.xlsx")):
        report = ImportReport(kind="t")
        table = read_table(data, name, COLS, report)
        assert [(r.number, r.cells["code"]) for r in table.rows] == [(3, "S1"), (5, "S2")]
        assert report.rows_read == 2


def test_tab_and_semicolon_delimiters() -> None:
    for sep in ("\t", ";"):
        data = f"编码{sep}客流量\r\nS1{sep}7\r\n".encode()
        report = ImportReport(kind="t")
        table = read_table(data, "x.csv", COLS, report)
        assert table.rows[0].cells == {"code": "S1", "traffic": "7"}


def test_missing_required_and_duplicate_columns_are_errors_on_row_1() -> None:
    report = ImportReport(kind="t")
    read_table(csv_bytes([["客流量", "traffic"], ["1", "2"]]), "x.csv", COLS, report)
    got = sorted((e.row, e.rule) for e in report.errors)
    assert got == [(1, "duplicate_column"), (1, "missing_column")]


def test_unreadable_and_old_xls_files() -> None:
    report = ImportReport(kind="t")
    read_table(b"PK\x03\x04garbage", "x.xlsx", COLS, report)
    assert [e.rule for e in report.errors] == ["bad_file"]
    report = ImportReport(kind="t")
    read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "x.xls", COLS, report)
    assert "xlsx" in report.errors[0].message


def test_xlsx_numbers_stored_as_text_and_native_cells() -> None:
    rows = [
        ["编码", "客流量", "开业日期", "省内"],
        [1001, " 1,200 ", datetime(2020, 1, 2), True],
        ["1002", 12.0, "20240301", "1"],
    ]
    report = ImportReport(kind="t")
    table = read_table(xlsx_bytes(rows), "x.xlsx", COLS, report)
    a, b = (RowReader(r, table, report) for r in table.rows)
    assert (a.text("code"), a.integer("traffic"), a.day("opened_on"), a.boolean("in_province")) == (
        "1001",
        1200,
        date(2020, 1, 2),
        True,
    )
    assert (b.text("code"), b.integer("traffic"), b.day("opened_on"), b.boolean("in_province")) == (
        "1002",
        12,
        date(2024, 3, 1),
        True,
    )
    assert report.ok


def _reader(**cells: object) -> tuple[RowReader, ImportReport]:
    report = ImportReport(kind="t")
    table = Table(headers={k: k for k in cells})
    from sqm.ingest.tabular import Row

    return RowReader(Row(7, dict(cells)), table, report), report


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024/3/1", date(2024, 3, 1)),
        ("2024.03.01", date(2024, 3, 1)),
        ("2024年3月1日", date(2024, 3, 1)),
        ("20240301", date(2024, 3, 1)),
        (45352, date(2024, 3, 1)),
        ("2024-03-01 00:00:00", date(2024, 3, 1)),
    ],
)
def test_dates(raw: object, expected: date) -> None:
    r, report = _reader(d=raw)
    assert r.day("d") == expected and report.ok


@pytest.mark.parametrize("raw", ["2024-13-01", "2024-02-30", "yesterday", "03/01/2024"])
def test_bad_dates_are_reported(raw: str) -> None:
    r, report = _reader(d=raw)
    assert r.day("d") is None
    assert [(e.row, e.column, e.value, e.rule) for e in report.errors] == [
        (7, "d", raw, "not_a_date")
    ]


def test_numbers_ranges_and_percent() -> None:
    r, report = _reader(a="１２", b="30%", c="abc", d="-1", e="2.5", f="nan")
    assert r.number("a") == 12.0
    assert r.number("b", percent=True) == pytest.approx(0.3)
    assert r.number("c") is None
    assert r.integer("d") is None
    assert r.integer("e") is None
    assert r.number("f") is None
    assert [(e.column, e.rule) for e in report.errors] == [
        ("c", "not_a_number"),
        ("d", "out_of_range"),
        ("e", "not_an_integer"),
        ("f", "not_a_number"),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        ("YES", True),
        ("n", False),
        ("1", True),
        ("0", False),
        ("true", True),
        (False, False),
    ],
)
def test_booleans(raw: object, expected: bool) -> None:
    r, report = _reader(b=raw)
    assert r.boolean("b") is expected and report.ok


def test_periods() -> None:
    r, report = _reader(a="2026-1", b="2026q4", c=datetime(2026, 10, 1), d="2026-13")
    assert r.period("b") == "2026Q4"
    assert r.period("c") == "2026-10"
    assert r.period("d") is None and r.period("a") is None
    assert [e.rule for e in report.errors] == ["not_a_period", "not_a_period"]


def test_report_table_and_json() -> None:
    report = ImportReport(kind="org", rows_read=4)
    report.add(3, "类型", "shop", "unknown_value", "unknown unit kind")
    report.add(2, "纬度", 95, "out_of_range", "must lie in [-90, 90]")
    lines = report.format_table().splitlines()
    assert lines[0].split() == ["row", "column", "value", "rule", "message"]
    assert lines[2].split()[:4] == ["2", "纬度", "95", "out_of_range"]
    d = json.loads(report.to_json())
    assert d["ok"] is False and [e["row"] for e in d["errors"]] == [2, 3]
    assert report.summary() == "org: 4 rows read; 2 errors in 2 rows; nothing written"
    with pytest.raises(ValueError, match="rule"):
        report.add(1, "x", "", "no_such_rule", "")


def test_write_table_round_trips_floats_and_dates() -> None:
    cols = [Column("code", "编码"), Column("lat", "纬度"), Column("opened_on", "开业日期")]
    recs = [
        {"code": "0012", "lat": 30.631860172213614, "opened_on": date(2019, 5, 1)},
        {"code": "X", "lat": None, "opened_on": None},
    ]
    for fmt in ("csv", "xlsx"):
        for lang in ("zh", "en"):
            data = write_table(cols, recs, fmt=fmt, lang=lang)  # type: ignore[arg-type]
            report = ImportReport(kind="t")
            table = read_table(data, f"x.{fmt}", cols, report)
            assert list(table.headers.values()) == (
                [c.zh for c in cols] if lang == "zh" else [c.field for c in cols]
            )
            r = RowReader(table.rows[0], table, report)
            assert r.text("code") == "0012"
            assert r.number("lat") == pytest.approx(30.631860172213614, rel=1e-14)
            assert r.day("opened_on") == date(2019, 5, 1)
    assert write_table(cols, recs, fmt="csv", lang="zh").startswith(codecs.BOM_UTF8)


def test_title_row_above_the_header_is_skipped() -> None:
    rows = [
        ["门店清单（2026年10月）", "", "", ""],
        ["", "", "", ""],
        ["编码", "客流量", "开业日期", "省内"],
        ["S1", "5", "", ""],
    ]
    for data, name in ((csv_bytes(rows, "gbk"), "x.csv"), (xlsx_bytes(rows), "x.xlsx")):
        report = ImportReport(kind="t")
        table = read_table(data, name, COLS, report)
        assert report.ok and [(r.number, r.cells["code"]) for r in table.rows] == [(4, "S1")]
        assert report.ignored_columns == []


def test_the_sheet_with_the_header_is_read() -> None:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws0 = wb.active
    assert ws0 is not None
    ws0.title = "说明"
    ws0.append(["请在第二个工作表填写"])
    ws1 = wb.create_sheet("门店")
    ws1.append(["编码", "客流量"])
    ws1.append(["S9", 3])
    buf = io.BytesIO()
    wb.save(buf)
    report = ImportReport(kind="t")
    table = read_table(buf.getvalue(), "x.xlsx", COLS, report)
    assert report.ok and table.rows[0].cells == {"code": "S9", "traffic": 3}
