"""sqm.methods.uncertainty against scipy, a brute-force bootstrap and hand computation.

References:
- scipy.stats.bootstrap (percentile method) for one unit's mean: same interval up to
  Monte Carlo error; the ideal bootstrap SE of a mean, s·sqrt((n − 1)/n)/√n.
- A brute-force bootstrap that replays the same random stream unit by unit and recomputes
  composites with composite_scores on group means (exact agreement).
- Empirical-Bayes shrinkage worked by hand (Morris 1983 method of moments).
- scipy.stats.ttest_ind(equal_var=False) for Welch's test and its confidence interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqm.methods._validation import MethodInputError
from sqm.methods.composite import composite_scores, indicator_tree
from sqm.methods.uncertainty import (
    bootstrap_composite,
    change_by_unit,
    change_test,
    eb_shrinkage,
    shrink_unit_means,
    tied_bands,
)

TREE = indicator_tree(
    [("total", "service", 0.7), ("total", "env", 0.3), ("service", "q1", 1), ("service", "q2", 1)]
)


def survey(seed: int = 0, units: int = 6, missing: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 15, size=units)
    unit = np.repeat([f"u{k}" for k in range(units)], sizes)
    level = np.repeat(rng.uniform(50, 90, size=units), sizes)
    v = pd.DataFrame(
        {c: np.clip(level + rng.normal(0, 12, size=len(unit)), 0, 100) for c in ["q1", "q2", "env"]}
    )
    if missing:
        v = v.mask(rng.random(v.shape) < missing)
    return v, unit


def brute_force(values: pd.DataFrame, units: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Replays the random stream of bootstrap_composite, one replicate at a time."""
    order = np.argsort(units, kind="stable")
    v, u = values.iloc[order].reset_index(drop=True), units[order]
    labels, sizes = np.unique(u, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rng = np.random.default_rng(seed)
    if not v.isna().any().any():
        # complete data: one uniform per row and replicate, replicate by replicate
        picks = []
        for _ in range(n_boot):
            draw = rng.random(len(u))
            picks.append(np.repeat(starts, sizes) + (draw * np.repeat(sizes, sizes)).astype(int))
    else:
        # with missing answers: per unit, all replicates' row indices at once
        per_unit = [rng.integers(0, n, size=(n_boot, n)) + s for s, n in zip(starts, sizes)]
        picks = [np.concatenate([p[b] for p in per_unit]) for b in range(n_boot)]
    out = np.empty((n_boot, len(labels)))
    for b, idx in enumerate(picks):
        means = v.iloc[idx].groupby(u[idx], sort=True).mean()
        out[b] = composite_scores(means, TREE).scores.to_numpy()
    return out


@pytest.mark.parametrize("missing", [0.0, 0.15])
def test_bootstrap_equals_brute_force_replay(missing: float) -> None:
    values, units = survey(1, missing=missing)
    r = bootstrap_composite(values, units, TREE, n_boot=40, seed=7, block_values=700)
    ref = brute_force(values, units, 40, 7)
    np.testing.assert_allclose(r.draws, ref, atol=1e-9)
    point = composite_scores(values.groupby(units).mean(), TREE).scores
    np.testing.assert_allclose(r.scores.to_numpy(), point.to_numpy())
    np.testing.assert_allclose(r.lower.to_numpy(), np.quantile(ref, 0.025, axis=0))
    ranks = np.vstack([stats.rankdata(-row, method="min") for row in ref])
    np.testing.assert_array_equal(
        r.rank_lower.to_numpy(), np.floor(np.quantile(ranks, 0.025, axis=0))
    )
    np.testing.assert_array_equal(
        r.rank_upper.to_numpy(), np.ceil(np.quantile(ranks, 0.975, axis=0))
    )
    np.testing.assert_allclose(r.p_top(2).to_numpy(), (ranks <= 2).mean(axis=0))


def test_single_unit_interval_matches_scipy_bootstrap() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(70, 10, size=40)
    values = pd.DataFrame({"q": y})
    r = bootstrap_composite(values, ["u"] * 40, pd.Series({"q": 1.0}), n_boot=4000, seed=1)
    ref = stats.bootstrap((y,), np.mean, n_resamples=4000, method="percentile", random_state=2)
    assert r.lower.iloc[0] == pytest.approx(ref.confidence_interval.low, abs=0.35)
    assert r.upper.iloc[0] == pytest.approx(ref.confidence_interval.high, abs=0.35)
    ideal_se = y.std(ddof=1) * np.sqrt(39 / 40) / np.sqrt(40)
    assert r.se.iloc[0] == pytest.approx(ideal_se, rel=0.05)


def test_bootstrap_is_seeded_and_wider_for_small_units() -> None:
    values, units = survey(4, units=8)
    a = bootstrap_composite(values, units, TREE, n_boot=200, seed=3)
    b = bootstrap_composite(values, units, TREE, n_boot=200, seed=3)
    np.testing.assert_array_equal(a.draws, b.draws)
    f = a.frame()
    assert (f["lower"] <= f["score"]).all() and (f["score"] <= f["upper"]).all()
    assert (f["rank_lower"] <= f["rank"]).all() and (f["rank"] <= f["rank_upper"]).all()
    assert list(f.index) == sorted(set(units))


def test_bootstrap_bad_input() -> None:
    values, units = survey(0)
    with pytest.raises(MethodInputError, match="one unit per observation"):
        bootstrap_composite(values, units[:-1], TREE)
    with pytest.raises(MethodInputError, match="n_boot"):
        bootstrap_composite(values, units, TREE, n_boot=1)
    with pytest.raises(MethodInputError, match="no column"):
        bootstrap_composite(values.drop(columns="env"), units, TREE)


def test_tied_bands_by_hand() -> None:
    f = pd.DataFrame(
        {
            "rank": [1, 2, 3, 4, 5],
            "rank_lower": [1, 1, 3, 4, 4],
            "rank_upper": [2, 2, 3, 5, 5],
        },
        index=list("abcde"),
    )
    out = tied_bands(f)
    assert out["band"].tolist() == [1, 1, 2, 3, 3]
    assert out["tied"].tolist() == [True, True, False, True, True]
    assert out["tied_with_previous"].tolist() == [False, True, False, False, True]
    assert out["tied_with_next"].tolist() == [True, False, False, True, False]
    # Chains: a's interval reaches c, c's reaches d → one band even though a and d don't overlap.
    chain = pd.DataFrame({"rank": [1, 2, 3], "rank_lower": [1, 1, 2], "rank_upper": [2, 3, 3]})
    assert tied_bands(chain)["band"].tolist() == [1, 1, 1]
    # Anchored bands: c's best rank 3 is beyond a's worst rank 2, so c opens a new band.
    anchored = pd.DataFrame({"rank": [1, 2, 3], "rank_lower": [1, 1, 3], "rank_upper": [2, 3, 3]})
    assert tied_bands(anchored)["band"].tolist() == [1, 1, 1]
    assert tied_bands(anchored, method="anchor")["band"].tolist() == [1, 1, 2]


def test_eb_shrinkage_by_hand() -> None:
    means = pd.Series([60.0, 80.0, 70.0], index=["small_a", "small_b", "big"])
    n = [4, 4, 100]
    r = eb_shrinkage(means, n, 100.0)
    # v = σ²/n = (25, 25, 1); s²(ȳ) = 100; τ² = 100 − mean(v) = 100 − 17 = 83.
    assert r.tau2 == pytest.approx(83.0)
    w = 1 / (83 + np.array([25, 25, 1.0]))
    mu = (w * means.to_numpy()).sum() / w.sum()
    assert r.grand_mean == pytest.approx(mu)
    b = np.array([25, 25, 1.0]) / (np.array([25, 25, 1.0]) + 83)
    np.testing.assert_allclose(r.scores, mu + (1 - b) * (means.to_numpy() - mu))
    np.testing.assert_allclose(r.weights, 1 - b)
    np.testing.assert_allclose(r.se, np.sqrt((1 - b) * np.array([25, 25, 1.0])))
    assert list(r.scores.index) == ["small_a", "small_b", "big"]
    # The small stores move much further toward the grand mean than the big one.
    moved = (r.scores - means).abs() / (means - mu).abs()
    assert moved["small_a"] > 5 * moved["big"]


def test_eb_no_between_variance_shrinks_fully() -> None:
    r = eb_shrinkage([70.0, 71.0, 69.0], [2, 2, 2], 400.0)
    assert r.tau2 == 0.0
    np.testing.assert_allclose(r.scores, 70.0)


def test_shrink_unit_means_from_raw() -> None:
    y = [60, 62, 58, 80, 90, 70, 71, 69]
    u = list("aaabbbcc")
    r = shrink_unit_means(y, u)
    # Pooled within variance: SS = 8 + 200 + 2 = 210 over N − U = 5 → 42.
    assert r.sigma2 == pytest.approx(42.0)
    np.testing.assert_allclose(r.means, [60, 80, 70])
    ref = eb_shrinkage(pd.Series([60.0, 80.0, 70.0], index=["a", "b", "c"]), [3, 3, 2], 42.0)
    np.testing.assert_allclose(r.scores, ref.scores)
    with pytest.raises(MethodInputError, match="at least 3 units"):
        eb_shrinkage([1.0, 2.0], [3, 3], 1.0)


def test_change_test_matches_scipy_welch() -> None:
    rng = np.random.default_rng(8)
    before = rng.normal(72, 8, size=25)
    after = rng.normal(77, 12, size=31)
    r = change_test(before, after, n_boot=3000, seed=1)
    ref = stats.ttest_ind(after, before, equal_var=False)
    assert r.t == pytest.approx(ref.statistic)
    assert r.p_value == pytest.approx(ref.pvalue)
    assert r.df == pytest.approx(ref.df)
    ci = ref.confidence_interval(0.95)
    assert (r.lower, r.upper) == pytest.approx((ci.low, ci.high))
    assert r.boot_lower == pytest.approx(ci.low, abs=1.0)
    assert r.boot_upper == pytest.approx(ci.high, abs=1.0)
    assert r.significant == (r.p_value < 0.05)
    assert abs(r.boot_p_value - r.p_value) < 0.05


def test_change_by_unit_matches_scipy_per_unit() -> None:
    rng = np.random.default_rng(9)
    b_units = np.repeat(["a", "b", "c"], [10, 12, 8])
    a_units = np.repeat(["a", "b", "c", "d"], [9, 15, 7, 5])
    before = rng.normal(70, 10, size=len(b_units))
    after = rng.normal(74, 10, size=len(a_units))
    out = change_by_unit(before, b_units, after, a_units)
    assert list(out.index) == ["a", "b", "c"]
    for unit in out.index:
        ref = stats.ttest_ind(after[a_units == unit], before[b_units == unit], equal_var=False)
        assert out.loc[unit, "t"] == pytest.approx(ref.statistic)
        assert out.loc[unit, "p_value"] == pytest.approx(ref.pvalue)


def test_change_bad_input() -> None:
    with pytest.raises(MethodInputError, match="at least 2"):
        change_test([1.0], [2.0, 3.0])
    with pytest.raises(MethodInputError, match="missing"):
        change_test([1.0, np.nan], [2.0, 3.0])
