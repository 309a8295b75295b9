"""Reading and writing the tables users keep in Excel: CSV (UTF-8, UTF-8 with BOM, GBK /
GB18030 from Chinese Excel, UTF-16 "Unicode text") and xlsx, with Chinese or English
column headers, and cell parsing that records every bad cell in an
:class:`~sqm.ingest.errors.ImportReport` instead of stopping at the first.

A :class:`Column` names a field and its accepted headers; :func:`read_table` finds the
header row, maps headers to fields, skips empty rows and numbers rows as Excel does (the
header is row 1). :class:`RowReader` turns one row's cells into typed values — text,
numbers (also when Excel stored them as text, with thousands separators or full-width
digits), whole numbers, yes/no, dates, period codes and coded choices — and
:func:`write_table` writes records back as CSV (UTF-8 with BOM, so Excel shows Chinese) or
xlsx with the headers of either language.

>>> cols = [Column("code", "编码"), Column("traffic", "客流量")]
>>> report = ImportReport(kind="demo")
>>> table = read_table('编码,客流量\\nS1," 1,200 "\\n\\n'.encode("gbk"), "x.csv", cols, report)
>>> RowReader(table.rows[0], table, report).integer("traffic")
1200
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from sqm.domain.period import PeriodSpec
from sqm.ingest.errors import ImportReport

Lang = Literal["zh", "en"]
Fmt = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class Column:
    """A field of an import file: its name (also the English header), its Chinese header,
    other accepted headers, and whether the column must be present."""

    field: str
    zh: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def header(self, lang: Lang) -> str:
        """The header written on export in ``lang``."""
        return self.zh if lang == "zh" else self.field


def normalise_header(text: str) -> str:
    """Header text as compared: NFKC, lower case, no spaces, underscores, dashes or ``*``.

    >>> normalise_header(" Parent_Code* ")
    'parentcode'
    """
    t = unicodedata.normalize("NFKC", text).lstrip("\ufeff").strip().lower()
    return re.sub(r"[\s_\-*＊]+", "", t)


@dataclass(frozen=True)
class Row:
    """One data row: its Excel row number and its raw cells by field."""

    number: int
    cells: dict[str, object]


@dataclass
class Table:
    """The rows of a file and the header each field was read from (for messages)."""

    rows: list[Row] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        """Whether the file has a column for field ``name``."""
        return name in self.headers


def decode_text(data: bytes) -> str:
    """Decode CSV bytes: a BOM decides; else UTF-8; else GB18030 (a superset of GBK).

    >>> decode_text("门店".encode("gbk"))
    '门店'
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _csv_rows(data: bytes) -> list[list[object]]:
    text = decode_text(data)
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    # The header line decides the delimiter: comma (CSV), tab (Excel "Unicode text") or
    # semicolon (CSV from a European-locale Excel).
    delimiter = max(",\t;", key=header.count)
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _header_at(rows: list[list[object]], lookup: Mapping[str, str]) -> tuple[int | None, int]:
    """Index of the header row and how many of its cells name a field.

    The header is the row, among the first ten non-empty ones, naming the most fields;
    so a title row above it (a merged "门店清单" cell) is skipped. With no row naming any
    field, the first non-empty row is the header (and its columns are reported missing).
    """
    best: tuple[int | None, int] = (None, 0)
    seen = 0
    for i, r in enumerate(rows):
        if all(_blank(v) for v in r):
            continue
        if best[0] is None:
            best = (i, 0)
        score = sum(1 for v in r if not _blank(v) and normalise_header(cell_text(v)) in lookup)
        if score > best[1]:
            best = (i, score)
        seen += 1
        if seen >= 10:
            break
    return best


def _xlsx_rows(data: bytes, lookup: Mapping[str, str]) -> list[list[object]]:
    """The rows of the sheet whose header names the most fields (the first sheet on ties)."""
    from openpyxl import load_workbook  # here, not at start-up: it costs a third of a second

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        best_ws, best_score = wb.worksheets[0], -1
        for ws in wb.worksheets:
            top: list[list[object]] = [list(r) for r in ws.iter_rows(max_row=30, values_only=True)]
            score = _header_at(top, lookup)[1]
            if score > best_score:
                best_ws, best_score = ws, score
        return [list(r) for r in best_ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip(" \t\r\n\u00a0\u3000"))


