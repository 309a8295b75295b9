"""Input validation shared by the methods: clear messages that say what was wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqm.domain.errors import RuleError
from sqm.lazy import lazy_import

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")

__all__ = [
    "MAX_CONDITION",
    "FloatArray",
    "MethodInputError",
    "as_benefit",
    "as_matrix",
    "as_vector",
    "check_well_conditioned",
    "condition_number",
    "condition_numbers",
]

FloatArray = npt.NDArray[np.float64]

#: Largest 2-norm condition number ``κ = σ_max / σ_min`` of a matrix that a method inverts
#: or solves with. A solve loses about ``log10(κ)`` of the ~16 significant digits of a
#: double (relative error up to ``κ · ε`` with ``ε ≈ 2.2e-16``): at ``κ = 1e12`` about four
#: digits are left (error ≈ 2e-4), beyond it the figures are mostly rounding noise. The
#: threshold sits well below ``1/(n · ε)`` (≈ 4.5e15/n, NumPy's rank cut-off), the zone in
#: which LAPACK may raise ``LinAlgError`` on one machine and only warn on another, so the
#: decision never depends on the platform's BLAS.
MAX_CONDITION = 1e12


class MethodInputError(RuleError):
    """Raised when the data handed to a method break one of its rules.

    The message names the argument, what was found and the rule it breaks.
    """


def condition_numbers(stack: Any, *, symmetric: bool = False) -> FloatArray:
    """2-norm condition numbers ``σ_max / σ_min`` of a stack of matrices ``(..., m, n)``.

    From the singular values (SVD), never from whether a factorisation fails: ``inf`` for
    a singular matrix (``σ_min = 0``), a zero matrix or one with a NaN or infinite entry.
    ``symmetric=True`` (square symmetric matrices, such as correlation matrices) takes the
    absolute eigenvalues instead, which are the singular values there and about three
    times cheaper to compute.

    >>> condition_numbers([[[2.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]]).tolist()
    [2.0, inf]
    >>> condition_numbers([[[1.0, 0.5], [0.5, 1.0]]], symmetric=True).round(12).tolist()
    [3.0]
    """
    arr = np.asarray(stack, dtype=float)
    finite = np.isfinite(arr).all(axis=(-2, -1))
    safe = np.where(finite[..., None, None], arr, 0.0)
    if symmetric:
        s = np.abs(np.linalg.eigvalsh(safe))
        top, low = s.max(axis=-1), s.min(axis=-1)
    else:
        s = np.linalg.svd(safe, compute_uv=False)
        top, low = s[..., 0], s[..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where((low > 0) & finite, top / np.where(low > 0, low, 1.0), np.inf)
    return np.asarray(cond, dtype=np.float64)


def condition_number(matrix: Any) -> float:
    """2-norm condition number ``σ_max / σ_min`` of one matrix; see :func:`condition_numbers`.

    >>> condition_number([[1.0, 0.0], [0.0, 1e-3]])
    1000.0
    """
    return float(condition_numbers(np.asarray(matrix, dtype=float)[None])[0])


def check_well_conditioned(
    matrix: Any, name: str, what: str, *, max_condition: float = MAX_CONDITION
) -> FloatArray:
    """Return ``matrix`` as a float array, or raise if it is singular or nearly so.

    The test is on the matrix itself: its condition number (:func:`condition_number`)
    must not exceed ``max_condition`` (default :data:`MAX_CONDITION`, 1e12). ``name``
    names the matrix and ``what`` the step that inverts or solves with it; both go into
    the message, with the condition number and the usual cause.

    >>> check_well_conditioned([[1.0, 0.5], [0.5, 1.0]], "R", "a test").shape
    (2, 2)
    >>> check_well_conditioned([[1.0, 0.0], [0.0, 0.0]], "R", "a test")
    Traceback (most recent call last):
    ...
    sqm.methods._validation.MethodInputError: R is singular or nearly so (condition number inf > 1e+12), so a test cannot be computed; likely cause: collinear items (one an exact copy or linear combination of others) or a constant item
    """
    arr = np.asarray(matrix, dtype=float)
    cond = condition_number(arr)
    if not cond <= max_condition:
        raise MethodInputError(
            f"{name} is singular or nearly so (condition number {cond:.3g} > "
            f"{max_condition:.0e}), so {what} cannot be computed; likely cause: collinear "
            "items (one an exact copy or linear combination of others) or a constant item"
        )
    return arr


def as_matrix(x: Any, name: str = "X", *, allow_nan: bool = False, min_rows: int = 1) -> FloatArray:
    """Return ``x`` as a 2-D float array, or raise :class:`MethodInputError`.

    >>> as_matrix([[1, 2], [3, 4]]).shape
    (2, 2)
    """
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise MethodInputError(f"{name} must be numeric: {exc}") from exc
    if arr.ndim != 2:
        raise MethodInputError(f"{name} must be 2-D (rows × columns), got {arr.ndim}-D")
    if arr.shape[0] < min_rows:
        raise MethodInputError(f"{name} needs at least {min_rows} rows, got {arr.shape[0]}")
    if not allow_nan and np.isnan(arr).any():
        r, c = np.argwhere(np.isnan(arr))[0]
        raise MethodInputError(f"{name} has a missing value (NaN) at row {r}, column {c}")
    if np.isinf(arr).any():
        raise MethodInputError(f"{name} has an infinite value")
    return arr


def as_vector(x: Any, name: str = "x", *, length: int | None = None) -> FloatArray:
    """Return ``x`` as a 1-D float array of the given length, or raise.

    >>> as_vector([1, 2, 3], length=3).tolist()
    [1.0, 2.0, 3.0]
    """
    arr = np.asarray(x, dtype=float).ravel()
    if length is not None and arr.shape[0] != length:
        raise MethodInputError(f"{name} must have {length} values, got {arr.shape[0]}")
    if np.isnan(arr).any():
        raise MethodInputError(
            f"{name} has a missing value (NaN) at position {int(np.argmax(np.isnan(arr)))}"
        )
    return arr


def as_benefit(benefit: Sequence[bool] | npt.ArrayLike | None, n: int) -> npt.NDArray[np.bool_]:
    """Return one bool per criterion (True = higher is better); ``None`` means all benefit.

    >>> as_benefit(None, 2).tolist()
    [True, True]
    """
    if benefit is None:
        return np.ones(n, dtype=bool)
    arr = np.asarray(benefit, dtype=bool).ravel()
    if arr.shape[0] != n:
        raise MethodInputError(
            f"benefit must have one value per criterion ({n}), got {arr.shape[0]}"
        )
    return arr
