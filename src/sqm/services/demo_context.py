"""What every demo step receives: the session, the demo's organisation so far and a seeded
random stream per step (so adding a step never changes another step's data).

It lives apart from :mod:`sqm.services.demo` (the runner and the foundation's steps) so a
capability's demo step depends on this context only, not on the other capabilities that the
runner brings together.

>>> a = DemoContext(session=None, seed=1, last_period="2026-11")  # type: ignore[arg-type]
>>> int(a.rng("surveys").integers(1000)) == int(a.rng("surveys").integers(1000))
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from sqm.store.models import OrgUnit, Period, User

__all__ = ["DemoContext", "DemoStep"]


@dataclass
class DemoContext:
    """What every demo step can use; steps add their own outputs to ``extra``."""

    session: Session
    seed: int
    last_period: str
    periods: list[Period] = field(default_factory=list)
    company: OrgUnit | None = None
    provinces: list[OrgUnit] = field(default_factory=list)
    cities: list[OrgUnit] = field(default_factory=list)
    stores: list[OrgUnit] = field(default_factory=list)
    competitors: list[OrgUnit] = field(default_factory=list)
    inspectors: list[User] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def rng(self, step: str) -> np.random.Generator:
        """An independent, reproducible random stream for ``step``."""
        h = int.from_bytes(hashlib.sha256(f"{self.seed}:{step}".encode()).digest()[:8], "little")
        return np.random.default_rng(h)


DemoStep = Callable[[DemoContext], None]
