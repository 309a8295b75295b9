"""Customer-derived importance: how much each item drives overall satisfaction.

Survey items (X: respondents × items) and an overall measure (y: overall satisfaction or
likelihood to recommend). Correlated items make plain regression weights unstable and even
negative, so the weights customers "feel" are taken from a decomposition of R²:

- **Relative weights** (Johnson 2000): regress y on the orthogonal counterpart of X and
  apportion R² back through the squared loadings; sums to R².
- **Shapley decomposition of R²** (LMG: Lindeman, Merenda & Gold 1980; Grömping 2006): the
  average increase in R² from adding an item, over all orders; sums to R².

Both are given, with standardized regression coefficients and zero-order correlations for
comparison; ``weights`` are the chosen decomposition normalised to sum 1.

References
----------
- Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
  variables in multiple regression. *Multivariate Behavioral Research* 35(1), 1-19.
- Grömping, U. (2006). Relative importance for linear regression in R: the package
  relaimpo. *Journal of Statistical Software* 17(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError, check_well_conditioned

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")

__all__ = ["ImportanceResult", "derived_importance", "relative_weights", "shapley_r2"]

#: Shapley needs R² of all 2^p subsets; beyond this the cost is unreasonable.
MAX_SHAPLEY_ITEMS = 20


@dataclass(frozen=True)
class ImportanceResult:
    """Importance of each item for the overall measure (Series indexed by item).

    ``weights``: the ``method``'s decomposition normalised to sum 1; ``relative_weights``
    and ``shapley``: raw decompositions (each sums to ``r2``); ``standardized_beta``;
    ``correlation`` (zero-order r with y); ``r2`` of the full model; ``n`` respondents used.
    """

    weights: pd.Series
    relative_weights: pd.Series
    shapley: pd.Series | None
    standardized_beta: pd.Series
    correlation: pd.Series
    r2: float
    n: int
    method: str


def _prepare(X: Any, y: Any, dropna: bool) -> tuple[FloatArray, FloatArray, list[str], int]:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))
    names = [str(c) for c in frame.columns]
    try:
        x = frame.to_numpy(dtype=float)
        yy = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise MethodInputError(f"X and y must be numeric: {exc}") from exc
    if x.ndim != 2 or yy.shape[0] != x.shape[0]:
        raise MethodInputError(
            f"y must have one value per row of X ({x.shape[0]}), got {yy.shape[0]}"
        )
    bad = np.isnan(x).any(axis=1) | np.isnan(yy)
    if bad.any():
        if not dropna:
            r = int(np.argmax(bad))
            raise MethodInputError(
                f"X or y has a missing value at row {r}; pass dropna=True for listwise deletion"
            )
        x, yy = x[~bad], yy[~bad]
    n, p = x.shape
    if p < 1:
        raise MethodInputError("X needs at least one item")
    if n < p + 2:
        raise MethodInputError(
            f"too few observations: {n} respondents for {p} items (need ≥ {p + 2})"
        )
    sd = x.std(axis=0, ddof=1)
    if (sd == 0).any():
        raise MethodInputError(f"X column {names[int(np.argmax(sd == 0))]!r} is constant")
    if yy.std(ddof=1) == 0:
        raise MethodInputError("y is constant: there is no variance to explain")
    return x, yy, names, n


def _correlations(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    r: FloatArray = np.atleast_2d(np.corrcoef(np.column_stack([x, y]), rowvar=False))
    return r[:-1, :-1], r[:-1, -1]


def _relative_weights(rxx: FloatArray, rxy: FloatArray) -> FloatArray:
    # rxx is checked well conditioned (derived_importance), so every eigenvalue is > 0
    values, vectors = np.linalg.eigh(rxx)
    lam = vectors @ np.diag(np.sqrt(values)) @ vectors.T  # R^(1/2): corr(X, Z)
    beta = np.linalg.solve(lam, rxy)  # regression of y on the orthogonal Z
    return np.asarray((lam**2) @ (beta**2), dtype=float)


def _subset_r2(rxx: FloatArray, rxy: FloatArray) -> FloatArray:
    p = rxy.shape[0]
    r2 = np.zeros(1 << p)
    for mask in range(1, 1 << p):
        idx = [j for j in range(p) if mask >> j & 1]
        sub = rxy[idx]
        r2[mask] = float(sub @ np.linalg.solve(rxx[np.ix_(idx, idx)], sub))
    return r2


def _shapley(rxx: FloatArray, rxy: FloatArray) -> FloatArray:
    p = rxy.shape[0]
    if p > MAX_SHAPLEY_ITEMS:
        raise MethodInputError(
            f"Shapley decomposition over {p} items needs 2^{p} regressions; use relative weights"
        )
    r2 = _subset_r2(rxx, rxy)
    size = np.array([bin(m).count("1") for m in range(1 << p)])
    coef = np.array([factorial(k) * factorial(p - k - 1) / factorial(p) for k in range(p)])
    out = np.zeros(p)
    masks = np.arange(1 << p)
    for j in range(p):
        without = masks[(masks >> j & 1) == 0]
        out[j] = (coef[size[without]] * (r2[without | (1 << j)] - r2[without])).sum()
    return out


def derived_importance(
    X: Any,
    y: Any,
    *,
    method: Literal["relative_weights", "shapley"] = "relative_weights",
    dropna: bool = False,
) -> ImportanceResult:
    """Customer-derived importance of items (X) for an overall measure (y).

    Computes relative weights (Johnson 2000) always, the Shapley/LMG decomposition when
    ``method="shapley"`` or when there are at most 12 items, standardized betas
    β = R_xx⁻¹ r_xy and correlations r_xy. ``weights`` is the chosen decomposition
    normalised to sum 1. Missing values raise unless ``dropna=True`` (listwise deletion).

    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["speed", "attitude", "env"])
    >>> y = X @ [0.6, 0.3, 0.1] + rng.normal(scale=0.5, size=200)
    >>> r = derived_importance(X, y)
    >>> r.weights.round(2).to_dict()
    {'speed': 0.81, 'attitude': 0.16, 'env': 0.02}
    """
    x, yy, names, n = _prepare(X, y, dropna)
    rxx, rxy = _correlations(x, yy)
    # One check covers every solve below: a principal submatrix of a symmetric positive
    # definite matrix is never worse conditioned than the matrix (Cauchy interlacing).
    check_well_conditioned(rxx, "the items' correlation matrix (X)", "the regression on X")
    rw = _relative_weights(rxx, rxy)
    beta: FloatArray = np.asarray(np.linalg.solve(rxx, rxy), dtype=np.float64)
    r2 = float(rxy @ beta)
    shap = _shapley(rxx, rxy) if method == "shapley" or len(names) <= 12 else None
    if method == "relative_weights":
        chosen = rw
    elif method == "shapley":
        assert shap is not None
        chosen = shap
    else:
        raise MethodInputError(f"method must be 'relative_weights' or 'shapley', got {method!r}")

    def s(v: FloatArray, name: str) -> pd.Series:
        return pd.Series(v, index=names, name=name)

    return ImportanceResult(
        weights=s(chosen / chosen.sum(), "weight"),
        relative_weights=s(rw, "relative_weight"),
        shapley=s(shap, "shapley") if shap is not None else None,
        standardized_beta=s(beta, "beta"),
        correlation=s(rxy, "r"),
        r2=r2,
        n=n,
        method=method,
    )


def relative_weights(X: Any, y: Any, *, dropna: bool = False) -> ImportanceResult:
    """Importance by Johnson's (2000) relative weights; see :func:`derived_importance`.

    >>> r = relative_weights([[1, 2], [2, 1], [3, 4], [4, 3], [5, 6]], [1, 2, 3, 4, 6])
    >>> round(float(r.relative_weights.sum()), 6) == round(r.r2, 6)
    True
    """
    return derived_importance(X, y, method="relative_weights", dropna=dropna)


def shapley_r2(X: Any, y: Any, *, dropna: bool = False) -> ImportanceResult:
    """Importance by the Shapley (LMG) decomposition of R²; see :func:`derived_importance`.

    >>> r = shapley_r2([[1, 2], [2, 1], [3, 4], [4, 3], [5, 6]], [1, 2, 3, 4, 6])
    >>> round(float(r.shapley.sum()), 6) == round(r.r2, 6)
    True
    """
    return derived_importance(X, y, method="shapley", dropna=dropna)
