"""How sure a score or a rank is: bootstrap intervals, shrinkage, tied bands, real change.

A store with six survey answers must not get a rank as sharp as one with six hundred. The
functions here take the underlying observations (one row per respondent or visit, with the
unit it belongs to) and say how much the unit's score and rank could move.

References
----------
- Efron, B. & Tibshirani, R. (1993). *An Introduction to the Bootstrap*. Chapman & Hall
  (percentile intervals; resampling within strata = units).
- Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications.
  *JASA* 78(381), 47-55.
- Goldstein, H. & Spiegelhalter, D. J. (1996). League tables and their limitations.
  *JRSS A* 159(3), 385-443 (intervals for ranks).
- Welch, B. L. (1947). The generalization of Student's problem when several different
  population variances are involved. *Biometrika* 34, 28-35.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError
from sqm.methods.composite import IndicatorTree, MissingPolicy, indicator_tree, leaf_core

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import scipy.stats as stats
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")
    pd = lazy_import("pandas")
    stats = lazy_import("scipy.stats")

__all__ = [
    "BootstrapResult",
    "ChangeResult",
    "ShrinkageResult",
    "bootstrap_composite",
    "change_by_unit",
    "change_test",
    "eb_shrinkage",
    "shrink_unit_means",
    "tied_bands",
]


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap uncertainty of composite scores and ranks, one row per unit.

    ``scores``: the composite of the full sample; ``se``: bootstrap standard error;
    ``lower``/``upper``: percentile interval at ``level``; ``ranks``: rank of ``scores``
    (1 = best); ``rank_lower``/``rank_upper``: percentile interval of the rank (best/worst
    plausible rank); ``n``: observations per unit; ``draws``: the bootstrap composites,
    replicates × units (for further summaries such as P(top 10)).
    """

    scores: pd.Series
    se: pd.Series
    lower: pd.Series
    upper: pd.Series
    ranks: pd.Series
    rank_lower: pd.Series
    rank_upper: pd.Series
    n: pd.Series
    level: float
    n_boot: int
    draws: FloatArray

    def p_top(self, k: int) -> pd.Series:
        """Share of bootstrap replicates in which each unit ranks in the top ``k``."""
        ranks = _ranks_rows(self.draws)
        return pd.Series((ranks <= k).mean(axis=0), index=self.scores.index, name=f"p_top_{k}")

    def frame(self) -> pd.DataFrame:
        """All per-unit fields as one DataFrame."""
        return pd.concat(
            {
                "score": self.scores,
                "se": self.se,
                "lower": self.lower,
                "upper": self.upper,
                "rank": self.ranks,
                "rank_lower": self.rank_lower,
                "rank_upper": self.rank_upper,
                "n": self.n,
            },
            axis=1,
        )


def _group(units: Any, n_rows: int) -> tuple[npt.NDArray[np.intp], pd.Index]:
    u = pd.Series(np.asarray(units))
    if u.shape[0] != n_rows:
        raise MethodInputError(
            f"units must give one unit per observation ({n_rows}), got {u.shape[0]}"
        )
    if u.isna().any():
        raise MethodInputError(
            f"units has a missing unit at row {int(np.argmax(u.isna().to_numpy()))}"
        )
    codes, uniques = pd.factorize(u, sort=True)
    return codes.astype(np.intp), pd.Index(uniques, name="unit")


def _ranks_rows(s: FloatArray) -> FloatArray:
    """Competition ranks (1 = highest) of every row of s; NaN stays NaN."""
    r = stats.rankdata(-s, axis=1, method="min", nan_policy="omit")
    return np.asarray(r, dtype=float)


