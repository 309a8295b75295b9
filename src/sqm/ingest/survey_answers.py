"""Import survey answers exported from questionnaire platforms (问卷星, 腾讯问卷, SurveyMonkey,
Qualtrics …): one row per respondent, question text or code as column headers.

A :class:`ColumnMapping` says which source column feeds which instrument field (or meta
column such as the store), and how text answers ("非常满意", "Agree", "A┋C") become codes.
A mapping is saved as JSON and reused for the next export of the same platform form;
:func:`suggest_mapping` drafts one by matching headers to question codes and texts.

:func:`import_answers` is all or nothing: every row is checked (store known, values
mapped, the instrument's rules — required, ranges, constant sums, conditions) and if any
row is bad an :class:`AnswerImportError` lists every problem by spreadsheet row and
column, and no answers are returned for writing.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqm.domain.errors import RuleError
from sqm.domain.instrument import Instrument, QuestionType, Text, validate_answers
from sqm.lazy import lazy_import

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")

META_TARGETS: tuple[str, ...] = ("respondent_id", "unit", "period", "submitted_at", "wave")

# Header names the common platforms use for their own columns.
KNOWN_META_HEADERS: dict[str, str] = {
    "序号": "respondent_id",
    "编号": "respondent_id",
    "答卷编号": "respondent_id",
    "respondent id": "respondent_id",
    "respondentid": "respondent_id",
    "responseid": "respondent_id",
    "response id": "respondent_id",
    "提交答卷时间": "submitted_at",
    "提交时间": "submitted_at",
    "end date": "submitted_at",
    "enddate": "submitted_at",
    "门店": "unit",
    "门店编码": "unit",
    "门店代码": "unit",
    "store": "unit",
    "store code": "unit",
    "unit": "unit",
    "期间": "period",
    "period": "period",
}

MULTI_SEPARATORS = "┋|;；,，"


class AnswerImportError(RuleError):
    """An import refused because some rows are bad; ``errors`` lists every problem."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        head = "; ".join(e.message.en for e in errors[:3])
        super().__init__(f"{len(errors)} problem(s) in the file, nothing imported: {head}")


@dataclass(frozen=True)
class RowError:
    """One problem: spreadsheet row (the header is row 1), source column, target field."""

    row: int
    column: str
    field: str
    message: Text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict for the error report."""
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "zh": self.message.zh,
            "en": self.message.en,
        }


@dataclass
class ColumnMapping:
    """Source column → target field, plus text-to-code maps per target field.

    ``skip_rows`` drops rows right under the header (Qualtrics writes two extra header rows,
    SurveyMonkey one). Unmapped source columns are ignored.
    """

    instrument_code: str
    columns: dict[str, str]
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    skip_rows: int = 0
    platform: str = "custom"

    def to_json(self) -> str:
        """JSON text of the mapping (to save and reuse)."""
        return json.dumps(
            {
                "instrument_code": self.instrument_code,
                "platform": self.platform,
                "skip_rows": self.skip_rows,
                "columns": self.columns,
                "values": self.values,
            },
            ensure_ascii=False,
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> ColumnMapping:
        """Read a mapping saved with :meth:`to_json`."""
        data = json.loads(text)
        return cls(
            instrument_code=str(data["instrument_code"]),
            columns={str(k): str(v) for k, v in data["columns"].items()},
            values={
                str(k): {str(a): int(b) for a, b in v.items()}
                for k, v in data.get("values", {}).items()
            },
            skip_rows=int(data.get("skip_rows", 0)),
            platform=str(data.get("platform", "custom")),
        )

    def save(self, path: str | Path) -> None:
        """Write the mapping as JSON to ``path``."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping from a JSON file."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ImportedAnswers:
    """A fully valid import: the answers (meta columns + fields) and their source rows."""

    answers: pd.DataFrame
    source_rows: list[int]


