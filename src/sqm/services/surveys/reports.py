"""The analysis of one wave as a report: the tables and chart data the analyst pages, the
JSON API and the Excel export show, restricted to the stores a user may see.

What is in a report depends on the instrument: SERVQUAL waves get gaps by dimension and
store, reliability, IPA and the SQ trend over the instrument's waves; intercept waves get
item scores, derived importance, IPA, NPS; NPS/CSAT waves get NPS and CSAT; ECSI waves get
the satisfaction index. Every wave gets response counts and quota fill.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.domain.instrument import Facet, Instrument, QuestionType
from sqm.lazy import lazy_import
from sqm.services.surveys import analysis
from sqm.services.surveys.fielding import answers_frame, instrument_of, quota_rows
from sqm.store.models import OrgUnit, Period, SurveyInstrument, SurveyWave

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for k, v in row.items():
            if isinstance(v, float | np.floating):
                clean[str(k)] = None if math.isnan(float(v)) else round(float(v), 4)
            elif isinstance(v, np.integer):
                clean[str(k)] = int(v)
            elif isinstance(v, np.bool_):
                clean[str(k)] = bool(v)
            else:
                clean[str(k)] = v
        out.append(clean)
    return out


def wave_report(
    session: Session, wave: SurveyWave, unit_ids: Sequence[int] | None = None, *, n_boot: int = 100
) -> dict[str, Any]:
    """The report of one wave (JSON-ready): counts, quota fill and the instrument's analyses.

    ``unit_ids`` limits everything to those stores (a store manager's scope).
    """
    inst = instrument_of(wave.instrument)
    frame = answers_frame(session, [wave.id], unit_ids=unit_ids)
    quota = quota_rows(session, wave, unit_ids)
    report: dict[str, Any] = {
        "wave": {
            "id": wave.id,
            "code": wave.code,
            "period": wave.period.code,
            "status": wave.status,
        },
        "instrument": {
            "code": inst.code,
            "version": inst.version,
            "kind": inst.kind,
            "name_zh": inst.name.zh,
            "name_en": inst.name.en,
        },
        "responses": len(frame),
        "quota": _records(quota) if not quota.empty else [],
        "notes": [],
    }
    if len(frame) < 3:
        report["notes"].append(
            {"zh": "答卷太少，暂不分析。", "en": "Too few answers to analyse yet."}
        )
        return report
    report["counts"] = _records(analysis.response_counts(frame, ["unit", "segment_name"]))
    try:
        if inst.kind == "servqual":
            report.update(_servqual(session, wave, inst, frame, unit_ids))
        elif inst.kind == "intercept":
            report.update(_intercept(session, wave, inst, frame, unit_ids))
        elif inst.kind == "nps_csat":
            report.update(_nps_block(frame, "csat"))
        elif inst.kind == "ecsi":
            res = analysis.satisfaction_index(frame, inst, by="province", n_boot=n_boot)
            report["satisfaction_index"] = _records(res.index)
            report["ecsi_r2"] = {k: round(float(v), 4) for k, v in res.r2.items()}
        elif inst.kind == "staff":
            report["reliability"] = _records(
                analysis.reliability_by_dimension(frame, inst, Facet.EXPECTATION)
            )
            report.update(_gap1(session, wave, inst, frame, unit_ids))
    except RuleError as exc:
        report["notes"].append(
            {"zh": f"部分分析无法进行：{exc}", "en": f"Some analyses could not run: {exc}"}
        )
    return report


def _attempt(out: dict[str, Any], key: str, compute: Any) -> None:
    """Run one analysis; when its data do not allow it, say so in a note instead."""
    try:
        out[key] = compute()
    except RuleError as exc:
        out.setdefault("notes_extra", []).append(
            {"zh": f"“{key}”无法计算：{exc}", "en": f"{key} could not be computed: {exc}"}
        )


def _servqual(
    session: Session,
    wave: SurveyWave,
    inst: Instrument,
    frame: pd.DataFrame,
    unit_ids: Sequence[int] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _attempt(out, "gaps", lambda: _records(analysis.servqual_gaps(frame, inst)))
    _attempt(
        out,
        "gaps_by_store",
        lambda: _records(
            (g := analysis.servqual_gaps(frame, inst, by="unit"))[g["level"] != "item"]
        ),
    )
    if frame["segment_name"].notna().all():
        _attempt(
            out,
            "gaps_by_segment",
            lambda: _records(
                (g := analysis.servqual_gaps(frame, inst, by="segment_name"))[g["level"] != "item"]
            ),
        )
    _attempt(
        out,
        "reliability",
        lambda: _records(analysis.reliability_by_dimension(frame, inst, Facet.PERCEPTION)),
    )
    _attempt(
        out,
        "ipa",
        lambda: _records(analysis.ipa_servqual(frame, inst).reset_index(names="dimension")),
    )
    _attempt(out, "gaps_weighted", lambda: _weighted_gaps(session, frame, inst))
    out["trend"] = _trend(session, inst.code, unit_ids, lambda f, i: _sq_of(f, i))
    return out


def _weighted_gaps(session: Session, frame: pd.DataFrame, inst: Instrument) -> dict[str, Any]:
    """Dimension and SQ gaps weighted to the stores' customer numbers (post-stratification
    by store: a store's answers stand for its customers), with margins of error under the
    weights and the design effect they cost."""
    customers = dict(session.execute(select(OrgUnit.code, OrgUnit.customers)).all())
    population = {u: float(customers.get(u) or 0) for u in frame["unit"].unique()}
    if any(v <= 0 for v in population.values()):
        raise RuleError("some stores have no customer number to weight by")
    w = analysis.weight_answers(frame, cells=["unit"], population=population)
    gaps = analysis.servqual_gaps(frame, inst, weights=w.weights.to_numpy())
    return {
        "method": "post-stratification by store to customer numbers",
        "deff": round(w.deff, 4),
        "n_eff": round(w.n_eff, 1),
        "rows": _records(gaps[gaps["level"] != "item"]),
    }


def _sq_of(frame: pd.DataFrame, inst: Instrument) -> dict[str, float]:
    g = analysis.servqual_gaps(frame, inst)
    row = g[g["code"] == "SQ"].iloc[0]
    return {
        "value": float(row["gap"]),
        "lower": float(row["lower"]),
        "upper": float(row["upper"]),
        "n": int(row["n"]),
    }


def _intercept(
    session: Session,
    wave: SurveyWave,
    inst: Instrument,
    frame: pd.DataFrame,
    unit_ids: Sequence[int] | None,
) -> dict[str, Any]:
    items = [
        f.name for f in inst.fields() if f.qtype is QuestionType.LIKERT and f.dimension != "overall"
    ]
    fmap = inst.field_map()
    means = analysis.grouped_stats(
        frame[items].to_numpy(dtype=np.float64), analysis._groups(frame, [])
    )
    item_rows = [
        {
            "item": i,
            "name_zh": fmap[i].label.zh.split("：")[0],
            "name_en": fmap[i].label.en,
            "mean": float(means["mean"][0, j]),
            "lower": float(means["lower"][0, j]),
            "upper": float(means["upper"][0, j]),
            "score_100": 100 * (float(means["mean"][0, j]) - 1) / 4,
        }
        for j, i in enumerate(items)
    ]
    out: dict[str, Any] = {"items": _records(pd.DataFrame(item_rows))}
    if len(frame) >= 30:
        out["ipa"] = _records(analysis.ipa_items(frame, inst).reset_index(names="item"))
    out.update(_nps_block(frame, "overall"))
    out["trend"] = _trend(session, inst.code, unit_ids, lambda f, i: _nps_of(f))
    return out


def _nps_of(frame: pd.DataFrame) -> dict[str, float]:
    r = analysis.nps_by(frame).iloc[0]
    return {
        "value": float(r["nps"]),
        "lower": float(r["lower"]),
        "upper": float(r["upper"]),
        "n": int(r["n"]),
    }


def _nps_block(frame: pd.DataFrame, satisfaction: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "nps" in frame.columns and frame["nps"].notna().sum() >= 2:
        out["nps"] = _records(analysis.nps_by(frame))[0]
        by_store = analysis.nps_by(frame, "unit")
        out["nps_by_store"] = _records(by_store[["unit", "nps", "lower", "upper", "n"]])
    if satisfaction in frame.columns:
        st = analysis.grouped_stats(
            frame[[satisfaction]].to_numpy(dtype=np.float64), analysis._groups(frame, ["unit"])
        )
        keys = analysis._groups(frame, ["unit"]).keys
        out["satisfaction_by_store"] = [
            {"unit": u, "mean": round(float(st["mean"][k, 0]), 4), "n": int(st["n"][k, 0])}
            for k, u in enumerate(keys["unit"])
        ]
    return out


def _gap1(
    session: Session,
    wave: SurveyWave,
    inst: Instrument,
    frame: pd.DataFrame,
    unit_ids: Sequence[int] | None,
) -> dict[str, Any]:
    customer_wave = session.scalar(
        select(SurveyWave)
        .join(SurveyInstrument, SurveyInstrument.id == SurveyWave.instrument_id)
        .where(SurveyWave.period_id == wave.period_id, SurveyInstrument.kind == "servqual")
        .limit(1)
    )
    if customer_wave is None:
        return {}
    customers = answers_frame(session, [customer_wave.id], unit_ids=unit_ids)
    if len(customers) < 3:
        return {}
    return {
        "gap1": _records(analysis.gap1(frame, customers, instrument_of(customer_wave.instrument))),
        "gap1_wave": customer_wave.code,
    }


def _trend(
    session: Session, instrument_code: str, unit_ids: Sequence[int] | None, measure: Any
) -> list[dict[str, Any]]:
    waves = session.scalars(
        select(SurveyWave)
        .join(SurveyInstrument, SurveyInstrument.id == SurveyWave.instrument_id)
        .join(Period, Period.id == SurveyWave.period_id)
        .where(SurveyInstrument.code == instrument_code)
        .order_by(Period.start)
    ).all()
    out = []
    for w in waves:
        f = answers_frame(session, [w.id], unit_ids=unit_ids)
        if len(f) < 3:
            continue
        try:
            out.append(
                {"period": w.period.code, "wave": w.code, **measure(f, instrument_of(w.instrument))}
            )
        except RuleError:
            continue
    return out


def report_workbook(report: dict[str, Any]) -> bytes:
    """The report as an Excel workbook, one sheet per table."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        summary = pd.DataFrame(
            [
                {"key": "wave", "value": report["wave"]["code"]},
                {"key": "period", "value": report["wave"]["period"]},
                {
                    "key": "instrument",
                    "value": f"{report['instrument']['code']} v{report['instrument']['version']}",
                },
                {"key": "responses", "value": report["responses"]},
            ]
        )
        summary.to_excel(writer, sheet_name="summary", index=False)
        for key, value in report.items():
            if isinstance(value, list) and value and isinstance(value[0], dict) and key != "notes":
                pd.DataFrame(value).to_excel(writer, sheet_name=key[:31], index=False)
            elif isinstance(value, dict) and key in ("nps",):
                pd.DataFrame([value]).to_excel(writer, sheet_name=key, index=False)
    return buffer.getvalue()