def read_table(
    data: bytes, filename: str, columns: Sequence[Column], report: ImportReport
) -> Table:
    """Read a CSV or xlsx file into rows keyed by field; header problems go to ``report``.

    The header is the row naming the most fields among the first ten non-empty rows (a
    title row above it is skipped); in an xlsx workbook, the sheet whose header names the
    most fields is read (the first sheet on ties). Unknown headers are listed in
    ``report.ignored_columns``; a missing required column or two headers naming the same
    field are errors on row 1. Empty rows (trailing ones from Excel, blank lines) are
    skipped but still counted, so row numbers match what Excel shows.

    >>> rep = ImportReport(kind="demo")
    >>> t = read_table(b"code,colour\\n\\nS1,red\\n", "x.csv", [Column("code", "编码")], rep)
    >>> [(r.number, r.cells) for r in t.rows], rep.ignored_columns
    ([(3, {'code': 'S1'})], ['colour'])
    """
    name = filename.lower()
    lookup: dict[str, str] = {}
    for c in columns:
        for h in (c.field, c.zh, *c.aliases):
            lookup[normalise_header(h)] = c.field
    try:
        if data[:4] == b"PK\x03\x04" or name.endswith((".xlsx", ".xlsm")):
            raw = _xlsx_rows(data, lookup)
        elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            report.add(0, "", filename, "bad_file", "old .xls files are not read; save as .xlsx")
            return Table()
        else:
            raw = _csv_rows(data)
    except Exception as exc:  # a corrupt file can fail in many library-specific ways
        report.add(0, "", filename, "bad_file", f"cannot read {filename}: {exc}")
        return Table()
    table = Table()
    header_at = _header_at(raw, lookup)[0]
    if header_at is None:
        report.add(0, "", filename, "bad_file", "the file has no header row")
        return table
    header_row = header_at + 1
    positions: dict[int, str] = {}
    for pos, cell in enumerate(raw[header_at]):
        if _blank(cell):
            continue
        text = cell_text(cell)
        fld = lookup.get(normalise_header(text))
        if fld is None:
            report.ignored_columns.append(text)
        elif fld in table.headers:
            report.add(
                header_row,
                text,
                text,
                "duplicate_column",
                f"columns {table.headers[fld]!r} and {text!r} both give {fld}",
            )
        else:
            table.headers[fld] = text
            positions[pos] = fld
    for c in columns:
        if c.required and c.field not in table.headers:
            report.add(
                header_row,
                c.zh,
                "",
                "missing_column",
                f"column {c.zh} / {c.field} is required",
            )
    for i in range(header_at + 1, len(raw)):
        r = raw[i]
        if all(_blank(v) for v in r):
            continue
        cells = {fld: (r[pos] if pos < len(r) else None) for pos, fld in positions.items()}
        table.rows.append(Row(i + 1, cells))
    report.rows_read = len(table.rows)
    return table


def same_value(a: object, b: object) -> bool:
    """Whether a stored value and a value read from a file are the same.

    Floats count as equal within a relative 1e-12: spreadsheets keep 15–16 significant
    digits, so a coordinate written to xlsx reads back a few units in the last place off.

    >>> same_value(104.06830621153534, 104.0683062115353), same_value("store", "store")
    (True, True)
    """
    a, b = getattr(a, "value", a), getattr(b, "value", b)
    if isinstance(a, float) and isinstance(b, float) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    return bool(a == b)


