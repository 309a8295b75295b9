"""Rater agreement against published examples and established libraries.

References:
- Cohen's κ (unweighted, linear, quadratic): ``sklearn.metrics.cohen_kappa_score`` for κ;
  ``statsmodels.stats.inter_rater.cohens_kappa`` for the Fleiss–Cohen–Everitt (1969)
  standard errors; stored in data/agreement_reference.json and checked live.
- Fleiss' κ: Fleiss (1971) worked example (30 patients × 6 psychiatrists, κ = 0.430), the
  Wikipedia "Fleiss' kappa" example (κ = 0.210, as in statsmodels' tests) and
  ``statsmodels.stats.inter_rater.fleiss_kappa``.
- ICC: Shrout & Fleiss (1979) Table 2 data with their published values (Table 4) and
  ``pingouin.intraclass_corr`` 0.7.0 (F, df, p, 95 % CI).
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
from sqm.methods.agreement import cohen_kappa, fleiss_kappa, icc, rating_counts

DATA = Path(__file__).resolve().parent / "data"
REF = json.loads((DATA / "agreement_reference.json").read_text())
SF = pd.read_csv(DATA / "agreement_shrout_fleiss_1979.csv", index_col="target")
DIAG = pd.read_csv(DATA / "agreement_fleiss_1971_diagnoses.csv", index_col="patient")
TWO = pd.read_csv(DATA / "agreement_two_raters.csv", index_col="visit")

ICC_NAMES = {
    "ICC1": "ICC(1,1)",
    "ICC2": "ICC(A,1)",
    "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(A,k)",
    "ICC3k": "ICC(C,k)",
}


# --- ICC ------------------------------------------------------------------------------


def test_icc_reproduces_shrout_fleiss_table_4() -> None:
    published = {
        "ICC1": 0.17,
        "ICC2": 0.29,
        "ICC3": 0.71,
        "ICC1k": 0.44,
        "ICC2k": 0.62,
        "ICC3k": 0.91,
    }
    r = icc(SF)
    for name, value in published.items():
        assert round(r.loc[name, "icc"], 2) == value


def test_icc_matches_pingouin_stored() -> None:
    r = icc(SF)
    for name, label in ICC_NAMES.items():
        ref = REF["icc_shrout_fleiss"][label]
        row = r.loc[name]
        assert row["label"] == label
        assert row["icc"] == pytest.approx(ref["icc"], abs=1e-12)
        assert row["F"] == pytest.approx(ref["F"], rel=1e-12)
        assert (row["df1"], row["df2"]) == (ref["df1"], ref["df2"])
        assert row["p"] == pytest.approx(ref["p"], rel=1e-9)
        # pingouin rounds its CI to 2 decimals.
        assert [round(row["lower"], 2), round(row["upper"], 2)] == ref["ci95"]


def test_icc_live_pingouin_on_random_ratings() -> None:
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(42)
    x = rng.normal(size=(25, 1)) + rng.normal(scale=0.7, size=(25, 3)) + [0.0, 0.3, -0.2]
    long = pd.DataFrame(x).reset_index().melt(id_vars="index", var_name="rater", value_name="s")
    ref = pg.intraclass_corr(long, targets="index", raters="rater", ratings="s")
    ours = icc(long, targets="index", raters="rater", ratings="s")
    np.testing.assert_allclose(ours["icc"].to_numpy(), ref["ICC"].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(ours["p"].to_numpy(), ref["pval"].to_numpy(), rtol=1e-9)
    lows = np.array([ci[0] for ci in ref["CI95"]])
    np.testing.assert_allclose(ours["lower"].round(2).to_numpy(), lows)


def test_icc_long_and_wide_agree_and_bad_input_is_rejected() -> None:
    long = SF.reset_index().melt(id_vars="target", var_name="judge", value_name="score")
    wide = icc(SF)
    pd.testing.assert_frame_equal(icc(long, "target", "judge", "score"), wide)
    with pytest.raises(MethodInputError, match="unbalanced"):
        icc(long.iloc[1:], "target", "judge", "score")
    with pytest.raises(MethodInputError, match="missing rating"):
        icc(SF.where(SF != 9))
    with pytest.raises(MethodInputError, match="at least 2 targets"):
        icc(SF.iloc[:1])


# --- Cohen's kappa --------------------------------------------------------------------


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn_and_statsmodels(weights: str | None) -> None:
    ref = REF["cohen_two_raters"][str(weights)]
    r = cohen_kappa(TWO["inspector_a"], TWO["inspector_b"], weights=weights)  # type: ignore[arg-type]
    assert r.kappa == pytest.approx(ref["sklearn_kappa"], abs=1e-12)
    assert r.kappa == pytest.approx(ref["statsmodels_kappa"], abs=1e-12)
    assert r.se == pytest.approx(ref["statsmodels_se"], rel=1e-9)
    assert r.se0 == pytest.approx(ref["statsmodels_se0"], rel=1e-9)
    assert r.lower == pytest.approx(r.kappa - 1.959963984540054 * r.se)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=5, max_size=60),
    st.sampled_from([None, "linear", "quadratic"]),
)
def test_cohen_kappa_equals_sklearn_on_random_tables(
    pairs: list[tuple[int, int]], weights: str | None
) -> None:
    from sklearn.metrics import cohen_kappa_score

    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    labels = [0, 1, 2, 3]
    try:
        ours = cohen_kappa(a, b, weights=weights, labels=labels).kappa  # type: ignore[arg-type]
    except MethodInputError:
        assert len(set(a) | set(b)) == 1  # chance agreement 1: κ undefined
        return
    ref = cohen_kappa_score(a, b, weights=weights, labels=labels)
    assert ours == pytest.approx(ref, abs=1e-10)


def test_cohen_kappa_textbook_values() -> None:
    # Perfect agreement → 1; agreement exactly at chance (independent margins) → 0.
    assert cohen_kappa(["y", "n", "y", "n"], ["y", "n", "y", "n"]).kappa == 1.0
    assert cohen_kappa([1, 1, 2, 2], [1, 2, 1, 2]).kappa == pytest.approx(0.0)
    with pytest.raises(MethodInputError, match="same subjects"):
        cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(MethodInputError, match="missing"):
        cohen_kappa([1, None, 2], [1, 2, 2])
    with pytest.raises(MethodInputError, match="weights"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")  # type: ignore[arg-type]
    with pytest.raises(MethodInputError, match="pass labels"):
        cohen_kappa([1, "a"], [1, "a"])
    assert cohen_kappa([1, "a"], [1, "a"], labels=[1, "a"]).kappa == 1.0


# --- Fleiss' kappa --------------------------------------------------------------------


def test_fleiss_kappa_fleiss_1971_worked_example() -> None:
    counts = rating_counts(DIAG.to_numpy(), labels=[1, 2, 3, 4, 5])
    r = fleiss_kappa(counts)
    assert round(r.kappa, 3) == 0.430  # Fleiss (1971), p. 381
    assert r.kappa == pytest.approx(REF["fleiss_1971"]["statsmodels_kappa"], abs=1e-12)


def test_fleiss_kappa_wikipedia_example_and_statsmodels_live() -> None:
    table = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
    )
    r = fleiss_kappa(table)
    assert round(r.kappa, 3) == 0.210
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    assert r.kappa == pytest.approx(inter_rater.fleiss_kappa(table), abs=1e-12)


def test_fleiss_kappa_null_se_two_raters_two_categories_hand_case() -> None:
    # Fleiss, Nee & Landis (1979) null variance with m = 2, k = 2, p = (0.5, 0.5):
    # Σpq = 0.5, Σpq(q − p) = 0 → var0 = 2/(N·2·1) · 0.25/0.25 = 1/N.
    table = np.array([[2, 0], [0, 2], [1, 1], [2, 0], [0, 2], [1, 1]])
    r = fleiss_kappa(table)
    assert r.se0 == pytest.approx(np.sqrt(1 / 6))
    assert r.z == pytest.approx(r.kappa / r.se0)


def test_fleiss_kappa_rejects_unequal_raters() -> None:
    with pytest.raises(MethodInputError, match="same number of ratings"):
        fleiss_kappa([[2, 1], [1, 1]])
    with pytest.raises(MethodInputError, match="one category"):
        fleiss_kappa([[3, 0], [3, 0]])
