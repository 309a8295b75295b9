"""sqm.methods.normalise against scikit-learn / scipy and hand-computed target scores.

References: sklearn.preprocessing.MinMaxScaler (min–max), scipy.stats.zscore (z-score,
ddof=1), the TOPSIS vector norm as in pymcdm (ranking_pymcdm.json's matrix), and the
piecewise target score worked by hand (100 at target, 60 at warning, linear between).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from sklearn.preprocessing import MinMaxScaler

from sqm.methods._validation import MethodInputError
from sqm.methods.normalise import likert_to_100, minmax, piecewise_target, vector, zscore

X = np.array(
    json.loads((Path(__file__).resolve().parent / "data" / "ranking_pymcdm.json").read_text())[
        "data"
    ]
)


def test_minmax_matches_sklearn_and_reverses_cost() -> None:
    ref = MinMaxScaler().fit_transform(X)
    np.testing.assert_allclose(minmax(X), ref)
    benefit = [True, False, False, True, True]
    out = minmax(X, benefit, scale=100)
    np.testing.assert_allclose(out[:, 1], 100 * (1 - ref[:, 1]))
    np.testing.assert_allclose(out[:, 0], 100 * ref[:, 0])


def test_minmax_constant_column() -> None:
    with pytest.raises(MethodInputError, match="constant"):
        minmax([[1, 5], [2, 5]])
    np.testing.assert_allclose(minmax(np.array([[1, 5], [2, 5.0]]), constant=1.0), [[0, 1], [1, 1]])


def test_zscore_matches_scipy() -> None:
    np.testing.assert_allclose(zscore(X), stats.zscore(X, ddof=1))


def test_vector_norm() -> None:
    v = vector(X)
    np.testing.assert_allclose((v**2).sum(axis=0), 1.0)
    np.testing.assert_allclose(v, X / np.linalg.norm(X, axis=0))


def test_labels_and_nan_pass_through() -> None:
    s = pd.Series([1.0, np.nan, 3.0], index=["a", "b", "c"], name="csat")
    out = minmax(s)
    assert list(out.index) == ["a", "b", "c"] and out.name == "csat"
    assert np.isnan(out["b"]) and out["c"] == 1.0
    df = pd.DataFrame({"q1": [1, 5, np.nan], "q2": [3, 3, 4]})
    lk = likert_to_100(df)
    assert lk.loc[1, "q1"] == 100 and np.isnan(lk.loc[2, "q1"]) and lk.loc[2, "q2"] == 75


def test_piecewise_target_benefit_by_hand() -> None:
    # Connection success rate: target 99 %, warning 97 %: slope 40 points per 2 %.
    x = np.array([99.5, 99.0, 98.0, 97.0, 96.0, 95.0, 90.0])
    np.testing.assert_allclose(
        piecewise_target(x, target=99, warning=97), [100, 100, 80, 60, 40, 20, 0]
    )
    # With a floor at 90 %: 60 at 97 falling to 0 at 90.
    np.testing.assert_allclose(
        piecewise_target(x, target=99, warning=97, floor=90),
        [100, 100, 80, 60, 60 - 60 / 7, 60 - 120 / 7, 0],
    )


def test_piecewise_target_cost_by_hand() -> None:
    # Complaint rate per 1,000: target 1.0, warning 2.0.
    x = pd.Series([0.5, 1.0, 1.5, 2.0, 2.5, 4.0])
    out = piecewise_target(x, target=1.0, warning=2.0, benefit=False)
    np.testing.assert_allclose(out, [100, 100, 80, 60, 40, 0])
    assert isinstance(out, pd.Series)


def test_piecewise_target_rejects_wrong_direction() -> None:
    with pytest.raises(MethodInputError, match="target > warning"):
        piecewise_target([1.0], target=1, warning=2)
    with pytest.raises(MethodInputError, match="target < warning"):
        piecewise_target([1.0], target=2, warning=1, benefit=False)


def test_likert() -> None:
    np.testing.assert_allclose(likert_to_100([1, 2, 3, 4, 5]), [0, 25, 50, 75, 100])
    np.testing.assert_allclose(likert_to_100([0, 10], points=11, low=0), [0, 100])
    with pytest.raises(MethodInputError, match="outside"):
        likert_to_100([0, 3])


@settings(max_examples=50, deadline=None)
@given(
    x=arrays(np.float64, st.integers(2, 20), elements=st.floats(-1e3, 1e3)),
    target=st.floats(10, 20),
    gap=st.floats(0.5, 5),
)
def test_piecewise_is_monotone_and_bounded(x: np.ndarray, target: float, gap: float) -> None:
    xs = np.sort(x)
    up = piecewise_target(xs, target=target, warning=target - gap)
    assert (np.diff(up) >= -1e-9).all() and up.min() >= 0 and up.max() <= 100
    down = piecewise_target(xs, target=target, warning=target + gap, benefit=False)
    assert (np.diff(down) <= 1e-9).all()
