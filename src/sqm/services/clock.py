"""Where "now" comes from: the system clock in production, a fixed instant in tests and demos.

Inspection rules depend on the date: a visit must happen on its planned day, an appeal must
come within seven days of the review, a rectification task is overdue after its due date.
Code that applies such rules takes a :class:`Clock` instead of calling ``date.today()``, so
a test can pin the instant and give the same answer at any hour — including the first
minutes after midnight, when "30 minutes ago" is yesterday.

>>> from datetime import UTC, datetime
>>> c = FixedClock(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))
>>> c.today(), c.now().hour
(datetime.date(2026, 11, 18), 10)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current instant (aware, UTC) and the current calendar day."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def today(self) -> date:
        """The current calendar day of the server."""
        ...


class SystemClock:
    """The real clock: ``datetime.now(UTC)`` and the server's ``date.today()``."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)

    def today(self) -> date:
        """The server's current calendar day."""
        return date.today()


@dataclass(frozen=True)
class FixedClock:
    """A clock that always says ``at`` (naive instants are taken as UTC)."""

    at: datetime

    def now(self) -> datetime:
        """The fixed instant."""
        return self.at if self.at.tzinfo else self.at.replace(tzinfo=UTC)

    def today(self) -> date:
        """The day of the fixed instant."""
        return self.now().date()


SYSTEM_CLOCK = SystemClock()


def system_clock() -> Clock:
    """The clock the web layer uses (a FastAPI dependency; tests override it).

    >>> isinstance(system_clock(), SystemClock)
    True
    """
    return SYSTEM_CLOCK
