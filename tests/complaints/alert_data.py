"""Hand-built complaint data for the alert and hotspot tests: flat backgrounds and bursts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.store.models import Complaint, OrgUnit

SH = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 12, 1, tzinfo=SH)
CODES = ("network.slow_data", "billing.overcharge", "service.rude_staff")
_serial = iter(range(1, 10**9))


def add_complaints(s: Session, unit_id: int, code: str, times: Iterable[datetime]) -> None:
    """Closed hotline complaints about ``unit_id`` in ``code``, one per time given."""
    rows = [
        {
            "source_system": "test",
            "source_id": f"T{next(_serial)}",
            "channel": "hotline",
            "complaint_class": "ordinary",
            "unit_id": unit_id,
            "category": code.split(".")[0],
            "subcategory": code,
            "category_confirmed": True,
            "text": "",
            "received_at": t.astimezone(UTC),
            "first_response_due": (t + timedelta(hours=4)).astimezone(UTC),
            "resolution_due": (t + timedelta(days=2)).astimezone(UTC),
            "status": "closed",
            "contacts": 1,
        }
        for t in times
    ]
    if rows:
        s.execute(insert(Complaint), rows)


def stores_of(s: Session, n: int) -> list[OrgUnit]:
    """The first ``n`` stores of the demo organisation."""
    return list(
        s.scalars(
            select(OrgUnit).where(OrgUnit.kind == UnitKind.STORE).order_by(OrgUnit.id).limit(n)
        )
    )


def flat(s: Session, stores: list[OrgUnit], until: datetime, *, seed: int | None = None) -> None:
    """Background complaints from 105 days before AS_OF up to ``until``: one every four days
    per store and code (deterministic), or Poisson with the same mean when ``seed`` is set."""
    rng = np.random.default_rng(seed)
    start = AS_OF - timedelta(days=105)
    n_days = (until - start).days
    for st in stores:
        for code in CODES:
            if seed is None:
                times = [start + timedelta(days=d, hours=10) for d in range(0, n_days, 4)]
            else:
                offsets = rng.uniform(0, n_days * 86_400, rng.poisson(n_days / 4))
                times = [start + timedelta(seconds=float(o)) for o in offsets]
            add_complaints(s, st.id, code, times)


def burst(s: Session, unit: OrgUnit, code: str, n: int, last_days: int = 21) -> None:
    """``n`` extra complaints spread 37 hours apart from ``last_days`` before AS_OF."""
    first = AS_OF - timedelta(days=last_days)
    add_complaints(s, unit.id, code, [first + timedelta(hours=7 + 37 * i) for i in range(n)])
