"""Input validation shared by the methods: clear messages that say what was wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sqm.domain.errors import RuleError

FloatArray = npt.NDArray[np.float64]


class MethodInputError(RuleError):
    """Raised when the data handed to a method break one of its rules.

    The message names the argument, what was found and the rule it breaks.
    """


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
