"""The docstring examples of the import/export modules run as tests."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from sqm.ingest import errors, tabular


@pytest.mark.parametrize(
    "module",
    [tabular, errors],
    ids=lambda m: m.__name__,
)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 5 and result.failed == 0
