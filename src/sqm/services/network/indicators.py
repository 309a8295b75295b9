"""Network KPIs as a source of the indicator system (``source = network_kpi``).

Scorecards read, per store and period, the references the store indicator system names:
``dl_user_throughput`` (Mbit/s), ``voice_drop_rate`` (%) and ``voice_mos`` (E-model MOS),
from :class:`~sqm.store.models.network.NetworkKpiValue`, filled from the counters of each
store's cells by :mod:`sqm.services.network.store_kpis` (``sqm network store-kpis``; the
demo simulates the months before its four weeks of counters, and voice MOS).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.store.models import OrgUnit, Period
from sqm.store.models.network import NetworkKpiValue

NETWORK_REFS = ("dl_user_throughput", "voice_drop_rate", "voice_mos")


def network_indicator_values(session: Session, period: Period) -> pd.DataFrame:
    """Producer for the indicator system's ``network_kpi`` source: one row per store and
    reference (``dl_user_throughput``, ``voice_drop_rate``, ``voice_mos``) for ``period``.
    """
    rows = session.execute(
        select(
            NetworkKpiValue.unit_id,
            NetworkKpiValue.kpi,
            NetworkKpiValue.value,
            NetworkKpiValue.n,
            NetworkKpiValue.se,
        )
        .join(OrgUnit, OrgUnit.id == NetworkKpiValue.unit_id)
        .where(
            NetworkKpiValue.period_id == period.id,
            OrgUnit.kind == UnitKind.STORE,
            NetworkKpiValue.kpi.in_(NETWORK_REFS),
        )
    ).all()
    df = pd.DataFrame(rows, columns=["unit_id", "source_ref", "value", "n", "se"])
    df["se"] = df["se"].astype(float)
    return df
