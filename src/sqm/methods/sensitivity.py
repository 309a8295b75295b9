"""Rank sensitivity to the weights: does a unit's rank hinge on a debatable weight?

The composite here is the weighted mean of criterion scores (units × criteria), re-weighted
over the observed criteria of each unit. Weights are perturbed, the units re-ranked, and the
spread of ranks reported per unit and per weight.

Reference: Saisana, M., Saltelli, A. & Tarantola, S. (2005). Uncertainty and sensitivity
analysis techniques as tools for the quality assessment of composite indicators.
*JRSS A* 168(2), 307-323; OECD/JRC (2008). *Handbook on Constructing Composite Indicators*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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

__all__ = ["SensitivityResult", "weight_sensitivity"]


@dataclass(frozen=True)
class SensitivityResult:
    """Rank sensitivity to weight perturbation.

    ``units``: per unit ``rank`` (with the base weights), ``rank_min``, ``rank_max``,
    ``rank_median``, ``p_keep`` (share of draws keeping the base rank) and, if ``top_k``
    was given, ``p_top_k`` (share of draws in the top k). ``weights``: per weight, the
    one-at-a-time effect of moving it down/up by the full spread (Spearman ρ with the base
    ranking, largest rank shift of any unit, number of units whose rank moves).
    ``spearman``: Spearman ρ of each Monte Carlo draw with the base ranking.
    """

    units: pd.DataFrame
    weights: pd.DataFrame
    spearman: FloatArray
    spread: float
    n_draws: int


def _scores(x0: FloatArray, seen: FloatArray, w: FloatArray) -> FloatArray:
    """Weighted means re-weighted over observed criteria: units × draws for w criteria × draws."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (x0 @ w) / (seen @ w)


def _rank_cols(s: FloatArray) -> FloatArray:
    return np.asarray(stats.rankdata(-s, axis=0, method="min", nan_policy="omit"), dtype=float)


def _spearman_cols(base: FloatArray, s: FloatArray) -> FloatArray:
    """Spearman ρ between the base score vector and each column of s (average ranks)."""
    rb = stats.rankdata(base)
    rs = stats.rankdata(s, axis=0)
    rb = rb - rb.mean()
    rs = rs - rs.mean(axis=0)
    denom = np.sqrt((rb**2).sum() * (rs**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((rb @ rs) / denom, dtype=float)


def weight_sensitivity(
    X: Any,
    weights: Any,
    *,
    spread: float = 0.2,
    n_draws: int = 1000,
    seed: int | None = 0,
    top_k: int | None = None,
) -> SensitivityResult:
    """Monte Carlo and one-at-a-time sensitivity of a ranking to its weights.

    Each draw multiplies every weight by an independent factor uniform in
    [1 − spread, 1 + spread] (±20 % by default), renormalises to sum 1, recomputes the
    composite Σ_j w_j x_ij / Σ_{j observed} w_j and ranks the units (1 = best, ties share the
    better rank). Seeded. ``X``: units × criteria scores (higher is better; NaN = not
    observed); ``weights``: one per criterion (Series aligned by label).

    >>> X = pd.DataFrame({"a": [90, 70, 60], "b": [70, 88, 70]}, index=["s1", "s2", "s3"])
    >>> r = weight_sensitivity(X, [0.5, 0.5], n_draws=200)
    >>> r.units["rank"].tolist(), r.units["p_keep"].round(2).tolist()
    ([1, 2, 3], [0.74, 0.74, 1.0])
    """
    if not 0 <= spread < 1:
        raise MethodInputError(f"spread must be in [0, 1), got {spread}")
    if n_draws < 1:
        raise MethodInputError(f"n_draws must be positive, got {n_draws}")
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))
    if frame.shape[0] < 2:
        raise MethodInputError("X needs at least 2 units to rank")
    x = frame.to_numpy(dtype=float)
    if np.isinf(x).any():
        raise MethodInputError("X has an infinite value")
    if isinstance(weights, pd.Series) and isinstance(X, pd.DataFrame):
        if set(weights.index) != set(frame.columns):
            raise MethodInputError("weights must be labelled by the same criteria as X's columns")
        weights = weights.reindex(frame.columns)
    w = np.asarray(weights, dtype=float).ravel()
    k = x.shape[1]
    if w.shape[0] != k or np.isnan(w).any() or (w < 0).any() or w.sum() <= 0:
        raise MethodInputError(f"weights must be {k} non-negative numbers with a positive sum")
    w = w / w.sum()
    seen = (~np.isnan(x)).astype(float)
    x0 = np.where(np.isnan(x), 0.0, x)

    base = _scores(x0, seen, w[:, None])[:, 0]
    base_rank = _rank_cols(base[:, None])[:, 0]
    rng = np.random.default_rng(seed)
    factors = rng.uniform(1 - spread, 1 + spread, size=(k, n_draws))
    wd = w[:, None] * factors
    wd /= wd.sum(axis=0, keepdims=True)
    s = _scores(x0, seen, wd)
    ranks = _rank_cols(s)
    valid = ~np.isnan(base)
    units = pd.DataFrame(
        {
            "rank": base_rank,
            "rank_min": np.nanmin(ranks, axis=1),
            "rank_max": np.nanmax(ranks, axis=1),
            # np.nanmedian goes row by row in Python; only pay for it when NaN are present.
            "rank_median": (
                np.nanmedian(ranks, axis=1) if np.isnan(ranks).any() else np.median(ranks, axis=1)
            ),
            "p_keep": (ranks == base_rank[:, None]).mean(axis=1),
        },
        index=frame.index,
    )
    if top_k is not None:
        units[f"p_top_{top_k}"] = (ranks <= top_k).mean(axis=1)
    for c in ("rank", "rank_min", "rank_max"):
        units[c] = units[c].astype("Int64")
    units.loc[~valid, "p_keep"] = np.nan
    spearman = _spearman_cols(base[valid], s[valid])

    # One-at-a-time: every weight moved down and up by the full spread, all 2k weight
    # vectors scored in one product (columns 0..k-1 down, k..2k-1 up).
    oat = np.tile(w[:, None], (1, 2 * k))
    j = np.arange(k)
    oat[j, j] *= 1 - spread
    oat[j, k + j] *= 1 + spread
    oat /= oat.sum(axis=0, keepdims=True)
    s_oat = _scores(x0, seen, oat)
    shift = np.abs(_rank_cols(s_oat) - base_rank[:, None])[valid]
    rho = _spearman_cols(base[valid], s_oat[valid])
    rows = [
        {
            "weight": w[i],
            "spearman_down": float(rho[i]),
            "spearman_up": float(rho[k + i]),
            "max_shift_down": float(shift[:, i].max()),
            "max_shift_up": float(shift[:, k + i].max()),
            "units_moved_down": int((shift[:, i] > 0).sum()),
            "units_moved_up": int((shift[:, k + i] > 0).sum()),
        }
        for i in range(k)
    ]
    per_weight = pd.DataFrame(rows, index=frame.columns)
    return SensitivityResult(
        units=units, weights=per_weight, spearman=spearman, spread=spread, n_draws=n_draws
    )
