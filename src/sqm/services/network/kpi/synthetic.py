"""Synthetic cell counters with a daily and weekly rhythm and injected incidents.

Used by the demo, the tests and the benchmarks: a seeded generator of the canonical
15-minute counter table (see ``kpi_catalogue.toml``) and of a matching cell inventory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from sqm.domain.errors import RuleError


@dataclass(frozen=True)
class Incident:
    """A degradation injected into one cell: from ``start`` for ``hours`` hours, the
    failure probability of RRC/bearer setup and of drops is multiplied by ``factor``."""

    cell_id: str
    start: datetime
    hours: float
    factor: float = 20.0


def synthetic_inventory(
    n_cells: int,
    *,
    seed: int = 0,
    cells_per_site: int = 3,
    provinces: dict[str, list[tuple[str, float, float]]] | None = None,
) -> pd.DataFrame:
    """A cell inventory: ``cells_per_site`` sectors per site, sites spread over cities.

    ``provinces`` maps a province to its cities as (name, lat, lon); sites are placed
    within about 10 km of a city centre.
    """
    if n_cells < 1:
        raise RuleError(f"n_cells must be at least 1, found {n_cells}")
    rng = np.random.default_rng(seed)
    provinces = provinces or {
        "Guangdong": [("Guangzhou", 23.13, 113.26), ("Shenzhen", 22.54, 114.06)],
        "Zhejiang": [("Hangzhou", 30.27, 120.15), ("Ningbo", 29.87, 121.54)],
    }
    cities = [(p, c, la, lo) for p, cs in provinces.items() for (c, la, lo) in cs]
    idx = np.arange(n_cells)
    site = idx // cells_per_site
    city_of_site = site % len(cities)
    prov = np.array([cities[i][0] for i in city_of_site])
    city = np.array([cities[i][1] for i in city_of_site])
    lat0 = np.array([cities[i][2] for i in city_of_site])
    lon0 = np.array([cities[i][3] for i in city_of_site])
    n_sites = int(site.max()) + 1
    site_dlat = rng.normal(0, 0.05, n_sites)[site]
    site_dlon = rng.normal(0, 0.05, n_sites)[site]
    district = np.array(
        [f"{c}-D{(s // len(cities)) % 4 + 1}" for c, s in zip(city, site, strict=True)]
    )
    tech = np.where(rng.random(n_cells) < 0.4, "5G", "4G")
    band = np.where(tech == "5G", "n78", np.where(idx % 2 == 0, "B3", "B1"))
    return pd.DataFrame(
        {
            "cell_id": [f"C{i:06d}" for i in idx],
            "site_id": [f"S{s:05d}" for s in site],
            "district": district,
            "city": city,
            "province": prov,
            "tech": tech,
            "band": band,
            "lat": lat0 + site_dlat,
            "lon": lon0 + site_dlon,
        }
    )


def _daily_profile(hour: np.ndarray) -> np.ndarray:
    # Traffic: quiet at 04:00, ramps through the day, evening peak around 21:00.
    return (
        0.15
        + 0.55 * np.exp(-((hour - 12.0) ** 2) / 18.0)
        + 0.9 * np.exp(-((hour - 21.0) ** 2) / 6.0)
    )


def synthetic_counters(
    inventory: pd.DataFrame,
    start: datetime,
    days: int,
    *,
    seed: int = 0,
    incidents: tuple[Incident, ...] = (),
    base_attempts: float = 200.0,
) -> pd.DataFrame:
    """15-minute counters for every cell of ``inventory`` over ``days`` days.

    Attempts follow a daily rhythm (evening peak) and a weekly one (weekends 20 % lower),
    with Poisson noise; successes are binomial with a per-cell base failure rate.
    """
    if days < 1:
        raise RuleError(f"days must be at least 1, found {days}")
    rng = np.random.default_rng(seed)
    cells = inventory["cell_id"].to_numpy()
    n_c, n_t = len(cells), days * 96
    ts = pd.date_range(start, periods=n_t, freq="15min")
    hour = (ts.hour + ts.minute / 60.0).to_numpy(dtype=float)
    weekend = np.asarray(ts.day_of_week >= 5)
    load = _daily_profile(hour) * np.where(weekend, 0.8, 1.0)
    cell_scale = rng.lognormal(0.0, 0.5, n_c)
    lam = np.outer(cell_scale, load) * base_attempts
    base_fail = rng.uniform(0.002, 0.01, n_c)[:, None] * np.ones((1, n_t))
    factor = np.ones((n_c, n_t))
    pos = {c: i for i, c in enumerate(cells)}
    t_index = pd.Index(ts)
    for inc in incidents:
        if inc.cell_id not in pos:
            raise RuleError(f"incident cell {inc.cell_id!r} is not in the inventory")
        t0 = pd.Timestamp(inc.start)
        mask = (t_index >= t0) & (t_index < t0 + pd.Timedelta(hours=inc.hours))
        factor[pos[inc.cell_id], mask] = inc.factor
    p_fail = np.clip(base_fail * factor, 0.0, 0.9)
    rrc_att = rng.poisson(lam)
    rrc_succ = rng.binomial(rrc_att, 1 - p_fail)
    bearer_att = rrc_succ
    bearer_succ = rng.binomial(bearer_att, 1 - p_fail)
    rel_total = bearer_succ
    rel_abn = rng.binomial(rel_total, np.clip(p_fail * 0.5, 0, 0.9))
    ho_att = rng.poisson(lam * 0.6)
    ho_succ = rng.binomial(ho_att, np.clip(1 - 2 * p_fail, 0.05, 1))
    dl_vol = rng.gamma(2.0, lam * 150.0 + 1.0)  # kbit
    thp = np.where(inventory["tech"].to_numpy() == "5G", 120.0, 30.0)[:, None] / (
        0.5 + load[None, :]
    )  # Mbit/s, lower when loaded
    dl_time = dl_vol / np.maximum(thp * rng.lognormal(0, 0.2, (n_c, n_t)), 0.1)  # ms
    prb_avail = np.full((n_c, n_t), 100 * 900)
    prb_used = np.minimum(
        prb_avail,
        (prb_avail * np.clip(0.2 + 0.5 * load[None, :] * cell_scale[:, None] / 2, 0, 1)).astype(
            np.int64
        ),
    )
    unavail = np.where(factor > 10, rng.integers(0, 300, (n_c, n_t)), 0)
    frame = pd.DataFrame(
        {
            "cell_id": np.repeat(cells, n_t),
            "ts": np.tile(ts.to_numpy(), n_c),
            "period_s": np.full(n_c * n_t, 900, dtype=np.int32),
            "rrc_att": rrc_att.ravel(),
            "rrc_succ": rrc_succ.ravel(),
            "bearer_att": bearer_att.ravel(),
            "bearer_succ": bearer_succ.ravel(),
            "bearer_rel_abnormal": rel_abn.ravel(),
            "bearer_rel_normal": (rel_total - rel_abn).ravel(),
            "ho_att": ho_att.ravel(),
            "ho_succ": ho_succ.ravel(),
            "dl_thp_vol_kbit": dl_vol.ravel(),
            "dl_thp_time_ms": dl_time.ravel(),
            "ul_thp_vol_kbit": (dl_vol * 0.15).ravel(),
            "ul_thp_time_ms": (dl_time * 0.6).ravel(),
            "dl_delay_sum_ms": (rrc_att * rng.uniform(8, 20, (n_c, 1))).ravel().astype(float),
            "dl_delay_n": rrc_att.ravel(),
            "unavail_s": unavail.ravel(),
            "prb_dl_used": prb_used.ravel(),
            "prb_dl_avail": prb_avail.ravel(),
            "active_ue": (lam / 20.0).ravel(),
            "dl_volume_mb": (dl_vol / 8000.0).ravel(),
        }
    )
    return frame