def cell_text(value: object) -> str:
    """A cell as trimmed text: whole-number floats lose their ``.0``, dates are ISO.

    >>> cell_text(1001.0), cell_text(" 门店 "), cell_text(None)
    ('1001', '门店', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip(" \t\r\n\u00a0\u3000")


TRUE_WORDS = frozenset({"是", "yes", "y", "true", "t", "1", "√", "✓", "对"})
FALSE_WORDS = frozenset({"否", "no", "n", "false", "f", "0", "×", "✗", "不"})
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)


class RowReader:
    """Typed values from one row's cells; each bad cell is added to the report.

    A method returns ``None`` both for an empty cell and for a bad one (which is then in
    the report), so the caller can go on checking the rest of the row.

    >>> rep = ImportReport(kind="demo")
    >>> t = Table(headers={"lat": "纬度"})
    >>> RowReader(Row(5, {"lat": "95"}), t, rep).number("lat", lo=-90, hi=90) is None
    True
    >>> str(rep.errors[0])
    "row 5, column 纬度: must lie in [-90, 90] (found '95') [out_of_range]"
    """

    def __init__(self, row: Row, table: Table, report: ImportReport) -> None:
        self.row = row
        self.table = table
        self.report = report

    def has(self, name: str) -> bool:
        """Whether the file has the column ``name`` (absent columns leave values as they are)."""
        return self.table.has(name)

    def column(self, name: str) -> str:
        """The header of field ``name`` as written in the file."""
        return self.table.headers.get(name, name)

    def error(self, name: str, value: object, rule: str, message: str) -> None:
        """Report a bad cell of this row."""
        self.report.add(self.row.number, self.column(name), cell_text(value), rule, message)

    def missing(self, name: str) -> None:
        """Report an empty required cell (an absent column is reported once, on row 1)."""
        if self.has(name):
            self.error(name, "", "required", f"{self.column(name)} is required")

    def raw(self, name: str) -> object:
        """The cell as read (``None`` when the column is absent)."""
        return self.row.cells.get(name)

    def text(self, name: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        """Trimmed text, ``None`` when empty (and an error when ``required``)."""
        t = cell_text(self.raw(name))
        if not t:
            if required:
                self.missing(name)
            return None
        if max_len is not None and len(t) > max_len:
            self.error(name, t, "out_of_range", f"longer than {max_len} characters")
            return None
        return t

    def number(
        self,
        name: str,
        *,
        lo: float | None = None,
        hi: float | None = None,
        required: bool = False,
        percent: bool = False,
    ) -> float | None:
        """A number, also from text ("1,200", full-width "１２", with ``percent`` "30%").

        Outside ``[lo, hi]`` is an ``out_of_range`` error.
        """
        v = self.raw(name)
        if isinstance(v, bool):
            self.error(name, v, "not_a_number", "expected a number")
            return None
        if isinstance(v, int | float):
            x = float(v)
        else:
            t = unicodedata.normalize("NFKC", cell_text(v))
            if not t:
                if required:
                    self.missing(name)
                return None
            scale = 1.0
            if percent and t.endswith("%"):
                t, scale = t[:-1].strip(), 0.01
            if _THOUSANDS.match(t):
                t = t.replace(",", "")
            try:
                x = float(t) * scale
            except ValueError:
                self.error(name, v, "not_a_number", "expected a number")
                return None
        if x != x or x in (float("inf"), float("-inf")):
            self.error(name, v, "not_a_number", "expected a finite number")
            return None
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            rng = f"[{'' if lo is None else f'{lo:g}'}, {'' if hi is None else f'{hi:g}'}]"
            self.error(name, v, "out_of_range", f"must lie in {rng}")
            return None
        return x

    def integer(
        self, name: str, *, lo: int | None = 0, hi: int | None = None, required: bool = False
    ) -> int | None:
        """A whole number (``12``, ``12.0``, ``"1,200"``) within ``[lo, hi]``."""
        before = len(self.report.errors)
        x = self.number(name, lo=lo, hi=hi, required=required)
        if x is None or len(self.report.errors) > before:
            return None
        if not x.is_integer():
            self.error(name, self.raw(name), "not_an_integer", "expected a whole number")
            return None
        return int(x)

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        """Yes/no: 是/否, yes/no, y/n, true/false, 1/0, √/×."""
        v = self.raw(name)
        if isinstance(v, bool):
            return v
        t = cell_text(v).lower()
        if not t:
            if required:
                self.missing(name)
            return None
        if t in TRUE_WORDS:
            return True
        if t in FALSE_WORDS:
            return False
        self.error(name, v, "not_a_boolean", "expected 是/否, yes/no, true/false or 1/0")
        return None

    def day(self, name: str, *, required: bool = False) -> date | None:
        """A date: an Excel date cell, an Excel day number, or text such as 2024-03-01,
        2024/3/1, 2024.03.01, 20240301 or 2024年3月1日."""
        v = self.raw(name)
        if isinstance(v, datetime):
            return v.date()
        if isinstance(v, date):
            return v
        if isinstance(v, int | float) and not isinstance(v, bool) and 1 <= v < 2958466:
            if 19000101 <= v <= 99991231 and float(v).is_integer():
                v = str(int(v))  # 20240301 typed as a number
            else:
                return _EXCEL_EPOCH + timedelta(days=int(v))
        t = unicodedata.normalize("NFKC", cell_text(v))
        if not t:
            if required:
                self.missing(name)
            return None
        for pat in _DATE_PATTERNS:
            m = pat.match(t)
            if m:
                try:
                    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    break
        self.error(name, v, "not_a_date", "expected a date such as 2024-03-01")
        return None

    def period(self, name: str, *, required: bool = False) -> str | None:
        """A period code (month ``2026-10``, quarter ``2026Q4``, year ``2026``), canonical."""
        v = self.raw(name)
        if isinstance(v, datetime | date):
            return f"{v.year:04d}-{v.month:02d}"  # Excel turned "2026-10" into a date
        t = cell_text(v)
        if not t:
            if required:
                self.missing(name)
            return None
        try:
            return PeriodSpec.parse(unicodedata.normalize("NFKC", t)).code
        except ValueError:
            self.error(name, v, "not_a_period", "expected a period such as 2026-10, 2026Q4, 2026")
            return None

    def choice(
        self, name: str, accepted: Mapping[str, str], *, required: bool = False, what: str = ""
    ) -> str | None:
        """A coded value: ``accepted`` maps every accepted spelling (lower case) to its code."""
        v = self.raw(name)
        t = cell_text(v)
        if not t:
            if required:
                self.missing(name)
            return None
        code = accepted.get(unicodedata.normalize("NFKC", t).lower())
        if code is None:
            codes = sorted(set(accepted.values()))
            self.error(
                name,
                v,
                "unknown_value",
                f"unknown {what or name}; expected one of {', '.join(codes)}",
            )
        return code


def choices(pairs: Iterable[tuple[str, Sequence[str]]]) -> dict[str, str]:
    """An ``accepted`` map for :meth:`RowReader.choice`: each code with its other spellings.

    >>> choices([("urban", ["城区"])])["城区"]
    'urban'
    """
    out: dict[str, str] = {}
    for code, spellings in pairs:
        for s in (code, *spellings):
            out[unicodedata.normalize("NFKC", s).strip().lower()] = code
    return out


def write_table(
    columns: Sequence[Column],
    records: Iterable[Mapping[str, object]],
    *,
    fmt: Fmt,
    lang: Lang,
    sheet: str = "data",
) -> bytes:
    """Records as a CSV (UTF-8 with BOM) or xlsx file with headers in ``lang``.

    Floats are written with the shortest text that reads back to the same number, so an
    export imports back unchanged.

    >>> data = write_table([Column("code", "编码")], [{"code": "S1"}], fmt="csv", lang="zh")
    >>> data.decode("utf-8-sig").splitlines()
    ['编码', 'S1']
    """
    header = [c.header(lang) for c in columns]
    if fmt == "csv":
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(header)
        for rec in records:
            w.writerow([_csv_cell(rec.get(c.field)) for c in columns])
        return codecs.BOM_UTF8 + buf.getvalue().encode("utf-8")
    if fmt != "xlsx":
        raise ValueError(f"fmt must be 'csv' or 'xlsx', not {fmt!r}")
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    # Write-only mode streams rows: a 10,000-unit org tree writes in about a second.
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.freeze_panes = "A2"
    for idx, c in enumerate(columns, start=1):
        width = max(10, min(40, 2 * len(c.header(lang)) + 4))
        ws.column_dimensions[get_column_letter(idx)].width = width
    bold = Font(bold=True)
    head_cells = []
    for h in header:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        head_cells.append(cell)
    ws.append(head_cells)
    for rec in records:
        values: list[object] = []
        for c in columns:
            v = rec.get(c.field)
            if isinstance(v, date):
                when = v if isinstance(v, datetime) else datetime(v.year, v.month, v.day)
                cell = WriteOnlyCell(ws, value=when)
                cell.number_format = "yyyy-mm-dd"
                values.append(cell)
            else:
                values.append(v)
        ws.append(values)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csv_cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value: object) -> object:
    """A cell value Excel will not run as a formula: text starting with ``= + - @`` (or a
    tab or carriage return) gets a leading apostrophe; numbers and other values pass.

    >>> excel_safe("=HYPERLINK(1)"), excel_safe("门店"), excel_safe(-3.5)
    ("'=HYPERLINK(1)", '门店', -3.5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as a CSV file for Excel (UTF-8 with BOM), every cell :func:`excel_safe`.

    >>> csv_bytes(["a"], [["=1"], [2]]).decode("utf-8-sig").splitlines()
    ['a', "'=1", '2']
    """
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([excel_safe(h) for h in header])
    for row in rows:
        w.writerow(["" if v is None else excel_safe(v) for v in row])
    return codecs.BOM_UTF8 + buf.getvalue().encode("utf-8")
