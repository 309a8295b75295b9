"""Survey analysis service, checked against independent references (scipy, pingouin,
factor_analyzer, R plspm outputs kept by the methods tests, hand-worked examples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo
from scipy import stats

from sqm.domain.instrument import Dimension, Group, Instrument, Question, QuestionType, Text
from sqm.domain.instrument_templates import ecsi, servqual, store_intercept
from sqm.methods.servqual import dimension_gaps, item_gaps, servqual_index
from sqm.methods.survey_weights import weighted_mean
from sqm.services.surveys import analysis
from sqm.services.surveys.demo_data import (
    INTERCEPT_TRUE_WEIGHTS,
    demo_stores,
    ecsi_answers,
    intercept_answers,
    servqual_answers,
    staff_answers,
)

METHODS_DATA = Path(__file__).resolve().parents[1] / "methods" / "data"
STORES = demo_stores(12)


@pytest.fixture(scope="module")
def sq() -> pd.DataFrame:
    frame = servqual_answers(STORES, ["2026-09", "2026-10"], per_store=25, seed=3)
    frame.loc[[3, 10], "R2_p"] = np.nan  # some unanswered items
    return analysis.with_segment_names(frame)


def test_gaps_by_group_match_scipy_t_intervals(sq: pd.DataFrame) -> None:
    out = analysis.servqual_gaps(sq, servqual(), by="tier")
    row = out[(out["tier"] == "partner") & (out["code"] == "R2")].iloc[0]
    part = sq[sq["tier"] == "partner"]
    g = (part["R2_p"] - part["R2_e"]).dropna()
    lo, hi = stats.t.interval(0.95, len(g) - 1, loc=g.mean(), scale=stats.sem(g))
    assert row["n"] == len(g)
    assert row["gap"] == pytest.approx(g.mean())
    assert (row["lower"], row["upper"]) == pytest.approx((lo, hi))
    assert row["expectation"] == pytest.approx(part["R2_e"].mean())


def test_dimension_and_sq_agree_with_the_methods_formulas(sq: pd.DataFrame) -> None:
    inst = servqual()
    out = analysis.servqual_gaps(sq, inst)
    items = [c[:-2] for c in sq.columns if c.endswith("_p")]
    p = sq[[f"{i}_p" for i in items]].set_axis(items, axis=1)
    e = sq[[f"{i}_e" for i in items]].set_axis(items, axis=1)
    dims = {
        d: [i for i in items if inst.question(i).dimension == d]
        for d in [x.code for x in inst.dimensions]
    }
    dg = dimension_gaps(item_gaps(p, e), dims)
    imp = sq[[f"imp_{d}" for d in dims]].set_axis(list(dims), axis=1)
    idx = servqual_index(dg, imp)
    got = out.set_index("code")["gap"]
    for d in dims:
        assert got[d] == pytest.approx(dg[d].mean())
    assert got["SQ"] == pytest.approx(idx["sq_unweighted"].mean())
    assert got["SQ_weighted"] == pytest.approx(idx["sq_weighted"].mean())


def test_hand_worked_gap() -> None:
    # two respondents, one item per dimension pair: gaps (5-6, 4-6) = -1, -2 → mean -1.5
    inst = Instrument(
        "t",
        Text("t", "t"),
        (Dimension("a", Text("a", "a")), Dimension("b", Text("b", "b"))),
        (
            Group(
                "g",
                Text("g", "g"),
                (
                    Question("x", QuestionType.PAIRED, Text("x", "x"), "a", points=7),
                    Question("y", QuestionType.PAIRED, Text("y", "y"), "b", points=7),
                ),
            ),
        ),
    )
    frame = pd.DataFrame({"x_e": [6, 6], "x_p": [5, 4], "y_e": [5, 7], "y_p": [7, 7]})
    out = analysis.servqual_gaps(frame, inst).set_index("code")
    assert out.loc["x", "gap"] == -1.5
    assert out.loc["y", "gap"] == 1.0
    assert out.loc["SQ", "gap"] == pytest.approx(((-1 + 2) / 2 + (-2 + 0) / 2) / 2)


def test_weighted_gaps_match_weighted_mean_of_the_methods(sq: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    w = rng.uniform(0.3, 3.0, len(sq))
    out = analysis.servqual_gaps(sq, servqual(), by="city", weights=w)
    row = out[(out["city"] == "长沙") & (out["code"] == "responsiveness")].iloc[0]
    mask = (sq["city"] == "长沙").to_numpy()
    resp = (
        sq[["S1_p", "S2_p", "S3_p", "S4_p"]].to_numpy()
        - sq[["S1_e", "S2_e", "S3_e", "S4_e"]].to_numpy()
    ).mean(axis=1)
    ref = weighted_mean(resp[mask], w[mask])
    assert row["gap"] == pytest.approx(ref.estimate)
    assert row["se"] == pytest.approx(ref.se)
    assert row["moe"] == pytest.approx(ref.moe)
    assert row["n_eff"] == pytest.approx(ref.n_eff)


def test_reliability_matches_pingouin_and_warns(sq: pd.DataFrame) -> None:
    rel = analysis.reliability_by_dimension(sq, servqual()).set_index("dimension")
    ref = pg.cronbach_alpha(sq[["T1_p", "T2_p", "T3_p", "T4_p"]])[0]
    assert rel.loc["tangibles", "alpha"] == pytest.approx(ref, abs=1e-9)
    assert rel["reliable"].all()
    # a dimension made of unrelated items is flagged in plain words
    noisy = sq.copy()
    rng = np.random.default_rng(1)
    for c in ["E1_p", "E2_p", "E3_p", "E4_p", "E5_p"]:
        noisy[c] = rng.integers(1, 8, len(noisy))
    rel = analysis.reliability_by_dimension(noisy, servqual()).set_index("dimension")
    assert not rel.loc["empathy", "reliable"]
    assert (
        "not reliable" in rel.loc["empathy", "warning_en"]
        and "信度不足" in rel.loc["empathy", "warning_zh"]
    )


def test_validity_matches_factor_analyzer(sq: pd.DataFrame) -> None:
    v = analysis.validity(sq, servqual())
    items = list(v.loadings.index)
    frame = sq[items].dropna().astype(float)
    per_item, overall = calculate_kmo(frame)
    chi2, p = calculate_bartlett_sphericity(frame)
    assert v.bartlett_p == pytest.approx(p, abs=1e-12)
    assert v.kmo == pytest.approx(overall, rel=1e-6)
    np.testing.assert_allclose(v.kmo_items.to_numpy(), per_item, rtol=1e-6)
    assert v.bartlett_chi2 == pytest.approx(chi2, rel=1e-6)
    assert v.factorable
    # each dimension's items load highest on one common factor (the generator's structure)
    top = v.loadings.abs().idxmax(axis=1)
    for dim in v.dimension_of.unique():
        assert top[v.dimension_of == dim].nunique() == 1


def test_gap1_matches_welch_interval(sq: pd.DataFrame) -> None:
    staff = staff_answers(STORES, ["2026-10"], per_store=4, seed=2)
    out = analysis.gap1(staff, sq, servqual()).set_index("code")
    res = stats.ttest_ind(staff["S2_e"], sq["S2_e"], equal_var=False)
    ci = res.confidence_interval(0.95)
    assert out.loc["S2", "gap1"] == pytest.approx(staff["S2_e"].mean() - sq["S2_e"].mean())
    assert (out.loc["S2", "lower"], out.loc["S2", "upper"]) == pytest.approx((ci.low, ci.high))
    # the generator makes staff under-estimate responsiveness most
    dims = out[out["level"] == "dimension"]["gap1"]
    assert dims.idxmin() == "responsiveness" and (dims < 0).all()


def test_derived_importance_recovers_the_generators_drivers() -> None:
    answers = intercept_answers(demo_stores(40), ["2026-10"], per_store=150, seed=4)
    imp = analysis.derived_item_importance(answers, list(INTERCEPT_TRUE_WEIGHTS))
    assert imp["weight"].sum() == pytest.approx(1.0)
    rho = stats.spearmanr(imp["weight"], list(INTERCEPT_TRUE_WEIGHTS.values())).statistic
    assert rho > 0.8
    ipa = analysis.ipa_items(answers, store_intercept())
    assert set(ipa["quadrant"]) <= {"keep_up", "concentrate", "low_priority", "overkill"}
    # waiting time (Q12) matters much and rates low: the plan's first thing to fix
    assert ipa.loc["Q12", "quadrant"] == "concentrate"


def test_nps_by_group_by_hand() -> None:
    frame = pd.DataFrame(
        {"unit": ["a"] * 10 + ["b"] * 4, "nps": [10, 9, 9, 8, 7, 6, 3, 10, 10, 5, 0, 10, 9, 9]}
    )
    out = analysis.nps_by(frame, "unit").set_index("unit")
    # a: promoters 5/10, detractors 3/10 → 20; b: 3/4 − 1/4 → 50
    assert out.loc["a", "nps"] == pytest.approx(20.0)
    assert out.loc["b", "nps"] == pytest.approx(50.0)
    assert out.loc["a", "d10"] == 3 and out.loc["b", "d0"] == 1
    # se of a trinomial: √((pP + pD − (pP − pD)²)/n)
    assert out.loc["a", "se"] == pytest.approx(100 * np.sqrt((0.5 + 0.3 - 0.04) / 10))


def test_raking_reaches_the_margins(sq: pd.DataFrame) -> None:
    units = sq["unit"].unique()
    margins = {
        "segment_name": {"business": 0.5 * len(sq), "ordinary": 0.5 * len(sq)},
        "unit": {u: len(sq) / len(units) for u in units},
    }
    w = analysis.weight_answers(sq, margins=margins)
    assert w.converged and w.deff > 1
    got = w.weights.groupby(sq["segment_name"]).sum()
    assert got["business"] == pytest.approx(0.5 * len(sq), rel=1e-6)
    ps = analysis.weight_answers(
        sq, cells=["segment_name"], population={"business": 300, "ordinary": 700}
    )
    assert ps.weights.groupby(sq["segment_name"]).sum()["business"] == pytest.approx(0.3 * len(sq))


def test_counts() -> None:
    frame = pd.DataFrame(
        {"unit": ["a", "a", "b"], "segment_name": ["business", "ordinary", "ordinary"]}
    )
    out = analysis.response_counts(frame, ["unit", "segment_name"])
    assert out["answers"].tolist() == [1, 1, 1]


def test_satisfaction_index_on_the_ecsi_reference_data(shared_data: Path) -> None:
    """Sanchez's ECSI `satisfaction` data (R plspm): R² must equal R plspm's, and the index
    must equal the mean of the method's own 0–100 index scores."""
    data = pd.read_csv(shared_data / "ecsi" / "satisfaction.csv", index_col=0)
    blocks = {
        "image": [f"imag{i}" for i in range(1, 6)],
        "expectation": [f"expe{i}" for i in range(1, 6)],
        "quality": [f"qual{i}" for i in range(1, 6)],
        "value": [f"val{i}" for i in range(1, 5)],
        "satisfaction": [f"sat{i}" for i in range(1, 5)],
        "loyalty": [f"loy{i}" for i in range(1, 5)],
    }
    inst = Instrument(
        "sat",
        Text("满意度", "Satisfaction"),
        tuple(Dimension(d, Text(d, d)) for d in blocks),
        tuple(
            Group(
                d,
                Text(d, d),
                tuple(Question(c, QuestionType.LIKERT, Text(c, c), d, points=10) for c in cols),
            )
            for d, cols in blocks.items()
        ),
    )
    data["region"] = np.where(np.arange(len(data)) % 2 == 0, "north", "south")
    res = analysis.satisfaction_index(data, inst, by="region", n_boot=100, seed=2)
    ref = pd.read_csv(METHODS_DATA / "plspm_r_satisfaction_inner_summary.csv", index_col=0)
    r_names = {
        "expectation": "EXPE",
        "quality": "QUAL",
        "value": "VAL",
        "satisfaction": "SAT",
        "loyalty": "LOY",
    }
    for lv, r in r_names.items():
        assert res.r2[lv] == pytest.approx(ref.loc[r, "r_squared"], abs=1e-6)
    from sqm.methods import plspm

    fitted = plspm.fit(
        data[[c for v in blocks.values() for c in v]],
        blocks,
        [p for p in analysis.ECSI_PATHS if "complaints" not in p],
        scaled=False,
    )
    scores = fitted.index_scores(1, 10)["satisfaction"]
    north = res.index[(res.index["region"] == "north") & (res.index["lv"] == "satisfaction")].iloc[
        0
    ]
    assert north["index"] == pytest.approx(scores[data["region"] == "north"].mean())
    assert north["lower"] < north["index"] < north["upper"]
    assert north["upper"] - north["lower"] < 10


def test_satisfaction_index_on_demo_answers_orders_regions() -> None:
    answers = ecsi_answers(demo_stores(24), ["2026-10"], per_store=20, seed=5)
    res = analysis.satisfaction_index(answers, ecsi(), by="tier", n_boot=50)
    sat = res.index[res.index["lv"] == "satisfaction"].set_index("tier")["index"]
    assert sat["flagship"] > sat["partner"]


def test_integer_fast_path_equals_the_float_path() -> None:
    ints = servqual_answers(STORES, ["2026-10"], per_store=10, seed=8)
    floats = ints.copy()
    rating = [c for c in ints.columns if c.endswith(("_e", "_p"))]
    floats[rating] = floats[rating].astype(float)
    w = np.random.default_rng(3).uniform(0.5, 2, len(ints))
    for weights in (None, w):
        a = analysis.servqual_gaps(ints, servqual(), by="tier", weights=weights)
        b = analysis.servqual_gaps(floats, servqual(), by="tier", weights=weights)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10)
