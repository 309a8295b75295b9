"""The demo organisation: the sizes the product promises, realistic shape, determinism."""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, func, select

from sqm.domain.org import StoreTier, UnitKind
from sqm.services.demo import DEMO_STEPS, run_demo
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, Period, RoleGrant, User, WeightProfile

FOUNDATION_STEPS = [s for s in DEMO_STEPS if s[1].startswith("sqm.services.demo:")]


def _count(engine: Engine, kind: UnitKind) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.scalar(select(func.count()).where(OrgUnit.kind == kind)) or 0)


def test_demo_has_the_promised_organisation(demo_engine: Engine) -> None:
    assert _count(demo_engine, UnitKind.PROVINCE) >= 3
    assert _count(demo_engine, UnitKind.CITY) >= 12
    assert _count(demo_engine, UnitKind.STORE) == 300
    assert _count(demo_engine, UnitKind.COMPETITOR_STORE) == 40
    with make_sessionmaker(demo_engine)() as s:
        tiers = dict(
            s.execute(
                select(OrgUnit.tier, func.count())
                .where(OrgUnit.kind == "store")
                .group_by(OrgUnit.tier)
            ).all()
        )
        assert set(tiers) == {t.value for t in StoreTier}
        months = s.scalars(
            select(Period.code).where(Period.kind == "month").order_by(Period.code)
        ).all()
        assert len(months) == 12 and months[-1] == "2026-11"
        inspectors = s.scalar(
            select(func.count()).select_from(RoleGrant).where(RoleGrant.role == "inspector")
        )
        assert inspectors == 20
        assert s.scalar(select(func.count()).select_from(WeightProfile)) == 8
        # Every store has what scheduling and quotas need.
        bad = s.scalars(
            select(OrgUnit.code).where(
                OrgUnit.kind == "store", (OrgUnit.lat.is_(None)) | (OrgUnit.traffic.is_(None))
            )
        ).all()
        assert bad == []
        # Flagship stores see more customers than partner stores, as in real chains.
        avg = dict(
            s.execute(
                select(OrgUnit.tier, func.avg(OrgUnit.traffic))
                .where(OrgUnit.kind == "store")
                .group_by(OrgUnit.tier)
            ).all()
        )
        assert avg["flagship_core"] > avg["first_level"] > avg["supermarket"] > avg["partner"]
        assert s.scalar(select(User).where(User.username == "store.manager")) is not None


def _fingerprint(engine: Engine) -> str:
    with make_sessionmaker(engine)() as s:
        rows = s.execute(
            select(
                OrgUnit.code,
                OrgUnit.name_zh,
                OrgUnit.tier,
                OrgUnit.traffic,
                OrgUnit.lat,
                OrgUnit.lon,
            ).order_by(OrgUnit.code)
        ).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_same_seed_same_demo(demo_engine: Engine, any_engine: Engine) -> None:
    """A second run (on another database, possibly another backend) gives the same demo."""
    run_demo(any_engine, steps=FOUNDATION_STEPS)
    assert _fingerprint(demo_engine) == _fingerprint(any_engine)
    other = _fingerprint(demo_engine)
    assert other != hashlib.sha256(b"").hexdigest()
