"""sqm.methods.concordance against scipy's Friedman test, pingouin and hand computation.

References:
- scipy.stats.friedmanchisquare (tie-corrected Friedman χ², which equals m(n − 1)W).
- pingouin.friedman, whose ``W`` column is Kendall's W with the tie correction.
- Kendall's W without ties by hand: W = 12 S / (m²(n³ − n)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sqm.methods._validation import MethodInputError
from sqm.methods.concordance import ConsensusRule, delphi_round, kendall_w

# Six experts rate the importance of five inspection indicators on a 1–9 scale (with ties).
RATINGS = np.array(
    [
        [9, 7, 5, 5, 3],
        [8, 8, 6, 4, 2],
        [9, 6, 6, 5, 4],
        [7, 7, 5, 3, 3],
        [9, 8, 4, 5, 2],
        [8, 6, 6, 4, 4],
    ]
)


def test_w_matches_scipy_friedman_with_ties() -> None:
    r = kendall_w(RATINGS)
    m, n = RATINGS.shape
    chi2, p = stats.friedmanchisquare(*RATINGS.T)
    assert r.chi2 == pytest.approx(chi2, rel=1e-12)
    assert r.w == pytest.approx(chi2 / (m * (n - 1)), rel=1e-12)
    assert r.p_value == pytest.approx(p, rel=1e-10)
    assert (r.m, r.n, r.df) == (6, 5, 4)


def test_w_matches_pingouin() -> None:
    long = pd.DataFrame(RATINGS).rename_axis("expert").reset_index()
    long = long.melt(id_vars="expert", var_name="item", value_name="rating")
    ref = pg.friedman(data=long, dv="rating", within="item", subject="expert")
    assert kendall_w(RATINGS).w == pytest.approx(float(ref["W"].iloc[0]), rel=1e-12)


def test_w_without_ties_by_hand() -> None:
    ranks = np.array([[1, 2, 3, 4], [1, 3, 2, 4], [2, 1, 3, 4]])
    r_sum = ranks.sum(axis=0)
    s = ((r_sum - r_sum.mean()) ** 2).sum()
    w = 12 * s / (3**2 * (4**3 - 4))
    res = kendall_w(ranks)
    assert res.w == pytest.approx(w) and w == pytest.approx(0.7778, abs=1e-4)
    assert kendall_w(ranks, correct_ties=False).w == pytest.approx(w)


def test_tie_correction_raises_w() -> None:
    assert kendall_w(RATINGS).w > kendall_w(RATINGS, correct_ties=False).w


def test_perfect_agreement_and_bad_input() -> None:
    assert kendall_w([[1, 2, 3], [1, 2, 3], [1, 2, 3]]).w == pytest.approx(1.0)
    with pytest.raises(MethodInputError, match="2 raters"):
        kendall_w([[1, 2, 3]])
    with pytest.raises(MethodInputError, match="missing"):
        kendall_w([[1, 2, np.nan], [1, 2, 3]])
    with pytest.raises(MethodInputError, match="same rating"):
        kendall_w([[3, 3, 3], [3, 3, 3]])


def test_delphi_round_summary_and_consensus() -> None:
    df = pd.DataFrame(RATINGS, columns=["greeting", "speed", "env", "display", "parking"])
    r = delphi_round(df, ConsensusRule(max_iqr=1.0, max_cv=0.2))
    item = r.items.loc["greeting"]
    assert item["median"] == 8.5
    assert item["iqr"] == pytest.approx(
        np.quantile(RATINGS[:, 0], 0.75) - np.quantile(RATINGS[:, 0], 0.25)
    )
    assert item["cv"] == pytest.approx(RATINGS[:, 0].std(ddof=1) / RATINGS[:, 0].mean())
    # parking: ratings 2–4, mean 3, sd 0.894 → CV 0.298 > 0.2: no consensus yet.
    assert bool(r.items.loc["greeting", "consensus"]) and not bool(
        r.items.loc["parking", "consensus"]
    )
    assert not r.consensus
    assert r.kendall.w == pytest.approx(kendall_w(RATINGS).w)
    share = delphi_round(df, ConsensusRule(max_iqr=None, max_cv=None, min_share=0.8, agree_at=7))
    assert share.items["share_agree"].tolist() == pytest.approx([1.0, 4 / 6, 0, 0, 0])
    assert share.items["consensus"].tolist() == [True, False, False, False, False]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 8), st.integers(2, 7), st.integers(0, 1000))
def test_w_in_unit_interval(m: int, n: int, seed: int) -> None:
    x = np.random.default_rng(seed).integers(1, 6, size=(m, n))
    if all(len(set(row)) == 1 for row in x):
        return
    w = kendall_w(x).w
    assert -1e-12 <= w <= 1 + 1e-12
