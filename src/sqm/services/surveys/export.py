"""Export raw survey answers to CSV, Excel and SPSS ``.sav`` with variable and value labels.

Analysts work in SPSS: the ``.sav`` file carries, for every column, the question text as
the variable label, the labelled scale ends / choice options as value labels and the
measurement level (ordinal ratings, nominal codes, scale points). CSV and Excel carry the
same columns; the Excel workbook adds a *variables* sheet with the labels.

Multiple-choice answers (lists of option codes) are spread into one 0/1 column per
option, ``<field>_<code>``, the usual SPSS layout ("multiple dichotomy set").
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from sqm.domain.errors import MissingError, RuleError
from sqm.domain.instrument import AnswerField, Instrument, QuestionType, Text
from sqm.lazy import lazy_import
from sqm.services.surveys.fielding import answers_frame, instrument_of
from sqm.store.models import SurveyWave

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyreadstat
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")
    pyreadstat = lazy_import("pyreadstat")

META_LABELS: dict[str, Text] = {
    "respondent_id": Text("受访者编号", "Respondent ID"),
    "wave": Text("调查批次", "Wave"),
    "period": Text("期间", "Period"),
    "unit": Text("门店", "Store"),
    "city": Text("城市", "City"),
    "province": Text("省份", "Province"),
    "tier": Text("门店等级", "Store tier"),
    "submitted_at": Text("提交时间", "Submitted at"),
    "over_quota": Text("超配额", "Over quota"),
    "weight": Text("权重", "Weight"),
    "instrument_version": Text("问卷版本", "Instrument version"),
}


@dataclass(frozen=True)
class Variable:
    """One exported column: name, label, value labels and SPSS measurement level."""

    name: str
    label: str
    value_labels: dict[int, str]
    measure: str  # "nominal" | "ordinal" | "scale"


def export_frame(
    answers: pd.DataFrame, inst: Instrument, lang: str = "zh"
) -> tuple[pd.DataFrame, list[Variable]]:
    """The flat export table and its variable dictionary.

    Columns: meta columns present in ``answers`` (respondent, period, store, …) in their
    order, then every instrument field in questionnaire order (multiple choice spread to
    0/1 columns). Instrument fields missing from ``answers`` are exported empty so every
    file of one instrument version has the same layout.
    """
    fields = inst.fields()
    field_names = {f.name for f in fields}
    out: dict[str, Any] = {}
    variables: list[Variable] = []
    n = len(answers)
    for col in answers.columns:
        if col in field_names:
            continue
        label = META_LABELS.get(str(col))
        out[str(col)] = answers[col].to_numpy()
        variables.append(
            Variable(
                str(col), label.get(lang) if label else str(col), {}, _meta_measure(answers[col])
            )
        )
    for f in fields:
        if f.qtype is QuestionType.MULTIPLE:
            q = inst.question(f.question)
            chosen = answers[f.name] if f.name in answers else pd.Series([None] * n)
            for opt in q.options:
                name = f"{f.name}_{opt.code}"
                out[name] = np.array(
                    [
                        np.nan if not isinstance(v, list | tuple) else float(opt.code in v)
                        for v in chosen
                    ]
                )
                variables.append(
                    Variable(
                        name,
                        f"{f.label.get(lang)}: {opt.label.get(lang)}",
                        {0: _no(lang), 1: _yes(lang)},
                        "nominal",
                    )
                )
            continue
        if f.name in answers:
            values = answers[f.name]
            out[f.name] = (
                values.astype(object).where(values.notna(), None).to_numpy()
                if f.qtype is QuestionType.TEXT
                else pd.to_numeric(values, errors="raise").astype(float).to_numpy()
            )
        else:
            out[f.name] = np.full(
                n,
                None if f.qtype is QuestionType.TEXT else np.nan,
                dtype=object if f.qtype is QuestionType.TEXT else float,
            )
        variables.append(
            Variable(
                f.name,
                f.label.get(lang),
                {code: text.get(lang) for code, text in f.value_labels},
                _field_measure(f),
            )
        )
    return pd.DataFrame(out, index=range(n)), variables


def _meta_measure(col: pd.Series) -> str:
    return (
        "scale"
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        else "nominal"
    )


def _field_measure(f: AnswerField) -> str:
    if f.qtype in (QuestionType.SINGLE, QuestionType.TEXT):
        return "nominal"
    if f.qtype is QuestionType.CONSTANT_SUM:
        return "scale"
    return "ordinal"


def _yes(lang: str) -> str:
    return "Chosen" if lang == "en" else "选中"


def _no(lang: str) -> str:
    return "Not chosen" if lang == "en" else "未选"


def to_csv(answers: pd.DataFrame, inst: Instrument, lang: str = "zh") -> bytes:
    """The answers as UTF-8 CSV with a byte-order mark (so Excel opens Chinese text right)."""
    table, _ = export_frame(answers, inst, lang)
    return table.to_csv(index=False).encode("utf-8-sig")


def to_excel(answers: pd.DataFrame, inst: Instrument, lang: str = "zh") -> bytes:
    """The answers as an .xlsx workbook: sheet *answers* and sheet *variables*
    (name, label, value labels, measure)."""
    table, variables = export_frame(answers, inst, lang)
    dictionary = pd.DataFrame(
        {
            "name": [v.name for v in variables],
            "label": [v.label for v in variables],
            "values": [
                "; ".join(f"{k} = {t}" for k, t in v.value_labels.items()) for v in variables
            ],
            "measure": [v.measure for v in variables],
        }
    )
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="answers", index=False)
        dictionary.to_excel(writer, sheet_name="variables", index=False)
    return buffer.getvalue()


def write_sav(answers: pd.DataFrame, inst: Instrument, path: str | Path, lang: str = "zh") -> None:
    """Write the answers as an SPSS ``.sav`` file with variable labels, value labels and
    measurement levels; the file label names the instrument and its version."""
    table, variables = export_frame(answers, inst, lang)
    for v in variables:
        if len(v.name.encode("utf-8")) > 64 or not v.name[0].isalpha():
            raise RuleError(
                f"column {v.name!r}: SPSS variable names start with a letter and have at most 64 bytes"
            )
    for col in table.columns:
        if table[col].dtype == object:
            # pyreadstat needs one type per column: text columns as str with "" for missing
            if all(isinstance(x, str) or x is None for x in table[col]):
                table[col] = table[col].fillna("").astype(str)
            else:
                table[col] = table[col].astype(str)
    pyreadstat.write_sav(
        table,
        str(path),
        file_label=f"{inst.code} v{inst.version} {inst.name.get(lang)}"[:64],
        column_labels={v.name: v.label for v in variables},
        variable_value_labels={
            v.name: {float(k): t for k, t in v.value_labels.items()}
            for v in variables
            if v.value_labels
        },
        variable_measure={v.name: v.measure for v in variables},
    )


def to_sav(answers: pd.DataFrame, inst: Instrument, lang: str = "zh") -> bytes:
    """The ``.sav`` file of :func:`write_sav` as bytes (for a download response)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answers.sav"
        write_sav(answers, inst, path, lang)
        return path.read_bytes()


MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
}
"""The export formats (file extension → media type of the download)."""


def wave_answers_file(
    session: Session, wave: SurveyWave, unit_ids: Sequence[int], fmt: str, lang: str = "zh"
) -> bytes:
    """The raw answers of ``wave`` from the stores ``unit_ids`` as a ``fmt`` file (``csv``,
    ``xlsx`` or ``sav``, see :data:`MEDIA_TYPES`), labelled in ``lang``.

    An unknown format raises :class:`MissingError` (the download does not exist).
    """
    writers = {"csv": to_csv, "xlsx": to_excel, "sav": to_sav}
    if fmt not in writers:
        raise MissingError("exports come as .csv, .xlsx or .sav")
    frame = answers_frame(session, [wave.id], unit_ids=unit_ids)
    return writers[fmt](frame, instrument_of(wave.instrument), lang)