def _norm(text: str) -> str:
    """Normalise a header or answer for matching: width, case, numbering, punctuation."""
    t = unicodedata.normalize("NFKC", str(text)).strip().lower()
    # strip leading question numbers such as "1、", "Q3.", "3.", "第3题"
    t = re.sub(r"^(第?\s*\d+\s*题?\s*[、.．:：)）]?|q\d+[.:：)]?)\s*", "", t)
    t = re.sub(r"[\s\"'“”‘’?？!！。.,，:：;；()（）\[\]【】*]", "", t)
    return t


def _code_key(text: str) -> str:
    """A header compared as a code: width-normalised, trimmed, case-insensitive."""
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


def read_table(data: bytes, filename: str) -> pd.DataFrame:
    """Read a platform export (CSV in UTF-8 or GB18030, .xlsx, or an SPSS .sav file) as
    text cells.

    Everything is read as text so that "05" or "1,2" keep their form until mapped; the
    numbers of a .sav file are written without a trailing ".0" when whole, its missing
    values as empty cells.
    """
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
    if filename.lower().endswith(".sav"):
        return _read_sav(data)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    raise AnswerImportError(
        [
            RowError(
                0,
                "",
                "",
                Text(
                    "文件编码无法识别（请用 UTF-8 或 GBK）",
                    "Unknown file encoding (use UTF-8 or GBK)",
                ),
            )
        ]
    )


def _sav_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _read_sav(data: bytes) -> pd.DataFrame:
    import tempfile

    import pyreadstat

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answers.sav"
        path.write_bytes(data)
        try:
            frame, _ = pyreadstat.read_sav(str(path))
        except pyreadstat.ReadstatError as exc:
            raise AnswerImportError(
                [
                    RowError(
                        0,
                        "",
                        "",
                        Text(f"无法读取 SPSS 文件：{exc}", f"Not a readable SPSS file: {exc}"),
                    )
                ]
            ) from exc
    return pd.DataFrame({str(c): [_sav_text(v) for v in frame[c]] for c in frame.columns})


def dichotomy_columns(inst: Instrument) -> dict[str, tuple[str, int]]:
    """The 0/1 columns ``<field>_<code>`` of every multiple-choice field (one per option,
    the layout SQM's exports use) → (field, option code).

    >>> from sqm.domain.instrument_templates import nps_csat
    >>> dichotomy_columns(nps_csat())
    {}
    """
    out: dict[str, tuple[str, int]] = {}
    for f in inst.fields():
        if f.qtype is QuestionType.MULTIPLE:
            for opt in inst.question(f.question).options:
                out[f"{f.name}_{opt.code}"] = (f.name, opt.code)
    return out


def suggest_mapping(
    headers: Collection[str], inst: Instrument, platform: str = "custom"
) -> ColumnMapping:
    """Draft a mapping: a header matches a field when it is the field's code or a meta
    column's name (as SQM's own exports write them, multiple choice as one 0/1 column
    ``<field>_<code>`` per option), or, after normalisation, the field's Chinese or
    English label, its question's text, or the platform's own meta header.

    Value maps get every labelled scale end and option in both languages.

    >>> from sqm.domain.instrument_templates import nps_csat
    >>> m = suggest_mapping(["序号", "门店", "1、您对本次服务满意吗？", "nps"], nps_csat())
    >>> m.columns["1、您对本次服务满意吗？"], m.columns["序号"]
    ('csat', 'respondent_id')
    """
    by_code: dict[str, str] = {_code_key(t): t for t in META_TARGETS}
    by_code |= {_code_key(name): name for name in dichotomy_columns(inst)}
    by_code |= {_code_key(f.name): f.name for f in inst.fields()}
    by_text: dict[str, str] = {}
    for f in inst.fields():
        for key in (f.name, f.label.zh, f.label.en):
            by_text.setdefault(_norm(key), f.name)
        q = inst.question(f.question)
        if q.qtype not in (QuestionType.PAIRED, QuestionType.CONSTANT_SUM):
            by_text.setdefault(_norm(q.text.zh), f.name)
            by_text.setdefault(_norm(q.text.en), f.name)
    # A code such as "Q01" normalises to nothing (its numbering is stripped): an empty
    # key matches no header, or every numbered header would map to the same field.
    by_text.pop("", None)
    columns: dict[str, str] = {}
    for h in headers:
        key = _norm(h)
        target = (
            by_code.get(_code_key(h))
            or KNOWN_META_HEADERS.get(str(h).strip().lower())
            or KNOWN_META_HEADERS.get(key)
            or (by_text.get(key) if key else None)
        )
        if target is not None and target not in columns.values():
            columns[str(h)] = target
    values: dict[str, dict[str, int]] = {}
    for f in inst.fields():
        labels: dict[str, int] = {}
        for code, text in f.value_labels:
            labels[text.zh] = code
            labels[text.en] = code
        if labels:
            values[f.name] = labels
    return ColumnMapping(inst.code, columns, values, platform=platform)


