"""Survey weights: post-stratification, raking, design effect and margins of error.

A quota sample per store rarely matches the customer population (business and
ordinary customers, stores of different traffic). Weights make the sample
represent the population; the design effect says how much precision the weighting
costs, and the margins of error below use the weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    "RakeResult",
    "WeightedEstimate",
    "design_effect",
    "effective_sample_size",
    "margin_of_error",
    "post_stratify",
    "rake",
    "weighted_mean",
    "weighted_proportion",
]


def _base(base_weights: Any, n: int) -> FloatArray:
    if base_weights is None:
        return np.ones(n)
    w = np.asarray(base_weights, dtype=float).ravel()
    if w.shape[0] != n:
        raise MethodInputError(f"base_weights must have {n} values, got {w.shape[0]}")
    if not np.isfinite(w).all() or (w <= 0).any():
        raise MethodInputError("base_weights must be finite and positive (no NaN)")
    return w


def _cell_keys(cells: Any) -> pd.Series:
    if isinstance(cells, pd.DataFrame):
        if cells.isna().any().any():
            raise MethodInputError("cells has a missing value; every respondent needs a cell")
        if cells.shape[1] == 1:
            return cells.iloc[:, 0].reset_index(drop=True)
        return pd.Series(list(cells.itertuples(index=False, name=None)))
    s = pd.Series(np.asarray(cells, dtype=object).ravel())
    if s.isna().any():
        raise MethodInputError("cells has a missing value; every respondent needs a cell")
    return s


def post_stratify(
    cells: Any, population: Mapping[Any, float] | pd.Series, base_weights: Any = None
) -> FloatArray:
    """Post-stratification weights: each cell's weights scaled up to its known total.

    ``wᵢ = dᵢ · N_h / Σ_{j∈h} dⱼ`` for respondent ``i`` in cell ``h`` with base weight
    ``dᵢ`` (1 if not given) and population total ``N_h``. The weights sum to the
    population total within every cell. ``cells`` is one label per respondent (or a
    DataFrame whose rows' tuples are the cell, matching tuple keys in
    ``population``). Every population cell needs at least one respondent, and every
    respondent's cell must be in ``population``.

    Reference: Lohr, S. L. (2019), *Sampling: Design and Analysis*, 3rd ed., §4.4.

    >>> post_stratify(["biz", "biz", "ord"], {"biz": 30, "ord": 70}).tolist()
    [15.0, 15.0, 70.0]
    """
    keys = _cell_keys(cells)
    d = _base(base_weights, len(keys))
    pop = pd.Series(population, dtype=float)
    if pop.isna().any() or (pop <= 0).any():
        raise MethodInputError("population totals must be positive numbers")
    unknown = sorted(set(keys) - set(pop.index), key=str)
    if unknown:
        raise MethodInputError(f"cells {unknown[:5]} of the sample have no population total")
    sample_tot = pd.Series(d).groupby(keys.to_numpy()).sum()
    empty = [c for c in pop.index if c not in sample_tot.index]
    if empty:
        raise MethodInputError(
            f"population cell(s) {empty[:5]} have no respondent; collapse them with a "
            "neighbouring cell before post-stratifying"
        )
    factor = pop / sample_tot.reindex(pop.index)
    return np.asarray(d * factor.reindex(keys.to_numpy()).to_numpy(), dtype=float)


@dataclass(frozen=True)
class RakeResult:
    """Raking result: ``weights`` (one per respondent), ``iterations`` used,
    ``converged``, and ``max_error`` — the largest absolute gap between a weighted
    margin and its target at the end."""

    weights: FloatArray
    iterations: int
    converged: bool
    max_error: float


def rake(
    data: pd.DataFrame,
    margins: Mapping[str, Mapping[Any, float] | pd.Series],
    base_weights: Any = None,
    max_iter: int = 100,
    tol: float = 1e-8,
    trim: tuple[float, float] | None = None,
) -> RakeResult:
    """Raking (iterative proportional fitting) of weights to known population margins.

    Cycles over the variables in ``margins``; for variable ``v`` each respondent's
    weight is multiplied by ``T_{v,c} / Σ_{i: vᵢ=c} wᵢ`` so the weighted counts match
    the targets ``T_{v,c}``. Stops when every weighted margin is within ``tol`` ×
    population total of its target (``converged=True``) or after ``max_iter``
    cycles. Every margin must sum to the same population total (within 1e-6
    relative) and every category of the sample must have a target and vice versa.

    ``trim=(low, high)``: after each cycle weights are clipped to ``[low·w̄, high·w̄]``
    (w̄ = N/n, the mean weight once the margins hold), then raking continues, so the result satisfies the bounds
    and, when that is feasible, the margins (trimmed raking as in the ANES weighting
    procedure; DeBell & Krosnick 2009).

    Reference: Deming, W. E. & Stephan, F. F. (1940), *Ann. Math. Stat.* 11, 427–444;
    Kalton, G. & Flores-Cervantes, I. (2003), *J. Official Statistics* 19, 81–97.

    >>> df = pd.DataFrame({"seg": ["b", "b", "o", "o"], "area": ["n", "s", "n", "s"]})
    >>> r = rake(df, {"seg": {"b": 40, "o": 60}, "area": {"n": 50, "s": 50}})
    >>> r.weights.round(2).tolist()
    [20.0, 20.0, 30.0, 30.0]
    """
    if not isinstance(data, pd.DataFrame):
        raise MethodInputError("data must be a DataFrame with one column per raking variable")
    if not margins:
        raise MethodInputError("margins must name at least one variable")
    if max_iter < 1:
        raise MethodInputError(f"max_iter must be at least 1, got {max_iter}")
    n = data.shape[0]
    if n < 1:
        raise MethodInputError("data has no respondents")
    w: FloatArray = _base(base_weights, n).copy()
    codes: list[tuple[str, FloatArray, np.ndarray]] = []
    totals = []
    for var, target in margins.items():
        if var not in data.columns:
            raise MethodInputError(f"margins names {var!r}, which is not a column of data")
        col = data[var]
        if col.isna().any():
            raise MethodInputError(f"data[{var!r}] has a missing value; impute or drop it first")
        t = pd.Series(target, dtype=float)
        if t.isna().any() or (t <= 0).any():
            raise MethodInputError(f"margins[{var!r}] must hold positive totals")
        unknown = sorted(set(col.unique()) - set(t.index), key=str)
        if unknown:
            raise MethodInputError(f"data[{var!r}] has categories {unknown[:5]} with no target")
        idx = pd.Index(t.index).get_indexer(col.to_numpy())
        counts = np.bincount(idx, minlength=len(t))
        if (counts == 0).any():
            empty = [t.index[int(i)] for i in np.flatnonzero(counts == 0)]
            raise MethodInputError(
                f"margins[{var!r}] categories {empty[:5]} have no respondent; collapse them"
            )
        codes.append((str(var), t.to_numpy(), idx))
        totals.append(float(t.sum()))
    if max(totals) - min(totals) > 1e-6 * max(totals):
        raise MethodInputError(
            "margins must all sum to the same population total, got "
            + ", ".join(f"{v}={s:g}" for (v, _, _), s in zip(codes, totals, strict=True))
        )
    if trim is not None:
        lo, hi = trim
        if not 0 <= lo < 1 < hi:
            raise MethodInputError(f"trim must be (low, high) with 0 ≤ low < 1 < high, got {trim}")
    population = totals[0]

    def max_error() -> float:
        return max(
            float(np.abs(np.bincount(idx, weights=w, minlength=len(tg)) - tg).max())
            for _, tg, idx in codes
        )

    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007
        for _, tg, idx in codes:
            current = np.bincount(idx, weights=w, minlength=len(tg))
            w *= (tg / current)[idx]
        if trim is not None:
            # Bounds relative to the mean weight the margins imply (N / n), which is
            # fixed, so that trimmed and converged weights satisfy them exactly.
            w = np.clip(w, trim[0] * population / n, trim[1] * population / n)
        if max_error() <= tol * population:
            converged = True
            break
    return RakeResult(weights=w, iterations=iterations, converged=converged, max_error=max_error())


def design_effect(weights: Any) -> float:
    """Kish's design effect due to unequal weighting: ``deff = n·Σw² / (Σw)² = 1 + CV²``.

    (CV = standard deviation / mean of the weights, population form.) The variance
    of a weighted mean is roughly ``deff`` times that of an unweighted mean of the
    same size.

    Reference: Kish, L. (1965), *Survey Sampling*, §11.7; Kish, L. (1992), *J. Official
    Statistics* 8, 183–200.

    >>> design_effect([1, 1, 2, 2])
    1.1111111111111112
    """
    w = np.asarray(weights, dtype=float).ravel()
    if w.size < 1 or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise MethodInputError("weights must be finite, non-negative, not all zero")
    return float(w.size * (w**2).sum() / w.sum() ** 2)


def effective_sample_size(weights: Any) -> float:
    """Kish's effective sample size ``n / deff = (Σw)² / Σw²``.

    >>> effective_sample_size([1, 1, 2, 2])
    3.6
    """
    w = np.asarray(weights, dtype=float).ravel()
    design_effect(w)
    return float(w.sum() ** 2 / (w**2).sum())


@dataclass(frozen=True)
class WeightedEstimate:
    """A weighted mean (or proportion) with its standard error and margin of error.

    ``moe`` is the half-width of the interval; ``deff`` the Kish design effect of
    the weights; ``method`` names the variance estimator used.
    """

    estimate: float
    se: float
    moe: float
    lower: float
    upper: float
    n: int
    n_eff: float
    deff: float
    method: str


def weighted_mean(
    x: Any,
    weights: Any,
    confidence: float = 0.95,
    method: Literal["linearisation", "kish"] = "linearisation",
) -> WeightedEstimate:
    """Weighted mean ``ȳ_w = Σwy / Σw`` with a margin of error under the weights.

    ``method="linearisation"`` (default): Taylor linearisation of the ratio estimator
    for a single-stage with-replacement design, ``v = n/(n−1) · Σ wᵢ²(yᵢ − ȳ_w)² / (Σw)²``
    (what R's ``survey::svymean`` gives for ``svydesign(ids=~1, weights=~w)``).
    ``method="kish"``: ``v = deff · s²/n`` with ``s²`` the weighted variance, i.e.
    the unweighted formula on the effective sample size. The interval uses the
    normal quantile. Equal weights give ``s/√n`` under both methods.

    Reference: Lohr (2019), §9.1 and §7.5; Kish (1965).

    >>> r = weighted_mean([1, 2, 3, 4], [1, 1, 1, 1])
    >>> r.estimate, round(r.se, 4)
    (2.5, 0.6455)
    """
    y = np.asarray(x, dtype=float).ravel()
    n = y.size
    if n < 2:
        raise MethodInputError(f"x needs at least 2 observations, got {n}")
    if not np.isfinite(y).all():
        raise MethodInputError(
            f"x has a missing or infinite value at position {int(np.argmax(~np.isfinite(y)))}"
        )
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != n:
        raise MethodInputError(f"weights must have one value per observation ({n}), got {w.size}")
    deff = design_effect(w)
    if not 0 < confidence < 1:
        raise MethodInputError(f"confidence must be in (0, 1), got {confidence}")
    total = w.sum()
    est = float((w * y).sum() / total)
    resid = y - est
    if method == "linearisation":
        var = n / (n - 1) * float((w**2 * resid**2).sum()) / total**2
    elif method == "kish":
        s2 = float((w * resid**2).sum() / total) * n / (n - 1)
        var = deff * s2 / n
    else:
        raise MethodInputError(f"method must be 'linearisation' or 'kish', got {method!r}")
    se = float(np.sqrt(var))
    z = float(stats.norm.isf((1 - confidence) / 2))
    return WeightedEstimate(
        estimate=est,
        se=se,
        moe=z * se,
        lower=est - z * se,
        upper=est + z * se,
        n=n,
        n_eff=n / deff,
        deff=deff,
        method=method,
    )


def weighted_proportion(
    indicator: Any,
    weights: Any,
    confidence: float = 0.95,
    method: Literal["linearisation", "kish"] = "linearisation",
) -> WeightedEstimate:
    """Weighted proportion of a 0/1 indicator: :func:`weighted_mean` of the indicator.

    >>> round(weighted_proportion([1, 0, 1, 1], [2, 1, 1, 1]).estimate, 2)
    0.8
    """
    y = np.asarray(indicator, dtype=float).ravel()
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise MethodInputError("indicator must contain only 0 and 1 (no NaN)")
    return weighted_mean(y, weights, confidence, method)


def margin_of_error(
    x: Any,
    weights: Any = None,
    confidence: float = 0.95,
    method: Literal["linearisation", "kish"] = "linearisation",
) -> float:
    """Margin of error (interval half-width ``z·se``) of a weighted mean or proportion.

    The standard error is that of :func:`weighted_mean` (``method`` selects
    linearisation or Kish); without ``weights`` every answer weighs the same and the
    result is the textbook ``z·s/√n``.

    >>> round(margin_of_error([1, 0, 1, 1, 0, 1, 1, 1]), 4)
    0.3208
    """
    y = np.asarray(x, dtype=float).ravel()
    w = np.ones(y.size) if weights is None else weights
    return weighted_mean(y, w, confidence, method).moe
