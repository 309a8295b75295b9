"""Importing platform exports and exporting answers to CSV, Excel and SPSS."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from sqlalchemy import Engine

from sqm.domain.instrument import Dimension, Group, Instrument, Option, Question, QuestionType, Text
from sqm.domain.instrument_templates import nps_csat, servqual
from sqm.ingest.survey_answers import (
    AnswerImportError,
    ColumnMapping,
    import_answers,
    read_table,
    suggest_mapping,
)
from sqm.services.surveys.demo_data import demo_stores, servqual_answers
from sqm.services.surveys.export import export_frame, to_csv, to_excel, to_sav, write_sav
from sqm.store.engine import make_sessionmaker
from sqm.store.models import SurveyWave

DATA = Path(__file__).parent / "data"


def _wjx(name: str) -> pd.DataFrame:
    return read_table((DATA / name).read_bytes(), name)


def test_wenjuanxing_export_imports_through_a_suggested_mapping(tmp_path: Path) -> None:
    table = _wjx("wjx_nps_csat.csv")
    mapping = suggest_mapping(table.columns, nps_csat(), platform="wjx")
    assert mapping.columns == {
        "序号": "respondent_id",
        "提交答卷时间": "submitted_at",
        "门店": "unit",
        "1、您有多大可能向亲友推荐本门店？": "nps",
        "2、您对本次服务满意吗？": "csat",
        "3、请告诉我们哪里做得不好": "reason",
        "4、您是以下哪类客户？": "segment",
    }
    # the mapping is saved and reused
    mapping.save(tmp_path / "wjx.json")
    again = ColumnMapping.load(tmp_path / "wjx.json")
    assert again == mapping
    result = import_answers(table, nps_csat(), again, known_units={"S001", "S002"})
    got = result.answers
    assert got["nps"].tolist() == [9, 4, 10]
    assert got["csat"].tolist() == [5, 2, 5]  # "非常满意" → 5 from the labelled scale end
    assert got["segment"].tolist() == [1, 2, 1]
    assert got["unit"].tolist() == ["S001", "S001", "S002"]
    assert got["reason"].isna().tolist() == [True, False, True]
    assert result.source_rows == [2, 3, 4]


def test_gbk_encoded_export_reads_the_same() -> None:
    assert _wjx("wjx_nps_csat_gbk.csv").equals(_wjx("wjx_nps_csat.csv"))


def test_bad_file_gets_a_row_by_row_report_and_nothing_imported() -> None:
    table = _wjx("wjx_nps_csat_bad.csv")
    mapping = suggest_mapping(table.columns, nps_csat())
    with pytest.raises(AnswerImportError) as info:
        import_answers(table, nps_csat(), mapping, known_units={"S001", "S002"})
    problems = {(e.row, e.field) for e in info.value.errors}
    assert problems == {
        (3, "unit"),  # S999 unknown
        (4, "nps"),  # 11 out of range
        (4, "csat"),  # "还行" not a value
        (5, "respondent_id"),  # 序号 3 twice
        (5, "reason"),  # answered though NPS 10 skips it
        (5, "segment"),  # required
    }
    by_row = {(e.row, e.field): e for e in info.value.errors}
    assert by_row[(4, "csat")].column == "2、您对本次服务满意吗？"
    assert "还行" in by_row[(4, "csat")].message.zh
    assert by_row[(3, "unit")].to_dict()["en"] == "Unknown store 'S999'"


def test_missing_columns_and_wrong_instrument_are_refused() -> None:
    table = _wjx("wjx_nps_csat.csv")
    mapping = suggest_mapping(table.columns, nps_csat())
    mapping.columns["不存在"] = "csat"
    with pytest.raises(AnswerImportError, match="no column"):
        import_answers(table, nps_csat(), mapping)
    with pytest.raises(AnswerImportError, match="mapping is for"):
        import_answers(table, servqual(), suggest_mapping(table.columns, nps_csat()))


def test_qualtrics_style_xlsx_with_extra_header_rows_and_multiple_choice() -> None:
    q = Question(
        "chan",
        QuestionType.MULTIPLE,
        Text("您通过哪些渠道了解我们", "How did you hear of us"),
        "d",
        options=(
            Option(1, Text("门店", "Store")),
            Option(2, Text("网站", "Website")),
            Option(3, Text("朋友", "Friends")),
        ),
    )
    rating = Question(
        "r1",
        QuestionType.LIKERT,
        Text("总体评价", "Overall rating"),
        "d",
        low=Text("差", "Poor"),
        high=Text("好", "Good"),
    )
    inst = Instrument(
        "m",
        Text("m", "m"),
        (Dimension("d", Text("d", "d")),),
        (Group("g", Text("g", "g"), (q, rating)),),
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["ResponseId", "Store", "chan", "r1"])
    ws.append(["Response ID", "Store", "How did you hear of us", "Overall rating"])
    ws.append(['{"ImportId":"_recordId"}', "", '{"ImportId":"QID1"}', '{"ImportId":"QID2"}'])
    ws.append(["R_1", "S001", "Store,Friends", "Good"])
    ws.append(["R_2", "S002", "Website", "3"])
    buf = io.BytesIO()
    wb.save(buf)
    table = read_table(buf.getvalue(), "qualtrics.xlsx")
    mapping = suggest_mapping(table.columns, inst, platform="qualtrics")
    mapping.skip_rows = 2
    mapping.values["chan"] = {"Store": 1, "Website": 2, "Friends": 3}
    got = import_answers(table, inst, mapping).answers
    assert got["chan"].tolist() == [[1, 3], [2]]
    assert got["r1"].tolist() == [5, 3]
    assert got["respondent_id"].tolist() == ["R_1", "R_2"]
    # exported as a multiple-dichotomy set
    flat, variables = export_frame(got, inst, "en")
    assert flat[["chan_1", "chan_2", "chan_3"]].to_numpy().tolist() == [[1, 0, 1], [0, 1, 0]]
    assert {v.name: v.label for v in variables}["chan_2"] == "How did you hear of us: Website"


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    frame = servqual_answers(demo_stores(3), ["2026-10"], per_store=4, seed=5)
    frame.loc[0, "T1_p"] = np.nan  # a missing answer stays missing in every format
    return frame


def test_sav_round_trip_keeps_values_and_labels(answers: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "servqual.sav"
    write_sav(answers, servqual(), path, lang="zh")
    df, meta = pyreadstat.read_sav(str(path))
    assert len(df) == len(answers)
    assert np.isnan(df.loc[0, "T1_p"])
    np.testing.assert_array_equal(df["R3_e"].to_numpy(), answers["R3_e"].to_numpy())
    assert df["unit"].tolist() == answers["unit"].tolist()
    labels = meta.column_names_to_labels
    assert labels["T1_e"] == "营业厅有现代化的设备（自助终端、体验机、叫号机）（期望）"
    assert labels["imp_reliability"] == "请把 100 分分配给以下五个方面，越重要分越多：可靠性"
    assert labels["unit"] == "门店"
    assert meta.variable_value_labels["T1_p"] == {1.0: "非常不同意", 7.0: "非常同意"}
    assert meta.variable_value_labels["segment"] == {
        1.0: "普通客户（个人/家庭）",
        2.0: "政企客户（单位业务）",
    }
    assert meta.variable_measure["T1_p"] == "ordinal"
    assert meta.variable_measure["segment"] == "nominal"
    assert meta.file_label.startswith("servqual v1")


def test_sav_bytes_in_english(answers: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "en.sav"
    path.write_bytes(to_sav(answers, servqual(), lang="en"))
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    assert meta.column_names_to_labels["S2_p"] == "The staff give prompt service (perception)"


def test_csv_and_excel(answers: pd.DataFrame) -> None:
    csv = to_csv(answers, servqual())
    assert csv.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert back["E5_e"].tolist() == answers["E5_e"].tolist()
    wb = openpyxl.load_workbook(io.BytesIO(to_excel(answers, servqual(), lang="en")))
    assert wb.sheetnames == ["answers", "variables"]
    rows = list(wb["variables"].iter_rows(values_only=True))
    assert rows[0] == ("name", "label", "values", "measure")
    t1e = next(r for r in rows if r[0] == "T1_e")
    assert t1e[2] == "1 = Strongly disagree; 7 = Strongly agree"


# ------------------------------------------------------------------ round trips

WRITERS = {"csv": to_csv, "xlsx": to_excel, "sav": to_sav}


def _multiple_choice_instrument() -> Instrument:
    chan = Question(
        "chan",
        QuestionType.MULTIPLE,
        Text("您通过哪些渠道了解我们", "How did you hear of us"),
        "d",
        options=(
            Option(1, Text("门店", "Store")),
            Option(2, Text("网站", "Website")),
            Option(3, Text("朋友", "Friends")),
        ),
        required=False,
    )
    rating = Question(
        "Q1",
        QuestionType.LIKERT,
        Text("总体评价", "Overall rating"),
        "d",
        low=Text("差", "Poor"),
        high=Text("好", "Good"),
    )
    note = Question("note", QuestionType.TEXT, Text("备注", "Note"), "d", required=False)
    return Instrument(
        "mc",
        Text("mc", "mc"),
        (Dimension("d", Text("d", "d")),),
        (Group("g", Text("g", "g"), (chan, rating, note)),),
    )


def _round_trip_cases() -> dict[str, tuple[Instrument, pd.DataFrame]]:
    from sqm.domain.instrument_templates import store_intercept
    from sqm.services.surveys.demo_data import intercept_answers

    stores = demo_stores(3)
    sq = servqual_answers(stores, ["2026-10"], per_store=4, seed=5)
    ic = intercept_answers(stores, ["2026-10"], per_store=4, seed=5)
    ic.loc[1, "improve"] = "排队太久, 希望多开一个窗口"
    mc = pd.DataFrame(
        {
            "respondent_id": [11, 12, 13, 14],
            "unit": ["S001", "S001", "S002", "S003"],
            "chan": [[1, 3], [2], None, []],
            "Q1": [5, 3, 4, 1],
            "note": [None, "好", None, "a,b;c"],
        }
    )
    return {
        "intercept": (store_intercept(), ic),
        "servqual": (servqual(), sq),
        "multiple": (_multiple_choice_instrument(), mc),
    }


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("case", ["intercept", "servqual", "multiple"])
def test_every_export_imports_back_unchanged(case: str, fmt: str) -> None:
    """Issue 18: a file with Q01…Q13 headers mapped every column to Q01. Each format SQM
    writes (CSV, Excel, SPSS) comes back through the suggested mapping with every answer,
    store and respondent unchanged — multiple choice from its 0/1 columns included."""
    inst, original = _round_trip_cases()[case]
    data = WRITERS[fmt](original, inst)
    table = read_table(data, f"answers.{fmt}")
    mapping = suggest_mapping(table.columns, inst)
    for f in inst.fields():
        if f.qtype is not QuestionType.MULTIPLE:
            assert mapping.columns.get(f.name) == f.name, f.name
    back = import_answers(table, inst, mapping, known_units={"S001", "S002", "S003"}).answers
    assert len(back) == len(original)
    assert back["unit"].tolist() == original["unit"].tolist()
    assert (
        back["respondent_id"].astype(str).tolist() == original["respondent_id"].astype(str).tolist()
    )
    for f in inst.fields():
        want = original[f.name].tolist() if f.name in original else [None] * len(original)
        got = back[f.name].tolist() if f.name in back else [None] * len(back)
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            if _missing(w):
                assert _missing(g), (f.name, i, g)
            elif isinstance(w, list):
                assert g == w, (f.name, i)
            elif f.qtype is QuestionType.TEXT:
                assert g == w, (f.name, i)
            else:
                assert float(g) == float(w), (f.name, i, g, w)


def test_numbered_codes_are_not_stripped_to_one_field() -> None:
    """Headers Q01…Q13 each map to their own item (their numbering made them all Q01)."""
    from sqm.domain.instrument_templates import store_intercept

    headers = ["respondent_id", "unit"] + [f"Q{i:02d}" for i in range(1, 14)] + ["nps"]
    mapping = suggest_mapping(headers, store_intercept())
    assert mapping.columns == {h: h for h in headers}
    # question numbers in front of a question's text are still ignored
    header = f"3、{store_intercept().question('Q03').text.zh}"
    assert suggest_mapping([header], store_intercept()).columns == {header: "Q03"}


def test_dichotomy_cells_other_than_0_1_are_reported() -> None:
    inst = _multiple_choice_instrument()
    table = pd.DataFrame(
        {"unit": ["S001"], "chan_1": ["1"], "chan_2": ["2"], "chan_3": ["0"], "Q1": ["4"]}
    )
    with pytest.raises(AnswerImportError) as info:
        import_answers(table, inst, suggest_mapping(table.columns, inst))
    [e] = info.value.errors
    assert (e.row, e.column, e.field) == (2, "chan_2", "chan")


@pytest.mark.slow
def test_a_waves_export_imports_into_another_wave_unchanged(any_engine: Engine) -> None:
    """The round trip through storage (SQLite and PostgreSQL): the answers file of one
    wave, in each format, imported into another wave gives the same answers per store."""
    from sqm.domain.instrument_templates import store_intercept
    from sqm.services.surveys import fielding
    from sqm.services.surveys.demo_data import intercept_answers
    from sqm.services.surveys.export import wave_answers_file

    from .test_services_fielding import _org, _period

    factory = make_sessionmaker(any_engine)
    with factory() as s:
        stores = _org(s)
        period = _period(s)
        inst_row = fielding.store_instrument(s, store_intercept())
        waves = {
            code: fielding.create_wave(
                s, code=code, period=period, instrument=inst_row, stores=stores, total=30
            ).id
            for code in ("SRC", *WRITERS)
        }
        s.commit()
        unit_ids = [u.id for u in stores]
        codes = [u.code for u in stores]
    given = intercept_answers(demo_stores(3), ["2026-10"], per_store=3, seed=3)
    given["unit"] = given["unit"].map(dict(zip(sorted(set(given["unit"])), codes, strict=True)))
    given.loc[2, "improve"] = "希望周末多开一个窗口"
    assert fielding.import_into_wave(factory, waves["SRC"], given) == len(given)

    fields = [f.name for f in store_intercept().fields()]

    def stored(wave_id: int) -> list[tuple[object, ...]]:
        with factory() as s:
            frame = fielding.answers_frame(s, [wave_id])
        return sorted(
            (str(r["unit"]), *("" if _missing(r.get(f)) else str(r.get(f)) for f in fields))
            for r in frame.to_dict("records")
        )

    source = stored(waves["SRC"])
    assert len(source) == len(given)
    for fmt in WRITERS:
        with factory() as s:
            src = s.get_one(SurveyWave, waves["SRC"])
            data = wave_answers_file(s, src, unit_ids, fmt)
            target = s.get_one(SurveyWave, waves[fmt])
            result = fielding.import_file(s, factory, target, unit_ids, data, f"answers.{fmt}")
        assert result.errors == [] and result.done == len(given), (fmt, result.errors[:3])
        assert stored(waves[fmt]) == source, fmt
