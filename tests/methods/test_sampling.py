"""Sample sizes and quota allocation.

References:
- Cochran (1977), *Sampling Techniques*, §4.4: n₀ = z²p(1−p)/e² = 384.15 for ±5 % at 95 %
  with p = 0.5 (textbook "384" when rounded to nearest).
- Krejcie & Morgan (1970), Table 1 (required sample sizes for a finite population at
  ±5 %, 95 %): N = 100 → 80, 500 → 217, 1,000 → 278, 10,000 → 370, 50,000 → 381,
  1,000,000 → 384 (their table rounds to the nearest integer).
- Largest-remainder (Hamilton) rounding: the worked example in Wikipedia's "Largest
  remainder method" (votes 47,000 / 16,000 / 15,800 / 12,000 / 6,100 / 3,100; 10 seats,
  Hare quota → 5, 2, 1, 1, 1, 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqm.methods._validation import MethodInputError
from sqm.methods.sampling import (
    allocate_proportional,
    interlocked_quotas,
    largest_remainder,
    sample_size_mean,
    sample_size_proportion,
)


def test_textbook_sample_size_for_a_proportion() -> None:
    assert sample_size_proportion(0.05, rounding="nearest") == 384
    assert sample_size_proportion(0.05) == 385  # 384.15 rounded up
    assert sample_size_proportion(0.05, population=10_000) == 370
    assert sample_size_proportion(0.03) == 1068  # 1067.07 rounded up (Cochran)


@pytest.mark.parametrize(
    ("population", "table"),
    [(100, 80), (500, 217), (1_000, 278), (10_000, 370), (50_000, 381), (1_000_000, 384)],
)
def test_krejcie_morgan_table(population: int, table: int) -> None:
    assert sample_size_proportion(0.05, population=population, rounding="nearest") == table
    # Rounding up never gives fewer answers than the table (e.g. 218 for N = 500).
    assert table <= sample_size_proportion(0.05, population=population) <= table + 1


def test_sample_size_for_a_mean() -> None:
    # z²σ²/e² with σ = 15, e = 2 at 95 %: 1.95996² · 225 / 4 = 216.07 → 217.
    assert sample_size_mean(2, 15) == 217
    assert sample_size_mean(2, 15, population=1_000) == 178  # 216.07/(1 + 215.07/1000) = 177.8
    assert sample_size_mean(0.5, 2, confidence=0.99) == 107  # 2.5758² · 4 / 0.25 = 106.2


def test_sample_size_bad_input() -> None:
    with pytest.raises(MethodInputError, match="margin"):
        sample_size_proportion(0)
    with pytest.raises(MethodInputError, match="confidence"):
        sample_size_proportion(0.05, confidence=95)
    with pytest.raises(MethodInputError, match="sd"):
        sample_size_mean(1, 0)


def test_largest_remainder_wikipedia_example() -> None:
    votes = np.array([47_000, 16_000, 15_800, 12_000, 6_100, 3_100])
    quotas = votes / (votes.sum() / 10)
    assert largest_remainder(quotas, 10).tolist() == [5, 2, 1, 1, 1, 0]
    alloc = allocate_proportional(pd.Series(votes, index=list("YWRGBP")), 10, minimum=0)
    assert alloc.tolist() == [5, 2, 1, 1, 1, 0]


def test_allocation_with_minimum_redistributes_proportionally() -> None:
    # Hand-worked: 40 interviews, traffic 1000/300/50. C's share 1.48 < 5 → C = 5;
    # 35 left over 1300: A 26.92, B 8.08 → 26 + 8, one more to A (remainder .92).
    alloc = allocate_proportional({"A": 1000, "B": 300, "C": 50}, total=40)
    assert alloc.to_dict() == {"A": 27, "B": 8, "C": 5}


def test_allocation_errors() -> None:
    with pytest.raises(MethodInputError, match="less than minimum 5 × 3 stores = 15"):
        allocate_proportional({"A": 1, "B": 2, "C": 3}, total=14)
    with pytest.raises(MethodInputError, match="non-negative"):
        allocate_proportional({"A": -1, "B": 2}, total=14)
    with pytest.raises(MethodInputError, match="integer"):
        allocate_proportional({"A": 1, "B": 2}, total=14.5)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1, max_size=40),
    st.integers(0, 10),
    st.integers(0, 2_000),
)
def test_allocation_sums_to_total_and_respects_minimum(
    traffic: list[float], minimum: int, extra: int
) -> None:
    total = minimum * len(traffic) + extra
    alloc = allocate_proportional(pd.Series(traffic), total, minimum=minimum)
    assert int(alloc.sum()) == total
    assert (alloc >= minimum).all()
    # Stores above the minimum are within one interview of their proportional share of
    # what remains after the minimum-only stores.
    t = np.asarray(traffic)
    free = alloc.to_numpy() > minimum
    if free.any() and t[free].sum() > 0:
        rest = total - minimum * (~free).sum()
        share = rest * t[free] / t[free].sum()
        assert np.all(np.abs(alloc.to_numpy()[free] - share) < 1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=20), st.floats(0.01, 0.99))
def test_interlocked_rows_sum_to_store_quota(quotas: list[int], share: float) -> None:
    q = pd.Series(quotas, index=[f"s{i}" for i in range(len(quotas))])
    cells = interlocked_quotas(q, {"business": share, "ordinary": 1 - share})
    assert (cells.sum(axis=1) == q).all()
    assert (cells >= 0).all().all()
    assert (np.abs(cells["business"] - q * share) < 1 + 1e-9).all()


def test_interlocked_store_specific_shares() -> None:
    q = pd.Series({"A": 10, "B": 6})
    shares = pd.DataFrame({"business": [0.5, 0.1], "ordinary": [0.5, 0.9]}, index=["A", "B"])
    cells = interlocked_quotas(q, shares)
    assert cells.to_dict("index") == {
        "A": {"business": 5, "ordinary": 5},
        "B": {"business": 1, "ordinary": 5},
    }
    with pytest.raises(MethodInputError, match="some store"):
        interlocked_quotas(pd.Series({"A": 10, "C": 6}), shares)
