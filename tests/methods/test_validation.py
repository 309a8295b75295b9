"""The shared input checks, above all the singular-matrix test that every inverse relies on.

The condition number is checked against hand-computed values: for a diagonal matrix
``κ = max|d| / min|d|``, for ``[[1, r], [r, 1]]`` ``κ = (1 + |r|) / (1 − |r|)``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sqm.domain.errors import RuleError
from sqm.methods._validation import (
    MAX_CONDITION,
    MethodInputError,
    check_well_conditioned,
    condition_number,
    condition_numbers,
)


def test_condition_number_of_known_matrices() -> None:
    assert condition_number(np.diag([4.0, 2.0, 0.5])) == pytest.approx(8.0)
    r = 0.9
    assert condition_number([[1.0, r], [r, 1.0]]) == pytest.approx((1 + r) / (1 - r))
    assert condition_number(np.eye(5)) == pytest.approx(1.0)
    # a rectangular design matrix: ratio of its singular values
    assert condition_number([[1.0, 0.0], [0.0, 3.0], [0.0, 0.0]]) == pytest.approx(3.0)


@pytest.mark.parametrize(
    "matrix",
    [
        np.zeros((3, 3)),
        np.diag([1.0, 0.0]),
        [[1.0, np.nan], [np.nan, 1.0]],  # what np.corrcoef gives for a constant item
        [[1.0, np.inf], [0.0, 1.0]],
    ],
)
def test_singular_or_non_finite_is_infinitely_ill_conditioned(matrix: object) -> None:
    assert condition_number(matrix) == np.inf
    with pytest.raises(MethodInputError, match="condition number inf"):
        check_well_conditioned(matrix, "M", "a test")


def test_stack_is_checked_matrix_by_matrix() -> None:
    stack = np.stack([np.eye(2), np.diag([1.0, 0.0]), np.diag([1.0, 0.1])])
    np.testing.assert_allclose(condition_numbers(stack), [1.0, np.inf, 10.0])


def test_symmetric_route_equals_the_singular_values() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 4, 4))
    sym = a + a.transpose(0, 2, 1)  # symmetric, mostly indefinite
    np.testing.assert_allclose(
        condition_numbers(sym, symmetric=True), np.linalg.cond(sym), rtol=1e-9
    )
    assert condition_numbers(np.diag([1.0, 0.0])[None], symmetric=True)[0] == np.inf


def test_tolerance_is_the_stated_one() -> None:
    assert MAX_CONDITION == 1e12
    ok = np.diag([1.0, 1.0 / MAX_CONDITION])  # κ = 1e12 exactly: accepted
    np.testing.assert_array_equal(check_well_conditioned(ok, "M", "a test"), ok)
    with pytest.raises(MethodInputError, match=r"condition number 1\.1e\+12 > 1e\+12"):
        check_well_conditioned(np.diag([1.1, 1.0 / MAX_CONDITION]), "M", "a test")
    # a caller may ask for a stricter bound
    with pytest.raises(MethodInputError):
        check_well_conditioned(np.diag([1.0, 1e-3]), "M", "a test", max_condition=100.0)


def test_near_singular_correlation_is_caught_from_the_matrix() -> None:
    # an item equal to another plus 1e-13 noise: the correlation matrix is singular to
    # working precision, whatever LAPACK would make of inverting it
    rng = np.random.default_rng(4)
    x = rng.normal(size=(60, 2))
    near = np.column_stack([x, x[:, 0] + 1e-13 * rng.normal(size=60)])
    corr = np.corrcoef(near, rowvar=False)
    assert condition_number(corr) > MAX_CONDITION
    with pytest.raises(MethodInputError) as info:
        check_well_conditioned(corr, "the items' correlation matrix", "KMO")
    message = str(info.value)
    assert "the items' correlation matrix is singular or nearly so" in message
    assert "so KMO cannot be computed" in message
    assert "collinear items" in message and "constant item" in message
    # well conditioned: returned unchanged
    fine = np.corrcoef(x, rowvar=False)
    np.testing.assert_array_equal(check_well_conditioned(fine, "R", "KMO"), fine)


def test_method_input_error_is_a_rule_error() -> None:
    assert issubclass(MethodInputError, RuleError)
    assert issubclass(MethodInputError, ValueError)
