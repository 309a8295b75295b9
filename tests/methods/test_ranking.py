"""sqm.methods.ranking against pymcdm, pyDecision, Hwang & Yoon and textbook fuzzy examples.

References (tests/methods/data/README.md, section "ranking"):
- pymcdm 1.4.0 TOPSIS with vector normalisation; pyDecision 5.1.8 GRA (× m) on an 8 × 5
  store matrix (ranking_pymcdm.json).
- Hwang & Yoon (1981), *Multiple Attribute Decision Making*, fighter-aircraft example.
- 模糊综合评价: 司守奎《数学建模算法与应用》Example 8.4 (服装评判, M(∧,∨)); SPSSAU's
  weighted-average example (M(·,+)).
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

from sqm.methods._validation import MethodInputError
from sqm.methods.ranking import fuzzy_evaluation, grey_relational, membership_from_votes, topsis

REF = json.loads((Path(__file__).resolve().parent / "data" / "ranking_pymcdm.json").read_text())
X = np.array(REF["data"])
W = np.array(REF["weights"])
B = REF["benefit"]


def test_topsis_matches_pymcdm() -> None:
    np.testing.assert_allclose(topsis(X, W, B), REF["topsis_vector_pymcdm"], atol=1e-12)


def test_topsis_hwang_yoon_aircraft() -> None:
    a = REF["aircraft"]
    c = topsis(np.array(a["data"]), a["weights"], a["benefit"])
    np.testing.assert_allclose(c, a["topsis_vector_pymcdm"], atol=1e-12)
    np.testing.assert_allclose(np.round(c, 2), [0.64, 0.27, 0.61, 0.31])
    assert list(np.argsort(-c)) == [0, 2, 3, 1]  # A1 > A3 > A4 > A2


def test_grey_relational_matches_pydecision() -> None:
    g = grey_relational(X, W, B, rho=0.5)
    np.testing.assert_allclose(g, REF["grey_relational_pydecision_times_m"], atol=1e-9)


def test_grey_relational_hand_example_with_other_rho() -> None:
    x = np.array([[1.0, 5.0], [2.0, 3.0], [3.0, 1.0]])
    # Standardised (benefit, cost): z = [[0, 0], [.5, .5], [1, 1]]; Δ = 1 − z.
    rho = 0.3
    xi = rho / (1 - np.array([0.0, 0.5, 1.0]) + rho)
    np.testing.assert_allclose(grey_relational(x, [0.4, 0.6], [True, False], rho=rho), xi)


def test_labelled_input_gives_series() -> None:
    df = pd.DataFrame(X, index=[f"s{i}" for i in range(len(X))], columns=list("abcde"))
    w = pd.Series(W, index=list("abcde")).iloc[::-1]  # aligned by label, not position
    c = topsis(df, w, B)
    assert isinstance(c, pd.Series) and list(c.index) == list(df.index)
    np.testing.assert_allclose(c, REF["topsis_vector_pymcdm"], atol=1e-12)
    g = grey_relational(df, w, B)
    assert list(g.index) == list(df.index)


def test_bad_input() -> None:
    with pytest.raises(MethodInputError, match="missing"):
        topsis([[1, np.nan], [2, 3]], [0.5, 0.5])
    with pytest.raises(MethodInputError, match="weights"):
        topsis(X, [1, 2], B)
    with pytest.raises(MethodInputError, match="constant"):
        grey_relational([[1, 2], [1, 3]], [0.5, 0.5])
    with pytest.raises(MethodInputError, match="rho"):
        grey_relational(X, W, B, rho=0)


CLOTHING_R = [
    [0.2, 0.5, 0.2, 0.1],
    [0.7, 0.2, 0.1, 0.0],
    [0.0, 0.4, 0.5, 0.1],
    [0.2, 0.3, 0.5, 0.0],
]


def test_fuzzy_main_factor_operator_textbook_example() -> None:
    grades = ["很欢迎", "较欢迎", "不太欢迎", "不欢迎"]
    r1 = fuzzy_evaluation(CLOTHING_R, [0.1, 0.2, 0.3, 0.4], operator="M(∧,∨)", grades=grades)
    np.testing.assert_allclose(r1.membership.iloc[0], [0.2, 0.3, 0.4, 0.1])
    assert r1.grades.iloc[0] == "不太欢迎"
    r2 = fuzzy_evaluation(CLOTHING_R, [0.4, 0.35, 0.15, 0.1], operator="M(∧,∨)", grades=grades)
    np.testing.assert_allclose(r2.membership.iloc[0], [0.35, 0.4, 0.2, 0.1] / np.float64(1.05))
    raw = fuzzy_evaluation(
        CLOTHING_R, [0.4, 0.35, 0.15, 0.1], operator="M(∧,∨)", grades=grades, normalise=False
    )
    np.testing.assert_allclose(raw.membership.iloc[0], [0.35, 0.4, 0.2, 0.1])
    assert r2.grades.iloc[0] == "较欢迎"


def test_fuzzy_weighted_average_spssau_example() -> None:
    R = [
        [0.2, 0.5, 0.3, 0.0],
        [0.1, 0.3, 0.5, 0.1],
        [0.0, 0.1, 0.6, 0.3],
        [0.0, 0.4, 0.5, 0.1],
        [0.5, 0.3, 0.2, 0.0],
    ]
    r = fuzzy_evaluation(R, [0.1, 0.1, 0.15, 0.3, 0.35], grade_values=[100, 80, 60, 40])
    np.testing.assert_allclose(r.membership.iloc[0], [0.205, 0.320, 0.390, 0.085], atol=1e-12)
    assert r.grades.iloc[0] == "grade_3"
    assert r.scores is not None
    assert r.scores.iloc[0] == pytest.approx(0.205 * 100 + 0.32 * 80 + 0.39 * 60 + 0.085 * 40)


def test_fuzzy_other_operators_and_many_objects() -> None:
    w = np.array([0.1, 0.2, 0.3, 0.4])
    R = np.array(CLOTHING_R)
    r = fuzzy_evaluation(np.stack([R, R[::-1]]), w, operator="M(·,∨)", normalise=False)
    np.testing.assert_allclose(r.membership.iloc[0], (w[:, None] * R).max(axis=0))
    bounded = fuzzy_evaluation(R, w, operator="M(∧,⊕)", normalise=False)
    np.testing.assert_allclose(
        bounded.membership.iloc[0], np.minimum(np.minimum(w[:, None], R).sum(axis=0), 1)
    )
    assert len(r.grades) == 2
    with pytest.raises(MethodInputError, match="operator"):
        fuzzy_evaluation(R, w, operator="max")  # type: ignore[arg-type]
    with pytest.raises(MethodInputError, match=r"\[0, 1\]"):
        fuzzy_evaluation(R * 2, w)


def test_membership_from_votes() -> None:
    votes = pd.DataFrame([[2, 5, 2, 1], [7, 2, 1, 0]], index=["花色", "式样"])
    m = membership_from_votes(votes)
    np.testing.assert_allclose(m.to_numpy(), np.array(CLOTHING_R[:2]))
    with pytest.raises(MethodInputError, match="no votes"):
        membership_from_votes([[0, 0]])


positive = arrays(
    np.float64, st.tuples(st.integers(3, 7), st.integers(2, 5)), elements=st.floats(1, 100)
)


@settings(max_examples=60, deadline=None)
@given(x=positive, data=st.data())
def test_topsis_invariant_to_scaling_benefit_columns(x: np.ndarray, data) -> None:
    k = x.shape[1]
    benefit = data.draw(st.lists(st.booleans(), min_size=k, max_size=k))
    w = np.array(data.draw(st.lists(st.floats(0.1, 1), min_size=k, max_size=k)))
    scale = data.draw(st.floats(0.01, 100))
    c = topsis(x, w, benefit)
    assert ((c >= -1e-12) & (c <= 1 + 1e-12)).all()
    y = x.copy()
    y[:, np.array(benefit)] *= scale
    np.testing.assert_allclose(topsis(y, w, benefit), c, atol=1e-9)
    if ((x.max(0) - x.min(0)) > 1e-6 * x.max(0)).all():
        g = grey_relational(x, w, benefit)
        np.testing.assert_allclose(grey_relational(y, w, benefit), g, atol=1e-9)
