"""Synthetic survey answers for the demo and the tests, from an explicit latent model.

The answers are made to look like a real fielding, with differences an analyst should find:

- **store quality** ``q_s = tier effect + city effect + trend × period index + store noise``
  (flagship stores better than partner stores, some cities better run, a slow improvement
  over periods);
- **dimension profile**: every store is weaker in some dimensions (responsiveness is the
  chain-wide weak spot, tangibles the strong one), plus a store-specific wobble;
- **respondents**: a latent perception ``θ = q_s + segment effect + N(0, 0.6)`` (business
  customers are harder to please), expectations high and little tied to the store;
- **items**: ``y = centre + loading × (θ + dimension effect) + response style + error``,
  cut to the scale; response styles are an acquiescence shift per respondent and 10 % of
  extreme responders who stretch away from the middle.

All generation is vectorised (one million respondents in a few seconds) and reproducible
from ``seed``. The answers frame has meta columns (``respondent_id``, ``period``, ``unit``,
``city``, ``province``, ``tier``) and then one column per instrument field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sqm.domain.errors import RuleError
from sqm.domain.instrument_templates import (
    ECSI_ITEMS,
    INTERCEPT_ITEMS,
    SERVQUAL_DIMENSIONS,
    SERVQUAL_ITEMS,
)

META_COLUMNS: tuple[str, ...] = ("respondent_id", "period", "unit", "city", "province", "tier")

TIER_EFFECT: dict[str, float] = {
    "flagship": 0.45,
    "first_level": 0.15,
    "supermarket": -0.15,
    "partner": -0.4,
}
# (city, province, effect)
CITIES: tuple[tuple[str, str, float], ...] = (
    ("广州", "广东", 0.2),
    ("深圳", "广东", 0.3),
    ("佛山", "广东", -0.1),
    ("长沙", "湖南", 0.0),
    ("株洲", "湖南", -0.25),
    ("南宁", "广西", -0.15),
)
DIMENSION_EFFECT: dict[str, float] = {
    "tangibles": 0.35,
    "reliability": 0.05,
    "responsiveness": -0.35,
    "assurance": 0.15,
    "empathy": -0.1,
}
TREND_PER_PERIOD = 0.08
BUSINESS_SHARE = 0.3


@dataclass(frozen=True)
class DemoStore:
    """A store of the demo chain: code, city, province, tier and monthly customer traffic;
    ``city_effect`` overrides the built-in effect of the city (for other org trees)."""

    unit: str
    city: str
    province: str
    tier: str
    traffic: int
    city_effect: float | None = None


def demo_stores(n: int = 24, seed: int = 7) -> list[DemoStore]:
    """A demo chain of ``n`` stores spread over six cities in three provinces and four tiers.

    >>> [s.tier for s in demo_stores(4)]
    ['flagship', 'first_level', 'supermarket', 'partner']
    """
    if n < 1:
        raise RuleError(f"n must be ≥ 1, got {n}")
    rng = np.random.default_rng(seed)
    tiers = list(TIER_EFFECT)
    base = {"flagship": 6000, "first_level": 3000, "supermarket": 1500, "partner": 800}
    stores = []
    for i in range(n):
        city, province, _ = CITIES[i % len(CITIES)]
        tier = tiers[i % len(tiers)]
        traffic = int(base[tier] * rng.uniform(0.6, 1.5))
        stores.append(DemoStore(f"S{i + 1:03d}", city, province, tier, traffic))
    return stores


def _store_quality(
    stores: Sequence[DemoStore], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    city_effect = {c: e for c, _, e in CITIES}
    return np.array(
        [
            TIER_EFFECT.get(s.tier, 0.0)
            + (s.city_effect if s.city_effect is not None else city_effect.get(s.city, 0.0))
            for s in stores
        ]
    ) + rng.normal(0, 0.15, len(stores))


def _respondents(
    stores: Sequence[DemoStore],
    periods: Sequence[str],
    per_store: int | None,
    total: int | None,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Meta frame, latent θ, store index and period index per respondent."""
    if not stores or not periods:
        raise RuleError("stores and periods must not be empty")
    traffic = np.array([s.traffic for s in stores], dtype=float)
    quality = _store_quality(stores, rng)
    if total is not None:
        # proportional to traffic, like a quota plan, at least 5 per store and period
        share = traffic / traffic.sum()
        counts = np.maximum(5, np.round(share * total)).astype(np.int64)
    else:
        counts = np.full(len(stores), per_store or 20, dtype=np.int64)
    store_idx = np.repeat(np.arange(len(stores)), counts)
    store_idx = np.tile(store_idx, len(periods))
    period_idx = np.repeat(np.arange(len(periods)), counts.sum())
    n = store_idx.size
    business = rng.random(n) < BUSINESS_SHARE
    theta = (
        quality[store_idx] + TREND_PER_PERIOD * period_idx - 0.25 * business + rng.normal(0, 0.6, n)
    )
    meta = pd.DataFrame(
        {
            "respondent_id": np.arange(1, n + 1),
            "period": np.asarray(periods, dtype=object)[period_idx],
            "unit": np.array([s.unit for s in stores], dtype=object)[store_idx],
            "city": np.array([s.city for s in stores], dtype=object)[store_idx],
            "province": np.array([s.province for s in stores], dtype=object)[store_idx],
            "tier": np.array([s.tier for s in stores], dtype=object)[store_idx],
        }
    )
    meta["segment"] = np.where(business, 2, 1).astype(np.int8)
    return meta, theta, store_idx, period_idx


