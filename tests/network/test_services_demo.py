"""The demo network: the injected incidents are what the early-warning rules report."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sqm.services.network.indicators import NETWORK_REFS, network_indicator_values
from sqm.store.models import OrgUnit, Period
from sqm.store.models.network import NetworkAlert, NetworkCell, NetworkKpiValue

pytestmark = pytest.mark.slow  # builds the demo network once per session


def test_demo_alerts_are_the_injected_incidents(network_demo: Engine) -> None:
    with Session(network_demo) as s:
        assert s.scalar(select(func.count()).select_from(NetworkCell)) == 900
        alerts = s.scalars(select(NetworkAlert)).all()
        sites = {a.site_id for a in alerts}
        # Three incidents were injected (see build_demo_network); each is found, and
        # nothing else fires on the clean cells.
        assert 1 <= len(sites) <= 3, sites
        assert any(a.status == "open" for a in alerts)  # the last one lasts past the data
        assert all(a.severity in ("major", "critical") for a in alerts)


def test_network_indicator_values_cover_every_store_and_month(network_demo: Engine) -> None:
    with Session(network_demo) as s:
        period = s.scalars(select(Period).order_by(Period.start.desc())).first()
        assert period is not None
        df = network_indicator_values(s, period)
        stores = s.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.kind == "store"))
        assert set(df["source_ref"]) == set(NETWORK_REFS)
        assert len(df) == 3 * stores
        mos = df[df["source_ref"] == "voice_mos"]["value"]
        assert mos.between(1.0, 4.5).all() and mos.median() > 3.5
        assert s.scalar(select(func.count()).select_from(NetworkKpiValue)) > 0
        assert isinstance(df, pd.DataFrame)
