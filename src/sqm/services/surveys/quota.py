"""Quota plans and quota progress for survey waves.

The chain's plan asks for at least five intercept interviews per store and more in busier
stores ("每个门店拦截顾客的数量最好参照该门店客流量的多少来确定 … 不少于5人"): the wave
total is shared over stores in proportion to traffic with a minimum per store
(:func:`sqm.methods.sampling.allocate_proportional`), and, when the wave is interlocked,
each store's quota is split over customer segments
(:func:`sqm.methods.sampling.interlocked_quotas`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqm.domain.errors import RuleError
from sqm.domain.wave import ANY_SEGMENT, QuotaCell, Wave
from sqm.lazy import lazy_import
from sqm.methods.sampling import (
    allocate_proportional,
    interlocked_quotas,
    sample_size_mean,
    sample_size_proportion,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")


def plan_quotas(
    traffic: Mapping[str, float],
    total: int,
    *,
    minimum: int = 5,
    segment_shares: Mapping[str, float] | None = None,
) -> tuple[QuotaCell, ...]:
    """Quota cells for a wave: ``total`` shared over stores by traffic, each store at least
    ``minimum``; split into store × segment cells when ``segment_shares`` is given.

    >>> [(c.unit, c.target) for c in plan_quotas({"A": 1000, "B": 300, "C": 50}, 40)]
    [('A', 27), ('B', 8), ('C', 5)]
    >>> [(c.unit, c.segment, c.target) for c in plan_quotas({"A": 1, "B": 1}, 20,
    ...     segment_shares={"business": 0.3, "ordinary": 0.7})]
    [('A', 'business', 3), ('A', 'ordinary', 7), ('B', 'business', 3), ('B', 'ordinary', 7)]
    """
    per_store = allocate_proportional(dict(traffic), total, minimum=minimum)
    if segment_shares is None:
        return tuple(QuotaCell(str(u), ANY_SEGMENT, int(n)) for u, n in per_store.items())
    cells = interlocked_quotas(per_store, dict(segment_shares))
    return tuple(
        QuotaCell(str(u), str(seg), int(cells.loc[u, seg]))
        for u in cells.index
        for seg in cells.columns
    )


def achieved_counts(
    answers: pd.DataFrame, *, interlocked: bool, segment_column: str = "segment_name"
) -> dict[tuple[str, str], int]:
    """Answers counted per quota cell key from an answers frame (``unit`` and, when
    interlocked, the segment column; rows flagged ``over_quota`` are not counted)."""
    frame = answers
    if "over_quota" in frame.columns:
        frame = frame[~frame["over_quota"].astype(bool)]
    if interlocked:
        if segment_column not in frame.columns:
            raise RuleError(f"answers need a {segment_column!r} column for interlocked quotas")
        counts = frame.groupby(["unit", segment_column], observed=True).size()
        return {
            (str(u), str(s)): int(n)
            for u, s, n in zip(
                counts.index.get_level_values(0),
                counts.index.get_level_values(1),
                counts.to_numpy(),
                strict=True,
            )
        }
    counts = frame.groupby("unit", observed=True).size()
    return {(str(u), ANY_SEGMENT): int(n) for u, n in counts.items()}


def quota_progress(
    wave: Wave,
    achieved: Mapping[tuple[str, str], int],
    over_quota: Mapping[tuple[str, str], int] | None = None,
) -> pd.DataFrame:
    """Quota fill per cell: target, achieved (capped counts never exceed what was
    accepted in quota), over-quota answers, remaining and fill in percent, plus one total
    row per store when the wave is interlocked.

    >>> from sqm.domain.wave import Wave, QuotaCell
    >>> w = Wave("w", "2026-10", "nps_csat", 1, (QuotaCell("A", "*", 10), QuotaCell("B", "*", 5)))
    >>> quota_progress(w, {("A", "*"): 4, ("B", "*"): 5})["fill_pct"].tolist()
    [40.0, 100.0]
    """
    over = over_quota or {}
    rows = []
    for c in wave.quotas:
        got = int(achieved.get(c.key, 0))
        extra = int(over.get(c.key, 0))
        rows.append(
            {
                "unit": c.unit,
                "segment": c.segment,
                "target": c.target,
                "achieved": got,
                "over_quota": extra,
                "remaining": max(c.target - got, 0),
                "fill_pct": 100.0 * min(got, c.target) / c.target if c.target else 100.0,
                "full": got >= c.target,
            }
        )
    frame = pd.DataFrame(rows)
    if wave.interlocked and not frame.empty:
        totals = frame.groupby("unit", sort=False).agg(
            target=("target", "sum"),
            achieved=("achieved", "sum"),
            over_quota=("over_quota", "sum"),
            remaining=("remaining", "sum"),
        )
        totals["segment"] = ANY_SEGMENT
        capped = (
            frame.assign(c=np.minimum(frame["achieved"], frame["target"]))
            .groupby("unit", sort=False)["c"]
            .sum()
        )
        totals["fill_pct"] = np.where(
            totals["target"] > 0,
            100.0 * capped / totals["target"].where(totals["target"] > 0, 1),
            100.0,
        )
        totals["full"] = totals["remaining"] == 0
        frame = pd.concat([frame, totals.reset_index()[frame.columns]], ignore_index=True)
    return frame


def sample_size_for_margin(
    margin: float,
    *,
    confidence: float = 0.95,
    proportion: float | None = 0.5,
    sd: float | None = None,
    population: float | None = None,
) -> int:
    """Interviews needed for a wanted margin of error (a sample-size calculator).

    With ``sd`` given the margin is on a mean score (``n₀ = (z·sd/e)²``), otherwise on a
    proportion (``n₀ = z²·p(1−p)/e²``, worst case p = 0.5); both with the finite-population
    correction ``n = n₀ / (1 + (n₀ − 1)/N)`` when ``population`` N is known.
    Cochran, W. G. (1977), *Sampling Techniques*, 3rd ed., §4.4.

    >>> sample_size_for_margin(0.05)
    385
    """
    if sd is not None:
        return sample_size_mean(margin, sd, confidence=confidence, population=population)
    return sample_size_proportion(
        margin,
        confidence=confidence,
        p=0.5 if proportion is None else proportion,
        population=population,
    )


def margin_calculator(margin: str | None, population: str | None = None) -> dict[str, Any] | None:
    """The sample-size calculator of the waves page, from its typed inputs: ``margin`` in
    percentage points and an optional ``population``. None when no margin is given;
    ``{"error": …}`` when an input is not a usable number.

    >>> margin_calculator("5", "2000")
    {'margin': 5.0, 'population': 2000.0, 'n': 323}
    >>> margin_calculator("x")["error"]
    "could not convert string to float: 'x'"
    """
    if not margin:
        return None
    try:
        m = float(margin) / 100.0
        pop_raw = population or ""
        pop = float(pop_raw) if pop_raw.strip() else None
        return {
            "margin": float(margin),
            "population": pop,
            "n": sample_size_for_margin(m, population=pop),
        }
    except ValueError as exc:
        return {"error": str(exc)}
