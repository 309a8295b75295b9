"""Survey waves on the foundation demo, shared by the page, API and service tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from sqm.domain.instrument_templates import nps_csat, servqual
from sqm.domain.wave import LinkMode, WaveStatus
from sqm.services.surveys import fielding
from sqm.services.surveys.links import LinkSigner
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, Period, RoleGrant, User


def _signer() -> LinkSigner:
    return LinkSigner(b"test-secret".ljust(16, b"."))


@pytest.fixture
def waves(demo_engine: Engine) -> dict[str, object]:
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        manager = s.scalar(select(User).where(User.username == "store.manager"))
        assert manager is not None
        grant = s.scalar(select(RoleGrant).where(RoleGrant.user_id == manager.id))
        assert grant is not None
        own = s.get_one(OrgUnit, grant.scope_unit_id)
        own_stores = [
            u
            for u in s.scalars(
                select(OrgUnit).where(OrgUnit.kind == "store", OrgUnit.path.startswith(own.path))
            )
        ]
        other = s.scalars(
            select(OrgUnit)
            .where(OrgUnit.kind == "store", ~OrgUnit.path.startswith(own.path))
            .limit(2)
        ).all()
        stores = own_stores[:1] + list(other)
        period = s.scalars(select(Period).order_by(Period.start.desc())).first()
        assert period is not None
        sq = fielding.create_wave(
            s,
            code="T-SQ",
            period=period,
            instrument=fielding.store_instrument(s, servqual()),
            stores=stores,
            total=15,
        )
        quick = fielding.create_wave(
            s,
            code="T-Q",
            period=period,
            instrument=fielding.store_instrument(s, nps_csat()),
            stores=list(other),
            total=10,
        )
        closed = fielding.create_wave(
            s,
            code="T-C",
            period=period,
            instrument=fielding.store_instrument(s, nps_csat()),
            stores=stores,
            total=15,
            status=WaveStatus.CLOSED,
        )
        tok = fielding.create_wave(
            s,
            code="T-T",
            period=period,
            instrument=fielding.store_instrument(s, nps_csat()),
            stores=stores,
            total=15,
            link_mode=LinkMode.TOKEN,
        )
        tokens = fielding.issue_tokens(s, _signer(), tok, stores[0], 1)
        s.commit()
        return {
            "sq": sq.id,
            "quick": quick.id,
            "closed": closed.id,
            "own": stores[0].code,
            "other": other[0].code,
            "token": tokens[0],
        }
