"""Early-warning rules for KPI time series (pure numerics, no I/O).

Each rule turns a series of KPI values (pandas Series on a DatetimeIndex, one value per
interval) into a boolean series "alert active" for every interval. Alerts are the runs of
consecutive active intervals; :func:`backtest` counts them over history so thresholds can
be tuned before they page anyone.

Rules: static threshold with a separate recovery level (hysteresis), sustained degradation
(k consecutive bad intervals), robust baseline (same hour of week over the last N weeks,
median ± z · 1.4826 · MAD), trend (Mann–Kendall test over a window of days), and the EWMA
and tabular CUSUM control charts of Montgomery, *Introduction to Statistical Quality
Control*, 6th ed., §9.1–9.2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import scipy.stats as stats
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")
    pd = lazy_import("pandas")
    stats = lazy_import("scipy.stats")

__all__ = [
    "MAD_TO_SIGMA",
    "BacktestRow",
    "Baseline",
    "ControlChart",
    "CusumRule",
    "Direction",
    "EwmaRule",
    "MannKendall",
    "Rule",
    "StaticThreshold",
    "Sustained",
    "Trend",
    "backtest",
    "baseline",
    "cusum_chart",
    "episodes",
    "ewma_chart",
    "hour_of_week",
    "hysteresis",
    "mann_kendall",
]

Direction = Literal["higher", "lower"]  # which way is better for the KPI
BoolArray = npt.NDArray[np.bool_]
MAD_TO_SIGMA = 1.4826  # consistency constant: σ ≈ 1.4826 · MAD for normal data


def _series(values: pd.Series, name: str = "values") -> pd.Series:
    if not isinstance(values, pd.Series):
        raise MethodInputError(f"{name} must be a pandas Series, found {type(values).__name__}")
    return values.astype(float)


def _direction(direction: str) -> Direction:
    if direction not in ("higher", "lower"):
        raise MethodInputError(f"direction must be 'higher' or 'lower', found {direction!r}")
    return "higher" if direction == "higher" else "lower"


def hysteresis(fire: BoolArray, clear: BoolArray) -> BoolArray:
    """Alert state with separate firing and recovery conditions.

    The alert turns on at an interval where ``fire`` holds and stays on until an interval
    where ``clear`` holds (missing values change nothing). This is what keeps an alert
    from flapping around a single threshold.

    >>> hysteresis(np.array([0, 1, 0, 0, 0], bool), np.array([1, 0, 0, 1, 1], bool)).tolist()
    [False, True, True, False, False]
    """
    out = np.zeros(len(fire), dtype=bool)
    on = False
    for i in range(len(fire)):
        if not on and fire[i]:
            on = True
        elif on and clear[i]:
            on = False
        out[i] = on
    return out


def episodes(active: pd.Series) -> pd.DataFrame:
    """The alerts in an activity series: one row per run of active intervals.

    Columns ``start``, ``end`` (last active interval) and ``intervals``.
    """
    a = active.fillna(False).astype(bool).to_numpy()
    idx = active.index
    starts = np.flatnonzero(a & ~np.r_[False, a[:-1]])
    ends = np.flatnonzero(a & ~np.r_[a[1:], False])
    return pd.DataFrame({"start": idx[starts], "end": idx[ends], "intervals": ends - starts + 1})


class Rule(Protocol):
    """An early-warning rule: values in, alert-active flags out (same index)."""

    def evaluate(self, values: pd.Series) -> pd.Series:
        """True where the alert is active."""
        ...


@dataclass(frozen=True)
class StaticThreshold:
    """Fire when the KPI crosses ``fire``; recover only once it is back past ``recover``.

    For a higher-is-better KPI (e.g. setup success 98 / 99): fire below 98, clear at ≥ 99.

    >>> s = pd.Series([99.5, 97.9, 98.5, 98.9, 99.2])
    >>> StaticThreshold(98.0, 99.0, "higher").evaluate(s).tolist()
    [False, True, True, True, False]
    """

    fire: float
    recover: float
    direction: Direction = "higher"

    def __post_init__(self) -> None:
        d = _direction(self.direction)
        if (d == "higher" and self.recover < self.fire) or (
            d == "lower" and self.recover > self.fire
        ):
            raise MethodInputError(
                f"recover ({self.recover}) must be on the good side of fire ({self.fire}) "
                f"for direction {d!r}"
            )

    def evaluate(self, values: pd.Series) -> pd.Series:
        """True where the alert is active."""
        v = _series(values).to_numpy()
        with np.errstate(invalid="ignore"):
            if self.direction == "higher":
                fire, clear = v < self.fire, v >= self.recover
            else:
                fire, clear = v > self.fire, v <= self.recover
        return pd.Series(hysteresis(fire, clear), index=values.index)


@dataclass(frozen=True)
class Sustained:
    """Fire after ``k`` consecutive bad intervals (value past ``bad``); recover after
    ``recover_k`` consecutive intervals that are not bad (default ``k``).

    >>> s = pd.Series([1.0, 3, 3, 1, 3, 3, 3, 1, 1, 1])
    >>> Sustained(2.0, k=3, direction="lower").evaluate(s).astype(int).tolist()
    [0, 0, 0, 0, 0, 0, 1, 1, 1, 0]
    """

    bad: float
    k: int = 3
    direction: Direction = "higher"
    recover_k: int | None = None

    def evaluate(self, values: pd.Series) -> pd.Series:
        """True where the alert is active."""
        if self.k < 1:
            raise MethodInputError(f"k must be at least 1, found {self.k}")
        v = _series(values)
        bad = (v < self.bad) if _direction(self.direction) == "higher" else (v > self.bad)
        good = v.notna() & ~bad
        rk = self.recover_k or self.k
        fire = bad.astype(int).rolling(self.k).sum().to_numpy() == self.k
        clear = good.astype(int).rolling(rk).sum().to_numpy() == rk
        return pd.Series(hysteresis(fire, clear), index=values.index)


def hour_of_week(index: pd.DatetimeIndex) -> np.ndarray:
    """0 … 167: Monday 00:00 is 0 (ISO weekday, hour of day)."""
    return np.asarray(index.day_of_week * 24 + index.hour)


def baseline(values: pd.Series, weeks: int = 4, min_weeks: int = 2) -> pd.DataFrame:
    """Robust baseline of each interval from the same hour of week in the ``weeks`` weeks
    before it: ``median`` and ``sigma`` = 1.4826 · MAD of those past values (NaN with fewer
    than ``min_weeks`` of them). Intervals in the same hour of week are pooled (e.g. all
    four quarter-hours of Monday 21:00).
    """
    v = _series(values)
    if not isinstance(v.index, pd.DatetimeIndex):
        raise MethodInputError("values must have a DatetimeIndex")
    if weeks < 1 or min_weeks < 1:
        raise MethodInputError(
            f"weeks and min_weeks must be at least 1, found {weeks}, {min_weeks}"
        )
    frame = pd.DataFrame({"v": v.to_numpy(), "how": hour_of_week(v.index)}, index=v.index)
    frame["week"] = (v.index - pd.Timestamp("1970-01-05")).days // 7  # Monday-based week number
    hourly = frame.groupby(["how", "week"])["v"].apply(list)
    med = np.full(len(frame), np.nan)
    sig = np.full(len(frame), np.nan)
    n_used = np.zeros(len(frame), dtype=int)
    cache: dict[tuple[int, int], tuple[float, float, int]] = {}
    for i, (how, wk) in enumerate(
        zip(frame["how"].to_numpy(), frame["week"].to_numpy(), strict=True)
    ):
        key = (int(how), int(wk))
        if key not in cache:
            past: list[float] = []
            for w in range(wk - weeks, wk):
                past.extend(hourly.get((how, w), []))
            arr = np.asarray([x for x in past if not math.isnan(x)], dtype=float)
            weeks_seen = sum(1 for w in range(wk - weeks, wk) if (how, w) in hourly.index)
            if weeks_seen >= min_weeks and arr.size:
                m = float(np.median(arr))
                cache[key] = (m, MAD_TO_SIGMA * float(np.median(np.abs(arr - m))), weeks_seen)
            else:
                cache[key] = (math.nan, math.nan, weeks_seen)
        med[i], sig[i], n_used[i] = cache[key]
    return pd.DataFrame({"median": med, "sigma": sig, "weeks": n_used}, index=v.index)


@dataclass(frozen=True)
class Baseline:
    """Fire when the KPI is more than ``z`` robust sigmas (and at least ``min_deviation``
    in the KPI's unit) on the bad side of its same-hour-of-week median; recover inside
    ``z_recover`` sigmas.
    """

    weeks: int = 4
    z: float = 4.0
    z_recover: float = 2.0
    direction: Direction = "higher"
    min_deviation: float = 0.0
    min_weeks: int = 2

    def evaluate(self, values: pd.Series) -> pd.Series:
        """True where the alert is active."""
        b = baseline(values, self.weeks, self.min_weeks)
        v = _series(values).to_numpy()
        sign = -1.0 if _direction(self.direction) == "higher" else 1.0
        dev = sign * (v - b["median"].to_numpy())  # positive = worse than usual
        scale = np.maximum(b["sigma"].to_numpy(), 1e-12)
        with np.errstate(invalid="ignore"):
            fire = (dev > self.z * scale) & (dev >= self.min_deviation)
            clear = dev <= self.z_recover * scale
        return pd.Series(hysteresis(fire, clear), index=values.index)


@dataclass(frozen=True)
class MannKendall:
    """Result of the Mann–Kendall trend test (Kendall 1975, tie-corrected variance)."""

    s: float
    var_s: float
    z: float
    p_value: float
    sen_slope: float


def mann_kendall(x: FloatArray | list[float]) -> MannKendall:
    """Mann–Kendall test for a monotonic trend and Sen's slope (per step).

    S = Σ_{i<j} sign(x_j − x_i); Var S = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18 over tie groups
    t; Z = (S − sign S)/√Var S; two-sided p from the normal distribution. Missing values
    are dropped.

    >>> r = mann_kendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    >>> r.s, round(r.p_value, 5), r.sen_slope
    (45.0, 8e-05, 1.0)
    """
    a = np.asarray(x, dtype=float)
    a = a[~np.isnan(a)]
    n = a.size
    if n < 3:
        raise MethodInputError(f"x needs at least 3 values for a trend test, found {n}")
    diff = a[None, :] - a[:, None]
    iu = np.triu_indices(n, 1)
    s = float(np.sign(diff[iu]).sum())
    _, counts = np.unique(a, return_counts=True)
    ties = float(np.sum(counts * (counts - 1) * (2 * counts + 5)))
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    z = 0.0 if s == 0 or var_s <= 0 else (s - math.copysign(1.0, s)) / math.sqrt(var_s)
    p = float(2 * stats.norm.sf(abs(z)))
    steps = (iu[1] - iu[0]).astype(float)
    slope = float(np.median(diff[iu] / steps))
    return MannKendall(s=s, var_s=var_s, z=z, p_value=p, sen_slope=slope)


@dataclass(frozen=True)
class Trend:
    """Fire on a day when the last ``window`` daily values show a significant trend in the
    bad direction (Mann–Kendall, level ``alpha``); recover when it is no longer so.
    ``values`` should be daily KPI values.
    """

    window: int = 14
    alpha: float = 0.01
    direction: Direction = "higher"

    def evaluate(self, values: pd.Series) -> pd.Series:
        """True where the alert is active."""
        if self.window < 4:
            raise MethodInputError(f"window must be at least 4 days, found {self.window}")
        v = _series(values).to_numpy()
        bad_sign = -1.0 if _direction(self.direction) == "higher" else 1.0
        out = np.zeros(len(v), dtype=bool)
        for i in range(self.window - 1, len(v)):
            w = v[i - self.window + 1 : i + 1]
            if np.isnan(w).sum() > self.window // 2:
                continue
            r = mann_kendall(w)
            out[i] = r.p_value < self.alpha and math.copysign(1.0, r.z) == bad_sign and r.z != 0
        return pd.Series(out, index=values.index)


@dataclass(frozen=True)
class ControlChart:
    """Chart statistics and limits per point, and whether the point is out of control."""

    statistic: FloatArray
    lower: FloatArray
    upper: FloatArray
    signal: np.ndarray


def ewma_chart(
    x: FloatArray | list[float], mu0: float, sigma: float, lam: float = 0.2, L: float = 3.0
) -> ControlChart:
    """EWMA control chart (Montgomery §9.2): z_i = λ x_i + (1 − λ) z_{i−1}, z_0 = μ0, with
    exact limits μ0 ± L σ √(λ/(2 − λ) · [1 − (1 − λ)^{2i}]).

    >>> c = ewma_chart([10.0, 10.0, 14.0], mu0=10, sigma=1, lam=0.5, L=3)
    >>> c.statistic.tolist(), c.signal.tolist()
    ([10.0, 10.0, 12.0], [False, False, True])
    """
    a = np.asarray(x, dtype=float)
    if not 0 < lam <= 1:
        raise MethodInputError(f"lam must be in (0, 1], found {lam}")
    if sigma <= 0:
        raise MethodInputError(f"sigma must be positive, found {sigma}")
    z = np.empty_like(a)
    prev = mu0
    for i, xi in enumerate(a):
        prev = prev if math.isnan(xi) else lam * xi + (1 - lam) * prev
        z[i] = prev
    steps = np.arange(1, a.size + 1)
    half = L * sigma * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * steps)))
    lo, hi = mu0 - half, mu0 + half
    return ControlChart(z, lo, hi, (z > hi) | (z < lo))


def cusum_chart(
    x: FloatArray | list[float], mu0: float, sigma: float, k: float = 0.5, h: float = 5.0
) -> ControlChart:
    """Tabular CUSUM (Montgomery §9.1): C⁺_i = max(0, x_i − (μ0 + K) + C⁺_{i−1}),
    C⁻_i = max(0, (μ0 − K) − x_i + C⁻_{i−1}), K = kσ, signal when either exceeds H = hσ.
    ``statistic`` is C⁺, ``lower`` holds −C⁻ (so both plot on one chart), ``upper`` is H.

    >>> cusum_chart([10, 12, 12], mu0=10, sigma=1).statistic.tolist()
    [0.0, 1.5, 3.0]
    """
    a = np.asarray(x, dtype=float)
    if sigma <= 0:
        raise MethodInputError(f"sigma must be positive, found {sigma}")
    kk, hh = k * sigma, h * sigma
    cp = np.zeros_like(a)
    cm = np.zeros_like(a)
    p = m = 0.0
    for i, xi in enumerate(a):
        if not math.isnan(xi):
            p = max(0.0, xi - (mu0 + kk) + p)
            m = max(0.0, (mu0 - kk) - xi + m)
        cp[i], cm[i] = p, m
    return ControlChart(cp, -cm, np.full_like(a, hh), (cp > hh) | (cm > hh))


@dataclass(frozen=True)
class EwmaRule:
    """EWMA chart as a rule: in-control mean and sigma from the first ``train`` values
    (median and 1.4826·MAD) unless given; fires only on the bad side. ``min_sigma`` (in
    the KPI's unit) floors an estimated sigma: a quiet training week of a cell whose hourly
    values are mostly 100 % would otherwise make every later wobble "out of control"."""

    lam: float = 0.2
    L: float = 3.0
    direction: Direction = "higher"
    train: int = 96 * 7
    mu0: float | None = None
    sigma: float | None = None
    min_sigma: float = 0.0

    def evaluate(self, values: pd.Series) -> pd.Series:
        """True where the alert is active."""
        v = _series(values).to_numpy()
        mu, sd = _in_control(v, self.train, self.mu0, self.sigma)
        sd = max(sd, self.min_sigma)
        c = ewma_chart(v, mu, sd, self.lam, self.L)
        bad = (
            c.statistic < c.lower
            if _direction(self.direction) == "higher"
            else c.statistic > c.upper
        )
        return pd.Series(bad, index=values.index)


@dataclass(frozen=True)
class CusumRule:
    """Tabular CUSUM as a rule (bad side only); in-control parameters (and the
    ``min_sigma`` floor) as for EWMA."""

    k: float = 0.5
    h: float = 5.0
    direction: Direction = "higher"
    train: int = 96 * 7
    mu0: float | None = None
    sigma: float | None = None
    min_sigma: float = 0.0

    def evaluate(self, values: pd.Series) -> pd.Series:
        """True where the alert is active."""
        v = _series(values).to_numpy()
        mu, sd = _in_control(v, self.train, self.mu0, self.sigma)
        sd = max(sd, self.min_sigma)
        c = cusum_chart(v, mu, sd, self.k, self.h)
        h = self.h * sd
        bad = (-c.lower > h) if _direction(self.direction) == "higher" else (c.statistic > h)
        return pd.Series(bad, index=values.index)


def _in_control(
    v: np.ndarray, train: int, mu0: float | None, sigma: float | None
) -> tuple[float, float]:
    head = v[: max(train, 2)]
    head = head[~np.isnan(head)]
    if (mu0 is None or sigma is None) and head.size < 2:
        raise MethodInputError("need at least 2 training values to estimate mean and sigma")
    mu = float(np.median(head)) if mu0 is None else mu0
    sd = MAD_TO_SIGMA * float(np.median(np.abs(head - mu))) if sigma is None else sigma
    if sd <= 0:
        sd = float(np.std(head)) or 1e-9
    return mu, sd


@dataclass(frozen=True)
class BacktestRow:
    """How a rule would have behaved over the history."""

    rule: str
    alerts: int
    active_intervals: int
    first_alert: pd.Timestamp | None


def backtest(values: pd.Series, rules: Mapping[str, Rule]) -> pd.DataFrame:
    """Run every rule over the history and count the alerts each would have raised.

    Returns one row per rule: ``rule, alerts`` (number of separate alert episodes),
    ``active_intervals`` and ``first_alert``; episodes are in ``.attrs["episodes"]``.

    >>> s = pd.Series([99.0, 97.0, 99.5, 99.0], index=pd.date_range("2026-01-05", periods=4, freq="h"))
    >>> backtest(s, {"static": StaticThreshold(98, 99)})["alerts"].tolist()
    [1]
    """
    rows = []
    eps: dict[str, pd.DataFrame] = {}
    for name, rule in rules.items():
        active = rule.evaluate(values)
        e = episodes(active)
        eps[name] = e
        rows.append(
            {
                "rule": name,
                "alerts": len(e),
                "active_intervals": int(active.sum()),
                "first_alert": e["start"].iloc[0] if len(e) else None,
            }
        )
    out = pd.DataFrame(rows, columns=["rule", "alerts", "active_intervals", "first_alert"])
    out.attrs["episodes"] = eps
    return out
