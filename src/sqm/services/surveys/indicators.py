"""Survey measures for the indicator system, per store and period (source ``survey_item``).

References produced (see :mod:`sqm.domain.plan_indicators`):

- ``servqual.sq`` — the store's SERVQUAL gap SQ (mean over respondents of the mean
  dimension gap P − E), on the −6…6 scale;
- ``intercept.<item>`` — each of the 13 intercept items on 0–100,
  ``100·(x̄ − 1)/(points − 1)``;
- ``intercept.overall`` — overall satisfaction on 0–100;
- ``intercept.nps`` — Net Promoter Score (−100…100).

Every value carries ``n`` (answers behind it) and ``se`` (its standard error in the value's
own unit), so scorecards can tell a store with six answers from one with six hundred.
Over-quota answers are included: they are real customers of the store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.instrument_templates import INTERCEPT_ITEMS as SURVEY_ITEMS
from sqm.domain.plan_indicators import INTERCEPT_ITEMS as PLAN_ITEMS
from sqm.services.surveys import analysis
from sqm.services.surveys.fielding import answers_frame, instrument_of
from sqm.store.models import OrgUnit, Period, SurveyInstrument, SurveyWave

COLUMNS = ["unit_id", "source_ref", "value", "n", "se"]

#: intercept question code → the indicator system's item code (same order as the plan).
ITEM_REFS: dict[str, str] = {
    q[0]: plan[0] for q, plan in zip(SURVEY_ITEMS, PLAN_ITEMS, strict=True)
}


def _waves(session: Session, period: Period, kind: str) -> list[SurveyWave]:
    return list(
        session.scalars(
            select(SurveyWave)
            .join(SurveyInstrument, SurveyInstrument.id == SurveyWave.instrument_id)
            .where(SurveyWave.period_id == period.id, SurveyInstrument.kind == kind)
        )
    )


def _unit_ids(session: Session) -> dict[str, int]:
    return {code: uid for code, uid in session.execute(select(OrgUnit.code, OrgUnit.id))}


def survey_values(session: Session, period: Period) -> pd.DataFrame:
    """The survey leaves of the indicator system for every store answered in ``period``.

    >>> # survey_values(session, period)[["unit_id", "source_ref", "value", "n", "se"]]
    """
    parts: list[pd.DataFrame] = []
    ids = _unit_ids(session)
    for wave in _waves(session, period, "servqual"):
        frame = answers_frame(session, [wave.id])
        if len(frame) < 2:
            continue
        gaps = analysis.servqual_gaps(frame, instrument_of(wave.instrument), by="unit")
        sq = gaps[gaps["code"] == "SQ"]
        parts.append(
            pd.DataFrame(
                {
                    "unit_id": sq["unit"].map(ids).to_numpy(),
                    "source_ref": "servqual.sq",
                    "value": sq["gap"].to_numpy(),
                    "n": sq["n"].to_numpy(),
                    "se": sq["se"].to_numpy(),
                }
            )
        )
    for wave in _waves(session, period, "intercept"):
        frame = answers_frame(session, [wave.id])
        if len(frame) < 2:
            continue
        inst = instrument_of(wave.instrument)
        fmap = inst.field_map()
        cols = [c for c in [*ITEM_REFS, "overall"] if c in frame.columns]
        groups = analysis._groups(frame, ["unit"])
        st = analysis.grouped_stats(frame[cols].to_numpy(dtype=np.float64), groups)
        units = groups.keys["unit"].map(ids).to_numpy()
        for j, col in enumerate(cols):
            points = float(fmap[col].maximum or 5)
            scale = 100.0 / (points - 1)
            parts.append(
                pd.DataFrame(
                    {
                        "unit_id": units,
                        "source_ref": f"intercept.{ITEM_REFS.get(col, col)}",
                        "value": (st["mean"][:, j] - 1) * scale,
                        "n": st["n"][:, j],
                        "se": st["se"][:, j] * scale,
                    }
                )
            )
        if "nps" in frame.columns:
            nps = analysis.nps_by(frame, "unit")
            if not nps.empty:
                parts.append(
                    pd.DataFrame(
                        {
                            "unit_id": nps["unit"].map(ids).to_numpy(),
                            "source_ref": "intercept.nps",
                            "value": nps["nps"].to_numpy(),
                            "n": nps["n"].to_numpy(),
                            "se": nps["se"].to_numpy(),
                        }
                    )
                )
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out[out["unit_id"].notna()].reset_index(drop=True)[COLUMNS]
