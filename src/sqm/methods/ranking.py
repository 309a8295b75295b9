"""Multi-criteria ranking used in Chinese quality-evaluation practice.

TOPSIS (Hwang & Yoon 1981), grey relational analysis (灰色关联分析, Deng 1982) and fuzzy
comprehensive evaluation (模糊综合评价). X is alternatives × criteria; ``benefit`` is one
bool per criterion (True: higher is better). Labelled input (DataFrame) gives a Series
indexed by the alternatives.

References
----------
- Hwang, C. L. & Yoon, K. (1981). *Multiple Attribute Decision Making*. Springer.
- Deng, J. L. (1982). Control problems of grey systems. *Systems & Control Letters* 1(5).
- 汪培庄 (1983). 《模糊集合论及其应用》; 司守奎、孙玺菁《数学建模算法与应用》 (fuzzy evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError, as_benefit, as_matrix

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")
    pd = lazy_import("pandas")

__all__ = ["FuzzyResult", "fuzzy_evaluation", "grey_relational", "membership_from_votes", "topsis"]


def _weights(weights: Any, n: int, columns: list[Any] | None) -> FloatArray:
    if isinstance(weights, pd.Series) and columns is not None:
        if set(weights.index) != set(columns):
            raise MethodInputError("weights must be labelled by the same criteria as X's columns")
        weights = weights.reindex(columns)
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape[0] != n:
        raise MethodInputError(f"weights must have one value per criterion ({n}), got {w.shape[0]}")
    if np.isnan(w).any() or (w < 0).any() or w.sum() <= 0:
        raise MethodInputError("weights must be non-negative numbers with a positive sum")
    return w / w.sum()


def _benefit(benefit: Any, n: int, columns: list[Any] | None) -> npt.NDArray[np.bool_]:
    if isinstance(benefit, pd.Series) and columns is not None:
        if set(benefit.index) != set(columns):
            raise MethodInputError("benefit must be labelled by the same criteria as X's columns")
        benefit = benefit.reindex(columns)
    return as_benefit(benefit, n)


def _out(values: FloatArray, X: Any, name: str) -> FloatArray | pd.Series:
    if isinstance(X, pd.DataFrame):
        return pd.Series(values, index=X.index, name=name)
    return values


def topsis(
    X: Any, weights: Any, benefit: Sequence[bool] | npt.ArrayLike | None = None
) -> FloatArray | pd.Series:
    """Closeness coefficients of classic TOPSIS (Hwang & Yoon 1981).

    r_ij = x_ij / sqrt(Σ_i x_ij²); v_ij = w_j r_ij; the ideal A⁺ takes max v for benefit and
    min v for cost criteria, the anti-ideal A⁻ the opposite; D± are Euclidean distances to
    A± and C_i = D⁻ / (D⁺ + D⁻) ∈ [0, 1], higher is better. Weights are normalised to sum 1.

    >>> np.round(topsis([[1, 5], [2, 3], [3, 1]], [0.5, 0.5], [True, False]), 4).tolist()
    [0.0, 0.5, 1.0]
    """
    a = as_matrix(X, "X", min_rows=2)
    cols = list(X.columns) if isinstance(X, pd.DataFrame) else None
    n = a.shape[1]
    b = _benefit(benefit, n, cols)
    w = _weights(weights, n, cols)
    norm = np.sqrt((a**2).sum(axis=0))
    if (norm == 0).any():
        raise MethodInputError(f"X column {int(np.argmax(norm == 0))} is all zero")
    v = a / norm * w
    best = np.where(b, v.max(axis=0), v.min(axis=0))
    worst = np.where(b, v.min(axis=0), v.max(axis=0))
    d_plus = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - worst) ** 2).sum(axis=1))
    total = d_plus + d_minus
    # All alternatives identical: none is closer to the ideal than another.
    c = np.divide(d_minus, total, out=np.full_like(total, 0.5), where=total > 0)
    return _out(c, X, "closeness")


def grey_relational(
    X: Any,
    weights: Any,
    benefit: Sequence[bool] | npt.ArrayLike | None = None,
    rho: float = 0.5,
) -> FloatArray | pd.Series:
    """Grey relational grades (灰色关联度) against the ideal sequence.

    Each criterion is range-standardised by direction (benefit (x − min)/(max − min), cost
    (max − x)/(max − min)), so the reference (ideal) sequence is all ones. With
    Δ_ij = |1 − z_ij|, Δmin and Δmax over all i, j, the relational coefficient is
    ξ_ij = (Δmin + ρΔmax)/(Δ_ij + ρΔmax) and the grade is γ_i = Σ_j w_j ξ_ij (weights
    normalised), in (0, 1], higher is better. ρ is the distinguishing coefficient (0.5).

    >>> np.round(grey_relational([[1, 5], [2, 3], [3, 1]], [0.5, 0.5], [True, False]), 4).tolist()
    [0.3333, 0.5, 1.0]
    """
    if not 0.0 < rho <= 1.0:
        raise MethodInputError(f"rho must be in (0, 1], got {rho}")
    a = as_matrix(X, "X", min_rows=2)
    cols = list(X.columns) if isinstance(X, pd.DataFrame) else None
    n = a.shape[1]
    b = _benefit(benefit, n, cols)
    w = _weights(weights, n, cols)
    lo, hi = a.min(axis=0), a.max(axis=0)
    span = hi - lo
    if (span == 0).any():
        raise MethodInputError(
            f"X column {int(np.argmax(span == 0))} is constant: it cannot be standardised"
        )
    z = np.where(b, (a - lo) / span, (hi - a) / span)
    delta = np.abs(1.0 - z)
    dmin, dmax = delta.min(), delta.max()
    xi = (dmin + rho * dmax) / (delta + rho * dmax)
    return _out(xi @ w, X, "grade")


@dataclass(frozen=True)
class FuzzyResult:
    """Fuzzy comprehensive evaluation of one or more objects.

    ``membership``: B = W∘R per object (normalised to sum 1 if asked), objects × grades;
    ``grades``: the grade of maximum membership; ``scores``: Σ_k b_k v_k / Σ_k b_k against
    the grade values (``None`` when no grade values are given).
    """

    membership: pd.DataFrame
    grades: pd.Series
    scores: pd.Series | None
    operator: str


_OPERATORS = ("M(·,+)", "M(∧,∨)", "M(·,∨)", "M(∧,⊕)")


def fuzzy_evaluation(
    R: Any,
    weights: Any,
    *,
    operator: Literal["M(·,+)", "M(∧,∨)", "M(·,∨)", "M(∧,⊕)"] = "M(·,+)",
    grades: Sequence[str] | None = None,
    grade_values: Sequence[float] | None = None,
    normalise: bool = True,
) -> FuzzyResult:
    """Fuzzy comprehensive evaluation B = W ∘ R (模糊综合评价).

    ``R`` is the membership matrix factors × grades (r_ij: share of judges placing factor i
    in grade j), or a 3-D array objects × factors × grades, or a DataFrame (factors as rows,
    grades as columns). ``weights`` are the factor weights W. Operators:

    - ``M(·,+)`` weighted average: b_j = Σ_i w_i r_ij (加权平均型, uses every factor);
    - ``M(∧,∨)`` main factor decides: b_j = max_i min(w_i, r_ij) (主因素决定型);
    - ``M(·,∨)`` main factor stands out: b_j = max_i w_i r_ij (主因素突出型);
    - ``M(∧,⊕)`` bounded sum: b_j = min(1, Σ_i min(w_i, r_ij)).

    B is normalised to sum 1 (unless ``normalise=False``); the grade is the one of maximum
    membership, and with ``grade_values`` (e.g. 100, 80, 60, 40) a score Σ b_j v_j / Σ b_j.

    >>> R = [[0.2, 0.5, 0.2, 0.1], [0.7, 0.2, 0.1, 0.0], [0.0, 0.4, 0.5, 0.1], [0.2, 0.3, 0.5, 0.0]]
    >>> r = fuzzy_evaluation(R, [0.1, 0.2, 0.3, 0.4], operator="M(∧,∨)")
    >>> r.membership.round(3).iloc[0].tolist()
    [0.2, 0.3, 0.4, 0.1]
    """
    if operator not in _OPERATORS:
        raise MethodInputError(f"operator must be one of {_OPERATORS}, got {operator!r}")
    grade_names: list[Any] | None = list(grades) if grades is not None else None
    if isinstance(R, pd.DataFrame):
        grade_names = grade_names or list(R.columns)
    r = np.asarray(R, dtype=float)
    if r.ndim == 2:
        r = r[None, :, :]
    if r.ndim != 3:
        raise MethodInputError(
            f"R must be factors × grades or objects × factors × grades, got {r.ndim}-D"
        )
    if np.isnan(r).any() or (r < 0).any() or (r > 1).any():
        raise MethodInputError("R must hold memberships in [0, 1] with no missing values")
    _, n_factors, n_grades = r.shape
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape[0] != n_factors:
        raise MethodInputError(
            f"weights must have one value per factor ({n_factors}), got {w.shape[0]}"
        )
    if np.isnan(w).any() or (w < 0).any() or w.sum() <= 0:
        raise MethodInputError("weights must be non-negative with a positive sum")
    w = w / w.sum()
    wc = w[None, :, None]
    if operator == "M(·,+)":
        b = (wc * r).sum(axis=1)
    elif operator == "M(∧,∨)":
        b = np.minimum(wc, r).max(axis=1)
    elif operator == "M(·,∨)":
        b = (wc * r).max(axis=1)
    else:
        b = np.minimum(np.minimum(wc, r).sum(axis=1), 1.0)
    if normalise:
        total = b.sum(axis=1, keepdims=True)
        if (total == 0).any():
            raise MethodInputError("an object has zero membership in every grade")
        b = b / total
    names = grade_names or [f"grade_{k + 1}" for k in range(n_grades)]
    if len(names) != n_grades:
        raise MethodInputError(f"grades must name {n_grades} grades, got {len(names)}")
    membership = pd.DataFrame(b, columns=names)
    best = pd.Series([names[k] for k in b.argmax(axis=1)], name="grade")
    scores = None
    if grade_values is not None:
        v = np.asarray(grade_values, dtype=float).ravel()
        if v.shape[0] != n_grades:
            raise MethodInputError(f"grade_values must have {n_grades} values, got {v.shape[0]}")
        scores = pd.Series((b @ v) / b.sum(axis=1), name="score")
    return FuzzyResult(membership=membership, grades=best, scores=scores, operator=operator)


def membership_from_votes(counts: Any) -> Any:
    """Membership matrix from judges' votes: r_ij = count_ij / Σ_j count_ij (frequency method).

    >>> membership_from_votes([[2, 5, 3, 0]]).tolist()
    [[0.2, 0.5, 0.3, 0.0]]
    """
    c = as_matrix(counts, "counts")
    if (c < 0).any():
        raise MethodInputError("counts must be non-negative")
    total = c.sum(axis=1, keepdims=True)
    if (total == 0).any():
        raise MethodInputError(f"counts row {int(np.argmax(total.ravel() == 0))} has no votes")
    out = c / total
    if isinstance(counts, pd.DataFrame):
        return pd.DataFrame(out, index=counts.index, columns=counts.columns)
    return out
