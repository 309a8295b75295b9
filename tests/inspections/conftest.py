"""Fixtures of the inspection tests: a planned visit today for inspector01."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select

from sqm.services.inspection_visits import ensure_template_checklist
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, Period, User
from sqm.store.models.inspection import InspectionPlanEntry

TODAY = date.today()


@pytest.fixture
def planned(demo_engine: Engine) -> dict[str, int]:
    """A planned visit today for inspector01 at a store of their province."""
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        insp = s.scalar(select(User).where(User.username == "inspector01"))
        assert insp is not None
        scope = insp.grants[0].scope_unit
        store = s.scalar(
            select(OrgUnit)
            .where(OrgUnit.kind == "store", OrgUnit.path.startswith(scope.path))
            .order_by(OrgUnit.id)
        )
        assert store is not None
        period = s.scalar(select(Period).where(Period.start <= TODAY, Period.end >= TODAY))
        if period is None:
            period = s.scalar(select(Period).order_by(Period.code.desc()))
        ensure_template_checklist(s)
        e = InspectionPlanEntry(
            period_id=period.id,
            unit_id=store.id,
            inspector_id=insp.id,
            planned_date=TODAY,
            visit_key=f"{store.code}@{TODAY}",
        )
        s.add(e)
        s.commit()
        return {"entry": e.id, "store": store.id, "lat": store.lat or 0.0, "lon": store.lon or 0.0}
