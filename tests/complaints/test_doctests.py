"""The examples in the complaint modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "sqm.domain.complaint_taxonomy",
    "sqm.domain.sla",
    "sqm.domain.complaint_texts",
    "sqm.ingest.complaints",
    "sqm.methods.complaint_measures",
    "sqm.methods.text_classifier",
    "sqm.services.complaints.handling",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
