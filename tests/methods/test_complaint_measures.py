"""Complaint measures and hotspot detection, against independent references.

References used:
- statsmodels.stats.multitest.multipletests(method="fdr_bh") for Benjamini–Hochberg q-values;
- scipy.stats.binomtest(x, n, p, alternative="greater") and a hand sum of binomial terms
  (math.comb) for the conditional test of two Poisson rates;
- scipy.stats.poisson.sf for the known-baseline Poisson test;
- Garwood exact Poisson limits as tabulated by Ulm (1990), Am J Epidemiol 131:373–375;
- brute-force pairwise loops for repeat flags; numpy.percentile for medians and P90.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

from sqm.domain.errors import RuleError
from sqm.methods.complaint_measures import (
    HotspotWindow,
    benjamini_hochberg,
    complaint_rate,
    complaint_summary,
    first_contact_resolution,
    flag_repeats,
    hotspots,
    on_time_rate,
    pareto,
    poisson_rate_interval,
    rate_rise_p_values,
    repeat_rate,
    response_times,
    satisfaction,
)


@pytest.mark.parametrize(
    ("x", "low", "high"),
    [
        (0, 0.0, 3.689),
        (1, 0.0253, 5.572),
        (5, 1.624, 11.668),
        (10, 4.795, 18.390),
        (20, 12.217, 30.888),
    ],
)
def test_poisson_interval_matches_ulm_1990_table(x: int, low: float, high: float) -> None:
    lo, hi = poisson_rate_interval([x], [1.0])
    assert lo[0] == pytest.approx(low, abs=6e-4)
    assert hi[0] == pytest.approx(high, abs=6e-4)


def test_complaint_rate_per_ten_thousand_and_per_million() -> None:
    df = pd.DataFrame({"unit": ["A"] * 30 + ["B"] * 2})
    cust = pd.Series({"A": 150_000, "B": 8_000, "C": 1_000})
    r = complaint_rate(df, cust)
    assert r.loc["A", "rate"] == pytest.approx(2.0)  # 30 / 150,000 × 10,000
    assert r.loc["B", "rate"] == pytest.approx(2.5)
    assert r.loc["C", "count"] == 0 and r.loc["C", "rate"] == 0
    assert complaint_rate(df, cust, per=1e6).loc["A", "rate"] == pytest.approx(200.0)
    with pytest.raises(RuleError, match="customers"):
        complaint_rate(df, pd.Series({"A": 10, "B": 0}))


def test_bh_matches_statsmodels() -> None:
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-3, size=20), [0.0, 1.0, 0.5, 0.5]])
    want = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(benjamini_hochberg(p), want, rtol=1e-12)


def _binom_upper_tail_by_hand(x: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(x, n + 1))


@pytest.mark.parametrize(
    ("xc", "xb", "ec", "eb"),
    [(9, 10, 7, 56), (3, 0, 7, 28), (0, 5, 7, 56), (15, 40, 7, 56), (4, 4, 1, 1)],
)
def test_conditional_rate_test_matches_binomtest_and_hand_sum(
    xc: int, xb: int, ec: float, eb: float
) -> None:
    got = rate_rise_p_values([xc], [xb], [ec], [eb])[0]
    p0 = ec / (ec + eb)
    assert got == pytest.approx(
        stats.binomtest(xc, xc + xb, p0, alternative="greater").pvalue, rel=1e-9
    )
    assert got == pytest.approx(_binom_upper_tail_by_hand(xc, xc + xb, p0), rel=1e-9)


def test_poisson_rate_test_matches_scipy_poisson() -> None:
    # baseline 40 in 56 days → 5 expected in 7 days; P(X ≥ 12 | μ = 5)
    got = rate_rise_p_values([12], [40], [7.0], [56.0], method="poisson")[0]
    assert got == pytest.approx(stats.poisson.sf(11, 5.0), rel=1e-12)
    assert got == pytest.approx(
        1 - sum(math.exp(-5) * 5**k / math.factorial(k) for k in range(12)), rel=1e-9
    )


def _simulate(
    seed: int, rise: dict[tuple[int, int], float], units: int = 50, cats: int = 8
) -> pd.DataFrame:
    """Daily Poisson complaints per unit × category over 63 days; some cells rise in the last 7."""
    rng = np.random.default_rng(seed)
    base_rate = rng.uniform(0.2, 1.5, size=(units, cats))
    days = pd.date_range("2026-01-01", periods=63, freq="D")
    rate = np.broadcast_to(base_rate, (63, units, cats)).copy()
    for (u, c), factor in rise.items():
        rate[:, u, c] = 1.0  # a known baseline of one complaint a day, so the rise has a known size
        rate[56:, u, c] *= factor
    counts = rng.poisson(rate)
    d, u, c = np.nonzero(counts)
    reps = counts[d, u, c]
    offsets = rng.uniform(0, 86_400, size=reps.sum())
    return pd.DataFrame(
        {
            "unit": np.repeat(u, reps),
            "category": np.repeat(c, reps),
            "received_at": np.repeat(days.to_numpy()[d], reps) + pd.to_timedelta(offsets, unit="s"),
        }
    )


WINDOW = HotspotWindow.trailing("2026-03-05", current_days=7, baseline_days=56)


def test_finds_injected_rises() -> None:
    injected = {(3, 0): 4.0, (17, 5): 3.5, (41, 2): 5.0}
    for seed in range(10):
        h = hotspots(_simulate(seed, injected), WINDOW)
        found = set(h.index[h["hotspot"]])
        assert set(injected) <= found, f"seed {seed}: found {found}"
        assert len(found - set(injected)) <= 1


def test_stays_quiet_on_flat_data_false_positive_bound() -> None:
    seeds = 200
    with_alert = 0
    small_p = 0
    cells = 0
    for seed in range(1000, 1000 + seeds):
        h = hotspots(_simulate(seed, {}), WINDOW, min_ratio=1.0, min_count=1)
        with_alert += bool(h["hotspot"].any())
        small_p += int((h["p_value"] <= 0.05).sum())
        cells += len(h)
    # Under the global null BH at 5 % keeps P(any alert) ≤ 0.05; allow the 99.9 % binomial quantile.
    assert with_alert <= stats.binom.ppf(0.999, seeds, 0.05), with_alert
    # The exact conditional test is conservative: per-cell P(p ≤ 0.05) ≤ 0.05.
    assert small_p / cells <= 0.05


def test_exposure_changes_the_verdict() -> None:
    # Same counts; if the unit's customer base doubled in the current window, no rise.
    df = _simulate(3, {(3, 0): 2.0}, units=5, cats=2)
    plain = hotspots(df, WINDOW, min_ratio=1.0)
    cust = pd.Series(1000.0, index=range(5))
    grown = hotspots(df, WINDOW, customers=cust * 2, customers_baseline=cust, min_ratio=1.0)
    assert grown.loc[(3, 0), "rate_ratio"] == pytest.approx(plain.loc[(3, 0), "rate_ratio"] / 2)
    assert grown.loc[(3, 0), "p_value"] > plain.loc[(3, 0), "p_value"]


def _frame() -> pd.DataFrame:
    t0 = pd.Timestamp("2026-03-02 09:00")
    h = pd.Timedelta(hours=1)
    return pd.DataFrame(
        {
            "unit": ["A", "A", "A", "B", "B"],
            "category": ["billing", "billing", "network", "network", "network"],
            "customer_ref": ["c1", "c1", "c2", "c3", "c3"],
            "received_at": [t0, t0 + 240 * h, t0, t0, t0 + 24 * 40 * h],
            "first_response_at": [t0 + 1 * h, t0 + 242 * h, t0 + 5 * h, t0 + 2 * h, pd.NaT],
            "resolved_at": [t0 + 10 * h, t0 + 250 * h, pd.NaT, t0 + 30 * h, pd.NaT],
            "resolution_due": [t0 + 24 * h, t0 + 264 * h, t0 + 24 * h, t0 + 24 * h, t0 + 1000 * h],
            "contacts": [1, 2, np.nan, 1, np.nan],
            "satisfaction": [5, 2, np.nan, 4, np.nan],
        }
    )


def test_measures_on_a_hand_worked_frame() -> None:
    df = _frame()
    rt = response_times(df, "unit")
    # A: first responses 1, 2, 5 h → median 2; resolutions 10, 10 h → median 10
    assert rt.loc["A", "first_response_median_h"] == 2.0
    assert rt.loc["A", "first_response_p90_h"] == pytest.approx(np.percentile([1, 2, 5], 90))
    assert rt.loc["A", "resolution_median_h"] == 10.0
    assert rt.loc["B", "resolved"] == 1
    ot = on_time_rate(df, as_of=pd.Timestamp("2026-03-04 12:00"), by="unit")
    # A: on time, on time, unresolved past due (late) → 2/3; B: late (30 h > 24 h), not yet due → 0/1
    assert ot.loc["A", "on_time_rate"] == pytest.approx(2 / 3)
    assert ot.loc["B", "judged"] == 1 and ot.loc["B", "on_time_rate"] == 0
    fcr = first_contact_resolution(df)
    assert fcr["fcr_rate"].iloc[0] == pytest.approx(2 / 3)  # resolved: 3, first contact: 2
    # c1 billing again after 10 days → repeat; c3 network again after 40 days → not a repeat
    assert flag_repeats(df).tolist() == [False, True, False, False, False]
    assert repeat_rate(df, "unit").loc["A", "repeat_rate"] == pytest.approx(1 / 3)
    s = satisfaction(df)
    assert s["mean_rating"].iloc[0] == pytest.approx(11 / 3)
    assert s["satisfied_share"].iloc[0] == pytest.approx(2 / 3)
    summary = complaint_summary(
        df, pd.Series({"A": 10_000, "B": 20_000}), as_of=pd.Timestamp("2026-03-04 12:00")
    )
    assert summary.loc["A", "rate"] == pytest.approx(3.0) and summary.loc[
        "B", "rate"
    ] == pytest.approx(1.0)
    assert {"on_time_rate", "fcr_rate", "repeat_rate", "satisfied_share"} <= set(summary.columns)


def test_linked_complaints_are_repeats_even_across_categories() -> None:
    df = _frame().assign(repeat_of=[None, None, None, None, "X1"])
    assert flag_repeats(df).tolist() == [False, True, False, False, True]


def test_pareto_cumulative_share_and_vital_few() -> None:
    df = pd.DataFrame(
        {"category": ["network"] * 50 + ["billing"] * 30 + ["service"] * 15 + ["privacy"] * 5}
    )
    p = pareto(df)
    assert p["category"].tolist() == ["network", "billing", "service", "privacy"]
    assert p["cumulative_share"].tolist() == pytest.approx([0.5, 0.8, 0.95, 1.0])
    assert p["vital"].tolist() == [True, True, False, False]


def test_bad_input_is_named() -> None:
    with pytest.raises(RuleError, match="satisfaction"):
        satisfaction(pd.DataFrame({"satisfaction": [7]}))
    with pytest.raises(RuleError, match=r"needs column\(s\) \['contacts'\]"):
        first_contact_resolution(pd.DataFrame({"resolved_at": [pd.NaT]}))
    with pytest.raises(RuleError, match="windows"):
        HotspotWindow(
            pd.Timestamp("2026-02-01"),
            pd.Timestamp("2026-02-08"),
            pd.Timestamp("2026-01-01"),
            pd.Timestamp("2026-02-03"),
        )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["c1", "c2", "c3"]), st.sampled_from(["a", "b"]), st.integers(0, 120)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_repeat_flags_match_brute_force(rows: list[tuple[str, str, int]]) -> None:
    df = pd.DataFrame(rows, columns=["customer_ref", "category", "day"])
    df["received_at"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(df["day"], unit="D")
    got = flag_repeats(df)
    # brute force: a complaint repeats if an earlier-ordered complaint of the same customer and
    # category lies less than 30 days before (ties in time: the later row in sort order repeats)
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], rows[i][2]))
    want = [False] * len(rows)
    for pos, i in enumerate(order):
        if pos > 0:
            j = order[pos - 1]
            want[i] = (
                rows[j][0] == rows[i][0]
                and rows[j][1] == rows[i][1]
                and rows[i][2] - rows[j][2] < 30
            )
    assert got.tolist() == want


def test_response_times_match_pandas_groupby_on_random_data() -> None:
    # Reference: pandas groupby median/quantile(0.9) (linear interpolation, like numpy).
    rng = np.random.default_rng(11)
    n = 5000
    t0 = pd.Timestamp("2026-01-01")
    rec = t0 + pd.to_timedelta(rng.integers(0, 86_400 * 30, n), unit="s")
    fr = rec + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    res = pd.Series(rec + pd.to_timedelta(rng.integers(0, 86_400 * 9, n), unit="s"))
    res[rng.random(n) < 0.1] = pd.NaT
    df = pd.DataFrame(
        {
            "unit": rng.choice(["u1", "u2", "u3", "u4"], n),
            "category": rng.choice(["a", "b"], n),
            "received_at": rec,
            "first_response_at": fr,
            "resolved_at": res,
        }
    )
    got = response_times(df, ["unit", "category"])
    hours = df.assign(
        fr=(df["first_response_at"] - df["received_at"]) / pd.Timedelta(hours=1),
        res=(df["resolved_at"] - df["received_at"]) / pd.Timedelta(hours=1),
    ).groupby(["unit", "category"])
    np.testing.assert_allclose(got["first_response_median_h"], hours["fr"].median(), rtol=1e-9)
    np.testing.assert_allclose(got["first_response_p90_h"], hours["fr"].quantile(0.9), rtol=1e-9)
    np.testing.assert_allclose(got["resolution_p90_h"], hours["res"].quantile(0.9), rtol=1e-9)
    np.testing.assert_array_equal(got["resolved"], hours["res"].count())


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 60),
    st.integers(0, 200),
    st.floats(1.0, 30.0),
    st.floats(7.0, 200.0),
)
def test_rate_rise_p_values_are_probabilities_and_fall_as_the_count_rises(
    xc: int, xb: int, ec: float, eb: float
) -> None:
    p = rate_rise_p_values([xc, xc + 1], [xb, xb], [ec, ec], [eb, eb])
    assert ((p >= 0) & (p <= 1 + 1e-12)).all()
    assert p[1] <= p[0] + 1e-12  # one more complaint in the window can only strengthen the evidence
