"""Normalisation of indicator values to comparable scores (指标无量纲化).

Each function keeps the shape and labels of its input: a Series comes back as a Series, a
DataFrame as a DataFrame (column by column), an array as an array. Missing values (NaN)
pass through as NaN: an unanswered item stays unanswered.

Conventions: min–max and target scores are directional (``benefit=True``: higher is
better; ``False``: lower is better, a cost indicator); z-score and vector normalisation are
not (they only rescale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")
    pd = lazy_import("pandas")

__all__ = ["likert_to_100", "minmax", "piecewise_target", "vector", "zscore"]

T = TypeVar("T", FloatArray, "pd.Series", "pd.DataFrame")  # pandas loads on first use


def _values(x: Any, name: str) -> FloatArray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise MethodInputError(f"{name} must be numeric: {exc}") from exc
    if arr.ndim not in (1, 2):
        raise MethodInputError(f"{name} must be 1-D or 2-D, got {arr.ndim}-D")
    if np.isinf(arr).any():
        raise MethodInputError(f"{name} has an infinite value")
    return arr


def _like(x: Any, out: FloatArray) -> Any:
    if isinstance(x, pd.DataFrame):
        return pd.DataFrame(out, index=x.index, columns=x.columns)
    if isinstance(x, pd.Series):
        return pd.Series(out, index=x.index, name=x.name)
    return out


def _directions(benefit: bool | npt.ArrayLike, arr: FloatArray) -> npt.NDArray[np.bool_]:
    b = np.asarray(benefit, dtype=bool)
    if b.ndim == 0 or arr.ndim == 1:
        if b.ndim != 0:
            raise MethodInputError("benefit must be a single bool for 1-D data")
        return b
    if b.shape != (arr.shape[1],):
        raise MethodInputError(
            f"benefit must have one value per column ({arr.shape[1]}), got {b.size}"
        )
    return b


def minmax(
    x: Any,
    benefit: bool | npt.ArrayLike = True,
    *,
    scale: float = 1.0,
    constant: float | None = None,
) -> Any:
    """Min–max normalisation (极差标准化), direction-aware, column by column.

    Benefit: (x − min)/(max − min); cost: (max − x)/(max − min); times ``scale`` (e.g. 100).
    A constant column has no range: it raises unless ``constant`` gives the score to use.

    >>> minmax([2.0, 4.0, 6.0]).tolist()
    [0.0, 0.5, 1.0]
    >>> minmax([2.0, 4.0, 6.0], benefit=False, scale=100).tolist()
    [100.0, 50.0, 0.0]
    """
    arr = _values(x, "x")
    b = _directions(benefit, arr)
    lo, hi = np.nanmin(arr, axis=0), np.nanmax(arr, axis=0)
    span = np.asarray(hi - lo, dtype=float)
    flat = span == 0
    if flat.any() and constant is None:
        raise MethodInputError(
            "x has a constant column (no range to normalise over); pass constant= to score it"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(b, (arr - lo) / span, (hi - arr) / span)
    if flat.any():
        z = np.where(flat & ~np.isnan(arr), constant, z)
    return _like(x, z * scale)


def zscore(x: Any, *, ddof: int = 1) -> Any:
    """Standard score (x − mean)/sd per column, with sample sd (``ddof=1``) by default.

    >>> zscore([1.0, 2.0, 3.0]).tolist()
    [-1.0, 0.0, 1.0]
    """
    arr = _values(x, "x")
    sd = np.nanstd(arr, axis=0, ddof=ddof)
    if np.any(np.asarray(sd) == 0):
        raise MethodInputError("x has a constant column: its standard deviation is 0")
    return _like(x, (arr - np.nanmean(arr, axis=0)) / sd)


def vector(x: Any) -> Any:
    """Vector normalisation x_ij / sqrt(Σ_i x_ij²) per column (as in TOPSIS).

    >>> vector([3.0, 4.0]).tolist()
    [0.6, 0.8]
    """
    arr = _values(x, "x")
    norm = np.sqrt(np.nansum(arr**2, axis=0))
    if np.any(np.asarray(norm) == 0):
        raise MethodInputError("x has an all-zero column: its vector norm is 0")
    return _like(x, arr / norm)


def piecewise_target(
    x: Any,
    target: float,
    warning: float,
    *,
    benefit: bool = True,
    floor: float | None = None,
    target_score: float = 100.0,
    warning_score: float = 60.0,
    floor_score: float = 0.0,
) -> Any:
    """Score against a target and a warning threshold (目标值/预警值 piecewise linear score).

    For a benefit indicator (``target > warning``): at or beyond the target the score is
    ``target_score`` (100); at the warning threshold ``warning_score`` (60); linear between.
    Below the warning threshold the score falls linearly to ``floor_score`` (0) at ``floor``;
    without a floor the same slope as between warning and target continues down. The score
    is clipped to [floor_score, target_score]. Cost indicators (``benefit=False``,
    ``target < warning``) mirror this.

    >>> piecewise_target([99.0, 98.0, 96.0, 90.0], target=99, warning=97).tolist()
    [100.0, 80.0, 40.0, 0.0]
    >>> piecewise_target([50.0, 150.0, 200.0], target=100, warning=200, benefit=False).tolist()
    [100.0, 80.0, 60.0]
    """
    arr = _values(x, "x")
    if benefit and not target > warning:
        raise MethodInputError(
            f"a benefit indicator needs target > warning, got {target} ≤ {warning}"
        )
    if not benefit and not target < warning:
        raise MethodInputError(f"a cost indicator needs target < warning, got {target} ≥ {warning}")
    if not target_score > warning_score > floor_score:
        raise MethodInputError("scores must satisfy target_score > warning_score > floor_score")
    # Work in "distance towards the target" so both directions share one formula.
    sign = 1.0 if benefit else -1.0
    t, w, v = sign * target, sign * warning, sign * arr
    upper = warning_score + (v - w) * (target_score - warning_score) / (t - w)
    if floor is None:
        lower = upper
    else:
        f = sign * floor
        if not f < w:
            raise MethodInputError(
                "floor must lie beyond the warning threshold, away from the target"
            )
        lower = floor_score + (v - f) * (warning_score - floor_score) / (w - f)
    score = np.where(v >= w, upper, lower)
    return _like(x, np.clip(score, floor_score, target_score))


def likert_to_100(x: Any, points: int = 5, *, low: int = 1) -> Any:
    """Likert answers on ``low..low+points−1`` to 0–100: (x − low)/(points − 1) × 100.

    NaN (no answer) stays NaN; values outside the scale raise.

    >>> likert_to_100([1, 3, 5]).tolist()
    [0.0, 50.0, 100.0]
    >>> likert_to_100([1, 10], points=10).tolist()
    [0.0, 100.0]
    """
    if points < 2:
        raise MethodInputError(f"points must be at least 2, got {points}")
    arr = _values(x, "x")
    high = low + points - 1
    bad = (arr < low) | (arr > high)
    if bad.any():
        raise MethodInputError(
            f"x has a value {arr[bad].ravel()[0]:g} outside the {low}–{high} Likert scale"
        )
    return _like(x, (arr - low) / (points - 1) * 100.0)
