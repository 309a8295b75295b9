"""The survey part of ``sqm demo``: instruments, waves with quotas and realistic answers.

Three months of the store intercept survey (the last one still open and partly filled),
two SERVQUAL waves, the staff survey of the last SERVQUAL month (for gap 1), an ECSI wave
and an open NPS + CSAT wave, over the demo's 300 stores. Answers come from the latent
model of :mod:`sqm.services.surveys.demo_data`, so tiers, cities and months differ the way
an analyst would expect.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update

from sqm.domain.instrument_templates import ecsi, nps_csat, servqual, staff_survey, store_intercept
from sqm.domain.wave import WaveStatus
from sqm.services.demo_context import DemoContext
from sqm.services.surveys.demo_data import (
    META_COLUMNS,
    DemoStore,
    ecsi_answers,
    intercept_answers,
    nps_csat_answers,
    servqual_answers,
    staff_answers,
)
from sqm.services.surveys.fielding import (
    create_wave,
    instrument_of,
    store_geography,
    store_instrument,
)
from sqm.store.base import utcnow
from sqm.store.models import Period, SurveyInstrument, SurveyQuota, SurveyResponse, SurveyWave


def _demo_stores(ctx: DemoContext) -> list[DemoStore]:
    geo = store_geography(ctx.session)
    rng = ctx.rng("survey-cities")
    cities = sorted({geo[s.id]["city"] or "" for s in ctx.stores})
    effect = dict(zip(cities, rng.normal(0, 0.2, len(cities)), strict=True))
    return [
        DemoStore(
            unit=s.code,
            city=geo[s.id]["city"] or "",
            province=geo[s.id]["province"] or "",
            tier=str(s.tier or "first_level"),
            traffic=int(s.traffic or 1000),
            city_effect=float(effect[geo[s.id]["city"] or ""]),
        )
        for s in ctx.stores
    ]


def _load(
    ctx: DemoContext,
    wave: SurveyWave,
    inst_row: SurveyInstrument,
    answers: pd.DataFrame,
    fill: float = 1.0,
) -> int:
    """Insert generated answers as responses of ``wave`` and bring the quota counters up."""
    s = ctx.session
    inst = instrument_of(inst_row)
    fields = [f.name for f in inst.fields() if f.name in answers.columns]
    if fill < 1.0:
        answers = answers.sample(
            frac=fill, random_state=int(ctx.rng("survey-fill").integers(1 << 30))
        )
    unit_id = {u.code: u.id for u in ctx.stores}
    segments = {1: "ordinary", 2: "business"}
    now = utcnow()
    rows: list[dict[str, Any]] = []
    values = answers[fields].astype(object).where(answers[fields].notna(), None)
    for (_, meta), (_, given) in zip(
        answers[list(META_COLUMNS)].iterrows(), values.iterrows(), strict=True
    ):
        a = {
            k: (int(v) if isinstance(v, int | np.integer | float) and float(v).is_integer() else v)
            for k, v in given.items()
            if v is not None
        }
        rows.append(
            {
                "wave_id": wave.id,
                "unit_id": unit_id[meta["unit"]],
                "instrument_id": inst_row.id,
                "segment": segments.get(int(a["segment"])) if "segment" in a else None,
                "over_quota": False,
                "channel": "demo",
                "lang": "zh",
                "submitted_at": now,
                "answers": a,
            }
        )
    quotas = {
        q.unit_id: q for q in s.scalars(select(SurveyQuota).where(SurveyQuota.wave_id == wave.id))
    }
    taken: dict[int, int] = {}
    for r in rows:
        q = quotas[r["unit_id"]]
        n = taken.get(q.unit_id, 0)
        r["over_quota"] = n >= q.target
        taken[q.unit_id] = n + 1
    if rows:
        s.execute(insert(SurveyResponse), rows)
    for unit, n in taken.items():
        q = quotas[unit]
        s.execute(
            update(SurveyQuota)
            .where(SurveyQuota.id == q.id)
            .values(achieved=min(n, q.target), over_quota=max(n - q.target, 0))
        )
    return len(rows)


def build_demo_surveys(ctx: DemoContext) -> None:
    """Survey instruments, waves and answers for the demo (see the module docstring)."""
    s = ctx.session
    stores = _demo_stores(ctx)
    periods: list[Period] = ctx.periods[-3:]
    codes = [p.code for p in periods]
    shares = {"business": 0.3, "ordinary": 0.7}
    n_stores = len(ctx.stores)

    intercept_row = store_instrument(s, store_intercept())
    answers = intercept_answers(
        stores, codes, total=8 * n_stores, seed=int(ctx.rng("intercept").integers(1 << 30))
    )
    for k, p in enumerate(periods):
        running = k == len(periods) - 1
        wave = create_wave(
            s, code=f"{p.code}-intercept", name=f"门店拦截调查 {p.code}", period=p, instrument=intercept_row,
            stores=ctx.stores, total=8 * n_stores, status=WaveStatus.OPEN if running else WaveStatus.CLOSED,
        )  # fmt: skip
        _load(
            ctx,
            wave,
            intercept_row,
            answers[answers["period"] == p.code],
            fill=0.6 if running else 1.0,
        )

    servqual_row = store_instrument(s, servqual())
    sq = servqual_answers(
        stores, codes[-2:], total=6 * n_stores, seed=int(ctx.rng("servqual").integers(1 << 30))
    )
    staff_row = store_instrument(s, staff_survey())
    for k, p in enumerate(periods[-2:]):
        wave = create_wave(
            s, code=f"{p.code}-servqual", name=f"SERVQUAL {p.code}", period=p, instrument=servqual_row,
            stores=ctx.stores, total=6 * n_stores, segment_shares=shares, status=WaveStatus.CLOSED,
        )  # fmt: skip
        _load(ctx, wave, servqual_row, sq[sq["period"] == p.code])
        if k == 1:
            staff_wave = create_wave(
                s, code=f"{p.code}-staff", name=f"内部调查 {p.code}", period=p, instrument=staff_row,
                stores=ctx.stores, total=2 * n_stores, minimum=2, status=WaveStatus.CLOSED,
            )  # fmt: skip
            staff = staff_answers(
                stores, [p.code], per_store=2, seed=int(ctx.rng("staff").integers(1 << 30))
            )
            _load(ctx, staff_wave, staff_row, staff)

    last = periods[-1]
    ecsi_row = store_instrument(s, ecsi())
    wave = create_wave(
        s, code=f"{last.code}-ecsi", name=f"满意度指数 {last.code}", period=last, instrument=ecsi_row,
        stores=ctx.stores, total=5 * n_stores, status=WaveStatus.CLOSED,
    )  # fmt: skip
    _load(
        ctx,
        wave,
        ecsi_row,
        ecsi_answers(stores, [last.code], per_store=5, seed=int(ctx.rng("ecsi").integers(1 << 30))),
    )

    quick_row = store_instrument(s, nps_csat())
    wave = create_wave(
        s, code=f"{last.code}-quick", name=f"门店快评 {last.code}", period=last, instrument=quick_row,
        stores=ctx.stores, total=10 * n_stores, status=WaveStatus.OPEN,
    )  # fmt: skip
    _load(
        ctx,
        wave,
        quick_row,
        nps_csat_answers(
            stores, [last.code], per_store=10, seed=int(ctx.rng("quick").integers(1 << 30))
        ),
        fill=0.4,
    )
    s.flush()
    ctx.extra["survey_waves"] = [w.code for w in s.scalars(select(SurveyWave))]
