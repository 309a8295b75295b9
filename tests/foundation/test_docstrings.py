"""The docstring examples of the foundation modules run as tests."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from sqm import config
from sqm.domain import org, period, roles
from sqm.services import imports, passwords, scope, sign_in
from sqm.services.evaluation import evaluate as evaluation
from sqm.services.evaluation import indicator_system, scorecard, weight_profile
from sqm.store import engine
from sqm.web import i18n, security_headers

MODULES = [
    config,
    org,
    period,
    roles,
    evaluation,
    indicator_system,
    scorecard,
    imports,
    passwords,
    scope,
    sign_in,
    weight_profile,
    engine,
    i18n,
    security_headers,
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
