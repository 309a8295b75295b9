"""sqm.methods.weights against published AHP examples, AHPy, pymcdm and pyDecision.

References (see tests/methods/data/README.md):
- Saaty (2008), "Decision making with the analytic hierarchy process", drinks example:
  published priorities 0.177/0.019/0.042/0.116/0.190/0.129/0.327 and CR 0.022 (with
  Saaty's 2005 random index); AHPy 2.1 reproduces them (weights_ahpy.json).
- AHPy 2.1 "choosing a leader" hierarchy (Wikipedia's AHP leader example) and "purchasing
  a vehicle" criteria, weights and CR with the Donegan–Dodd / Saaty 2005 tables.
- The 3×3 closed form of λmax for a reciprocal matrix:
  λmax = 1 + (a13/(a12 a23))^(1/3) + (a12 a23/a13)^(1/3).
- pymcdm 1.4.0 entropy_weights / critic_weights and pyDecision 5.1.8 critic_method on a
  fixed 8 × 5 data set (weights_pymcdm.json).
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
from sqm.methods.weights import (
    RANDOM_INDEX,
    ahp,
    combine_weights,
    critic,
    cv_weights,
    entropy,
    group_ahp,
    hierarchy_weights,
    pca_weights,
    random_index,
)

DATA = Path(__file__).resolve().parent / "data"
AHPY = json.loads((DATA / "weights_ahpy.json").read_text())
PYMCDM = json.loads((DATA / "weights_pymcdm.json").read_text())


def matrix_from_pairs(pairs: list[list], order: list[str] | None = None) -> pd.DataFrame:
    names: list[str] = order or []
    for a, b, _ in pairs:
        for x in (a, b):
            if x not in names:
                names.append(x)
    m = pd.DataFrame(1.0, index=names, columns=names)
    for a, b, v in pairs:
        m.loc[a, b] = v
        m.loc[b, a] = 1.0 / v
    return m


# --------------------------------------------------------------------------- AHP


def test_saaty_random_index_tables() -> None:
    # Saaty (1980) as stated in the issue; Saaty (2005, p. 31).
    assert [RANDOM_INDEX["saaty1980"][n] for n in range(3, 11)] == [
        0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49,
    ]  # fmt: skip
    assert random_index(1) == random_index(2) == 0.0
    assert random_index(5, "saaty2005") == 1.11
    assert random_index(3, "donegan_dodd") == pytest.approx(0.4914)
    with pytest.raises(MethodInputError):
        random_index(16)


def test_three_by_three_closed_form() -> None:
    a12, a13, a23 = 3.0, 5.0, 3.0
    r = ahp([[1, a12, a13], [1 / a12, 1, a23], [1 / a13, 1 / a23, 1]])
    lam = 1 + (a13 / (a12 * a23)) ** (1 / 3) + (a12 * a23 / a13) ** (1 / 3)
    assert r.lambda_max == pytest.approx(lam, abs=1e-10)
    assert r.ci == pytest.approx((lam - 3) / 2, abs=1e-10)
    assert r.cr == pytest.approx((lam - 3) / 2 / 0.58, abs=1e-10)
    # The widely reproduced textbook figures for this matrix: w = (0.637, 0.258, 0.105), CR 0.033.
    np.testing.assert_allclose(r.weights, [0.637, 0.258, 0.105], atol=5e-4)
    assert round(r.cr, 3) == 0.033
    assert r.consistent


def test_saaty_drinks_example_published_and_ahpy() -> None:
    d = AHPY["drinks"]
    order = ["coffee", "wine", "tea", "beer", "soda", "milk", "water"]
    m = matrix_from_pairs(d["comparisons"], order)
    r = ahp(m, ri_table="saaty2005")
    published = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]  # Saaty (2008)
    np.testing.assert_allclose(r.weights.to_numpy(), published, atol=6e-4)
    assert round(r.cr, 3) == 0.022  # Saaty (2008)
    ref = pd.Series(d["weights"]).reindex(order)
    np.testing.assert_allclose(r.weights.to_numpy(), ref.to_numpy(), atol=2e-6)
    assert r.cr == pytest.approx(d["cr_saaty2005"], abs=2e-6)
    # Default table is Saaty 1980: same CI, RI(7) = 1.32.
    assert ahp(m).cr == pytest.approx(r.ci / 1.32)
    assert list(r.weights.index) == order


def test_vehicle_criteria_against_ahpy() -> None:
    d = AHPY["vehicle_criteria"]
    m = matrix_from_pairs(d["comparisons"])
    r = ahp(m, ri_table="saaty2005")
    ref = pd.Series(d["weights"]).reindex(m.columns)
    np.testing.assert_allclose(r.weights.to_numpy(), ref.to_numpy(), atol=2e-6)
    assert r.cr == pytest.approx(d["cr_saaty2005"], abs=2e-6)


def test_leader_hierarchy_against_ahpy() -> None:
    d = AHPY["leader"]
    matrices = {"goal": matrix_from_pairs(d["criteria"])}
    for crit, pairs in d["alternatives"].items():
        matrices[crit] = matrix_from_pairs(pairs)
    # The alternatives are judged under every criterion; their global weights add up.
    h = hierarchy_weights(matrices, "goal", ri_table="donegan_dodd")
    for name, w in d["target_weights"].items():
        assert h.weights[name] == pytest.approx(w, abs=2e-6)
    assert h.cr["goal"] == pytest.approx(d["criteria_cr_donegan_dodd"], abs=2e-6)
    for crit, cr in d["child_cr_donegan_dodd"].items():
        assert h.cr[crit] == pytest.approx(cr, abs=2e-6)
    for crit, w in d["criteria_weights"].items():
        assert h.global_weights[crit] == pytest.approx(w, abs=2e-6)
    assert h.weights.sum() == pytest.approx(1.0)
    assert h.consistent


def test_hierarchy_rejects_cycles() -> None:
    m = pd.DataFrame([[1, 2], [0.5, 1]], index=["a", "goal"], columns=["a", "goal"])
    with pytest.raises(MethodInputError, match="cycle"):
        hierarchy_weights({"goal": m}, "goal")


def test_geometric_mean_priorities() -> None:
    a = np.array([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    r = ahp(a, method="geometric")
    g = np.array([15 ** (1 / 3), 1.0, (1 / 15) ** (1 / 3)])
    np.testing.assert_allclose(r.weights, g / g.sum())
    assert r.lambda_max == pytest.approx(np.mean((a @ r.weights) / r.weights))


def test_inconsistent_matrix_names_the_worst_judgment() -> None:
    # A consistent 4×4 built from w = (8, 4, 2, 1), with one judgment reversed: a[0, 3] = 1/8.
    w = np.array([8.0, 4.0, 2.0, 1.0])
    a = w[:, None] / w[None, :]
    a[0, 3], a[3, 0] = 1 / 8, 8
    labels = ["speed", "attitude", "env", "price"]
    r = ahp(pd.DataFrame(a, index=labels, columns=labels))
    assert r.cr >= 0.10 and not r.consistent
    worst = r.judgments[0]
    assert (worst.row, worst.column) == ("speed", "price")
    assert worst.given == pytest.approx(1 / 8)
    assert worst.error == max(j.error for j in r.judgments)


def test_consistent_matrix_has_zero_cr() -> None:
    w = np.array([0.5, 0.3, 0.2])
    r = ahp(w[:, None] / w[None, :])
    np.testing.assert_allclose(r.weights, w)
    assert r.cr == pytest.approx(0.0, abs=1e-12)
    assert r.lambda_max == pytest.approx(3.0)


@pytest.mark.parametrize(
    "matrix, message",
    [
        ([[1, 2], [2, 1]], "not reciprocal"),
        ([[1, -2], [-0.5, 1]], "non-positive"),
        ([[1, 0], [0, 1]], "non-positive"),
        ([[1, 2, 3], [0.5, 1, 2]], "square"),
        ([[2, 2], [0.5, 2]], "diagonal"),
        ([[1, np.nan], [np.nan, 1]], "missing"),
    ],
)
def test_ahp_rejects_bad_matrices(matrix: list, message: str) -> None:
    with pytest.raises(MethodInputError, match=message):
        ahp(matrix)


def test_ahp_accepts_rounded_reciprocals() -> None:
    r = ahp([[1, 3, 0.2], [0.33, 1, 0.14], [5, 7, 1]])
    assert r.weights.sum() == pytest.approx(1.0)


def test_group_ahp_aij_and_aip() -> None:
    e1 = [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]
    e2 = [[1, 4, 8], [1 / 4, 1, 2], [1 / 8, 1 / 2, 1]]
    aij = group_ahp([e1, e2])
    # Geometric mean of the judgments: a12 = √8, a13 = √32, a23 = 2 — a consistent matrix,
    # so the priorities are proportional to its last column: (√32, 2, 1).
    expected = np.array([32**0.5, 2.0, 1.0])
    np.testing.assert_allclose(aij.weights, expected / expected.sum())
    assert aij.aggregated is not None and aij.aggregated.cr == pytest.approx(0, abs=1e-12)
    aip = group_ahp([e1, e2], aggregation="aip", aip_mean="arithmetic")
    w1 = np.array([4, 2, 1]) / 7
    w2 = np.array([8, 2, 1]) / 11
    np.testing.assert_allclose(aip.weights, (w1 + w2) / 2)
    weighted = group_ahp([e1, e2], aggregation="aip", expert_weights=[3, 1])
    gm = np.exp(0.75 * np.log(w1) + 0.25 * np.log(w2))
    np.testing.assert_allclose(weighted.weights, gm / gm.sum())
    with pytest.raises(MethodInputError):
        group_ahp([e1, [[1, 2], [0.5, 1]]])
    # Labelled matrices in different orders are aligned by label.
    names = ["a", "b", "c"]
    f1 = pd.DataFrame(e1, index=names, columns=names)
    f2 = pd.DataFrame(e2, index=names, columns=names).loc[["c", "a", "b"], ["c", "a", "b"]]
    labelled = group_ahp([f1, f2])
    np.testing.assert_allclose(labelled.weights.loc[names], aij.weights)


# --------------------------------------------------------------------------- objective weights

STORES = np.array(PYMCDM["data"])
BENEFIT = PYMCDM["benefit"]


def test_entropy_raw_variant_matches_pymcdm() -> None:
    np.testing.assert_allclose(
        entropy(STORES, variant="raw"), PYMCDM["entropy_raw_pymcdm"], atol=1e-12
    )


def test_entropy_standardised_matches_pymcdm_on_its_minmax_matrix() -> None:
    # pymcdm's own min-max by direction gives the standardised matrix; on a matrix with
    # zeros, pymcdm's entropy_weights sets e_j = 0 (not 0·ln0 = 0), so compute the
    # reference entropy from its standardised matrix by the textbook formula here.
    z = np.array(PYMCDM["standardised_matrix_pymcdm"])
    p = z / z.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = -np.where(p > 0, p * np.log(p), 0).sum(axis=0) / np.log(len(z))
    expected = (1 - e) / (1 - e).sum()
    np.testing.assert_allclose(entropy(STORES, BENEFIT), expected, atol=1e-12)


def test_entropy_hand_example() -> None:
    # Column 1 standardises to (0, .5, 1): p = (0, 1/3, 2/3); column 2 to (0, 0, 1): e = 0.
    e1 = -(1 / 3 * np.log(1 / 3) + 2 / 3 * np.log(2 / 3)) / np.log(3)
    w = entropy([[1, 10], [2, 10], [3, 40]])
    np.testing.assert_allclose(w, np.array([1 - e1, 1.0]) / (2 - e1))


def test_critic_matches_pymcdm_for_benefit_criteria() -> None:
    np.testing.assert_allclose(critic(STORES), PYMCDM["critic_all_benefit_pymcdm"], atol=1e-12)


def test_critic_matches_pydecision_with_cost_criteria() -> None:
    # pyDecision adds 1e-10 to the range; agreement to 1e-8 is the float noise of that.
    np.testing.assert_allclose(critic(STORES, BENEFIT), PYMCDM["critic_pydecision"], atol=1e-8)


def test_critic_diakoulaki_definition_by_hand() -> None:
    x = np.array([[1, 3, 2], [2, 1, 2.5], [3, 2, 1], [4, 4, 4]])
    z = (x - x.min(0)) / (x.max(0) - x.min(0))
    c = z.std(0, ddof=1) * (1 - np.corrcoef(z.T)).sum(0)
    np.testing.assert_allclose(critic(x), c / c.sum())


def test_labels_are_kept() -> None:
    df = pd.DataFrame(STORES, columns=["csat", "complaints", "wait", "nps", "inspection"])
    for w in (entropy(df, BENEFIT), critic(df, BENEFIT), cv_weights(df), pca_weights(df)):
        assert isinstance(w, pd.Series)
        assert list(w.index) == list(df.columns)
        assert w.sum() == pytest.approx(1.0)


def test_benefit_series_is_aligned_by_label() -> None:
    cols = ["csat", "complaints", "wait", "nps", "inspection"]
    df = pd.DataFrame(STORES, columns=cols)
    shuffled = pd.Series(BENEFIT, index=cols).iloc[::-1]
    np.testing.assert_allclose(entropy(df, shuffled), entropy(STORES, BENEFIT))
    np.testing.assert_allclose(critic(df, shuffled), critic(STORES, BENEFIT))


def test_cv_weights() -> None:
    x = np.array([[1, 10], [2, 11], [3, 12.0]])
    v = x.std(0, ddof=1) / x.mean(0)
    np.testing.assert_allclose(cv_weights(x), v / v.sum())


def test_pca_weights_recipe() -> None:
    rng = np.random.default_rng(3)
    f = rng.normal(size=(100, 2))
    x = np.column_stack(
        [f[:, 0], f[:, 0] + 0.3 * rng.normal(size=100), f[:, 1], rng.normal(size=100)]
    )
    w = pca_weights(x, n_components=2)
    # Recompute with sklearn's PCA on the z-scored data: coefficients are its components.
    from sklearn.decomposition import PCA

    z = (x - x.mean(0)) / x.std(0, ddof=1)
    pca = PCA(n_components=2).fit(z)
    share = pca.explained_variance_ / pca.explained_variance_.sum()
    ref = np.abs(pca.components_.T) @ share
    np.testing.assert_allclose(w, ref / ref.sum(), atol=1e-10)
    assert pca_weights(x, min_variance=0.999).shape == (4,)


def test_combine_weights() -> None:
    s = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})
    o = pd.Series({"c": 0.5, "a": 0.25, "b": 0.25})
    lin = combine_weights(s, o, alpha=0.4)
    assert lin["a"] == pytest.approx(0.4 * 0.5 + 0.6 * 0.25)
    mult = combine_weights(s, o, method="multiplicative")
    prod = {"a": 0.125, "b": 0.075, "c": 0.1}
    assert mult["c"] == pytest.approx(0.1 / sum(prod.values()))
    with pytest.raises(MethodInputError):
        combine_weights(s, o, alpha=1.5)
    with pytest.raises(MethodInputError):
        combine_weights(s, pd.Series({"a": 1, "z": 1}))


@pytest.mark.parametrize("fn", [entropy, critic])
def test_constant_column_is_rejected(fn) -> None:
    x = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    with pytest.raises(MethodInputError, match="constant"):
        fn(x, [True, True])


@pytest.mark.parametrize("fn", [entropy, critic, cv_weights, pca_weights])
def test_nan_and_too_few_rows_are_rejected(fn) -> None:
    with pytest.raises(MethodInputError, match="missing"):
        fn(np.array([[1.0, np.nan], [2.0, 3.0], [3.0, 1.0]]))
    with pytest.raises(MethodInputError, match="at least"):
        fn(np.array([[1.0, 2.0]]))


def test_wrong_benefit_length() -> None:
    with pytest.raises(MethodInputError, match="benefit"):
        entropy(STORES, [True, False])


# --------------------------------------------------------------------------- properties

matrices = arrays(
    np.float64,
    st.tuples(st.integers(3, 8), st.integers(2, 5)),
    elements=st.floats(0.5, 100, allow_nan=False),
)


def _spread_enough(x: np.ndarray) -> bool:
    span = x.max(0) - x.min(0)
    return bool((span > 1e-3 * np.abs(x).max(0)).all())


@settings(max_examples=60, deadline=None)
@given(x=matrices, data=st.data())
def test_objective_weights_sum_to_one_and_ignore_benefit_scale(x: np.ndarray, data) -> None:
    if not _spread_enough(x):
        return
    benefit = data.draw(st.lists(st.booleans(), min_size=x.shape[1], max_size=x.shape[1]))
    scale = data.draw(st.floats(0.01, 1000))
    for fn in (entropy, critic):
        if fn is critic:
            z = (x - x.min(0)) / (x.max(0) - x.min(0))
            if (z.std(0) < 1e-6).any():
                continue
            zb = np.where(np.array(benefit), z, 1 - z)
            if (1 - np.corrcoef(zb, rowvar=False)).sum() < 1e-9:
                # Found by hypothesis: perfectly correlated criteria leave CRITIC nothing.
                with pytest.raises(MethodInputError, match="perfectly correlated"):
                    fn(x, benefit)
                continue
        w = fn(x, benefit)
        assert w.sum() == pytest.approx(1.0)
        assert (w >= -1e-12).all()
        scaled = x.copy()
        cols = np.array(benefit)
        scaled[:, cols] *= scale
        np.testing.assert_allclose(fn(scaled, benefit), w, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(w=arrays(np.float64, st.integers(3, 9), elements=st.floats(0.05, 1)))
def test_ahp_recovers_weights_of_consistent_matrices(w: np.ndarray) -> None:
    r = ahp(w[:, None] / w[None, :])
    np.testing.assert_allclose(r.weights, w / w.sum(), atol=1e-9)
    assert r.cr == pytest.approx(0.0, abs=1e-9)
    g = ahp(w[:, None] / w[None, :], method="geometric")
    np.testing.assert_allclose(g.weights, w / w.sum(), atol=1e-9)


def test_critic_refuses_perfectly_correlated_criteria() -> None:
    x = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    with pytest.raises(MethodInputError, match="perfectly correlated"):
        critic(x, [False, False])
    # Opposite directions are a real conflict (r = −1): weights are equal, not refused.
    np.testing.assert_allclose(critic(x, [True, False]), [0.5, 0.5])
