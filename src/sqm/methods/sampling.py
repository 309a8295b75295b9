"""Sample sizes and quota allocation for store surveys.

How many answers are needed for a stated margin of error, and how a total sample
is shared out over stores (proportional to traffic, at least a minimum per store)
and over customer segments within stores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import scipy.stats as stats
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")
    stats = lazy_import("scipy.stats")

__all__ = [
    "Rounding",
    "allocate_proportional",
    "interlocked_quotas",
    "largest_remainder",
    "sample_size_mean",
    "sample_size_proportion",
]

Rounding = Literal["up", "nearest"]


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise MethodInputError(f"confidence must be in (0, 1), got {confidence}")
    return float(stats.norm.isf((1 - confidence) / 2))


def _finish(n0: float, population: float | None, rounding: Rounding) -> int:
    if population is not None:
        if not population >= 1:
            raise MethodInputError(f"population must be at least 1, got {population}")
        # Cochran's finite-population correction.
        n0 = n0 / (1 + (n0 - 1) / population)
    if rounding == "up":
        # Tiny tolerance so that 370.0000000001 from floating point is not 371.
        n = math.ceil(n0 - 1e-9)
    elif rounding == "nearest":
        n = round(n0)
    else:
        raise MethodInputError(f"rounding must be 'up' or 'nearest', got {rounding!r}")
    if population is not None:
        n = min(n, math.ceil(population))
    return max(int(n), 1)


def sample_size_proportion(
    margin: float,
    confidence: float = 0.95,
    p: float = 0.5,
    population: float | None = None,
    rounding: Rounding = "up",
) -> int:
    """Answers needed to estimate a proportion within ``± margin``.

    Cochran: ``n₀ = z²·p(1 − p) / e²``; with a finite population ``N``,
    ``n = n₀ / (1 + (n₀ − 1)/N)``. ``p = 0.5`` is the conservative choice. The result is
    rounded up (``rounding="up"``, the safe default) or to the nearest integer.

    ±5 % at 95 % with p = 0.5: ``n₀ = 384.15``, so 385 rounded up (the "384" of
    textbooks is the nearest integer); for N = 10,000 the corrected size is 370, as in
    Krejcie & Morgan's (1970) table.

    Reference: Cochran, W. G. (1977), *Sampling Techniques*, 3rd ed., §4.4;
    Krejcie, R. V. & Morgan, D. W. (1970), *Educ. Psychol. Meas.* 30, 607–610.

    >>> sample_size_proportion(0.05), sample_size_proportion(0.05, population=10_000)
    (385, 370)
    """
    if not 0 < margin < 1:
        raise MethodInputError(f"margin must be a proportion in (0, 1), got {margin}")
    if not 0 < p < 1:
        raise MethodInputError(f"p must be in (0, 1), got {p}")
    n0 = _z(confidence) ** 2 * p * (1 - p) / margin**2
    return _finish(n0, population, rounding)


def sample_size_mean(
    margin: float,
    sd: float,
    confidence: float = 0.95,
    population: float | None = None,
    rounding: Rounding = "up",
) -> int:
    """Answers needed to estimate a mean within ``± margin`` given a standard deviation.

    ``n₀ = z²·σ² / e²`` (in the units of the score), with the same finite-population
    correction and rounding as :func:`sample_size_proportion`.

    Reference: Cochran (1977), §4.3.

    >>> sample_size_mean(margin=0.1, sd=1.0)
    385
    """
    if not margin > 0:
        raise MethodInputError(f"margin must be positive, got {margin}")
    if not sd > 0:
        raise MethodInputError(f"sd must be positive, got {sd}")
    n0 = _z(confidence) ** 2 * sd**2 / margin**2
    return _finish(n0, population, rounding)


def largest_remainder(quotas: Any, total: int) -> FloatArray:
    """Round non-negative quotas to integers summing exactly to ``total`` (Hamilton).

    Each quota is rounded down; the units still missing go one each to the largest
    fractional remainders (ties: larger quota first, then earlier position).

    Reference: Balinski, M. L. & Young, H. P. (2001), *Fair Representation*, ch. 2.

    >>> largest_remainder([4.7, 1.6, 1.58, 1.2, 0.61, 0.31], 10).tolist()
    [5, 2, 1, 1, 1, 0]
    """
    q = np.asarray(quotas, dtype=float).ravel()
    if not np.isfinite(q).all() or (q < 0).any():
        raise MethodInputError("quotas must be finite and non-negative")
    base = np.floor(q + 1e-12)
    short = int(total - base.sum())
    if short < 0 or short > q.size:
        raise MethodInputError(f"quotas sum to {q.sum():g}, which cannot be rounded to {total}")
    rem = q - base
    order = np.lexsort((np.arange(q.size), -q, -rem))
    base[order[:short]] += 1
    return base.astype(np.int64)


def allocate_proportional(
    traffic: Mapping[Any, float] | pd.Series, total: int, minimum: int = 5
) -> pd.Series:
    """Share a total number of interviews over stores in proportion to their traffic.

    Every store gets at least ``minimum`` interviews. Stores whose proportional quota
    ``total·tᵢ/Σt`` falls below the minimum are fixed at the minimum and the rest of
    the sample is re-shared in proportion to traffic among the other stores,
    repeating until no quota is below the minimum. The quotas are then turned into
    integers by the largest-remainder method, so the allocation sums exactly to
    ``total``. A store with zero traffic gets the minimum.

    Raises :class:`MethodInputError` when ``total < minimum × stores``.

    >>> allocate_proportional({"A": 1000, "B": 300, "C": 50}, total=40).to_dict()
    {'A': 27, 'B': 8, 'C': 5}
    """
    t = pd.Series(traffic, dtype=float)
    if t.empty:
        raise MethodInputError("traffic must list at least one store")
    if t.isna().any() or (t < 0).any() or not np.isfinite(t.to_numpy()).all():
        raise MethodInputError("traffic must be finite, non-negative numbers (no NaN)")
    if not t.index.is_unique:
        raise MethodInputError("traffic has a store listed twice")
    if int(total) != total or total < 0:
        raise MethodInputError(f"total must be a non-negative integer, got {total}")
    if int(minimum) != minimum or minimum < 0:
        raise MethodInputError(f"minimum must be a non-negative integer, got {minimum}")
    k = len(t)
    if total < minimum * k:
        raise MethodInputError(
            f"total {total} is less than minimum {minimum} × {k} stores = {minimum * k}; "
            "raise the total or lower the minimum"
        )
    values = t.to_numpy()
    floored = np.zeros(k, dtype=bool)
    quota = np.full(k, float(minimum))
    while True:
        free = ~floored
        rest = total - minimum * floored.sum()
        weight = values[free].sum()
        share = np.zeros(k)
        if weight > 0:
            share[free] = rest * values[free] / weight
        elif free.any():
            share[free] = rest / free.sum()
        new_floor = free & (share < minimum)
        if not new_floor.any():
            quota = np.where(floored, float(minimum), share)
            break
        floored |= new_floor
    return pd.Series(largest_remainder(quota, int(total)), index=t.index, name="quota")


def interlocked_quotas(
    store_quota: pd.Series, segment_shares: Mapping[Any, float] | pd.Series | pd.DataFrame
) -> pd.DataFrame:
    """Interlocked store × segment quota cells.

    Each store's quota is split over customer segments (e.g. business / ordinary) in
    proportion to ``segment_shares`` — one share per segment for every store, or a
    DataFrame (stores × segments) of store-specific shares — and rounded by the
    largest-remainder method within the store, so each row sums exactly to the
    store's quota.

    >>> q = pd.Series({"A": 10, "B": 6})
    >>> interlocked_quotas(q, {"business": 0.3, "ordinary": 0.7}).to_dict("index")
    {'A': {'business': 3, 'ordinary': 7}, 'B': {'business': 2, 'ordinary': 4}}
    """
    quota = pd.Series(store_quota)
    if quota.isna().any() or (quota < 0).any() or (quota != np.round(quota)).any():
        raise MethodInputError("store_quota must hold non-negative integers")
    if isinstance(segment_shares, pd.DataFrame):
        shares = segment_shares.reindex(quota.index).astype(float)
        if shares.isna().any().any():
            raise MethodInputError("segment_shares has no (or a missing) share for some store")
    else:
        s = pd.Series(segment_shares, dtype=float)
        shares = pd.DataFrame(
            np.tile(s.to_numpy(), (len(quota), 1)), index=quota.index, columns=s.index
        )
    arr = shares.to_numpy()
    if (arr < 0).any():
        raise MethodInputError("segment_shares must be non-negative")
    sums = arr.sum(axis=1)
    if (sums <= 0).any():
        raise MethodInputError("segment_shares must not be all zero for a store")
    arr = arr / sums[:, None] * quota.to_numpy(dtype=float)[:, None]
    cells = np.vstack([largest_remainder(row, int(n)) for row, n in zip(arr, quota, strict=True)])
    return pd.DataFrame(cells, index=quota.index, columns=shares.columns)