def _dichotomy(raw: Any) -> bool | None:
    """A 0/1 cell of a multiple-dichotomy set: True (chosen), False (not chosen) or None
    (empty: the question was not answered); ValueError for anything else."""
    text = str(raw).strip()
    if text == "":
        return None
    number = float(text)  # ValueError for text
    if number not in (0, 1):
        raise ValueError(text)
    return number == 1


def _cell_value(
    raw: str, target: str, qtype: QuestionType | None, vmap: Mapping[str, int]
) -> tuple[Any, bool]:
    """Convert one cell; returns (value, ok)."""
    text = str(raw).strip()
    if text == "" or text in ("(跳过)", "(空)", "-3", "N/A"):
        # 问卷星 writes "(跳过)" and -3 for skipped questions
        return None, True
    if qtype is None or qtype is QuestionType.TEXT:
        return text, True
    normal = {_norm(k): v for k, v in vmap.items()}
    if qtype is QuestionType.MULTIPLE:
        parts = [p for p in re.split(f"[{MULTI_SEPARATORS}]", text) if p.strip()]
        out = []
        for p in parts:
            value, ok = _cell_value(p, target, QuestionType.SINGLE, vmap)
            if not ok:
                return p, False
            out.append(value)
        return out, True
    if text in vmap:
        return vmap[text], True
    if _norm(text) in normal:
        return normal[_norm(text)], True
    try:
        number = float(text)
    except ValueError:
        return text, False
    return (int(number) if number == int(number) else number), True


