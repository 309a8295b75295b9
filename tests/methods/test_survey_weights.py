"""Post-stratification, raking, Kish design effect and weighted margins of error.

References:
- samplics 0.6.1 (``SampleWeight().rake``, ``SampleWeight().poststratify``,
  ``TaylorEstimator(PopParam.mean)``) on a synthetic store-survey sample; numbers stored in
  data/survey_weights_sample.csv and data/survey_weights_reference.json (produced by
  data/survey_weights_make_reference.py in a throw-away venv).
- Raking hand case: a 2 × 2 table whose raked weights have a closed form (Deming &
  Stephan 1940: with one respondent per cell, IPF reaches the unique table with the given
  margins and the sample's (unit) odds ratio).
- Kish (1965) design effect 1 + CV² on a hand case.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqm.methods._validation import MethodInputError
from sqm.methods.survey_weights import (
    design_effect,
    effective_sample_size,
    margin_of_error,
    post_stratify,
    rake,
    weighted_mean,
    weighted_proportion,
)

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = pd.read_csv(DATA / "survey_weights_sample.csv")
REF = json.loads((DATA / "survey_weights_reference.json").read_text())


def test_rake_matches_samplics() -> None:
    r = rake(
        SAMPLE[["segment", "area", "store_type"]],
        REF["margins"],
        base_weights=SAMPLE["base_weight"],
        tol=1e-13,
        max_iter=1000,
    )
    assert r.converged
    np.testing.assert_allclose(r.weights, SAMPLE["samplics_raked_weight"], rtol=1e-9)


def test_post_stratify_matches_samplics() -> None:
    w = post_stratify(SAMPLE["segment"], REF["poststratification_cells"], SAMPLE["base_weight"])
    np.testing.assert_allclose(w, SAMPLE["samplics_poststratified_weight"], rtol=1e-12)


@pytest.mark.parametrize("weights", ["raked", "base"])
@pytest.mark.parametrize("variable", ["score", "satisfied"])
def test_linearised_se_matches_samplics_taylor(weights: str, variable: str) -> None:
    w = SAMPLE["samplics_raked_weight" if weights == "raked" else "base_weight"]
    ref = REF["taylor_estimates"][f"{weights}_{variable}"]
    est = weighted_mean(SAMPLE[variable], w)
    assert est.estimate == pytest.approx(ref["mean"], rel=1e-12)
    assert est.se == pytest.approx(ref["se"], rel=1e-10)
    assert est.moe == pytest.approx(1.959963984540054 * est.se)


def test_rake_two_by_two_closed_form() -> None:
    # One respondent per cell, margins rows (60, 40), columns (50, 50). IPF converges to
    # the table with these margins and odds ratio 1 (the sample's):
    # w_ij = row_i · col_j / N.
    df = pd.DataFrame({"seg": ["b", "b", "o", "o"], "area": ["n", "s", "n", "s"]})
    r = rake(df, {"seg": {"b": 60, "o": 40}, "area": {"n": 50, "s": 50}})
    np.testing.assert_allclose(r.weights, [30, 30, 20, 20])
    r = rake(df, {"seg": {"b": 60, "o": 40}, "area": {"n": 70, "s": 30}})
    np.testing.assert_allclose(r.weights, [42, 18, 28, 12])


def test_rake_with_a_single_margin_is_post_stratification() -> None:
    r = rake(
        SAMPLE[["segment"]],
        {"segment": REF["poststratification_cells"]},
        base_weights=SAMPLE["base_weight"],
    )
    np.testing.assert_allclose(r.weights, SAMPLE["samplics_poststratified_weight"], rtol=1e-12)
    assert r.iterations == 1


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.lists(st.floats(0.1, 10), min_size=2, max_size=2),
    st.lists(st.floats(0.1, 10), min_size=3, max_size=3),
)
def test_raking_reproduces_margins(seed: int, seg: list[float], area: list[float]) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    df = pd.DataFrame({"seg": rng.choice(["a", "b"], n), "area": rng.choice(["x", "y", "z"], n)})
    # Make every category present.
    df.loc[:1, "seg"] = ["a", "b"]
    df.loc[:2, "area"] = ["x", "y", "z"]
    total = 1000.0
    seg_t = dict(zip(["a", "b"], np.array(seg) / sum(seg) * total, strict=True))
    area_t = dict(zip(["x", "y", "z"], np.array(area) / sum(area) * total, strict=True))
    r = rake(df, {"seg": seg_t, "area": area_t}, tol=1e-10, max_iter=2000)
    assert r.converged
    w = pd.Series(r.weights)
    for var, target in (("seg", seg_t), ("area", area_t)):
        got = w.groupby(df[var].to_numpy()).sum()
        for k, v in target.items():
            assert got[k] == pytest.approx(v, rel=1e-7)


def test_rake_trimming_bounds_weights() -> None:
    r = rake(
        SAMPLE[["segment", "area", "store_type"]],
        REF["margins"],
        base_weights=SAMPLE["base_weight"],
        trim=(0.5, 2.0),
        max_iter=500,
        tol=1e-6,
    )
    assert r.converged
    mean = 10_000 / len(SAMPLE)  # population / n: the mean weight once margins hold
    assert r.weights.mean() == pytest.approx(mean, rel=1e-6)
    assert r.weights.min() >= 0.5 * mean - 1e-9
    assert r.weights.max() <= 2.0 * mean + 1e-9
    assert r.weights.max() == pytest.approx(2.0 * mean)  # the bound was binding
    assert design_effect(r.weights) <= design_effect(SAMPLE["samplics_raked_weight"]) + 1e-9


def test_rake_reports_non_convergence() -> None:
    r = rake(SAMPLE[["segment", "area", "store_type"]], REF["margins"], max_iter=1, tol=1e-12)
    assert not r.converged
    assert r.iterations == 1
    assert r.max_error > 1e-12 * 10_000


def test_rake_rejects_inconsistent_margins() -> None:
    df = SAMPLE[["segment", "area"]]
    with pytest.raises(MethodInputError, match="same population total"):
        rake(
            df,
            {
                "segment": {"business": 1, "ordinary": 2},
                "area": {"north": 1, "centre": 1, "south": 2},
            },
        )
    with pytest.raises(MethodInputError, match="no target"):
        rake(df, {"segment": {"business": 1}})
    with pytest.raises(MethodInputError, match="no respondent"):
        rake(df, {"segment": {"business": 1, "ordinary": 1, "vip": 1}})
    with pytest.raises(MethodInputError, match="not a column"):
        rake(df, {"store": {"a": 1}})


def test_post_stratify_rejects_empty_cells() -> None:
    with pytest.raises(MethodInputError, match="no respondent"):
        post_stratify(["a", "a"], {"a": 10, "b": 5})
    with pytest.raises(MethodInputError, match="no population total"):
        post_stratify(["a", "c"], {"a": 10})


def test_post_stratify_on_interlocked_cells() -> None:
    cells = pd.DataFrame({"store": ["s1", "s1", "s2", "s2"], "seg": ["b", "o", "b", "b"]})
    pop = {("s1", "b"): 10, ("s1", "o"): 30, ("s2", "b"): 40}
    np.testing.assert_allclose(post_stratify(cells, pop), [10, 30, 20, 20])


def test_kish_design_effect_hand_case() -> None:
    # Weights 1, 1, 2, 2: n Σw² / (Σw)² = 4·10/36 = 1.111…; CV² = (0.5/1.5)² = 1/9.
    assert design_effect([1, 1, 2, 2]) == pytest.approx(10 / 9)
    assert design_effect([1, 1, 2, 2]) == pytest.approx(1 + (np.std([1, 1, 2, 2]) / 1.5) ** 2)
    assert effective_sample_size([1, 1, 2, 2]) == pytest.approx(3.6)
    assert design_effect([3, 3, 3]) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=40), st.floats(0.1, 100))
def test_equal_weights_give_the_unweighted_standard_error(x: list[float], w: float) -> None:
    y = np.asarray(x)
    unweighted = y.std(ddof=1) / np.sqrt(y.size)
    for method in ("linearisation", "kish"):
        e = weighted_mean(y, np.full(y.size, w), method=method)  # type: ignore[arg-type]
        assert e.estimate == pytest.approx(y.mean(), abs=1e-9)
        assert e.se == pytest.approx(unweighted, abs=1e-9)
        assert e.deff == pytest.approx(1.0)


def test_kish_method_is_deff_times_srs_variance() -> None:
    y = SAMPLE["score"].to_numpy()
    w = SAMPLE["samplics_raked_weight"].to_numpy()
    e = weighted_mean(y, w, method="kish")
    mean = np.average(y, weights=w)
    s2 = np.average((y - mean) ** 2, weights=w) * y.size / (y.size - 1)
    assert e.se == pytest.approx(np.sqrt(design_effect(w) * s2 / y.size))


def test_weighted_proportion_and_bad_input() -> None:
    e = weighted_proportion(SAMPLE["satisfied"], SAMPLE["samplics_raked_weight"])
    assert e.estimate == pytest.approx(REF["taylor_estimates"]["raked_satisfied"]["mean"])
    with pytest.raises(MethodInputError, match="only 0 and 1"):
        weighted_proportion([0, 2], [1, 1])
    with pytest.raises(MethodInputError, match="one value per observation"):
        weighted_mean([1, 2, 3], [1, 1])
    with pytest.raises(MethodInputError, match="missing"):
        weighted_mean([1, np.nan, 3], [1, 1, 1])


def test_margin_of_error_textbook_and_weighted() -> None:
    y = np.array([1, 0, 1, 1, 0, 1, 1, 1], dtype=float)
    assert margin_of_error(y) == pytest.approx(1.959963984540054 * y.std(ddof=1) / np.sqrt(8))
    w = SAMPLE["samplics_raked_weight"]
    ref = REF["taylor_estimates"]["raked_score"]["se"]
    assert margin_of_error(SAMPLE["score"], w, confidence=0.9) == pytest.approx(
        1.6448536269514722 * ref
    )
