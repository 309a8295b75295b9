"""Early-warning rules: textbook control charts, injected incidents found, clean data quiet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqm.domain.errors import RuleError
from sqm.methods.alert_rules import (
    Baseline,
    CusumRule,
    EwmaRule,
    StaticThreshold,
    Sustained,
    Trend,
    backtest,
    baseline,
    cusum_chart,
    episodes,
    ewma_chart,
    hysteresis,
    mann_kendall,
)

REF = json.loads(
    (Path(__file__).parent / "data" / "alert_rules_montgomery_cusum_ewma.json").read_text()
)


def test_cusum_matches_montgomery_example_9_1() -> None:
    c = REF["cusum"]
    chart = cusum_chart(REF["x"], c["mu0"], c["sigma"], c["k"], c["h"])
    for sample, value in c["c_plus"].items():
        assert chart.statistic[int(sample) - 1] == pytest.approx(value, abs=0.005)
    assert int(np.flatnonzero(chart.signal)[0]) + 1 == c["first_signal"]


def test_ewma_matches_montgomery_example_9_2() -> None:
    e = REF["ewma"]
    chart = ewma_chart(REF["x"], e["mu0"], e["sigma"], e["lam"], e["L"])
    for i, z in e["z"].items():
        assert chart.statistic[int(i) - 1] == pytest.approx(z, abs=5e-5)
    assert chart.upper[0] == pytest.approx(e["ucl_1"], abs=0.005)
    assert chart.lower[0] == pytest.approx(e["lcl_1"], abs=0.005)
    # Limits widen to the asymptote μ0 ± Lσ√(λ/(2−λ)) = 10 ± 0.6194.
    assert chart.upper[-1] == pytest.approx(10 + 2.7 * np.sqrt(0.1 / 1.9), abs=1e-3)


def test_mann_kendall_matches_scipy_kendall_tau_without_ties() -> None:
    # Without ties S = τ · n(n−1)/2 and the MK variance equals Kendall's; scipy's
    # asymptotic p-value of tau against time (method="asymptotic") uses no continuity
    # correction, so compare S and the direction, and p against the corrected formula.
    from scipy import stats

    rng = np.random.default_rng(5)
    x = np.cumsum(rng.normal(0.1, 1, 40))
    r = mann_kendall(x)
    tau = stats.kendalltau(np.arange(40), x).statistic
    assert r.s == pytest.approx(tau * 40 * 39 / 2)
    assert r.var_s == pytest.approx(40 * 39 * 85 / 18)
    z = (r.s - np.sign(r.s)) / np.sqrt(r.var_s)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_hysteresis_changes_state_only_on_its_conditions(pairs: list[tuple[bool, bool]]) -> None:
    fire = np.array([p[0] for p in pairs])
    clear = np.array([p[1] for p in pairs])
    on = hysteresis(fire, clear)
    prev = np.r_[False, on[:-1]]
    assert not np.any(on & ~prev & ~fire)  # turned on only where it fires
    assert not np.any(~on & prev & ~clear)  # turned off only where it clears


def _network_series(seed: int, weeks: int = 6, incident: bool = False) -> pd.Series:
    """15-minute RRC setup success (%) with daily rhythm, noise, and optionally an outage."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2026-01-05", periods=weeks * 7 * 96, freq="15min")
    h = idx.hour + idx.minute / 60
    level = 99.4 - 0.2 * np.exp(-((h - 21) ** 2) / 6)  # a little worse at the evening peak
    v = level + rng.normal(0, 0.08, len(idx))
    s = pd.Series(v, index=idx)
    if incident:
        s[(s.index >= "2026-02-10 19:00") & (s.index < "2026-02-10 22:00")] -= 3.0
    return s


INCIDENT = (pd.Timestamp("2026-02-10 19:00"), pd.Timestamp("2026-02-10 21:45"))
RULES = {
    "static": StaticThreshold(98.0, 99.0, "higher"),
    "sustained": Sustained(98.5, k=3, direction="higher"),
    "baseline": Baseline(weeks=4, z=6.0, z_recover=3.0, direction="higher", min_deviation=0.5),
}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rules_find_the_injected_incident(seed: int) -> None:
    s = _network_series(seed, incident=True)
    result = backtest(s, RULES)
    eps = result.attrs["episodes"]
    for name in RULES:
        e = eps[name]
        assert len(e) == 1, (name, e)
        start, end = e.iloc[0]["start"], e.iloc[0]["end"]
        assert INCIDENT[0] <= start <= INCIDENT[0] + pd.Timedelta("45min"), name
        assert INCIDENT[1] <= end <= INCIDENT[1] + pd.Timedelta("1h"), name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rules_stay_quiet_on_clean_data(seed: int) -> None:
    result = backtest(_network_series(seed), RULES)
    assert result["alerts"].tolist() == [0, 0, 0]


def test_baseline_uses_same_hour_of_week_only_from_the_past() -> None:
    idx = pd.date_range("2026-01-05", periods=3 * 168, freq="h")
    s = pd.Series(np.arange(len(idx), dtype=float), index=idx)
    b = baseline(s, weeks=4, min_weeks=2)
    # Week 3, Monday 00:00 (position 336): past values at 0 and 168 → median 84.
    assert b["median"].iloc[336] == 84 and b["weeks"].iloc[336] == 2
    assert np.isnan(b["median"].iloc[168])  # only one past week


def _daily(seed: int, slope: float) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2026-01-01", periods=60, freq="D")
    return pd.Series(99.3 + slope * np.arange(60) + rng.normal(0, 0.05, 60), index=idx)


def test_trend_rule_finds_a_slow_decline_and_ignores_noise() -> None:
    declining = _daily(4, 0.0)
    declining.iloc[40:] -= 0.03 * np.arange(20)  # 0.03 pp a day from day 40
    fired = Trend(window=14, alpha=0.01, direction="higher").evaluate(declining)
    assert fired.iloc[:40].sum() == 0 and fired.iloc[50:].all()
    assert Trend(window=14, alpha=0.01).evaluate(_daily(4, 0.0)).sum() == 0
    # A rising KPI is not a degradation for a higher-is-better KPI.
    assert Trend(window=14, alpha=0.01).evaluate(_daily(4, 0.02)).sum() == 0


def test_control_chart_rules_find_a_step_and_stay_quiet_otherwise() -> None:
    clean = _daily(9, 0.0)
    step = clean.copy()
    step.iloc[45:] -= 0.1  # two sigma down from day 45
    for rule in (EwmaRule(direction="higher", train=30), CusumRule(direction="higher", train=30)):
        assert rule.evaluate(clean).sum() == 0
        hits = np.flatnonzero(rule.evaluate(step).to_numpy())
        assert hits.size and 45 <= hits[0] <= 50


def test_episodes_and_validation() -> None:
    idx = pd.date_range("2026-01-05", periods=6, freq="h")
    e = episodes(pd.Series([0, 1, 1, 0, 1, 0], index=idx).astype(bool))
    assert e["intervals"].tolist() == [2, 1]
    with pytest.raises(RuleError, match="recover"):
        StaticThreshold(98.0, 97.0, "higher")
    with pytest.raises(RuleError, match="direction"):
        StaticThreshold(1.0, 0.5, "up")  # type: ignore[arg-type]
