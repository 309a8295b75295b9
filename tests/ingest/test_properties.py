"""Properties of the file layer (hypothesis): whatever text, numbers and dates are written
by :func:`write_table` read back the same through :func:`read_table` and :class:`RowReader`,
in CSV and xlsx, with either language's headers."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqm.ingest.errors import ImportReport
from sqm.ingest.tabular import Column, RowReader, read_table, same_value, write_table

COLS = [Column("code", "编码"), Column("name_zh", "名称"), Column("x", "数值"), Column("d", "日期")]

# Text as users type it: letters, digits, CJK, punctuation and inner spaces (no control
# characters, which xlsx cannot hold; no surrounding spaces, which the reader trims).
TEXT = (
    st.text(
        alphabet=st.characters(categories=["L", "N", "P", "Zs"], exclude_characters="\u00a0\u3000"),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)
NUM = st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e12, max_value=1e12)
RECORD = st.fixed_dictionaries(
    {
        "code": TEXT,
        "name_zh": TEXT,
        "x": st.none() | NUM,
        "d": st.none() | st.dates(date(1900, 3, 1), date(2100, 1, 1)),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(RECORD, min_size=1, max_size=5),
    fmt=st.sampled_from(["csv", "xlsx"]),
    lang=st.sampled_from(["zh", "en"]),
)
def test_written_tables_read_back_the_same(
    records: list[dict[str, object]], fmt: str, lang: str
) -> None:
    data = write_table(COLS, records, fmt=fmt, lang=lang)  # type: ignore[arg-type]
    report = ImportReport(kind="p")
    table = read_table(data, f"p.{fmt}", COLS, report)
    assert report.ok and len(table.rows) == len(records)
    for rec, row in zip(records, table.rows, strict=True):
        r = RowReader(row, table, report)
        assert r.text("code") == rec["code"]
        assert r.text("name_zh") == rec["name_zh"]
        x = r.number("x")
        assert (x is None) == (rec["x"] is None)
        if x is not None:
            assert same_value(float(rec["x"]), x)  # type: ignore[arg-type]
        assert r.day("d") == rec["d"]
    assert report.ok