def bootstrap_composite(
    values: pd.DataFrame,
    units: Any,
    tree: IndicatorTree | pd.Series | Any,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | None = 0,
    missing: MissingPolicy = "reweight",
    chunk: int = 50,
    block_values: int = 20_000_000,
) -> BootstrapResult:
    """Bootstrap intervals for units' composite scores and ranks.

    ``values``: one row per respondent/visit, one column per leaf indicator (scores, NaN =
    not answered); ``units``: the unit of each row; ``tree``: an :class:`IndicatorTree`, its
    edges, or a Series of leaf weights (a one-level tree). A unit's score is the composite of
    its leaf means. Each replicate resamples the rows *within each unit* with replacement
    (units are strata: every unit keeps its own sample size), recomputes every unit's
    composite, and ranks the units; percentile intervals at ``level`` summarise the
    replicates. Seeded: the same seed gives the same intervals.

    Without missing values the composite is linear in the rows, so each replicate only
    averages the rows' own composites (fast; ``chunk`` replicates at a time); with missing
    values each replicate recomputes leaf means and the tree with the ``missing`` policy
    (units in blocks of about ``block_values`` floats).

    >>> v = pd.DataFrame({"a": [80., 90, 70, 60, 65, 55], "b": [70., 80, 90, 50, 60, 40]})
    >>> r = bootstrap_composite(v, ["x", "x", "x", "y", "y", "y"], pd.Series({"a": .5, "b": .5}),
    ...                         n_boot=200, seed=1)
    >>> r.scores.tolist(), r.ranks.tolist()
    ([80.0, 55.0], [1, 2])
    """
    if not isinstance(values, pd.DataFrame):
        raise MethodInputError("values must be a DataFrame: observations × leaf indicators")
    if n_boot < 10:
        raise MethodInputError(f"n_boot must be at least 10, got {n_boot}")
    if not 0 < level < 1:
        raise MethodInputError(f"level must be in (0, 1), got {level}")
    if isinstance(tree, pd.Series):
        t = indicator_tree([("__total__", str(k), float(v)) for k, v in tree.items()])
    else:
        t = tree if isinstance(tree, IndicatorTree) else indicator_tree(tree)
    cols = [str(c) for c in values.columns]
    absent = [leaf for leaf in t.leaves if leaf not in cols]
    if absent:
        raise MethodInputError(f"values has no column for the leaf indicator(s) {absent[:5]}")
    x = values.set_axis(cols, axis=1)[list(t.leaves)].to_numpy(dtype=float)
    if np.isinf(x).any():
        raise MethodInputError("values has an infinite value")
    codes, labels = _group(units, x.shape[0])
    order = np.argsort(codes, kind="stable")
    x, codes = x[order], codes[order]
    sizes = np.bincount(codes, minlength=len(labels))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_units = len(labels)
    rng = np.random.default_rng(seed)
    slot_start = np.repeat(starts, sizes)
    slot_size = np.repeat(sizes, sizes)

    complete = not np.isnan(x).any()
    if complete:
        g = t.global_weights().reindex(list(t.leaves)).to_numpy()
        row_score = x @ g
        point = np.add.reduceat(row_score, starts) / sizes
        draws = np.empty((n_boot, n_units))
        for b0 in range(0, n_boot, chunk):
            b1 = min(b0 + chunk, n_boot)
            u = rng.random((b1 - b0, x.shape[0]))
            np.multiply(u, slot_size, out=u)  # in place: these arrays are the bulk of the cost
            idx = u.astype(np.intp)
            idx += slot_start
            draws[b0:b1] = np.add.reduceat(row_score[idx], starts, axis=1) / sizes
    else:
        # Unit by unit, all replicates at once: resampling counts (replicates × rows of the
        # unit) times the unit's rows gives every replicate's leaf sums and answer counts in
        # one small matrix product; units are processed in blocks so that the tree is
        # evaluated on large arrays while memory stays bounded.
        seen = ~np.isnan(x)
        stacked = np.hstack([np.where(seen, x, 0.0), seen.astype(float)])
        point = _composite_of_sums(t, np.add.reduceat(stacked, starts, axis=0), missing)
        draws = np.empty((n_boot, n_units))
        width = stacked.shape[1]
        block = max(1, int(block_values // (n_boot * width)))
        for u0 in range(0, n_units, block):
            u1 = min(u0 + block, n_units)
            sums = np.empty((n_boot, u1 - u0, width))
            for k in range(u0, u1):
                n_u = int(sizes[k])
                idx = rng.integers(0, n_u, size=(n_boot, n_u))
                idx += np.arange(n_boot)[:, None] * n_u
                counts = np.bincount(idx.ravel(), minlength=n_boot * n_u).reshape(n_boot, n_u)
                sums[:, k - u0] = counts @ stacked[starts[k] : starts[k] + n_u]
            flat = sums.reshape(-1, width)
            draws[:, u0:u1] = _composite_of_sums(t, flat, missing).reshape(n_boot, u1 - u0)

    alpha = (1.0 - level) / 2.0
    rank_draws = _ranks_rows(draws)
    point_rank = _ranks_rows(point[None, :])[0]
    lo, hi = _quantiles(draws, alpha)
    rlo, rhi = _quantiles(rank_draws, alpha)
    with np.errstate(invalid="ignore"):
        se = np.nanstd(draws, axis=0, ddof=1)

    def s(v: FloatArray, name: str) -> pd.Series:
        return pd.Series(v, index=labels, name=name)

    return BootstrapResult(
        scores=s(point, "score"),
        se=s(se, "se"),
        lower=s(lo, "lower"),
        upper=s(hi, "upper"),
        ranks=s(point_rank, "rank").astype("Int64"),
        rank_lower=s(np.floor(rlo), "rank_lower").astype("Int64"),
        rank_upper=s(np.ceil(rhi), "rank_upper").astype("Int64"),
        n=pd.Series(sizes, index=labels, name="n"),
        level=level,
        n_boot=n_boot,
        draws=draws,
    )


def _quantiles(draws: FloatArray, alpha: float) -> tuple[FloatArray, FloatArray]:
    """Percentiles per column; np.nanquantile (slow, column by column) only where needed."""
    lo = np.full(draws.shape[1], np.nan)
    hi = np.full(draws.shape[1], np.nan)
    gaps = np.isnan(draws).any(axis=0)
    if (~gaps).any():
        lo[~gaps], hi[~gaps] = np.quantile(draws[:, ~gaps], [alpha, 1 - alpha], axis=0)
    if gaps.any():
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo[gaps], hi[gaps] = np.nanquantile(draws[:, gaps], [alpha, 1 - alpha], axis=0)
    return lo, hi


def _composite_of_sums(t: IndicatorTree, sums: FloatArray, missing: MissingPolicy) -> FloatArray:
    k = len(t.leaves)
    totals, counts = sums[:, :k], sums[:, k:]
    answered = counts > 0
    means = np.divide(totals, counts, out=np.zeros_like(totals), where=answered)
    node_scores, _ = leaf_core(t, means, answered.astype(float), missing, None)
    return node_scores[:, -1]


# --------------------------------------------------------------------------- tied bands


def tied_bands(
    result: BootstrapResult | pd.DataFrame, *, method: Literal["chain", "anchor"] = "chain"
) -> pd.DataFrame:
    """Group a ranking into bands of statistically tied units.

    Units are taken in rank order; a unit joins the band of the unit ranked just above it
    when their rank intervals [rank_lower, rank_upper] overlap. A band of one is a unit
    clearly separated from its neighbours; a band of many is a set of units the data cannot
    order. With ``method="anchor"`` a band instead holds the units whose interval overlaps
    that of the band's best unit (no chaining: in a long league table chains tend to join
    everything). ``tied_with_previous``/``tied_with_next`` flag direct overlap with the unit just
    above/below. Input: a :class:`BootstrapResult` or a DataFrame with ``rank``,
    ``rank_lower``, ``rank_upper`` columns.

    >>> f = pd.DataFrame({"rank": [1, 2, 3], "rank_lower": [1, 1, 3], "rank_upper": [2, 2, 3]},
    ...                  index=["a", "b", "c"])
    >>> tied_bands(f)["band"].tolist()
    [1, 1, 2]
    """
    if isinstance(result, BootstrapResult):
        f = pd.DataFrame(
            {"rank": result.ranks, "rank_lower": result.rank_lower, "rank_upper": result.rank_upper}
        )
    else:
        need = {"rank", "rank_lower", "rank_upper"} - set(result.columns)
        if need:
            raise MethodInputError(f"result is missing the column(s) {sorted(need)}")
        f = result[["rank", "rank_lower", "rank_upper"]].copy()
    f = f.dropna().astype(float).sort_values(["rank", "rank_lower"], kind="stable")
    lo = f["rank_lower"].to_numpy()
    hi = f["rank_upper"].to_numpy()
    if method not in ("chain", "anchor"):
        raise MethodInputError(f"method must be 'chain' or 'anchor', got {method!r}")
    # chain: a new band starts where this unit's best plausible rank is worse than every
    # worst plausible rank seen so far in the band; anchor: worse than the band leader's.
    band = np.ones(len(f), dtype=np.int64)
    reach = hi[0] if len(f) else 0.0
    for k in range(1, len(f)):
        if lo[k] > reach:
            band[k] = band[k - 1] + 1
            reach = hi[k]
        else:
            band[k] = band[k - 1]
            if method == "chain":
                reach = max(reach, hi[k])
    f["band"] = band
    # Direct overlap with the unit just above / just below (a band may chain further).
    overlap = lo[1:] <= hi[:-1]
    f["tied_with_previous"] = np.concatenate([[False], overlap])
    f["tied_with_next"] = np.concatenate([overlap, [False]])
    f["band_size"] = f.groupby("band")["band"].transform("size").astype(np.int64)
    f["tied"] = f["band_size"] > 1
    for c in ("rank", "rank_lower", "rank_upper"):
        f[c] = f[c].astype(np.int64)
    return f


# --------------------------------------------------------------------------- shrinkage


@dataclass(frozen=True)
class ShrinkageResult:
    """Empirical-Bayes estimates of unit means.

    ``scores``: shrunken means; ``means``: raw means; ``n``; ``weights``: the weight
    1 − B_u that the unit's own mean keeps (0 = fully shrunk to the grand mean);
    ``se``: posterior standard deviation; ``grand_mean``, ``tau2`` (between-unit variance),
    ``sigma2`` (within-unit variance).
    """

    scores: pd.Series
    means: pd.Series
    n: pd.Series
    weights: pd.Series
    se: pd.Series
    grand_mean: float
    tau2: float
    sigma2: float


def eb_shrinkage(
    means: Any, n: Any, sigma2: float | Sequence[float] | FloatArray
) -> ShrinkageResult:
    """Empirical-Bayes shrinkage of unit means toward the grand mean (Morris 1983).

    Model: ȳ_u ~ N(θ_u, v_u) with v_u = σ²/n_u, θ_u ~ N(μ, τ²). Method of moments:
    τ̂² = max(0, s²(ȳ) − mean(v_u)) with s² the sample variance of the unit means;
    μ̂ = Σ w_u ȳ_u / Σ w_u with w_u = 1/(τ̂² + v_u); B_u = v_u/(v_u + τ̂²);
    θ̂_u = μ̂ + (1 − B_u)(ȳ_u − μ̂), posterior sd sqrt((1 − B_u) v_u).
    ``sigma2`` is the within-unit variance, one pooled value or one per unit.

    >>> r = eb_shrinkage([60.0, 80.0, 70.0], [4, 4, 100], 100.0)
    >>> round(r.tau2, 3), np.round(r.weights, 3).tolist()
    (83.0, [0.769, 0.769, 0.988])
    """
    labels = means.index if isinstance(means, pd.Series) else None
    y = np.asarray(means, dtype=float).ravel()
    k = np.asarray(n, dtype=float).ravel()
    if y.shape != k.shape:
        raise MethodInputError(f"means and n must have the same length, got {y.size} and {k.size}")
    if y.size < 3:
        raise MethodInputError(f"shrinkage needs at least 3 units to estimate τ², got {y.size}")
    if np.isnan(y).any() or np.isnan(k).any():
        raise MethodInputError("means and n must have no missing values")
    if (k < 1).any():
        raise MethodInputError("every unit needs at least one observation (n ≥ 1)")
    s2 = np.broadcast_to(np.asarray(sigma2, dtype=float), y.shape)
    if np.isnan(s2).any() or (s2 < 0).any():
        raise MethodInputError("sigma2 must be non-negative")
    v = s2 / k
    tau2 = max(0.0, float(np.var(y, ddof=1) - v.mean()))
    w = 1.0 / (tau2 + v) if tau2 > 0 or (v > 0).all() else np.ones_like(v)
    mu = float((w * y).sum() / w.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(v + tau2 > 0, v / (v + tau2), 0.0)
    theta = mu + (1.0 - b) * (y - mu)
    idx = labels if labels is not None else pd.RangeIndex(y.size)
    return ShrinkageResult(
        scores=pd.Series(theta, index=idx, name="score"),
        means=pd.Series(y, index=idx, name="mean"),
        n=pd.Series(k, index=idx, name="n"),
        weights=pd.Series(1.0 - b, index=idx, name="weight"),
        se=pd.Series(np.sqrt((1.0 - b) * v), index=idx, name="se"),
        grand_mean=mu,
        tau2=tau2,
        sigma2=float(np.mean(s2)),
    )


def shrink_unit_means(values: Any, units: Any) -> ShrinkageResult:
    """Empirical-Bayes unit means from raw observations, with the pooled within-unit variance.

    σ² = Σ_u Σ_i (y_ui − ȳ_u)² / (N − U), then :func:`eb_shrinkage`.

    >>> r = shrink_unit_means([60, 62, 58, 80, 90, 70, 71, 69], list("aaabbbcc"))
    >>> r.scores.index.tolist()
    ['a', 'b', 'c']
    """
    y = np.asarray(values, dtype=float).ravel()
    if np.isnan(y).any():
        raise MethodInputError(
            f"values has a missing value at position {int(np.argmax(np.isnan(y)))}"
        )
    codes, labels = _group(units, y.size)
    n = np.bincount(codes, minlength=len(labels)).astype(float)
    means = np.bincount(codes, weights=y, minlength=len(labels)) / n
    dof = y.size - len(labels)
    if dof < 1:
        raise MethodInputError("too few observations: need more observations than units for σ²")
    sigma2 = float(((y - means[codes]) ** 2).sum() / dof)
    return eb_shrinkage(pd.Series(means, index=labels), n, sigma2)


# --------------------------------------------------------------------------- change


@dataclass(frozen=True)
class ChangeResult:
    """Is the change of a unit's mean between two periods real?

    ``change`` = mean(after) − mean(before); Welch's ``t``, ``df``, ``p_value`` and
    ``lower``/``upper`` interval; the bootstrap interval ``boot_lower``/``boot_upper`` and
    two-sided ``boot_p_value``; ``significant``: the Welch p-value is below 1 − level.
    """

    change: float
    t: float
    df: float
    p_value: float
    lower: float
    upper: float
    boot_lower: float
    boot_upper: float
    boot_p_value: float
    significant: bool


def _sample(x: Any, name: str) -> FloatArray:
    a = np.asarray(x, dtype=float).ravel()
    if np.isnan(a).any():
        raise MethodInputError(
            f"{name} has a missing value at position {int(np.argmax(np.isnan(a)))}"
        )
    if a.size < 2:
        raise MethodInputError(f"{name} needs at least 2 observations, got {a.size}")
    return a


def _welch(
    m1: FloatArray, v1: FloatArray, n1: FloatArray, m2: FloatArray, v2: FloatArray, n2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    a, b = v1 / n1, v2 / n2
    se = np.sqrt(a + b)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (m2 - m1) / se
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
    p = 2 * stats.t.sf(np.abs(t), df)
    return t, df, p, se


def change_test(
    before: Any, after: Any, *, level: float = 0.95, n_boot: int = 2000, seed: int | None = 0
) -> ChangeResult:
    """Test whether a unit's mean changed between two periods (Welch t and bootstrap).

    Welch: t = (ȳ₂ − ȳ₁)/sqrt(s₁²/n₁ + s₂²/n₂) with Welch–Satterthwaite df. Bootstrap: each
    period is resampled independently; the percentile interval of the change and the
    two-sided p-value 2·min(P(Δ* ≤ 0), P(Δ* ≥ 0)).

    >>> r = change_test([70, 72, 68, 71, 69], [75, 77, 74, 76, 78])
    >>> round(r.change, 2), r.significant
    (6.0, True)
    """
    x1, x2 = _sample(before, "before"), _sample(after, "after")
    t, df, p, se = _welch(
        np.array(x1.mean()),
        np.array(x1.var(ddof=1)),
        np.array(float(x1.size)),
        np.array(x2.mean()),
        np.array(x2.var(ddof=1)),
        np.array(float(x2.size)),
    )
    change = float(x2.mean() - x1.mean())
    q = float(stats.t.ppf(0.5 + level / 2, df)) if np.isfinite(df) else np.nan
    rng = np.random.default_rng(seed)
    d = x2[rng.integers(0, x2.size, (n_boot, x2.size))].mean(axis=1) - x1[
        rng.integers(0, x1.size, (n_boot, x1.size))
    ].mean(axis=1)
    alpha = (1 - level) / 2
    blo, bhi = np.quantile(d, [alpha, 1 - alpha])
    bp = float(min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean())))
    p_value = float(p) if np.isfinite(p) else (0.0 if change != 0 else 1.0)
    return ChangeResult(
        change=change,
        t=float(t),
        df=float(df),
        p_value=p_value,
        lower=change - q * float(se),
        upper=change + q * float(se),
        boot_lower=float(blo),
        boot_upper=float(bhi),
        boot_p_value=bp,
        significant=bool(p_value < 1 - level),
    )


def change_by_unit(
    before: Any, before_units: Any, after: Any, after_units: Any, *, level: float = 0.95
) -> pd.DataFrame:
    """Welch tests of the change of every unit's mean, vectorised over units.

    Returns one row per unit present in both periods with ``mean_before``, ``mean_after``,
    ``change``, ``t``, ``df``, ``p_value``, ``lower``, ``upper``, ``significant``; units
    with fewer than 2 observations in a period get NaN statistics.

    >>> f = change_by_unit([1, 2, 3, 5, 6, 7], list("aaabbb"), [4, 5, 6, 5, 6, 7], list("aaabbb"))
    >>> f["change"].tolist()
    [3.0, 0.0]
    """

    def summary(v: Any, u: Any, name: str) -> pd.DataFrame:
        y = np.asarray(v, dtype=float).ravel()
        if np.isnan(y).any():
            raise MethodInputError(f"{name} has a missing value")
        codes, labels = _group(u, y.size)
        n = np.bincount(codes, minlength=len(labels)).astype(float)
        m = np.bincount(codes, weights=y, minlength=len(labels)) / n
        ss = np.bincount(codes, weights=(y - m[codes]) ** 2, minlength=len(labels))
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.where(n > 1, ss / (n - 1), np.nan)
        return pd.DataFrame({"n": n, "mean": m, "var": var}, index=labels)

    b = summary(before, before_units, "before")
    a = summary(after, after_units, "after")
    common = b.index.intersection(a.index)
    b, a = b.loc[common], a.loc[common]
    t, df, p, se = _welch(
        b["mean"].to_numpy(),
        b["var"].to_numpy(),
        b["n"].to_numpy(),
        a["mean"].to_numpy(),
        a["var"].to_numpy(),
        a["n"].to_numpy(),
    )
    change = a["mean"].to_numpy() - b["mean"].to_numpy()
    with np.errstate(invalid="ignore"):
        q = stats.t.ppf(0.5 + level / 2, df)
    out = pd.DataFrame(
        {
            "n_before": b["n"].astype(np.int64),
            "n_after": a["n"].astype(np.int64),
            "mean_before": b["mean"],
            "mean_after": a["mean"],
            "change": change,
            "t": t,
            "df": df,
            "p_value": p,
            "lower": change - q * se,
            "upper": change + q * se,
        },
        index=common,
    )
    out["significant"] = out["p_value"] < 1 - level
    return out
