"""The docstring examples of the import/export modules run as tests."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from sqm.ingest import errors, indicator_systems, org_units, tabular, weight_profiles
from sqm.services import exports


@pytest.mark.parametrize(
    "module",
    [tabular, errors, org_units, indicator_systems, weight_profiles, exports],
    ids=lambda m: m.__name__,
)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