def _to_scale(y: npt.NDArray[np.float64], points: int, low: int = 1) -> npt.NDArray[np.int8]:
    return np.clip(np.rint(y), low, points).astype(np.int8)


def _styles(
    n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    acquiescence = rng.normal(0, 0.3, n)
    stretch = np.where(rng.random(n) < 0.1, 1.6, 1.0)
    return acquiescence, stretch


def servqual_answers(
    stores: Sequence[DemoStore],
    periods: Sequence[str],
    *,
    per_store: int | None = 20,
    total: int | None = None,
    seed: int = 11,
) -> pd.DataFrame:
    """SERVQUAL answers (``T1_e`` … ``E5_p``, importance points, profile) on a 7-point scale.

    ``total`` (per period) allocates respondents in proportion to traffic instead of
    ``per_store`` each.
    """
    rng = np.random.default_rng(seed)
    meta, theta, store_idx, _ = _respondents(stores, periods, per_store, total, rng)
    n = theta.size
    acq, stretch = _styles(n, rng)
    business = meta["segment"].to_numpy() == 2
    store_dim = rng.normal(0, 0.15, (len(stores), len(SERVQUAL_DIMENSIONS)))
    expect_level = 5.9 + 0.3 * business + rng.normal(0, 0.45, n)
    cols: dict[str, npt.NDArray[np.int8]] = {}
    dim_index = {d.code: k for k, d in enumerate(SERVQUAL_DIMENSIONS)}
    # a respondent's view of each dimension varies around their overall view, which is
    # what makes the five dimensions separate factors
    resp_dim = rng.normal(0, 0.55, (n, len(SERVQUAL_DIMENSIONS)))
    for i, (code, dim, _, _) in enumerate(SERVQUAL_ITEMS):
        k = dim_index[dim]
        loading = 0.75 + 0.025 * (i % 5)
        e = expect_level + 0.25 * DIMENSION_EFFECT[dim] * -1 + acq + rng.normal(0, 0.55, n)
        centre = 4.9
        p_lat = theta + DIMENSION_EFFECT[dim] + store_dim[store_idx, k] + resp_dim[:, k]
        p = centre + stretch * (loading * 1.1 * p_lat + acq) + rng.normal(0, 0.55, n)
        cols[f"{code}_e"] = _to_scale(e, 7)
        cols[f"{code}_p"] = _to_scale(p, 7)
    # importance: Dirichlet around the published pattern (reliability most important)
    alpha = np.array([11.0, 32.0, 22.0, 19.0, 16.0]) * 0.6
    shares = rng.dirichlet(alpha, n) * 100
    points = np.floor(shares / 5) * 5
    points[:, 1] += 100 - points.sum(axis=1)  # remainder to reliability: sums stay exactly 100
    for j, d in enumerate(SERVQUAL_DIMENSIONS):
        cols[f"imp_{d.code}"] = points[:, j].astype(np.int8)
    frame = pd.concat([meta.drop(columns="segment"), pd.DataFrame(cols)], axis=1)
    frame["segment"] = meta["segment"].to_numpy()
    frame["age_band"] = rng.integers(1, 6, n).astype(np.int8)
    frame["tenure"] = rng.integers(1, 5, n).astype(np.int8)
    frame["product"] = rng.integers(1, 7, n).astype(np.int8)
    return frame


def staff_answers(
    stores: Sequence[DemoStore], periods: Sequence[str], *, per_store: int = 4, seed: int = 13
) -> pd.DataFrame:
    """Staff-survey answers: staff under-estimate customers' expectations, most of all for
    responsiveness and empathy (gap 1), and more so in weaker stores."""
    rng = np.random.default_rng(seed)
    meta, theta, _, _ = _respondents(stores, periods, per_store, None, rng)
    n = theta.size
    meta = meta.drop(columns="segment")
    under = {
        "tangibles": 0.2,
        "reliability": 0.4,
        "responsiveness": 0.9,
        "assurance": 0.3,
        "empathy": 0.7,
    }
    level = 5.9 + 0.3 * theta + rng.normal(0, 0.4, n)
    for code, dim, _, _ in SERVQUAL_ITEMS:
        meta[f"{code}_e"] = _to_scale(level - under[dim] + rng.normal(0, 0.6, n), 7)
    meta["role"] = rng.choice(np.array([1, 1, 1, 2, 3, 4], dtype=np.int8), n)
    return meta


# True importance of the 13 intercept items for overall satisfaction (relative weights).
INTERCEPT_TRUE_WEIGHTS: dict[str, float] = {
    "Q01": 0.10, "Q02": 0.05, "Q03": 0.16, "Q04": 0.03, "Q05": 0.10, "Q06": 0.04, "Q07": 0.08,
    "Q08": 0.05, "Q09": 0.06, "Q10": 0.03, "Q11": 0.02, "Q12": 0.16, "Q13": 0.12,
}  # fmt: skip


# Item means differ as in a real store survey: attitude and image rate well, waiting and
# after-sales poorly.
INTERCEPT_CENTRE: tuple[float, ...] = (
    3.8, 3.6, 4.0, 4.1, 3.9, 3.7, 3.6, 3.7, 4.0, 3.5, 3.3, 3.2, 3.4,
)  # fmt: skip


def intercept_answers(
    stores: Sequence[DemoStore],
    periods: Sequence[str],
    *,
    per_store: int | None = 20,
    total: int | None = None,
    seed: int = 17,
) -> pd.DataFrame:
    """Store intercept answers: 13 items on 5 points, overall satisfaction driven by the
    items with :data:`INTERCEPT_TRUE_WEIGHTS`, NPS following overall satisfaction."""
    rng = np.random.default_rng(seed)
    meta, theta, store_idx, _ = _respondents(stores, periods, per_store, total, rng)
    n = theta.size
    acq, stretch = _styles(n, rng)
    item_lat = np.empty((n, len(INTERCEPT_ITEMS)))
    store_item = rng.normal(0, 0.2, (len(stores), len(INTERCEPT_ITEMS)))
    cols: dict[str, object] = {}
    for j, (code, *_rest) in enumerate(INTERCEPT_ITEMS):
        lat = 0.8 * theta + store_item[store_idx, j] + rng.normal(0, 0.55, n)
        item_lat[:, j] = lat
        cols[code] = _to_scale(INTERCEPT_CENTRE[j] + stretch * (0.9 * lat + 0.6 * acq), 5)
    w = np.array([INTERCEPT_TRUE_WEIGHTS[c] for c, *_ in INTERCEPT_ITEMS])
    overall_lat = item_lat @ w / w.sum() * 1.2 + rng.normal(0, 0.25, n)
    cols["overall"] = _to_scale(3.9 + stretch * (overall_lat + 0.6 * acq), 5)
    cols["nps"] = _to_scale(8.0 + 2.2 * overall_lat + rng.normal(0, 1.0, n), 10, low=0)
    frame = pd.concat([meta.drop(columns="segment"), pd.DataFrame(cols)], axis=1)
    frame["improve"] = pd.Series([None] * n, dtype=object)
    frame["segment"] = meta["segment"].to_numpy()
    frame["age_band"] = rng.integers(1, 6, n).astype(np.int8)
    frame["tenure"] = rng.integers(1, 5, n).astype(np.int8)
    frame["product"] = rng.integers(1, 7, n).astype(np.int8)
    return frame


def ecsi_answers(
    stores: Sequence[DemoStore],
    periods: Sequence[str],
    *,
    per_store: int | None = 20,
    seed: int = 19,
) -> pd.DataFrame:
    """ECSI answers on 10 points from the classic inner model (image → expectation → quality
    → value → satisfaction → complaints/loyalty), store quality feeding perceived quality."""
    rng = np.random.default_rng(seed)
    meta, theta, _, _ = _respondents(stores, periods, per_store, None, rng)
    n = theta.size

    def z(scale: float = 1.0) -> npt.NDArray[np.float64]:
        return rng.normal(0, scale, n)

    image = 0.5 * theta + z(0.8)
    expectation = 0.5 * image + z(0.8)
    quality = 0.3 * expectation + 0.7 * theta + z(0.5)
    value = 0.5 * quality + 0.2 * expectation + z(0.7)
    satisfaction = 0.2 * image + 0.05 * expectation + 0.5 * quality + 0.2 * value + z(0.45)
    complaints = 0.6 * satisfaction + z(0.8)
    loyalty = 0.25 * image + 0.55 * satisfaction + 0.1 * complaints + z(0.6)
    latent = {
        "image": image,
        "expectation": expectation,
        "quality": quality,
        "value": value,
        "satisfaction": satisfaction,
        "complaints": complaints,
        "loyalty": loyalty,
    }
    frame = meta.drop(columns="segment")
    for code, dim, _, _ in ECSI_ITEMS:
        frame[code] = _to_scale(7.2 + 1.5 * latent[dim] + z(0.9), 10)
    frame["segment"] = meta["segment"].to_numpy()
    frame["age_band"] = rng.integers(1, 6, n).astype(np.int8)
    frame["tenure"] = rng.integers(1, 5, n).astype(np.int8)
    return frame


def nps_csat_answers(
    stores: Sequence[DemoStore], periods: Sequence[str], *, per_store: int = 30, seed: int = 23
) -> pd.DataFrame:
    """Short-form answers: NPS (0-10), CSAT (1-5) and the segment."""
    rng = np.random.default_rng(seed)
    meta, theta, _, _ = _respondents(stores, periods, per_store, None, rng)
    n = theta.size
    frame = meta.drop(columns="segment")
    frame["nps"] = _to_scale(8.0 + 2.0 * theta + rng.normal(0, 1.2, n), 10, low=0)
    frame["csat"] = _to_scale(4.0 + 0.9 * theta + rng.normal(0, 0.6, n), 5)
    frame["reason"] = pd.Series([None] * n, dtype=object)
    frame["segment"] = meta["segment"].to_numpy()
    return frame
