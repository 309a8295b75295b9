"""Demo network: cells around the demo stores, 15-minute counters, alerts, store KPIs.

One three-sector site per store (900 cells), placed within a few hundred metres of it;
four weeks of 15-minute counters with a daily and weekly rhythm and three injected
incidents (written to the Parquet dataset under ``<data_dir>/network/counters``); the
early-warning rules run over them and their alerts go into the alert tables; and the
three network leaves of the store indicator system (``dl_user_throughput``,
``voice_drop_rate``, ``voice_mos``) get a value for every store and month.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from sqm.config import get_settings
from sqm.ingest.network.counters import MeasurementDataset
from sqm.methods.alert_rules import Rule, StaticThreshold, Sustained, episodes
from sqm.methods.emodel import codec, mos_from_r, r_factor
from sqm.services.network.alerts import Detection, raise_alerts, resolve
from sqm.services.network.kpi import DuckDbKpiEngine
from sqm.services.network.kpi.synthetic import Incident, synthetic_counters
from sqm.services.network.store_kpis import store_kpis
from sqm.store.models import OrgUnit
from sqm.store.models.network import NetworkCell, NetworkKpiValue, NotificationRoute

if TYPE_CHECKING:
    from sqm.services.demo_context import DemoContext

DEMO_START = datetime(2026, 11, 2)  # a Monday; four weeks to the end of November
DEMO_DAYS = 28
FIRE, RECOVER, SUSTAINED_BAD = 93.0, 98.0, 96.0  # hourly RRC setup success, %


def _ancestor(unit: OrgUnit, pool: list[OrgUnit]) -> OrgUnit | None:
    return next((u for u in pool if unit.path.startswith(u.path)), None)


def demo_inventory(ctx: DemoContext, rng: np.random.Generator) -> pd.DataFrame:
    """Three sectors per store site, within ~300 m of the store."""
    rows = []
    for store in ctx.stores:
        city = _ancestor(store, ctx.cities)
        prov = _ancestor(store, ctx.provinces)
        lat0, lon0 = store.lat or 0.0, store.lon or 0.0
        urban = store.area_type == "urban"
        tech = "5G" if rng.random() < (0.7 if urban else 0.35) else "4G"
        for sector in range(3):
            rows.append(
                {
                    "cell_id": f"{store.code}-{sector + 1}",
                    "site_id": store.code,
                    "district": store.parent.name_en if store.parent else "",
                    "city": city.name_en if city else "",
                    "province": prov.name_en if prov else "",
                    "tech": tech,
                    "band": "n78" if tech == "5G" else ("B3" if sector % 2 else "B1"),
                    "lat": lat0 + float(rng.normal(0, 0.002)),
                    "lon": lon0 + float(rng.normal(0, 0.002)),
                    "unit_id": store.id,
                }
            )
    return pd.DataFrame(rows)


def _detections(
    counters: pd.DataFrame, inv: pd.DataFrame, end: datetime
) -> list[tuple[Detection, datetime | None]]:
    """Run the static and sustained rules on hourly RRC setup success per cell."""
    hourly = (
        counters.assign(hour=counters["ts"].dt.floor("h"))
        .groupby(["cell_id", "hour"], observed=True)[["rrc_att", "rrc_succ"]]
        .sum()
    )
    # Guard: an hour with fewer than 100 attempts gives no verdict (noise at night).
    sr = 100 * hourly["rrc_succ"] / hourly["rrc_att"].where(hourly["rrc_att"] >= 100)
    site_of = dict(zip(inv["cell_id"], inv["site_id"], strict=True))
    unit_of = dict(zip(inv["cell_id"], inv["unit_id"], strict=True))
    rules: dict[str, Rule] = {
        "static": StaticThreshold(fire=FIRE, recover=RECOVER, direction="higher"),
        "sustained": Sustained(bad=SUSTAINED_BAD, k=3, direction="higher"),
    }
    out: list[tuple[Detection, datetime | None]] = []
    for cell, series in sr.groupby(level=0):
        s = series.droplevel(0)
        if s.min() >= SUSTAINED_BAD:  # nothing any rule would fire on
            continue
        for name, rule in rules.items():
            for _, e in episodes(rule.evaluate(s)).iterrows():
                start = pd.Timestamp(e["start"]).to_pydatetime().replace(tzinfo=UTC)
                last = pd.Timestamp(e["end"]).to_pydatetime().replace(tzinfo=UTC)
                ended = last + timedelta(hours=1)
                det = Detection(
                    rule=name,
                    kpi="rrc_setup_sr",
                    cell_id=str(cell),
                    site_id=str(site_of[cell]),
                    unit_id=int(unit_of[cell]),
                    at=start,
                    value=float(s.loc[e["start"]]),
                    threshold=FIRE if name == "static" else SUSTAINED_BAD,
                    severity="critical" if float(s.loc[e["start"]]) < 90 else "major",
                )
                out.append((det, ended if ended < end else None))
    return out


def _store_month_values(
    ctx: DemoContext, rng: np.random.Generator, nov: pd.DataFrame
) -> list[NetworkKpiValue]:
    """Monthly values of the three network leaves per store (November from the counters).

    Earlier months drift ~1 % a month worse (the network improves over the year); voice
    MOS comes from the E-model with the AMR 12.2 codec, the store area's VoLTE packet loss
    (burst ratio 1.5) and one-way delay.
    """
    amr = codec("AMR-12.2")
    assert amr.bpl is not None
    thp_of = dict(zip(nov["unit"], nov["dl_user_thp"], strict=True))
    drop_of = dict(zip(nov["unit"], nov["drop_rate"], strict=True))
    n_s, n_m = len(ctx.stores), len(ctx.periods)
    thp_nov = np.array([float(thp_of.get(s.code, 40.0)) for s in ctx.stores])
    drop_nov = np.array([float(drop_of.get(s.code, 0.5)) for s in ctx.stores])
    loss = rng.gamma(2.0, 0.35, n_s)
    delay = rng.uniform(60, 180, n_s)
    back = (n_m - 1 - np.arange(n_m))[None, :]  # months before the last one
    drift = 1 + 0.01 * back
    noisy = back > 0
    thp = np.where(
        noisy, thp_nov[:, None] / drift * rng.lognormal(0, 0.05, (n_s, n_m)), thp_nov[:, None]
    )
    drop = np.where(
        noisy, drop_nov[:, None] * drift * rng.lognormal(0, 0.1, (n_s, n_m)), drop_nov[:, None]
    )
    m_loss = np.minimum(loss[:, None] * drift * rng.lognormal(0, 0.15, (n_s, n_m)), 20.0)
    r = r_factor(
        ie=amr.ie,
        bpl=amr.bpl,
        packet_loss=m_loss,
        burst_ratio=1.5,
        delay_ms=np.broadcast_to(delay[:, None], (n_s, n_m)),
    )
    mos = np.asarray(mos_from_r(r), dtype=float)
    calls = rng.integers(2_000, 20_000, (n_s, n_m))
    out: list[NetworkKpiValue] = []
    for i, store in enumerate(ctx.stores):
        for j, period in enumerate(ctx.periods):
            for kpi, arr in (
                ("dl_user_throughput", thp),
                ("voice_drop_rate", drop),
                ("voice_mos", mos),
            ):
                out.append(
                    NetworkKpiValue(
                        unit_id=store.id,
                        period_id=period.id,
                        kpi=kpi,
                        value=round(float(arr[i, j]), 4),
                        n=int(calls[i, j]),
                    )
                )
    return out


def build_demo_network(ctx: DemoContext) -> None:
    """The demo step: cells, counters (Parquet), alerts, monthly store KPI values."""
    rng = ctx.rng("network")
    session: Session = ctx.session
    inv = demo_inventory(ctx, rng)
    session.add_all(
        NetworkCell(**{str(k): v for k, v in r.items()}) for r in inv.to_dict("records")
    )
    picks = rng.choice(len(inv), size=3, replace=False)
    incidents = (
        Incident(str(inv.iloc[picks[0]]["cell_id"]), datetime(2026, 11, 12, 18), 5, 25.0),
        Incident(str(inv.iloc[picks[1]]["cell_id"]), datetime(2026, 11, 20, 9), 30, 30.0),
        Incident(str(inv.iloc[picks[2]]["cell_id"]), datetime(2026, 11, 29, 19), 200, 15.0),
    )
    counters = synthetic_counters(
        inv,
        DEMO_START,
        DEMO_DAYS,
        seed=int(rng.integers(0, 2**31)),
        incidents=incidents,
        base_attempts=120.0,
    )
    counters["ts"] = counters["ts"].astype("datetime64[us]")
    MeasurementDataset(get_settings().network_dir / "counters").append(counters, source_id="demo")
    inv.drop(columns=["unit_id"]).to_parquet(
        get_settings().network_dir / "inventory.parquet", index=False
    )
    ctx.extra["network_incidents"] = incidents

    end = (DEMO_START + timedelta(days=DEMO_DAYS)).replace(tzinfo=UTC)
    found = sorted(_detections(counters, inv, end), key=lambda x: x[0].at)
    # Replay in time order: an episode that ended is resolved before the next one fires.
    for det, ended in found:
        new = raise_alerts(session, [det])
        if ended is not None and new:
            resolve(session, new[0], None, "recovered", ended)
    session.add(
        NotificationRoute(
            name="NOC webhook",
            channel="webhook",
            target="http://127.0.0.1:9/noc",
            schedule="always",
            hours=[9, 18],
            min_severity="major",
            active=False,
        )
    )

    # The last month's store values come from the counters of each store's cells (the
    # service a real deployment runs monthly: `sqm network store-kpis`). The counters only
    # cover four weeks, so the earlier months stay simulated in _store_month_values, and
    # voice MOS (no counter source) stays from the E-model.
    session.flush()  # the cells must be queryable for the store link
    engine = DuckDbKpiEngine(counters, inv)
    measured = store_kpis(session, engine, ctx.periods[-1])
    engine.close()
    code_of = {st.id: st.code for st in ctx.stores}
    wide = measured.pivot(index="unit_id", columns="source_ref", values="value").reindex(
        columns=["dl_user_throughput", "voice_drop_rate"]
    )
    # A store under the sample guard gets the defaults _store_month_values uses anyway.
    wide = wide.fillna({"dl_user_throughput": 40.0, "voice_drop_rate": 0.5})
    nov = pd.DataFrame(
        {
            "unit": [code_of.get(int(u), "") for u in wide.index],
            "dl_user_thp": wide["dl_user_throughput"].to_numpy(dtype=float),
            "drop_rate": wide["voice_drop_rate"].to_numpy(dtype=float),
        }
    )
    session.add_all(_store_month_values(ctx, rng, nov))
    session.flush()
