"""Evaluation periods: a month (``2026-10``), a quarter (``2026Q4``) or a year (``2026``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, order=True)
class PeriodSpec:
    """A parsed evaluation period with its first and last day.

    >>> p = PeriodSpec.parse("2026Q4")
    >>> (p.kind.value, p.start.isoformat(), p.end.isoformat())
    ('quarter', '2026-10-01', '2026-12-31')
    """

    start: date
    end: date
    kind: PeriodKind
    code: str

    @classmethod
    def parse(cls, code: str) -> PeriodSpec:
        code = code.strip().upper()
        if m := _MONTH.match(code):
            y, mo = int(m.group(1)), int(m.group(2))
            if not 1 <= mo <= 12:
                raise ValueError(f"period {code!r}: month must be 01–12")
            return cls(date(y, mo, 1), _month_end(y, mo), PeriodKind.MONTH, f"{y:04d}-{mo:02d}")
        if m := _QUARTER.match(code):
            y, q = int(m.group(1)), int(m.group(2))
            return cls(date(y, 3 * q - 2, 1), _month_end(y, 3 * q), PeriodKind.QUARTER, f"{y}Q{q}")
        if m := _YEAR.match(code):
            y = int(m.group(1))
            return cls(date(y, 1, 1), date(y, 12, 31), PeriodKind.YEAR, f"{y}")
        raise ValueError(
            f"period {code!r} is not a month (2026-10), quarter (2026Q4) or year (2026)"
        )

    def previous(self) -> PeriodSpec:
        """The period of the same kind just before this one.

        >>> PeriodSpec.parse("2026-01").previous().code
        '2025-12'
        """
        if self.kind is PeriodKind.MONTH:
            y, m = self.start.year, self.start.month - 1
            if m == 0:
                y, m = y - 1, 12
            return PeriodSpec.parse(f"{y:04d}-{m:02d}")
        if self.kind is PeriodKind.QUARTER:
            y, q = self.start.year, (self.start.month - 1) // 3
            if q == 0:
                y, q = y - 1, 4
            return PeriodSpec.parse(f"{y}Q{q}")
        return PeriodSpec.parse(str(self.start.year - 1))


def _month_end(y: int, m: int) -> date:
    nxt = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def months_back(last: str, n: int) -> list[PeriodSpec]:
    """The ``n`` months ending with ``last``, oldest first.

    >>> [p.code for p in months_back("2026-02", 3)]
    ['2025-12', '2026-01', '2026-02']
    """
    p = PeriodSpec.parse(last)
    out = [p]
    for _ in range(n - 1):
        p = p.previous()
        out.append(p)
    return out[::-1]