def import_answers(
    table: pd.DataFrame,
    inst: Instrument,
    mapping: ColumnMapping,
    *,
    known_units: Collection[str] | None = None,
    require_unit: bool = True,
) -> ImportedAnswers:
    """Check every row of a platform export and return the answers, or raise
    :class:`AnswerImportError` listing every bad row (nothing is returned to write).

    Checks: mapped columns exist; the store column is present (``require_unit``) and names a
    known store; respondent ids are unique; every text answer maps to a code; the answers
    obey the instrument (:func:`sqm.domain.instrument.validate_answers`).
    """
    errors: list[RowError] = []
    if mapping.instrument_code != inst.code:
        raise AnswerImportError(
            [
                RowError(
                    0,
                    "",
                    "",
                    Text(
                        f"映射属于问卷 {mapping.instrument_code}，不是 {inst.code}",
                        f"The mapping is for instrument {mapping.instrument_code!r}, not {inst.code!r}",
                    ),
                )
            ]
        )
    fmap = inst.field_map()
    missing = [c for c in mapping.columns if c not in table.columns]
    for c in missing:
        errors.append(
            RowError(
                1,
                c,
                mapping.columns[c],
                Text(f"文件中没有列“{c}”", f"The file has no column {c!r}"),
            )
        )
    dichotomies = dichotomy_columns(inst)
    bad_targets = [
        t
        for t in mapping.columns.values()
        if t not in fmap and t not in META_TARGETS and t not in dichotomies
    ]
    for t in bad_targets:
        errors.append(
            RowError(
                1,
                "",
                t,
                Text(
                    f"映射目标“{t}”不是问卷字段",
                    f"Mapping target {t!r} is not a field of the instrument",
                ),
            )
        )
    if require_unit and "unit" not in mapping.columns.values():
        errors.append(
            RowError(1, "", "unit", Text("没有映射门店列", "No column is mapped to the store"))
        )
    if errors:
        raise AnswerImportError(errors)

    body = table.iloc[mapping.skip_rows :]
    first_row = 2 + mapping.skip_rows
    source_of = {t: s for s, t in mapping.columns.items()}
    units = set(known_units) if known_units is not None else None
    records: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for offset, (_, src) in enumerate(body.iterrows()):
        row_no = first_row + offset
        record: dict[str, Any] = {}
        answers: dict[str, Any] = {}
        unreadable: set[str] = set()
        chosen: dict[str, dict[int, bool]] = {}  # multiple choice from 0/1 columns
        for source, target in mapping.columns.items():
            raw = src[source]
            if target in dichotomies:
                name, code = dichotomies[target]
                try:
                    flag = _dichotomy(raw)
                except ValueError:
                    unreadable.add(name)
                    errors.append(
                        RowError(
                            row_no,
                            source,
                            name,
                            Text(
                                f"“{raw}”不是 0 或 1（是否选中选项 {code}）",
                                f"{raw!r} is not 0 or 1 (option {code} chosen or not)",
                            ),
                        )
                    )
                    continue
                if flag is not None:
                    chosen.setdefault(name, {})[code] = flag
                continue
            f = fmap.get(target)
            value, ok = _cell_value(
                raw, target, f.qtype if f else None, mapping.values.get(target, {})
            )
            if not ok:
                unreadable.add(target)
                errors.append(
                    RowError(
                        row_no,
                        source,
                        target,
                        Text(
                            f"无法识别的答案“{value}”",
                            f"Answer {value!r} is not a recognised value",
                        ),
                    )
                )
                continue
            if f is None:
                record[target] = value
            elif value is not None:
                answers[target] = value
        for name, flags in chosen.items():
            if name not in unreadable:  # the options' order, as the question lists them
                answers[name] = [c for n, c in dichotomies.values() if n == name and flags.get(c)]
        unit = record.get("unit")
        if require_unit and (unit is None or unit == ""):
            errors.append(
                RowError(
                    row_no,
                    source_of.get("unit", ""),
                    "unit",
                    Text("缺少门店", "The store is missing"),
                )
            )
        elif units is not None and unit is not None and unit not in units:
            errors.append(
                RowError(
                    row_no,
                    source_of.get("unit", ""),
                    "unit",
                    Text(f"未知门店“{unit}”", f"Unknown store {unit!r}"),
                )
            )
        rid = record.get("respondent_id")
        if rid is not None:
            if str(rid) in seen_ids:
                errors.append(
                    RowError(
                        row_no,
                        source_of["respondent_id"],
                        "respondent_id",
                        Text(
                            f"编号与第 {seen_ids[str(rid)]} 行重复",
                            f"Same respondent ID as row {seen_ids[str(rid)]}",
                        ),
                    )
                )
            seen_ids[str(rid)] = row_no
        for e in validate_answers(inst, answers):
            if e.field in unreadable:
                continue  # already reported as an unreadable value
            errors.append(
                RowError(
                    row_no,
                    source_of.get(e.field, source_of.get(_question_of(inst, e.field), "")),
                    e.field,
                    e.message,
                )
            )
        records.append({**record, **answers})
    if errors:
        raise AnswerImportError(errors)
    frame = pd.DataFrame.from_records(records)
    return ImportedAnswers(frame, list(range(first_row, first_row + len(records))))


def _question_of(inst: Instrument, name: str) -> str:
    # constant-sum errors name the question; point at its first part's column
    try:
        q = inst.question(name)
    except KeyError:
        return name
    fields = q.fields(inst.dimension_map())
    return fields[0].name if fields else name
