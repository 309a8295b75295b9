"""Waves, quota plans, admission and quota progress."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqm.domain.errors import RuleError
from sqm.domain.wave import Admission, FullPolicy, QuotaCell, Wave, WaveStatus
from sqm.services.surveys.quota import (
    achieved_counts,
    plan_quotas,
    quota_progress,
    sample_size_for_margin,
)


def test_plan_by_traffic_with_minimum_worked_by_hand() -> None:
    # traffic 1000/300/50, total 40, minimum 5: C is held at 5; 35 shared 1000:300 →
    # 26.92 and 8.08 → largest remainder 27 and 8.
    cells = plan_quotas({"A": 1000, "B": 300, "C": 50}, 40)
    assert [(c.unit, c.segment, c.target) for c in cells] == [
        ("A", "*", 27),
        ("B", "*", 8),
        ("C", "*", 5),
    ]


def test_interlocked_plan() -> None:
    cells = plan_quotas({"A": 900, "B": 100}, 30, segment_shares={"business": 0.3, "ordinary": 0.7})
    got = {c.key: c.target for c in cells}
    # A: 25 → 7.5/17.5 → 8/17 (largest remainder, tie to the larger quota); B: 5 → 1.5/3.5 → 1/4
    assert sum(got.values()) == 30
    assert got[("A", "business")] + got[("A", "ordinary")] == 25
    assert got[("B", "business")] + got[("B", "ordinary")] == 5


@given(
    st.dictionaries(
        st.sampled_from([f"S{i}" for i in range(30)]), st.integers(0, 10_000), min_size=1
    ),
    st.integers(0, 500),
)
def test_plan_invariants(traffic: dict[str, int], extra: int) -> None:
    total = 5 * len(traffic) + extra
    cells = plan_quotas(traffic, total)
    assert sum(c.target for c in cells) == total
    assert min(c.target for c in cells) >= 5


def test_plan_refuses_a_total_below_the_minimum() -> None:
    with pytest.raises(RuleError, match="minimum"):
        plan_quotas({"A": 1, "B": 1}, 9)


def _wave(policy: FullPolicy, interlocked: bool = True) -> Wave:
    cells = (
        (QuotaCell("A", "business", 1), QuotaCell("A", "ordinary", 2))
        if interlocked
        else (QuotaCell("A", "*", 3),)
    )
    return Wave(
        "w1",
        "2026-10",
        "servqual",
        1,
        cells,
        full_policy=policy,
        status=WaveStatus.OPEN,
        interlocked=interlocked,
    )


@pytest.mark.parametrize(
    ("policy", "when_full"),
    [
        (FullPolicy.CLOSE, Admission.CELL_CLOSED),
        (FullPolicy.THANK_AND_END, Admission.SCREEN_OUT),
        (FullPolicy.OVER_QUOTA, Admission.ACCEPT_OVER_QUOTA),
    ],
)
def test_admission_by_full_policy(policy: FullPolicy, when_full: Admission) -> None:
    w = _wave(policy)
    assert w.admit("A", "business", {}) is Admission.ACCEPT
    full = {("A", "business"): 1}
    assert w.admit("A", "business", full) is when_full
    assert w.admit("A", "ordinary", full) is Admission.ACCEPT
    assert w.admit("Z", "ordinary", {}) is Admission.UNKNOWN_UNIT
    assert w.unit_open("A", {("A", "business"): 1, ("A", "ordinary"): 2}) == (
        policy is FullPolicy.OVER_QUOTA
    )
    assert when_full.stored == (policy is FullPolicy.OVER_QUOTA)


def test_closed_wave_refuses() -> None:
    from dataclasses import replace

    w = replace(_wave(FullPolicy.OVER_QUOTA), status=WaveStatus.CLOSED)
    assert w.admit("A", "business", {}) is Admission.WAVE_CLOSED


def test_wave_rules() -> None:
    with pytest.raises(RuleError, match="twice"):
        Wave("w", "p", "i", 1, (QuotaCell("A", "*", 1), QuotaCell("A", "*", 2)))
    with pytest.raises(RuleError, match="interlocked"):
        Wave("w", "p", "i", 1, (QuotaCell("A", "business", 1),))
    with pytest.raises(RuleError, match="≥ 0"):
        QuotaCell("A", "*", -1)


def test_progress_counts_only_in_quota_answers() -> None:
    w = _wave(FullPolicy.OVER_QUOTA)
    answers = pd.DataFrame(
        {
            "unit": ["A", "A", "A", "A"],
            "segment_name": ["business", "business", "ordinary", "ordinary"],
            "over_quota": [False, True, False, False],
        }
    )
    got = achieved_counts(answers, interlocked=True)
    assert got == {("A", "business"): 1, ("A", "ordinary"): 2}
    over = achieved_counts(
        answers[answers["over_quota"]].assign(over_quota=False), interlocked=True
    )
    progress = quota_progress(w, got, over)
    assert progress[["segment", "target", "achieved", "over_quota", "fill_pct"]].to_dict(
        "records"
    ) == [
        {"segment": "business", "target": 1, "achieved": 1, "over_quota": 1, "fill_pct": 100.0},
        {"segment": "ordinary", "target": 2, "achieved": 2, "over_quota": 0, "fill_pct": 100.0},
        {"segment": "*", "target": 3, "achieved": 3, "over_quota": 1, "fill_pct": 100.0},
    ]


def test_sample_size_calculator_matches_cochran() -> None:
    # Cochran (1977) §4.4: e = 0.05, p = 0.5, 95 % → n0 = 1.96² · 0.25 / 0.0025 = 384.1 → 385;
    # with N = 2000: 384.15 / (1 + 383.15/2000) = 322.4 → 323.
    assert sample_size_for_margin(0.05) == 385
    assert sample_size_for_margin(0.05, population=2000) == 323
    # mean score, sd 1.2 on a 7-point scale, ±0.2: (1.96·1.2/0.2)² = 138.3 → 139
    assert sample_size_for_margin(0.2, sd=1.2) == 139
