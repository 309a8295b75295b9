"""sqm.methods.importance against dominance-analysis, statsmodels and Johnson's SVD recipe.

References:
- dominance-analysis 1.1.9 general dominance (= Shapley/LMG decomposition of R²) of
  perceived-quality items qual1–qual5 for sat1 on the ECSI satisfaction data
  (importance_dominance.json; data excerpt importance_ecsi_quality_satisfaction.csv).
- A hand-computed LMG: R² of statsmodels OLS fits over all 2^p subsets, averaged over the
  p! orders of entry.
- Johnson (2000) relative weights by his own construction: Z = U Vᵀ from the SVD of the
  standardised X (the orthogonal matrix closest to X), β from regressing y on Z, Λ from
  regressing X on Z, ε_j = Σ_k λ_jk² β_k².
"""

from __future__ import annotations

import itertools
import json
from math import factorial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from sqm.methods._validation import MethodInputError
from sqm.methods.importance import derived_importance, relative_weights, shapley_r2

DATA = Path(__file__).resolve().parent / "data"
ECSI = pd.read_csv(DATA / "importance_ecsi_quality_satisfaction.csv")
DOMINANCE = json.loads((DATA / "importance_dominance.json").read_text())
X = ECSI.drop(columns="sat1")
Y = ECSI["sat1"]


def ols_r2(x: np.ndarray, y: np.ndarray, cols: tuple[int, ...]) -> float:
    if not cols:
        return 0.0
    return float(sm.OLS(y, sm.add_constant(x[:, list(cols)])).fit().rsquared)


def lmg_by_orders(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = x.shape[1]
    cache = {c: ols_r2(x, y, c) for k in range(p + 1) for c in itertools.combinations(range(p), k)}
    out = np.zeros(p)
    for order in itertools.permutations(range(p)):
        seen: tuple[int, ...] = ()
        for j in order:
            after = tuple(sorted((*seen, j)))
            out[j] += cache[after] - cache[seen]
            seen = after
    return out / factorial(p)


def johnson_relative_weights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    zx = (x - x.mean(0)) / x.std(0, ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    u, _, vt = np.linalg.svd(zx, full_matrices=False)
    z = u @ vt * np.sqrt(len(x) - 1)  # orthogonal, unit-variance columns
    beta = np.linalg.lstsq(z, zy, rcond=None)[0]
    lam = np.linalg.lstsq(z, zx, rcond=None)[0]  # rows: Z_k, columns: X_j
    return (lam**2).T @ (beta**2)


def test_shapley_matches_dominance_analysis() -> None:
    r = shapley_r2(X, Y)
    ref = pd.Series(DOMINANCE["general_dominance"]).reindex(X.columns)
    np.testing.assert_allclose(r.shapley.to_numpy(), ref.to_numpy(), atol=1e-12)
    assert r.shapley.sum() == pytest.approx(r.r2)
    np.testing.assert_allclose(r.weights, ref / ref.sum(), atol=1e-12)


def test_shapley_matches_statsmodels_lmg_by_hand() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(120, 4))
    x[:, 1] += 0.8 * x[:, 0]
    y = x @ [0.5, 0.3, 0.0, 0.2] + rng.normal(size=120)
    r = shapley_r2(x, y)
    np.testing.assert_allclose(r.shapley.to_numpy(), lmg_by_orders(x, y), atol=1e-12)
    assert r.r2 == pytest.approx(ols_r2(x, y, (0, 1, 2, 3)))


def test_relative_weights_match_johnson_construction() -> None:
    r = relative_weights(X, Y)
    expected = johnson_relative_weights(X.to_numpy(float), Y.to_numpy(float))
    np.testing.assert_allclose(r.relative_weights.to_numpy(), expected, atol=1e-12)
    assert r.relative_weights.sum() == pytest.approx(r.r2)
    assert r.weights.sum() == pytest.approx(1.0)
    assert list(r.weights.index) == list(X.columns)


def test_betas_and_correlations_match_statsmodels() -> None:
    r = derived_importance(X, Y)
    zx = (X - X.mean()) / X.std()
    zy = (Y - Y.mean()) / Y.std()
    fit = sm.OLS(zy, zx).fit()
    np.testing.assert_allclose(r.standardized_beta, fit.params, atol=1e-12)
    np.testing.assert_allclose(r.correlation, X.corrwith(Y), atol=1e-12)
    assert r.n == 250


def test_uncorrelated_items_get_their_squared_correlation() -> None:
    # With orthogonal items all decompositions coincide with r².
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(50, 3)))
    x = q - q.mean(0)
    x, _ = np.linalg.qr(x - x.mean(0))
    y = x @ [3.0, 2.0, 1.0] + 0.5 * rng.normal(size=50)
    r = derived_importance(x, y, method="shapley")
    np.testing.assert_allclose(r.shapley, r.correlation**2, atol=1e-6)
    np.testing.assert_allclose(r.relative_weights, r.correlation**2, atol=1e-6)


def test_missing_values_and_bad_input() -> None:
    x = X.copy().astype(float)
    x.iloc[3, 2] = np.nan
    with pytest.raises(MethodInputError, match="missing"):
        derived_importance(x, Y)
    r = derived_importance(x, Y, dropna=True)
    assert r.n == 249
    with pytest.raises(MethodInputError, match="too few"):
        derived_importance(X.iloc[:5], Y.iloc[:5])
    const = X.copy()
    const["qual1"] = 5
    with pytest.raises(MethodInputError, match="constant"):
        derived_importance(const, Y)
    collinear = X.copy()
    collinear["dup"] = collinear["qual1"] * 2
    with pytest.raises(MethodInputError, match="collinear"):
        derived_importance(collinear, Y)


@pytest.mark.parametrize("noise", [0.0, 1e-13])
def test_singular_and_near_singular_items_are_refused_from_the_matrix(
    noise: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an item that copies another (exactly, or up to 1e-13 noise); the refusal must not
    # depend on whether LAPACK raises, so let every solve succeed silently
    monkeypatch.setattr("numpy.linalg.solve", lambda a, b: np.zeros(np.shape(b)))
    rng = np.random.default_rng(5)
    near = X.astype(float).assign(dup=X["qual2"] + noise * rng.normal(size=len(X)))
    with pytest.raises(MethodInputError, match=r"singular or nearly so.*collinear"):
        derived_importance(near, Y)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(2, 5))
def test_decompositions_sum_to_r2_and_weights_to_one(seed: int, p: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, p)) @ rng.normal(size=(p, p))
    y = x @ rng.normal(size=p) + rng.normal(size=40)
    r = derived_importance(x, y, method="shapley")
    assert r.shapley is not None
    assert r.shapley.sum() == pytest.approx(r.r2, abs=1e-9)
    assert r.relative_weights.sum() == pytest.approx(r.r2, abs=1e-9)
    assert r.weights.sum() == pytest.approx(1.0)
    assert (r.relative_weights >= -1e-12).all() and (r.shapley >= -1e-12).all()
