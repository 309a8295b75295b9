"""Proportions, NPS and means with intervals.

References:
- Wilson (1927) interval: ``statsmodels.stats.proportion.proportion_confint(method="wilson")``
  and the worked values in Newcombe (1998), *Stat. Med.* 17, 857–872, Table I
  (81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605; 0/20 → 0–0.1611; 1/29 → 0.0061–0.1718).
- NPS standard error: the trinomial variance equals the variance of the answers coded
  +1/0/−1 (an independent computation); adjusted Wald as Rocks (2016), *Am. Stat.* 70,
  and Lewis & Sauro, "Evaluating NPS confidence intervals with real-world data"
  (MeasuringU, 2021) describe it (add ¾ to promoters and to detractors, 3 to n, then the
  variance of a difference of two proportions), worked by hand below.
- Mean interval: ``scipy.stats.t.interval`` and ``statsmodels``' ``DescrStatsW``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sqm.methods._validation import MethodInputError
from sqm.methods.proportions import (
    effective_n,
    mean_interval,
    nps,
    weighted_proportion_interval,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("x", "n", "lo", "hi"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_newcombe_table(x: int, n: int, lo: float, hi: float) -> None:
    got = wilson_interval(x, n)
    assert got == pytest.approx((lo, hi), abs=6e-5)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_wilson_matches_statsmodels(xn: tuple[int, int], confidence: float) -> None:
    from statsmodels.stats.proportion import proportion_confint

    x, n = xn
    lo, hi = wilson_interval(x, n, confidence)
    rlo, rhi = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    assert lo == pytest.approx(rlo, abs=1e-12)
    assert hi == pytest.approx(rhi, abs=1e-12)


def test_wilson_vectorised_and_bad_input() -> None:
    lo, hi = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert lo.shape == (3,) and lo[0] == 0.0 and hi[2] == pytest.approx(1.0)
    with pytest.raises(MethodInputError, match="between 0 and n"):
        wilson_interval(11, 10)
    with pytest.raises(MethodInputError, match="positive"):
        wilson_interval(0, 0)
    with pytest.raises(MethodInputError, match="confidence"):
        wilson_interval(1, 10, confidence=1.5)


def test_nps_shares_and_se_equal_the_coded_variable_route() -> None:
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 11, size=500)
    r = nps(scores)
    coded = np.where(scores >= 9, 1.0, np.where(scores <= 6, -1.0, 0.0))
    assert r.nps == pytest.approx(100 * coded.mean())
    assert r.se == pytest.approx(100 * coded.std(ddof=0) / np.sqrt(500))
    assert r.promoters + r.passives + r.detractors == pytest.approx(1.0)
    assert r.lower == pytest.approx(r.nps - 1.959963984540054 * r.se)


def test_nps_adjusted_wald_hand_case() -> None:
    # 10 answers: 5 promoters, 2 passives, 3 detractors.
    scores = [10, 9, 9, 10, 10, 8, 7, 6, 3, 5]
    r = nps(scores, method="adjusted_wald")
    pp, pd_ = 5.75 / 13, 3.75 / 13
    diff = pp - pd_
    se = np.sqrt((pp + pd_ - diff**2) / 13)
    assert r.nps == pytest.approx(20.0)
    assert r.se == pytest.approx(100 * se)
    assert (r.lower, r.upper) == pytest.approx(
        (100 * (diff - 1.959964 * se), 100 * (diff + 1.959964 * se)), abs=1e-4
    )


def test_nps_weighted_with_equal_weights_equals_unweighted() -> None:
    scores = [10, 9, 9, 10, 10, 8, 7, 6, 3, 5, 0, 9]
    assert nps(scores, weights=np.full(12, 2.5)) == nps(scores)


def test_nps_weighted_uses_weighted_shares_and_effective_n() -> None:
    scores = [10, 0, 8, 9]
    w = [3.0, 1.0, 1.0, 1.0]
    r = nps(scores, weights=w)
    assert r.promoters == pytest.approx(4 / 6)
    assert r.detractors == pytest.approx(1 / 6)
    assert r.n_eff == pytest.approx(36 / 12)
    assert r.se == pytest.approx(100 * np.sqrt((5 / 6 - 0.25) / 3))


def test_nps_bad_input() -> None:
    with pytest.raises(MethodInputError, match="0–10"):
        nps([10, 11, 3])
    with pytest.raises(MethodInputError, match="0–10"):
        nps([10, 9.5, 3])
    with pytest.raises(MethodInputError, match="NaN"):
        nps([10, np.nan, 3])
    with pytest.raises(MethodInputError, match="at least 2"):
        nps([10])


def test_mean_interval_matches_scipy_t_interval() -> None:
    x = np.array([7.0, 8, 6, 9, 10, 7, 8, 5, 9, 8])
    r = mean_interval(x, confidence=0.9)
    lo, hi = stats.t.interval(0.9, df=9, loc=x.mean(), scale=stats.sem(x))
    assert (r.lower, r.upper) == pytest.approx((lo, hi), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=50),
    st.floats(0.1, 10),
)
def test_mean_interval_equal_weights_equal_unweighted(x: list[float], w: float) -> None:
    a = mean_interval(x)
    b = mean_interval(x, weights=[w] * len(x))
    assert b.mean == pytest.approx(a.mean, abs=1e-9)
    assert b.se == pytest.approx(a.se, abs=1e-9)
    assert b.n_eff == pytest.approx(len(x))


def test_mean_interval_weighted_point_estimate_matches_statsmodels() -> None:
    from statsmodels.stats.weightstats import DescrStatsW

    rng = np.random.default_rng(2)
    x, w = rng.normal(5, 2, 200), rng.uniform(0.5, 3, 200)
    r = mean_interval(x, weights=w)
    d = DescrStatsW(x, weights=w)
    assert r.mean == pytest.approx(d.mean)
    # Kish: s_w² (weighted, "population" form) × n_eff/(n_eff − 1), se = s_w/√n_eff.
    assert r.se == pytest.approx(np.sqrt(d.var * r.n_eff / (r.n_eff - 1) / r.n_eff))
    assert r.n_eff == pytest.approx(effective_n(w))


def test_weighted_proportion_interval_uses_effective_n() -> None:
    y = [1, 1, 0, 1, 0, 1]
    w = [1.0, 2.0, 1.0, 1.0, 2.0, 1.0]
    p, lo, hi = weighted_proportion_interval(y, w)
    n_eff = 64 / 12
    assert p == pytest.approx(5 / 8)
    assert (lo, hi) == pytest.approx(wilson_interval(p * n_eff, n_eff))
    with pytest.raises(MethodInputError, match="only 0 and 1"):
        weighted_proportion_interval([1, 2])
    with pytest.raises(MethodInputError, match="non-negative"):
        weighted_proportion_interval([1, 0], [1.0, -1.0])
