"""Evaluating a period: normalisation, composite up the plan's tree with the tier profile,
veto, error propagation, ranks and roll-ups — checked against hand arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine, select

from sqm.services.evaluation.evaluate import LeafSpec, evaluate_period, leaf_scores
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import AuditEntry, IndicatorValue, OrgUnit, Period, UnitScore

SECTIONS = [
    "service_awareness",
    "staff_quality",
    "process_quality",
    "environment",
    "service_result",
    "proactive_marketing",
    "promotion_consistency",
    "retention",
]
# Flagship core stores, mature stage (plan_indicators._PROFILES): section weights inside INSP.
W = {
    "service_awareness": 0.15,
    "staff_quality": 0.10,
    "process_quality": 0.25,
    "environment": 0.10,
    "service_result": 0.20,
    "proactive_marketing": 0.05,
    "promotion_consistency": 0.10,
    "retention": 0.05,
}


def test_leaf_normalisation_by_target_and_warning() -> None:
    # Target 90 → 100, warning 75 → 60, linear; beyond the target capped at 100; down to 0 at the scale floor.
    spec = LeafSpec("x", None, None, None, True, 0.0, 100.0, 90.0, 75.0, False)
    assert leaf_scores(np.array([90.0, 82.5, 75.0, 100.0, 0.0]), spec).tolist() == [
        100.0,
        80.0,
        60.0,
        100.0,
        0.0,
    ]
    # A lower-is-better leaf (complaints per 10k: target 5, warning 15, scale up to 50).
    cost = LeafSpec("c", None, None, None, False, 0.0, 50.0, 5.0, 15.0, False)
    assert leaf_scores(np.array([5.0, 10.0, 15.0, 50.0]), cost).tolist() == [100.0, 80.0, 60.0, 0.0]
    scale_only = LeafSpec("s", None, None, None, False, 0.0, 4.0, None, None, False)
    assert leaf_scores(np.array([1.0]), scale_only).tolist() == [75.0]


def _put(
    engine: Engine,
    store: OrgUnit,
    period: Period,
    values: dict[str, float],
    se: dict[str, float] | None = None,
) -> None:
    with transaction(make_sessionmaker(engine)) as s:
        for sec in SECTIONS:
            s.add(
                IndicatorValue(
                    unit_id=store.id,
                    period_id=period.id,
                    source="inspection_item",
                    source_ref=f"section:{sec}",
                    value=values.get(sec, 90.0),
                    se=(se or {}).get(sec),
                )
            )
        s.add(
            IndicatorValue(
                unit_id=store.id,
                period_id=period.id,
                source="inspection_item",
                source_ref="veto:basic_norms",
                value=values.get("norms", 1.0),
            )
        )


def test_composite_veto_error_and_rollup(demo_engine: Engine) -> None:
    f = make_sessionmaker(demo_engine)
    with f() as s:
        a, b = s.scalars(
            select(OrgUnit).where(OrgUnit.tier == "flagship_core").order_by(OrgUnit.id).limit(2)
        ).all()
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        assert period is not None
    _put(
        demo_engine,
        a,
        period,
        {"environment": 75.0, "process_quality": 82.5},
        se={"process_quality": 2.0},
    )
    _put(demo_engine, b, period, {"environment": 75.0, "process_quality": 82.5, "norms": 0.0})
    with transaction(f) as s:
        summary = evaluate_period(s, "2026-11")
    assert summary.scored == 2
    with f() as s:
        sa = s.scalar(
            select(UnitScore).where(UnitScore.unit_id == a.id, UnitScore.period_id == period.id)
        )
        sb = s.scalar(
            select(UnitScore).where(UnitScore.unit_id == b.id, UnitScore.period_id == period.id)
        )
        assert sa is not None and sb is not None
        # By hand: sections score 100 except environment 60 and process quality 80.
        expected = sum(W[k] * 100 for k in W) - W["environment"] * 40 - W["process_quality"] * 20
        assert sa.score == pytest.approx(expected) == pytest.approx(91.0)
        assert sa.grade == "A" and sa.profile_code == "WP.flagship_core.mature"
        assert sa.coverage == pytest.approx(0.35)  # only the INSP dimension (weight 0.35) observed
        # Veto: the service-awareness indicator is zeroed, its weight 0.15 × 100 is lost.
        assert sb.score == pytest.approx(91.0 - 15.0) and sb.grade == "C"
        assert sb.vetoed == ["INSP.service_awareness"]
        # Error: se 2 on process quality, slope 40/15 per point, weight 0.25 → 1.333.
        assert sa.se == pytest.approx(0.25 * 2.0 * 40 / 15, rel=1e-3)
        assert sa.lower == pytest.approx(91.0 - 1.96 * sa.se, rel=1e-3)
        assert (sa.rank, sb.rank, sa.peers) == (1, 2, 2)
        # The city roll-up is the traffic-weighted mean of its scored stores.
        city = s.scalar(
            select(UnitScore)
            .join(OrgUnit)
            .where(OrgUnit.code == "ZY", UnitScore.period_id == period.id)
        )
        assert city is not None
        w = np.array([a.traffic, b.traffic], dtype=float)
        assert city.score == pytest.approx(float(w @ [91.0, 76.0] / w.sum()))
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "evaluate")) is not None
    # Re-running changes nothing.
    with transaction(f) as s:
        again = evaluate_period(s, "2026-11")
    assert again.changed == 0


def test_unknown_period_is_refused(demo_engine: Engine) -> None:
    from sqm.services.evaluation.evaluate import EvaluationError

    with pytest.raises(EvaluationError, match="no period"), make_sessionmaker(demo_engine)() as s:
        evaluate_period(s, "2031-01")


def test_ranking_and_scorecard_pages(demo_engine: Engine, client_as) -> None:  # type: ignore[no-untyped-def]
    f = make_sessionmaker(demo_engine)
    with f() as s:
        a = s.scalar(
            select(OrgUnit).where(OrgUnit.tier == "flagship_core").order_by(OrgUnit.id).limit(1)
        )
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        assert a is not None and period is not None
    _put(demo_engine, a, period, {"environment": 75.0, "process_quality": 82.5})
    with transaction(f) as s:
        evaluate_period(s, "2026-11")
    c = client_as("analyst")
    page = c.get("/scores?period=2026-11&tier=flagship_core").text
    assert a.name_zh in page and "91.0" in page
    card = c.get(f"/scores/units/{a.id}").text
    assert "91.0" in card and "暗访检查" in card
    # The store's own manager sees only their store's card; others 404.
    m = client_as("store.manager")
    assert m.get(f"/scores/units/{a.id}").status_code in (200, 404)
    assert client_as("area.gz").get("/scores").status_code == 200


def test_ranking_scorecard_and_overview_read_models(demo_engine: Engine) -> None:
    from sqm.services.evaluation.scorecard import (
        quality_overview,
        scored_periods,
        store_ranking,
        unit_scorecard,
    )
    from sqm.services.scope import load_principal
    from sqm.store.models import User

    f = make_sessionmaker(demo_engine)
    with f() as s:
        a = s.scalar(
            select(OrgUnit).where(OrgUnit.tier == "flagship_core").order_by(OrgUnit.id).limit(1)
        )
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        assert a is not None and period is not None
    _put(demo_engine, a, period, {"environment": 75.0, "process_quality": 82.5})
    with transaction(f) as s:
        evaluate_period(s, "2026-11")
    with f() as s:

        def principal(name: str):  # type: ignore[no-untyped-def]
            p = load_principal(s, s.scalar(select(User.id).where(User.username == name)))
            assert p is not None
            return p

        analyst, gz = principal("analyst"), principal("area.gz")
        periods = scored_periods(s)
        assert periods[0] == "2026-11" and periods == sorted(periods, reverse=True)
        r = store_ranking(s, analyst, "2031-01", "flagship_core")  # unknown: the newest
        assert r.period == "2026-11" and all(x.peer_group == "flagship_core" for x in r.rows)
        mine = next(x for x in r.rows if x.unit_id == a.id)
        assert mine.score == pytest.approx(91.0)
        scores = [x.score for x in r.rows if x.score is not None]
        assert scores == sorted(scores, reverse=True)
        assert sum(r.grades.values()) == sum(1 for x in r.rows if x.grade)
        local = store_ranking(s, gz, None)
        assert local.rows and all(gz.sees(x.unit) for x in local.rows)
        unit = s.get(OrgUnit, a.id)
        assert unit is not None
        card = unit_scorecard(s, analyst, unit, "zh")
        assert card.latest is not None and card.latest.score == pytest.approx(91.0)
        # Dimensions (no dot) then indicators, in the system's order, named in the locale.
        assert "INSP" in [c for c, _, _ in card.dims] and "暗访检查" in [n for _, n, _ in card.dims]
        assert all("." not in c for c, _, _ in card.dims)
        assert card.indicators and all("." in c for c, _, _ in card.indicators)
        assert card.history[-1] is card.latest
        assert card.children == []
        company = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZY"))
        assert company is not None
        top = unit_scorecard(s, analyst, company, "en")
        assert top.children and all(c.unit.parent_id == company.id for c in top.children)
        o = quality_overview(s, analyst)
        assert o.top is not None and o.top.code == "ZY"
        assert o.latest is not None and o.latest.period.code == "2026-11"
        assert o.below and all(b.unit.parent_id == company.id for b in o.below)
        assert quality_overview(s, gz).top.code == "GD-GZ"  # type: ignore[union-attr]
