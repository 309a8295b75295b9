"""Evaluation periods: parsing, bounds and the previous period."""

from __future__ import annotations

from datetime import date

import pytest

from sqm.domain.period import PeriodKind, PeriodSpec, months_back


@pytest.mark.parametrize(
    ("code", "kind", "start", "end"),
    [
        ("2026-02", PeriodKind.MONTH, date(2026, 2, 1), date(2026, 2, 28)),
        ("2024-02", PeriodKind.MONTH, date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        ("2026q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_parse(code: str, kind: PeriodKind, start: date, end: date) -> None:
    p = PeriodSpec.parse(code)
    assert (p.kind, p.start, p.end) == (kind, start, end)


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26Q1", "2026Q5", "next month"])
def test_bad_codes_are_rejected_with_the_rule(bad: str) -> None:
    with pytest.raises(ValueError, match="period"):
        PeriodSpec.parse(bad)


def test_previous_crosses_year_boundaries() -> None:
    assert PeriodSpec.parse("2026-01").previous().code == "2025-12"
    assert PeriodSpec.parse("2026Q1").previous().code == "2025Q4"
    assert PeriodSpec.parse("2026").previous().code == "2025"
    assert months_back("2026-11", 12)[0].code == "2025-12"
