"""Complaint importers: the bulk template (all-or-nothing, row-level errors) and the Comcast set.

Expected figures for the full Comcast file come from its README in the shared data folder
(2,224 rows, one broken row, 609 ambiguous dates, 170 short zip codes, statuses Solved 973 /
Closed 734 / Open 363 / Pending 154, channels 1,119 calls / 1,105 internet, Q2 2015 after
the month-day fix with 0 inversions in ticket order).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd

from sqm.ingest.complaints import load_comcast, read_complaint_table

from .conftest import DATA


def test_comcast_excerpt_loads_with_every_quirk_handled() -> None:
    r = load_comcast(DATA / "comcast_excerpt.csv")
    assert r.rows_read == 41 and len(r.complaints) == 40
    assert [(e.row, e.column, e.value) for e in r.errors] == [(37, "Ticket #", "comcas")]
    assert "line break" in r.errors[0].rule
    df = r.complaints.set_index("ticket")
    # 04-08-15 is 8 April (month-day), not 4 August
    assert df.loc[223441, "received_at"] == pd.Timestamp("2015-04-08 10:22:56")
    assert bool(df.loc[223441, "date_fixed"])
    # 22-04-15 cannot be month-day; kept as 22 April
    assert df.loc[250635, "received_at"] == pd.Timestamp("2015-04-22 15:53:50")
    assert not bool(df.loc[250635, "date_fixed"])
    assert df.loc[260651, "zip_code"] == "02134"
    assert df.loc[374291, "text"] == "comcastcomcas"  # odd but valid title is kept
    assert r.facts["dates_fixed"] == 13 and r.facts["zip_codes_padded"] == 1
    notes = {(n.row, n.column) for n in r.notes}
    assert (3, "Date") in notes and (29, "Zip code") in notes
    assert set(df["channel"]) == {"hotline", "web"}
    assert (
        df.loc[361148, "status"] == "in_progress" and df.loc[361148, "source_status"] == "Pending"
    )


def test_comcast_full_file(comcast_full: Path) -> None:
    r = load_comcast(comcast_full)
    assert r.rows_read == 2224 and len(r.complaints) == 2223
    assert [(e.row, e.column) for e in r.errors] == [(1036, "Ticket #")]
    assert r.facts["dates_fixed"] == 609
    assert r.facts["zip_codes_padded"] == 170
    assert r.facts["first_date"] == date(2015, 4, 1) and r.facts["last_date"] == date(2015, 6, 30)
    assert r.facts["inversions"] == 0
    # the broken row was a Closed customer-care call
    assert r.complaints["source_status"].value_counts().to_dict() == {
        "Solved": 973,
        "Closed": 733,
        "Open": 363,
        "Pending": 154,
    }
    assert r.complaints["source_channel"].value_counts().to_dict() == {
        "Customer Care Call": 1118,
        "Internet": 1105,
    }
    assert r.complaints["unit"].nunique() == 42
    assert r.complaints["zip_code"].str.len().eq(5).all()


def test_comcast_without_fix_flags_ambiguous_dates(comcast_full: Path) -> None:
    r = load_comcast(comcast_full, fix_dates=False)
    assert int(r.complaints["date_ambiguous"].sum()) == 609
    assert not r.complaints["date_fixed"].any()
    assert r.facts["inversions"] > 1000  # face-value dates contradict the ticket order


TEMPLATE_OK = """source_id,channel,received_at,customer_ref,unit,category,subcategory,text,status,first_response_at,resolved_at,satisfaction,contacts
H-1,hotline,2026-03-02 09:15,13800000001,S001,network,network.slow_data,上网很慢,resolved,2026-03-02 10:00,2026-03-03 11:00,4,1
H-2,工信部,2026-03-02T09:15:00+00:00,13800000002,S002,,billing.overcharge,乱扣费,,,,,
"""


def test_template_reads_valid_rows_with_aliases_and_time_zones() -> None:
    r = read_complaint_table(io.StringIO(TEMPLATE_OK))
    assert r.ok, [str(e) for e in r.errors]
    df = r.complaints.set_index("source_id")
    assert df.loc["H-1", "received_at"] == pd.Timestamp("2026-03-02 01:15", tz="UTC")  # Shanghai +8
    assert df.loc["H-2", "received_at"] == pd.Timestamp("2026-03-02 09:15", tz="UTC")
    assert (
        df.loc["H-2", "channel"] == "regulator" and df.loc["H-2", "complaint_class"] == "regulator"
    )
    assert df.loc["H-2", "category"] == "billing"  # taken from the sub-category
    assert df.loc["H-2", "status"] == "new"


def test_template_bad_rows_reject_everything_and_name_row_column_rule() -> None:
    bad = TEMPLATE_OK + (
        "H-1,app,2026-03-04 10:00,,,,,dup,,,,,\n"
        "H-4,web,yesterday,,,billing,network.slow_data,x,done,,,9,0\n"
        "H-5,web,2026-03-04 10:00,,,,,x,,,2026-03-01 10:00,,\n"
    )
    r = read_complaint_table(io.StringIO(bad))
    assert not r.ok and r.complaints.empty
    got = {(e.row, e.column) for e in r.errors}
    assert got == {
        (4, "source_id"),
        (5, "received_at"),
        (5, "subcategory"),
        (5, "status"),
        (5, "satisfaction"),
        (5, "contacts"),
        (6, "resolved_at"),
    }
    msg = {(e.row, e.column): str(e) for e in r.errors}
    assert "does not belong to the category" in msg[(5, "subcategory")]
    assert "before received_at" in msg[(6, "resolved_at")]


def test_template_missing_and_unknown_headers() -> None:
    r = read_complaint_table(io.StringIO("source_id,when\nA,2026-01-01\n"))
    assert {(e.row, e.column) for e in r.errors} == {
        (1, "when"),
        (1, "channel"),
        (1, "received_at"),
    }


def test_template_from_excel_with_chinese_headers(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["投诉编号", "渠道", "受理时间", "投诉小类", "投诉内容"])
    ws.append(["X-1", "营业厅", "2026-05-06 14:00", "service.rude_staff", "营业员态度很差"])
    ws.append(["X-2", "微博", "2026-05-06 15:00", "privacy.spam", "天天收到骚扰短信"])
    path = tmp_path / "complaints.xlsx"
    wb.save(path)
    r = read_complaint_table(path)
    assert r.ok, [str(e) for e in r.errors]
    assert r.complaints["channel"].tolist() == ["store_counter", "social_media"]
    assert r.complaints["category"].tolist() == ["service", "privacy"]
