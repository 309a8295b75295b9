"""sqm.methods.sensitivity against a plain loop over draws and hand-worked cases.

References: the same Monte Carlo written as a per-draw Python loop (weights perturbed from
the same seeded stream, composite by pandas, ranks by scipy.stats.rankdata, Spearman ρ by
scipy.stats.spearmanr); one-at-a-time effects worked by hand on a 3-store case.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqm.methods._validation import MethodInputError
from sqm.methods.sensitivity import weight_sensitivity

X = pd.DataFrame(
    {
        "service": [90, 70, 60, 85, 75, 80],
        "environment": [70, 88, 70, 60, 80, 72],
        "complaints": [80, 75, 95, 70, 78, 85],
    },
    index=[f"s{i}" for i in range(6)],
    dtype=float,
)
W = np.array([0.5, 0.3, 0.2])


def loop_reference(x: pd.DataFrame, w: np.ndarray, spread: float, n: int, seed: int):
    rng = np.random.default_rng(seed)
    factors = rng.uniform(1 - spread, 1 + spread, size=(len(w), n))
    base = x.to_numpy() @ w
    ranks, rhos = [], []
    for d in range(n):
        wd = w * factors[:, d]
        wd = wd / wd.sum()
        s = x.to_numpy() @ wd
        ranks.append(stats.rankdata(-s, method="min"))
        rhos.append(stats.spearmanr(base, s).statistic)
    return np.array(ranks).T, np.array(rhos)


def test_monte_carlo_matches_plain_loop() -> None:
    r = weight_sensitivity(X, W, spread=0.3, n_draws=300, seed=4, top_k=2)
    ranks, rhos = loop_reference(X, W, 0.3, 300, 4)
    base_rank = stats.rankdata(-(X.to_numpy() @ W), method="min")
    np.testing.assert_array_equal(r.units["rank"].to_numpy(dtype=float), base_rank)
    np.testing.assert_array_equal(r.units["rank_min"].to_numpy(dtype=float), ranks.min(1))
    np.testing.assert_array_equal(r.units["rank_max"].to_numpy(dtype=float), ranks.max(1))
    np.testing.assert_allclose(r.units["rank_median"], np.median(ranks, axis=1))
    np.testing.assert_allclose(r.units["p_keep"], (ranks == base_rank[:, None]).mean(1))
    np.testing.assert_allclose(r.units["p_top_2"], (ranks <= 2).mean(1))
    np.testing.assert_allclose(r.spearman, rhos, atol=1e-12)


def test_one_at_a_time_by_hand() -> None:
    x = pd.DataFrame({"a": [90.0, 70.0, 60.0], "b": [70.0, 88.0, 70.0]}, index=["s1", "s2", "s3"])
    r = weight_sensitivity(x, pd.Series({"b": 0.5, "a": 0.5}), spread=0.2, n_draws=50)
    # Weight a down 20 %: w = (0.4, 0.5)/0.9 → s1 = 78.9, s2 = 80.0: s1 and s2 swap.
    row = r.weights.loc["a"]
    assert row["units_moved_down"] == 2 and row["max_shift_down"] == 1
    assert row["spearman_down"] == pytest.approx(0.5)
    # Weight a up 20 %: s1 = 80.9, s2 = 78.0: unchanged order.
    assert row["units_moved_up"] == 0 and row["spearman_up"] == pytest.approx(1.0)
    assert r.units.loc["s3", "p_keep"] == 1.0


def test_missing_criteria_are_reweighted() -> None:
    x = X.copy()
    x.iloc[0, 1] = np.nan
    r = weight_sensitivity(x, W, spread=0.0, n_draws=5)
    s0 = (90 * 0.5 + 80 * 0.2) / 0.7
    others = x.iloc[1:].to_numpy() @ W
    assert r.units["rank"].iloc[0] == 1 + int((others > s0).sum())
    assert (r.units["p_keep"] == 1).all()


def test_bad_input() -> None:
    with pytest.raises(MethodInputError, match="spread"):
        weight_sensitivity(X, W, spread=1.5)
    with pytest.raises(MethodInputError, match="weights"):
        weight_sensitivity(X, [1, 2])
    with pytest.raises(MethodInputError, match="2 units"):
        weight_sensitivity(X.iloc[:1], W)
