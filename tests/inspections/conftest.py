"""Fixtures of the inspection tests: a fixed clock, the app on the demo with that clock, and
a planned visit on the clock's day for inspector01.

Every date rule (planned day, appeal deadline, due dates, overdue tasks) reads the clock, so
the tests pin it: the same run gives the same answer at any hour, also in the first minutes
after midnight when "half an hour ago" is yesterday. 18 November 2026 is a Wednesday inside
the demo's last period (2026-11).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from conftest import serving, sign_in
from sqm.config import Settings
from sqm.services.clock import FixedClock, system_clock
from sqm.services.inspections.visits import ensure_template_checklist
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, Period, User
from sqm.store.models.inspection import InspectionPlanEntry

NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
TODAY: date = NOW.date()
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def sign_in_page(page: Any, base: str, user: str) -> None:
    """Sign a Playwright page in as ``user`` (demo password)."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", "sqm-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def pinned_app(engine: Engine, data_dir: Path, now: datetime = NOW) -> FastAPI:
    """The real app on ``engine`` whose clock says ``now``."""
    from sqm.web.app import create_app

    app = create_app(
        Settings(database_url=str(engine.url), secret_key="test-secret", data_dir=data_dir),
        engine=engine,
    )
    app.dependency_overrides[system_clock] = lambda: FixedClock(now)
    return app


@pytest.fixture
def app_client(demo_engine: Engine, tmp_path: Path) -> Iterator[Callable[[str], TestClient]]:
    """``app_client("inspector01")``: a signed-in client of the pinned-clock app."""
    app = pinned_app(demo_engine, tmp_path)

    def make(username: str) -> TestClient:
        return sign_in(TestClient(app, follow_redirects=False), username)

    yield make


@pytest.fixture
def live(demo_engine: Engine, tmp_path: Path) -> Iterator[str]:
    """The pinned-clock app served by uvicorn on a free port (for the browser tests)."""
    with serving(pinned_app(demo_engine, tmp_path)) as url:
        yield url


@pytest.fixture
def planned(demo_engine: Engine) -> dict[str, int]:
    """A planned visit on the clock's day for inspector01 at a store of their province."""
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
        assert period is not None and period.code == "2026-11"
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
