"""Monthly visit plan (月度暗访计划) with OR-Tools CP-SAT — pure: frames in, plan out.

The plan's rules (§1.4 检查实施), all configurable in :class:`PlanRules`:

- visits per store and month: key stores (重要的核心店, 客流量大) twice, others once;
- priority order when capacity is short: 旗舰核心店 and 中心城市一级店 first, then county
  first-level stores, 超市店, and last 合作店;
- rotation: an inspector returns to a store only after more than ``rotation_months``
  ("保证每个检查人员到辖区门店检查的时间间隔超过3个月"), so also never twice in one month;
- team visits (暗访小组集体检查): a store may need ``team_size`` inspectors on the same day;
- inspectors' territories, capacity per day and per week, days off;
- a store's visits at least ``min_gap_days`` apart, the territory's visits spread over the
  weeks in proportion to their working days (± ``spread_tolerance``);
- minimise travel and balance workload: a day's visits are clustered (stores grouped by
  location; each inspector-day pays for every cluster it enters plus the distance from the
  inspector's base to it) and the spread between the busiest and idlest inspector is
  penalised.

Every rule except territory, capacity and days off is *soft* with a priority penalty (far
above the travel cost), so when the rules cannot all hold the solver returns the best plan
that breaks only the lowest-priority ones: spread < second visits of key stores < rotation <
first visits of partner < supermarket < county first-level < central first-level < flagship.
Such a plan comes with an explanation: a hard model with one assumption literal per rule and
store, whose infeasible subset (CP-SAT's ``SufficientAssumptionsForInfeasibility``) names the
rules that conflict and for which stores.

Real planners plan per territory (辖区); so does this module: one CP-SAT model per territory,
and a territory too big for one model is split geographically with its inspectors assigned to
the nearest part. The reported gap is the sum of the territories' objectives against the sum
of their bounds.

Example (tiny, one territory):

>>> import datetime as dt
>>> stores = pd.DataFrame({"store_id": ["s1", "s2"], "tier": ["flagship_core", "partner"],
...     "territory": ["t1", "t1"], "lat": [31.23, 31.24], "lon": [121.47, 121.48]})
>>> insp = pd.DataFrame({"inspector_id": ["i1", "i2"], "territory": ["t1", "t1"],
...     "lat": [31.2, 31.2], "lon": [121.4, 121.4]})
>>> plan = plan_month(stores, insp, None, dt.date(2026, 11, 1), PlanRules(time_limit_s=5))
>>> sorted(plan.assignments.groupby("store_id").size().to_dict().items())
[('s1', 2), ('s2', 1)]
>>> check_plan(plan.assignments, stores, insp, None, plan.days, PlanRules())
[]
"""

from __future__ import annotations

import io
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqm.lazy import lazy_import
from sqm.methods.evidence_checks import haversine_m

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from ortools.sat.python import cp_model
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")
    cp_model = lazy_import("ortools.sat.python.cp_model")

PRIORITY_LABELS: dict[int, tuple[str, str]] = {
    1: ("旗舰核心店", "Flagship core store"),
    2: ("中心城市一级店", "First-level store, central city"),
    3: ("县镇一级店", "First-level store, county/town"),
    4: ("超市店", "Supermarket store"),
    5: ("合作店", "Partner store"),
}

RULE_LABELS: dict[str, tuple[str, str]] = {
    "visits": ("每月检查次数", "visits per month"),
    "second_visit": ("重点店第二次检查", "second visit of a key store"),
    "rotation": ("检查人员轮换(间隔超过3个月)", "inspector rotation"),
    "spread": ("检查在各周均衡分布", "visits spread over the weeks"),
    "min_gap": ("同一门店两次检查间隔", "gap between a store's visits"),
    "territory": ("检查人员辖区", "inspector territory"),
    "capacity_day": ("检查人员每日工作量", "inspector capacity per day"),
    "capacity_week": ("检查人员每周工作量", "inspector capacity per week"),
    "day_off": ("检查人员休息日", "inspector day off"),
    "team": ("小组检查人数", "team size"),
}


@dataclass(frozen=True)
class PlanRules:
    """The planning rules; defaults follow the plan (§1.4) where it gives a number."""

    visits_key: int = 2  # 重要的核心店 "每月检查次数可以适当增加(比如2次)"
    visits_other: int = 1  # 一般门店 "每月进行一次"
    rotation_months: int = 3  # "时间间隔超过3个月"
    cap_day: int = 4
    cap_week: int = 15
    min_gap_days: int = 7
    spread_tolerance: float = 0.25
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Mon–Sat; stores open on Saturdays
    max_stores_per_model: int = 300
    candidates_per_store: int = 5
    stores_per_cluster: int = 5
    time_limit_s: float = 50.0  # whole month, shared by the territories
    workers: int = 2
    #: when set, each territory gets this much *deterministic* solver time on one worker,
    #: so the same inputs always give the same plan (demo data, tests)
    deterministic_time: float | None = None
    explain: bool = True
    seed: int = 0
    # penalties: far above travel (≤ ~1e5 per territory) so rules come first, in this order
    penalty_first_visit: tuple[int, int, int, int, int] = (
        1_620_000_000,
        540_000_000,
        180_000_000,
        60_000_000,
        20_000_000,
    )
    penalty_rotation: int = 10_000_000
    penalty_second_visit: int = 5_000_000
    penalty_spread: int = 1_000_000
    cluster_cost: int = 30  # per cluster entered by an inspector in a day (≈ km of detours)
    balance_weight: int = 20  # per visit between the busiest and idlest inspector


def store_priority(tier: str, central_city: bool) -> int:
    """The plan's priority order: 1 flagship core … 5 partner (小 = first).

    >>> store_priority("first_level", True), store_priority("first_level", False)
    (2, 3)
    """
    if tier == "flagship_core":
        return 1
    if tier == "first_level":
        return 2 if central_city else 3
    if tier == "supermarket":
        return 4
    if tier == "partner":
        return 5
    raise ValueError(
        f"tier must be flagship_core, first_level, supermarket or partner, got {tier!r}"
    )


def working_days(month: date, rules: PlanRules) -> list[date]:
    """The month's planning days (``rules.workdays`` weekdays, 0 = Monday).

    >>> len(working_days(date(2026, 11, 1), PlanRules(workdays=(0, 1, 2, 3, 4))))
    21
    """
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return [
        first + timedelta(days=k)
        for k in range((nxt - first).days)
        if (first + timedelta(days=k)).weekday() in rules.workdays
    ]


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    last = ((date(y, m, 1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)).day
    return date(y, m, min(d.day, last))


def _week_of(days: Sequence[date]) -> list[int]:
    keys = [d.isocalendar()[:2] for d in days]
    uniq = sorted(set(keys))
    return [uniq.index(k) for k in keys]


# --------------------------------------------------------------------------- input frames


def prepare_stores(stores: pd.DataFrame, rules: PlanRules) -> pd.DataFrame:
    """Validate the stores frame and add ``priority``, ``visits`` and ``team_size``.

    Required columns: store_id, tier, territory, lat, lon. Optional: central_city (bool,
    default True for first-level stores), key (bool; default: flagship core stores and
    high-traffic first-level stores), traffic, visits (overrides), team_size (default 1).
    """
    need = {"store_id", "tier", "territory", "lat", "lon"}
    missing = need - set(stores.columns)
    if missing:
        raise ValueError(f"stores lacks the columns {sorted(missing)}")
    df = stores.copy().reset_index(drop=True)
    if df["store_id"].duplicated().any():
        dup = df.loc[df["store_id"].duplicated(), "store_id"].iloc[0]
        raise ValueError(f"stores: store_id {dup!r} appears twice")
    central = (
        df["central_city"].astype(bool) if "central_city" in df else pd.Series(True, index=df.index)
    )
    df["priority"] = [store_priority(t, c) for t, c in zip(df["tier"], central, strict=True)]
    if "key" in df:
        key = df["key"].astype(bool)
    else:
        traffic = df["traffic"] if "traffic" in df else pd.Series("normal", index=df.index)
        key = (df["tier"] == "flagship_core") | (
            (df["tier"] == "first_level") & (traffic == "high")
        )
    if "visits" not in df:
        df["visits"] = np.where(key, rules.visits_key, rules.visits_other)
    df["key"] = key
    if "team_size" not in df:
        df["team_size"] = 1
    bad = df[(df["visits"] < 0) | (df["team_size"] < 1)]
    if len(bad):
        raise ValueError(f"stores row {bad.index[0]}: visits must be ≥ 0 and team_size ≥ 1")
    return df


def prepare_inspectors(inspectors: pd.DataFrame, rules: PlanRules) -> pd.DataFrame:
    """Validate the inspectors frame; add cap_day/cap_week defaults and ``days_off`` sets.

    Required columns: inspector_id, territory, lat, lon (the inspector's base). Optional:
    cap_day, cap_week, days_off (iterable of dates).
    """
    need = {"inspector_id", "territory", "lat", "lon"}
    missing = need - set(inspectors.columns)
    if missing:
        raise ValueError(f"inspectors lacks the columns {sorted(missing)}")
    df = inspectors.copy().reset_index(drop=True)
    if df["inspector_id"].duplicated().any():
        raise ValueError("inspectors: inspector_id must be unique")
    if "cap_day" not in df:
        df["cap_day"] = rules.cap_day
    if "cap_week" not in df:
        df["cap_week"] = rules.cap_week
    if "days_off" not in df:
        df["days_off"] = pd.Series([frozenset()] * len(df), index=df.index, dtype=object)
    else:
        df["days_off"] = pd.Series(
            [frozenset(v) if v is not None else frozenset() for v in df["days_off"]],
            index=df.index,
            dtype=object,
        )
    return df


def _last_visits(history: pd.DataFrame | None) -> dict[tuple[str, str], date]:
    if history is None or history.empty:
        return {}
    need = {"store_id", "inspector_id", "date"}
    if need - set(history.columns):
        raise ValueError(f"history needs the columns {sorted(need)}")
    h = history.assign(date=pd.to_datetime(history["date"]).dt.date)
    out: dict[tuple[str, str], date] = {}
    for s, i, d in zip(h["store_id"], h["inspector_id"], h["date"], strict=True):
        key = (str(s), str(i))
        if key not in out or d > out[key]:
            out[key] = d
    return out


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Violation:
    """A rule a plan breaks: which rule, for which store/inspector/day, in words."""

    rule: str
    store_id: str | None
    inspector_id: str | None
    day: date | None
    message: str


@dataclass(frozen=True)
class Conflict:
    """Rules that cannot all hold together, and the stores/inspectors they involve."""

    territory: str
    rules: tuple[str, ...]
    stores: tuple[str, ...]
    inspectors: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class TerritorySolve:
    """Solver figures for one territory model."""

    territory: str
    n_stores: int
    n_inspectors: int
    status: str
    objective: float
    bound: float
    seconds: float
    travel_bound: float = 0.0  # analytic lower bound on the travel term (see _travel_bound)


@dataclass
class VisitPlan:
    """A month's plan: one row per inspector per visit (team visits share ``visit_id``)."""

    month: date
    days: list[date]
    assignments: pd.DataFrame  # visit_id, store_id, inspector_id, date, team_size
    violations: list[Violation]
    conflicts: list[Conflict]
    solves: list[TerritorySolve] = field(default_factory=list)

    @property
    def objective(self) -> float:
        """Sum of the territories' objective values (territories the solver finished)."""
        return float(sum(s.objective for s in self.solves if math.isfinite(s.objective)))

    @property
    def bound(self) -> float:
        """Sum of the same territories' best bounds (a lower bound on that objective)."""
        return float(sum(s.bound for s in self.solves if math.isfinite(s.objective)))

    @property
    def gap(self) -> float:
        """Relative gap to the solver's bound: (objective − bound) / max(|objective|, 1)."""
        return (self.objective - self.bound) / max(abs(self.objective), 1.0)

    @property
    def best_bound(self) -> float:
        """Per territory the larger of the solver's bound and the analytic travel bound."""
        return float(
            sum(max(s.bound, s.travel_bound) for s in self.solves if math.isfinite(s.objective))
        )

    @property
    def gap_to_best_bound(self) -> float:
        """Relative gap to :attr:`best_bound` — the honest distance from optimal we can prove."""
        return (self.objective - self.best_bound) / max(abs(self.objective), 1.0)

    @property
    def feasible_for_all_rules(self) -> bool:
        """True when the plan breaks no rule."""
        return not self.violations

    def for_inspector(self, inspector_id: str) -> pd.DataFrame:
        """One inspector's list, in date order."""
        a = self.assignments
        return a[a["inspector_id"] == inspector_id].sort_values(["date", "store_id"])


# --------------------------------------------------------------------------- model


def _kmeans(xy: np.ndarray, k: int, seed: int, iters: int = 25) -> np.ndarray:
    """Plain Lloyd k-means with k-means++ seeding (Arthur & Vassilvitskii 2007); labels."""
    rng = np.random.default_rng(seed)
    n = xy.shape[0]
    centres = [xy[int(rng.integers(n))]]
    d2 = ((xy - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        p = d2 / d2.sum() if d2.sum() > 0 else np.full(n, 1 / n)
        centres.append(xy[int(rng.choice(n, p=p))])
        d2 = np.minimum(d2, ((xy - centres[-1]) ** 2).sum(axis=1))
    c = np.array(centres)
    lab = np.zeros(n, dtype=int)
    for _ in range(iters):
        lab_new = ((xy[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        if (lab_new == lab).all() and _ > 0:
            break
        lab = lab_new
        for j in range(k):
            if (lab == j).any():
                c[j] = xy[lab == j].mean(axis=0)
    return np.unique(lab, return_inverse=True)[1]


def _clusters(lat: np.ndarray, lon: np.ndarray, per: int, seed: int) -> np.ndarray:
    """Group a territory's stores into clusters of about ``per`` stores by location."""
    n = lat.size
    k = max(1, math.ceil(n / per))
    if k == 1:
        return np.zeros(n, dtype=int)
    xy = np.c_[lat, lon * np.cos(np.radians(lat.mean()))]
    return _kmeans(xy, k, seed)


def _split_territory(
    st: pd.DataFrame, ins: pd.DataFrame, rules: PlanRules
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Split a big territory geographically; inspectors go to parts by demand and nearness."""
    if len(st) <= rules.max_stores_per_model or len(ins) <= 1:
        return [(st, ins)]
    k = min(math.ceil(len(st) / rules.max_stores_per_model), len(ins))
    xy = np.c_[st["lat"].to_numpy(float), st["lon"].to_numpy(float)]
    lab = _kmeans(xy, k, rules.seed)
    k = int(lab.max()) + 1
    demand = np.array([(st["visits"] * st["team_size"])[lab == c].sum() for c in range(k)], float)
    quota = np.maximum(1, np.round(demand / demand.sum() * len(ins))).astype(int)
    while quota.sum() > len(ins):
        quota[np.argmax(quota)] -= 1
    while quota.sum() < len(ins):
        quota[np.argmax(demand / quota)] += 1
    cent = np.array([xy[lab == c].mean(axis=0) for c in range(k)])
    d = np.asarray(
        haversine_m(
            ins["lat"].to_numpy()[:, None], ins["lon"].to_numpy()[:, None], cent[:, 0], cent[:, 1]
        )
    )
    part = -np.ones(len(ins), dtype=int)
    for flat in np.argsort(d, axis=None):
        i, c = divmod(int(flat), k)
        if part[i] < 0 and quota[c] > 0:
            part[i] = c
            quota[c] -= 1
    return [
        (st[lab == c], ins[part == c]) for c in range(k) if (lab == c).any() and (part == c).any()
    ]


@dataclass
class _Model:
    """A territory's stage-A model: which inspector(s) visit which store in which week."""

    model: cp_model.CpModel
    a: dict[tuple[int, int, int], cp_model.IntVar]  # (store, inspector, week)
    y: dict[tuple[int, int], cp_model.IntVar]  # (store, week): a visit happens
    penalties: list[tuple[str, int, int, cp_model.LinearExprT]]
    assumptions: dict[int, tuple[str, tuple[int, ...], tuple[int, ...]]]
    literals: list[cp_model.IntVar]
    aux: dict[str, cp_model.IntVar]
    cluster: np.ndarray
    week_days: list[list[int]]  # day indices of each week
    spread_limit: dict[int, int]
    blocked_until: dict[tuple[int, int], date]
    km: np.ndarray  # inspector × cluster, km from base
    week_cap: np.ndarray  # inspector × week


def _gap_weeks(rules: PlanRules) -> int:
    # two visits ≥ this many weeks apart leave at least one full week between them (≥ 8 days)
    return 1 + math.ceil(max(rules.min_gap_days - 1, 0) / 7) if rules.min_gap_days > 1 else 0


def _build(
    st: pd.DataFrame,
    ins: pd.DataFrame,
    days: list[date],
    last: dict[tuple[str, str], date],
    rules: PlanRules,
    *,
    hard: bool,
) -> _Model:
    """Stage A of a territory: assign store visits to inspector-weeks.

    ``hard`` turns the soft rules into hard ones guarded by assumption literals (for the
    infeasibility explanation).
    """
    m = cp_model.CpModel()
    n_s, n_i = len(st), len(ins)
    week = _week_of(days)
    n_w = max(week) + 1
    week_days = [[d for d in range(len(days)) if week[d] == w] for w in range(n_w)]
    sid = st["store_id"].astype(str).tolist()
    iid = ins["inspector_id"].astype(str).tolist()
    visits = st["visits"].astype(int).to_numpy()
    team = st["team_size"].astype(int).to_numpy()
    prio = st["priority"].astype(int).to_numpy()
    a: dict[tuple[int, int, int], cp_model.IntVar] = {}
    y: dict[tuple[int, int], cp_model.IntVar] = {}
    pen: list[tuple[str, int, int, cp_model.LinearExprT]] = []
    assumptions: dict[int, tuple[str, tuple[int, ...], tuple[int, ...]]] = {}
    literals: list[cp_model.IntVar] = []
    aux: dict[str, cp_model.IntVar] = {}
    spread_limit: dict[int, int] = {}

    def assume(rule: str, stores: tuple[int, ...], insps: tuple[int, ...]) -> cp_model.IntVar:
        lit = m.new_bool_var(f"assume_{rule}_{stores}_{insps}")
        assumptions[lit.index] = (rule, stores, insps)
        literals.append(lit)
        return lit

    blocked_until: dict[tuple[int, int], date] = {}
    for s in range(n_s):
        for i in range(n_i):
            lv = last.get((sid[s], iid[i]))
            if lv is not None:
                blocked_until[(s, i)] = _add_months(lv, rules.rotation_months)
    off = [ins["days_off"].iloc[i] for i in range(n_i)]
    cap_day = ins["cap_day"].astype(int).to_numpy()
    cap_week = ins["cap_week"].astype(int).to_numpy()
    week_cap = np.array(
        [
            [
                min(int(cap_week[i]), int(cap_day[i]) * sum(days[d] not in off[i] for d in wd))
                for wd in week_days
            ]
            for i in range(n_i)
        ],
        dtype=int,
    ).reshape(n_i, n_w)
    dist = np.asarray(
        haversine_m(
            st["lat"].to_numpy(float)[:, None],
            st["lon"].to_numpy(float)[:, None],
            ins["lat"].to_numpy(float)[None, :],
            ins["lon"].to_numpy(float)[None, :],
        )
    ).reshape(n_s, n_i)
    rot_blocked: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for s in range(n_s):
        if visits[s] == 0:
            continue
        cands = range(n_i) if hard else _candidates(s, n_i, dist[s], blocked_until, days, rules)
        for w in range(n_w):
            y[(s, w)] = m.new_bool_var(f"y{s}_{w}")
            for i in cands:
                if week_cap[i, w] == 0:
                    continue
                v = m.new_bool_var(f"a{s}_{i}_{w}")
                a[(s, i, w)] = v
                until = blocked_until.get((s, i))
                # a week counts as blocked when none of its days is after the rotation date
                if until is not None and days[week_days[w][-1]] <= until:
                    rot_blocked[(s, i)].append(v)
    by_sw: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    by_iw: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    by_si: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    by_i: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for (s, i, w), v in a.items():
        by_sw[(s, w)].append(v)
        by_iw[(i, w)].append(v)
        by_si[(s, i)].append(v)
        by_i[i].append(v)
    gap_w = _gap_weeks(rules)
    for s in range(n_s):
        if visits[s] == 0:
            continue
        for w in range(n_w):  # team visit: exactly team_size inspectors
            m.add(cp_model.LinearExpr.sum(by_sw[(s, w)]) == int(team[s]) * y[(s, w)])
        ys = [y[(s, w)] for w in range(n_w)]
        if hard:
            lit = assume("visits", (s,), ())
            m.add(cp_model.LinearExpr.sum(ys) == int(visits[s])).only_enforce_if(lit)
            m.add(cp_model.LinearExpr.sum(ys) <= int(visits[s]))
        else:
            miss_first = m.new_bool_var(f"m1_{s}")
            miss_more = m.new_int_var(0, int(visits[s]) - 1, f"m2_{s}")
            aux[f"m1_{s}"], aux[f"m2_{s}"] = miss_first, miss_more
            m.add(cp_model.LinearExpr.sum(ys) == int(visits[s]) - miss_first - miss_more)
            if visits[s] > 1:
                m.add((int(visits[s]) - 1) * miss_first <= miss_more)
                pen.append(("second_visit", s, rules.penalty_second_visit, miss_more))
            pen.append(("visits", s, rules.penalty_first_visit[int(prio[s]) - 1], miss_first))
        if visits[s] > 1 and gap_w > 1:  # a store's visits at least min_gap_days apart
            for w in range(n_w):
                window = ys[w : w + gap_w]
                if len(window) > 1:
                    m.add(cp_model.LinearExpr.sum(window) <= 1)
        for i in range(n_i):  # rotation: never twice in the month
            vs = by_si.get((s, i), [])
            if len(vs) > 1:
                m.add(cp_model.LinearExpr.sum(vs) <= 1)
    for (s, i), vs in rot_blocked.items():  # rotation against the history
        if hard:
            lit = assume("rotation", (s,), (i,))
            for v in vs:
                m.add(v == 0).only_enforce_if(lit)
        else:
            pen.append(("rotation", s, rules.penalty_rotation, cp_model.LinearExpr.sum(vs)))
    for (i, w), vs in by_iw.items():
        if len(vs) > week_cap[i, w]:
            m.add(cp_model.LinearExpr.sum(vs) <= int(week_cap[i, w]))
    total_req = int(visits.sum())
    for w in range(n_w):  # spread: each week's share ≈ its share of working days
        share = len(week_days[w]) / len(days)
        limit = math.ceil(share * total_req * (1 + rules.spread_tolerance))
        spread_limit[w] = limit
        yw = [y[(s, w2)] for (s, w2) in y if w2 == w]
        if len(yw) <= limit:
            continue
        if hard:
            lit = assume(f"spread_w{w}", (), ())
            m.add(cp_model.LinearExpr.sum(yw) <= limit).only_enforce_if(lit)
        else:
            excess = m.new_int_var(0, len(yw), f"excess_{w}")
            aux[f"excess_{w}"] = excess
            m.add(cp_model.LinearExpr.sum(yw) <= limit + excess)
            pen.append(("spread", -1, rules.penalty_spread, excess))

    # travel: clusters an inspector enters in a week, by distance from the inspector's base
    lat, lon = st["lat"].to_numpy(float), st["lon"].to_numpy(float)
    cl = _clusters(lat, lon, rules.stores_per_cluster, rules.seed)
    n_c = int(cl.max()) + 1
    cent = np.array([[lat[cl == c].mean(), lon[cl == c].mean()] for c in range(n_c)])
    km = (
        np.asarray(
            haversine_m(
                ins["lat"].to_numpy(float)[:, None],
                ins["lon"].to_numpy(float)[:, None],
                cent[None, :, 0],
                cent[None, :, 1],
            )
        ).reshape(n_i, n_c)
        / 1000.0
    )
    by_iwc: dict[tuple[int, int, int], list[cp_model.IntVar]] = defaultdict(list)
    for (s, i, w), v in a.items():
        by_iwc[(i, w, int(cl[s]))].append(v)
    terms: list[cp_model.LinearExprT] = []
    for (i, w, c), vs in by_iwc.items():
        z = m.new_bool_var(f"z_{i}_{w}_{c}")
        aux[f"z_{i}_{w}_{c}"] = z
        for v in vs:
            m.add_implication(v, z)
        terms.append((rules.cluster_cost + round(2 * float(km[i, c]))) * z)
    hi = m.new_int_var(0, 2 * n_s, "load_hi")
    lo = m.new_int_var(0, 2 * n_s, "load_lo")
    aux["hi"], aux["lo"] = hi, lo
    m.add(lo <= hi)  # redundant for integer plans, but keeps the LP bound from going negative
    for i in range(n_i):
        load = cp_model.LinearExpr.sum(by_i[i])
        m.add(hi >= load)
        m.add(lo <= load)
    terms.append(rules.balance_weight * (hi - lo))
    if not hard:
        terms.extend(coef * expr for _, _, coef, expr in pen)
        m.minimize(cp_model.LinearExpr.sum(terms))
    return _Model(
        m,
        a,
        y,
        pen,
        assumptions,
        literals,
        aux,
        cl,
        week_days,
        spread_limit,
        blocked_until,
        km,
        week_cap,
    )


def _candidates(
    s: int,
    n_i: int,
    dist: np.ndarray,
    blocked_until: dict[tuple[int, int], date],
    days: list[date],
    rules: PlanRules,
) -> list[int]:
    """The store's candidate inspectors: the nearest ones free of rotation first.

    Pruning keeps one territory's model small; rotation-blocked inspectors stay candidates
    only when too few free ones are left, so the soft rotation rule can still be relaxed.
    """
    first, last = days[0], days[-1]

    def block_key(i: int) -> tuple[int, float]:
        until = blocked_until.get((s, i))
        level = 0 if until is None or until < first else (1 if until < last else 2)
        return (level, float(dist[i]))

    order = sorted(range(n_i), key=block_key)
    return order[: max(rules.candidates_per_store, 1)]


def _greedy(
    built: _Model, st: pd.DataFrame, n_i: int, days: list[date], rules: PlanRules
) -> set[tuple[int, int, int]]:
    """A quick rule-abiding stage-A plan, stores in priority order, to start CP-SAT from.

    Each visit goes to the week and candidate inspector(s) that add the least travel (a
    cluster the inspector already visits that week costs nothing), within weekly capacity,
    rotation, the gap between a store's visits and the weekly spread limits.
    """
    n_w = len(built.week_days)
    visits = st["visits"].astype(int).to_numpy()
    team = st["team_size"].astype(int).to_numpy()
    order = np.lexsort((-visits, st["priority"].astype(int).to_numpy()))
    load = np.zeros((n_i, n_w), dtype=int)
    week_total = np.zeros(n_w, dtype=int)
    seen: set[tuple[int, int, int]] = set()
    chosen: set[tuple[int, int, int]] = set()
    gap_w = _gap_weeks(rules)
    for s_ in order:
        s = int(s_)
        c = int(built.cluster[s])
        used_i: set[int] = set()
        used_w: list[int] = []
        for _ in range(int(visits[s])):
            best: tuple[float, int, list[int]] | None = None
            for w in range(n_w):
                if week_total[w] >= built.spread_limit.get(w, 10**9):
                    continue
                if any(abs(w - u) < gap_w for u in used_w):
                    continue
                opts: list[tuple[float, int]] = []
                for i in range(n_i):
                    if (
                        (s, i, w) not in built.a
                        or i in used_i
                        or load[i, w] >= built.week_cap[i, w]
                    ):
                        continue
                    until = built.blocked_until.get((s, i))
                    if until is not None and days[built.week_days[w][-1]] <= until:
                        continue
                    cost = (
                        0.0 if (i, w, c) in seen else rules.cluster_cost + 2 * float(built.km[i, c])
                    )
                    opts.append((cost + 0.3 * load[i, w] + 0.1 * week_total[w], i))
                if len(opts) < team[s]:
                    continue
                opts.sort()
                pick = opts[: int(team[s])]
                total = sum(o[0] for o in pick)
                if best is None or total < best[0]:
                    best = (total, w, [i for _, i in pick])
            if best is None:
                break
            _, w, insps = best
            used_w.append(w)
            week_total[w] += 1
            for i in insps:
                used_i.add(i)
                load[i, w] += 1
                seen.add((i, w, c))
                chosen.add((s, i, w))
    return chosen


def _hint(built: _Model, chosen: set[tuple[int, int, int]], st: pd.DataFrame, n_i: int) -> None:
    """Hint every variable from the greedy plan so CP-SAT starts from a complete solution."""
    m = built.model
    weeks_of: dict[int, set[int]] = defaultdict(set)
    for key, v in built.a.items():
        on = key in chosen
        m.add_hint(v, on)
        if on:
            weeks_of[key[0]].add(key[2])
    for (s, w), v in built.y.items():
        m.add_hint(v, w in weeks_of[s])
    visits = st["visits"].astype(int).to_numpy()
    for s in range(len(st)):
        if f"m1_{s}" in built.aux:
            got = len(weeks_of[s])
            m.add_hint(built.aux[f"m1_{s}"], got == 0)
            m.add_hint(built.aux[f"m2_{s}"], int(visits[s]) - got - (1 if got == 0 else 0))
    per_week: dict[int, int] = defaultdict(int)
    for ws in weeks_of.values():
        for w in ws:
            per_week[w] += 1
    for w, lim in built.spread_limit.items():
        if f"excess_{w}" in built.aux:
            m.add_hint(built.aux[f"excess_{w}"], max(0, per_week[w] - lim))
    entered = {(i, w, int(built.cluster[s])) for s, i, w in chosen}
    loads = [0] * n_i
    for _, i, _ in chosen:
        loads[i] += 1
    for name, v in built.aux.items():
        if name.startswith("z_"):
            i_s, w_s, c_s = name.split("_")[1:]
            m.add_hint(v, (int(i_s), int(w_s), int(c_s)) in entered)
    m.add_hint(built.aux["hi"], max(loads, default=0))
    m.add_hint(built.aux["lo"], min(loads, default=0))


def _place_days(
    built: _Model,
    weekly: set[tuple[int, int, int]],
    st: pd.DataFrame,
    ins: pd.DataFrame,
    days: list[date],
) -> list[tuple[int, int, int]]:
    """Stage B: put each inspector-week's visits on days — team visits on a shared day, a
    day's visits from as few clusters as possible, within daily capacity, days off and the
    rotation date; a store's second visit keeps its week, so the weekly gap keeps the days apart.
    """
    cap_day = ins["cap_day"].astype(int).to_numpy()
    off = [ins["days_off"].iloc[i] for i in range(len(ins))]
    load: dict[tuple[int, int], int] = defaultdict(int)
    day_clusters: dict[tuple[int, int], set[int]] = defaultdict(set)
    team_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    for s, i, w in weekly:
        team_of[(s, w)].append(i)
    # teams first (hardest to place), then by cluster so a day's stores sit together
    jobs = sorted(
        team_of.items(),
        key=lambda kv: (-len(kv[1]), kv[0][1], int(built.cluster[kv[0][0]]), kv[0][0]),
    )
    out: list[tuple[int, int, int]] = []
    for (s, w), insps in jobs:
        c = int(built.cluster[s])
        best: tuple[tuple[int, int, int], int] | None = None
        for d in built.week_days[w]:
            ok = True
            for i in insps:
                until = built.blocked_until.get((s, i))
                if (
                    days[d] in off[i]
                    or load[(i, d)] >= cap_day[i]
                    or (until is not None and days[d] <= until)
                ):
                    ok = False
                    break
            if not ok:
                continue
            new_cluster = sum(c not in day_clusters[(i, d)] for i in insps)
            fill = sum(load[(i, d)] for i in insps)
            key = (new_cluster, -fill if new_cluster == 0 else fill, d)
            if best is None or key < best[0]:
                best = (key, d)
        # no day satisfies everything: keep the week's first day, the re-check reports it
        d = built.week_days[w][0] if best is None else best[1]
        for i in insps:
            load[(i, d)] += 1
            day_clusters[(i, d)].add(c)
            out.append((s, i, d))
    return out


def _solve_territory(
    name: str,
    st: pd.DataFrame,
    ins: pd.DataFrame,
    days: list[date],
    last: dict[tuple[str, str], date],
    rules: PlanRules,
    time_limit: float,
) -> tuple[list[tuple[str, str, date, int]], TerritorySolve, list[Conflict]]:
    t0 = time.perf_counter()
    built = _build(st, ins, days, last, rules, hard=False)
    greedy = _greedy(built, st, len(ins), days, rules)
    _hint(built, greedy, st, len(ins))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.2, time_limit - (time.perf_counter() - t0))
    solver.parameters.num_workers = rules.workers
    solver.parameters.random_seed = rules.seed
    if rules.deterministic_time is not None:
        solver.parameters.max_time_in_seconds = 10 * rules.time_limit_s
        solver.parameters.max_deterministic_time = rules.deterministic_time
        solver.parameters.num_workers = 1
    # the greedy hint is already a full plan: spend the time on search and the LP bound,
    # not on presolve rounds and symmetry detection
    solver.parameters.linearization_level = 2
    solver.parameters.cp_model_presolve = False
    status = solver.solve(built.model)
    sid = st["store_id"].astype(str).tolist()
    iid = ins["inspector_id"].astype(str).tolist()
    conflicts: list[Conflict] = []
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        weekly = {k for k, v in built.a.items() if solver.boolean_value(v)}
        broken = any(solver.value(expr) > 0 for _, _, _, expr in built.penalties)
        obj, bound = solver.objective_value, solver.best_objective_bound
    else:  # no solution in time: keep the greedy plan, report it with no bound
        weekly = greedy
        placed = {(s, w) for s, _, w in greedy}
        broken = len(placed) < int(st["visits"].sum())
        obj, bound = float("nan"), float("nan")
    if broken and rules.explain:
        conflicts = _explain(name, st, ins, days, last, rules, time_limit)
    team = st["team_size"].astype(int).to_numpy()
    rows = [
        (sid[s], iid[i], days[d], int(team[s]))
        for s, i, d in _place_days(built, weekly, st, ins, days)
    ]
    stats = TerritorySolve(
        territory=name,
        n_stores=len(st),
        n_inspectors=len(ins),
        status=solver.status_name(status),
        objective=obj,
        bound=bound,
        seconds=time.perf_counter() - t0,
        travel_bound=_travel_bound(built, st, rules),
    )
    return rows, stats, conflicts


def _travel_bound(built: _Model, st: pd.DataFrame, rules: PlanRules) -> float:
    """A valid lower bound on a territory's objective when every visit is placed.

    Each cluster must be entered in at least as many distinct inspector-weeks as the most
    visited of its stores needs (two visits of a store fall in different weeks; a team needs
    as many inspectors), and every entry costs at least the cluster cost plus the distance
    from the nearest inspector base. Balance and rule penalties are ≥ 0. A plan that drops
    a visit pays a penalty far above any travel, so the bound holds for every plan.
    """
    need = (st["visits"].astype(int) * st["team_size"].astype(int)).to_numpy()
    total = 0.0
    for c in range(int(built.cluster.max()) + 1 if built.cluster.size else 0):
        k = int(need[built.cluster == c].max(initial=0))
        if k:
            cheapest = min(rules.cluster_cost + round(2 * float(x)) for x in built.km[:, c])
            total += k * cheapest
    return float(total)


def _explain(
    name: str,
    st: pd.DataFrame,
    ins: pd.DataFrame,
    days: list[date],
    last: dict[tuple[str, str], date],
    rules: PlanRules,
    time_limit: float,
) -> list[Conflict]:
    """Name the rules that cannot hold together: an infeasible subset of assumption literals."""
    built = _build(st, ins, days, last, rules, hard=True)
    built.model.add_assumptions(built.literals)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(1.0, time_limit)
    solver.parameters.num_workers = 1  # the assumption core needs a single worker
    status = solver.solve(built.model)
    if status != cp_model.INFEASIBLE:
        return []
    core = solver.sufficient_assumptions_for_infeasibility()
    sid = st["store_id"].astype(str).tolist()
    iid = ins["inspector_id"].astype(str).tolist()
    rules_in: set[str] = set()
    stores: set[str] = set()
    insps: set[str] = set()
    for lit in core:
        rule, ss, ii = built.assumptions[lit]
        rules_in.add(rule.split("_w")[0])
        stores.update(sid[s] for s in ss)
        insps.update(iid[i] for i in ii)
    # capacity, territory and days off are hard: they are the other side of every conflict
    rules_in.update({"capacity_week", "territory"})
    names = sorted(rules_in)
    labels = "; ".join(f"{RULE_LABELS[r][0]} ({RULE_LABELS[r][1]})" for r in names)
    msg = (
        f"辖区 {name}: 以下规则无法同时满足 / territory {name}: these rules cannot all hold: "
        f"{labels}"
        + (f" — stores {', '.join(sorted(stores))}" if stores else "")
        + f" — {len(ins)} inspector(s) in the territory"
    )
    return [Conflict(name, tuple(names), tuple(sorted(stores)), tuple(sorted(insps)), msg)]


def plan_month(
    stores: pd.DataFrame,
    inspectors: pd.DataFrame,
    history: pd.DataFrame | None,
    month: date,
    rules: PlanRules | None = None,
) -> VisitPlan:
    """Plan a month of store visits, territory by territory, with CP-SAT.

    ``history`` holds past visits (store_id, inspector_id, date) for the rotation rule.
    The result lists assignments, the rules broken (empty when all hold), conflicts that
    explain why rules had to be broken, and per-territory objective and bound.
    """
    r = rules or PlanRules()
    st = prepare_stores(stores, r)
    ins = prepare_inspectors(inspectors, r)
    days = working_days(month, r)
    last = _last_visits(history)
    parts: list[tuple[str, pd.DataFrame, pd.DataFrame]] = []
    for terr, st_t in st.groupby("territory", sort=True):
        ins_t = ins[ins["territory"] == terr]
        if ins_t.empty:
            parts.append((str(terr), st_t, ins_t))
            continue
        split = _split_territory(st_t, ins_t, r)
        for k, (a, b) in enumerate(split):
            parts.append((str(terr) if len(split) == 1 else f"{terr}#{k + 1}", a, b))
    total_work = sum(len(a) * max(len(b), 1) for _, a, b in parts) or 1
    deadline = time.perf_counter() + r.time_limit_s
    rows: list[tuple[str, str, date, int]] = []
    solves: list[TerritorySolve] = []
    conflicts: list[Conflict] = []
    remaining_work = total_work
    for name, st_t, ins_t in parts:
        if ins_t.empty:
            conflicts.append(
                Conflict(
                    name,
                    ("territory",),
                    tuple(st_t["store_id"].astype(str)),
                    (),
                    f"辖区 {name} 没有检查人员 / territory {name} has no inspector",
                )
            )
            continue
        work = len(st_t) * len(ins_t)
        budget = max(0.3, (deadline - time.perf_counter()) * work / remaining_work)
        remaining_work -= work
        got, stats, conf = _solve_territory(name, st_t, ins_t, days, last, r, budget)
        rows.extend(got)
        solves.append(stats)
        conflicts.extend(conf)
    assignments = _assignment_frame(rows)
    violations = check_plan(assignments, stores, inspectors, history, days, r)
    return VisitPlan(month.replace(day=1), days, assignments, violations, conflicts, solves)


def _assignment_frame(rows: list[tuple[str, str, date, int]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["store_id", "inspector_id", "date", "team_size"])
    if df.empty:
        df["visit_id"] = pd.Series(dtype=str)
        return df
    df = df.sort_values(["date", "store_id", "inspector_id"]).reset_index(drop=True)
    df["visit_id"] = df["store_id"] + "@" + df["date"].map(date.isoformat)
    return df[["visit_id", "store_id", "inspector_id", "date", "team_size"]]


# --------------------------------------------------------------------------- re-check


def check_plan(
    assignments: pd.DataFrame,
    stores: pd.DataFrame,
    inspectors: pd.DataFrame,
    history: pd.DataFrame | None,
    days: Sequence[date],
    rules: PlanRules | None = None,
) -> list[Violation]:
    """Re-check a plan (generated or edited by hand) against every rule; list what breaks.

    ``assignments`` needs store_id, inspector_id, date (one row per inspector per visit).
    Independent of the solver: every rule is recomputed from the frames, so a hand-edited
    plan gets the same scrutiny as a generated one.

    >>> st = pd.DataFrame({"store_id": ["s1"], "tier": ["partner"], "territory": ["t"],
    ...                    "lat": [31.0], "lon": [121.0]})
    >>> ins = pd.DataFrame({"inspector_id": ["i1"], "territory": ["t"], "lat": [31.0],
    ...                     "lon": [121.0]})
    >>> empty = pd.DataFrame(columns=["store_id", "inspector_id", "date"])
    >>> [v.rule for v in check_plan(empty, st, ins, None, [date(2026, 11, 2)])]
    ['visits']
    """
    r = rules or PlanRules()
    st_rows: dict[str, dict[str, Any]] = {
        str(row["store_id"]): {str(k): v for k, v in row.items()}
        for row in prepare_stores(stores, r).to_dict("records")
    }
    in_rows: dict[str, dict[str, Any]] = {
        str(row["inspector_id"]): {str(k): v for k, v in row.items()}
        for row in prepare_inspectors(inspectors, r).to_dict("records")
    }
    last = _last_visits(history)
    day_set = set(days)
    week_of = dict(zip(days, _week_of(days), strict=True))
    out: list[Violation] = []

    def add(rule: str, s: str | None, i: str | None, d: date | None, msg: str) -> None:
        out.append(Violation(rule, s, i, d, msg))

    recs: list[tuple[str, str, date]] = [
        (str(s), str(i), pd.Timestamp(d).date())
        for s, i, d in zip(
            assignments["store_id"], assignments["inspector_id"], assignments["date"], strict=True
        )
    ]
    per_si: dict[tuple[str, str], int] = defaultdict(int)
    per_id: dict[tuple[str, date], int] = defaultdict(int)
    per_iw: dict[tuple[str, int], int] = defaultdict(int)
    team: dict[tuple[str, date], int] = defaultdict(int)
    for s, i, d in recs:
        if s not in st_rows:
            add("visits", s, i, d, f"unknown store {s}")
            continue
        if i not in in_rows:
            add("territory", s, i, d, f"unknown inspector {i}")
            continue
        per_si[(s, i)] += 1
        per_id[(i, d)] += 1
        per_iw[(i, week_of.get(d, -1))] += 1
        team[(s, d)] += 1
        if in_rows[i]["territory"] != st_rows[s]["territory"]:
            add(
                "territory",
                s,
                i,
                d,
                f"{i} works in {in_rows[i]['territory']}, store {s} is in {st_rows[s]['territory']}",
            )
        if d not in day_set:
            add("day_off", s, i, d, f"{d} is not a planning day")
        if d in in_rows[i]["days_off"]:
            add("day_off", s, i, d, f"{i} is off on {d}")
        lv = last.get((s, i))
        if lv is not None and d <= _add_months(lv, r.rotation_months):
            nxt = _add_months(lv, r.rotation_months)
            add("rotation", s, i, d, f"{i} visited {s} on {lv}; the next visit must be after {nxt}")
    for (s, i), n in per_si.items():
        if n > 1:
            add("rotation", s, i, None, f"{i} visits {s} {n} times this month")
    for (i, d), n in per_id.items():
        if n > int(in_rows[i]["cap_day"]):
            add(
                "capacity_day",
                None,
                i,
                d,
                f"{i} has {n} visits on {d}, capacity {in_rows[i]['cap_day']}",
            )
    for (i, w), n in per_iw.items():
        if n > int(in_rows[i]["cap_week"]):
            add(
                "capacity_week",
                None,
                i,
                None,
                f"{i} has {n} visits in week {w + 1}, capacity {in_rows[i]['cap_week']}",
            )
    visit_days: dict[str, list[date]] = defaultdict(list)
    for s, d in sorted(team):
        visit_days[s].append(d)
    for s, row in st_rows.items():
        vd = visit_days.get(s, [])
        need = int(row["visits"])
        label = PRIORITY_LABELS[int(row["priority"])][1]
        if len(vd) < need:
            rule = "visits" if not vd else "second_visit"
            add(rule, s, None, None, f"store {s} ({label}) has {len(vd)} of {need} visits")
        elif len(vd) > need:
            add("visits", s, None, None, f"store {s} has {len(vd)} visits, {need} planned")
        for d1, d2 in pairwise(vd):
            if (d2 - d1).days < r.min_gap_days:
                add(
                    "min_gap",
                    s,
                    None,
                    d2,
                    f"store {s} visited on {d1} and {d2}, less than {r.min_gap_days} days apart",
                )
        for d in vd:
            if team[(s, d)] != int(row["team_size"]):
                add(
                    "team",
                    s,
                    None,
                    d,
                    f"store {s} on {d}: {team[(s, d)]} inspector(s), team size {row['team_size']}",
                )
    # spread over the weeks, per territory
    req: dict[str, int] = defaultdict(int)
    for row in st_rows.values():
        req[str(row["territory"])] += int(row["visits"])
    per_tw: dict[tuple[str, int], int] = defaultdict(int)
    for s, d in team:
        if s in st_rows:
            per_tw[(str(st_rows[s]["territory"]), week_of.get(d, -1))] += 1
    n_d = max(len(days), 1)
    for (terr, w), n in sorted(per_tw.items()):
        share = sum(1 for d in days if week_of[d] == w) / n_d
        limit = math.ceil(share * req[terr] * (1 + r.spread_tolerance))
        if n > limit:
            add(
                "spread",
                None,
                None,
                None,
                f"territory {terr}: {n} visits in week {w + 1}, limit {limit}",
            )
    return out


# --------------------------------------------------------------------------- export


def export_plan_xlsx(
    plan: VisitPlan,
    stores: pd.DataFrame,
    inspectors: pd.DataFrame,
    target: str | Path | io.BytesIO,
) -> None:
    """Write the plan to Excel: the visit list, a calendar per inspector, rules and solver figures.

    Sheets: 计划 Plan (one row per inspector per visit), 日历 Calendar (inspectors × days),
    规则 Rules (violations and conflicts), 求解 Solver (objective, bound, gap per territory).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    st = stores.set_index("store_id")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "计划 Plan"
    head = [
        "日期 Date",
        "门店 Store",
        "名称 Name",
        "等级 Tier",
        "辖区 Territory",
        "检查员 Inspector",
        "小组 Team",
    ]
    ws.append(head)
    for row in plan.assignments.itertuples(index=False):
        name = str(st.at[row.store_id, "name"]) if "name" in st.columns else ""
        ws.append(
            [
                row.date,
                row.store_id,
                name,
                str(st.at[row.store_id, "tier"]),
                str(st.at[row.store_id, "territory"]),
                row.inspector_id,
                int(str(row.team_size)),
            ]
        )
    for c in ws[1]:
        c.font = Font(bold=True)
    ws.freeze_panes = "A2"

    cal = wb.create_sheet("日历 Calendar")
    cal.append(["检查员 Inspector", *[d.isoformat() for d in plan.days]])
    by = plan.assignments.groupby(["inspector_id", "date"])["store_id"].apply(
        lambda v: "\n".join(sorted(v))
    )
    for i in inspectors["inspector_id"].astype(str):
        cal.append([i, *[by.get((i, d), "") for d in plan.days]])
    for row in cal.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    cal.freeze_panes = "B2"

    rs = wb.create_sheet("规则 Rules")
    rs.append(["规则 Rule", "门店 Store", "检查员 Inspector", "日期 Date", "说明 Message"])
    for v in plan.violations:
        rs.append([v.rule, v.store_id, v.inspector_id, v.day, v.message])
    for cf in plan.conflicts:
        rs.append(
            [
                "conflict:" + "+".join(cf.rules),
                ", ".join(cf.stores),
                ", ".join(cf.inspectors),
                None,
                cf.message,
            ]
        )

    sv = wb.create_sheet("求解 Solver")
    sv.append(
        [
            "辖区 Territory",
            "门店 Stores",
            "检查员 Inspectors",
            "状态 Status",
            "目标 Objective",
            "下界 Bound",
            "秒 Seconds",
        ]
    )
    for s in plan.solves:
        sv.append(
            [
                s.territory,
                s.n_stores,
                s.n_inspectors,
                s.status,
                s.objective,
                s.bound,
                round(s.seconds, 2),
            ]
        )
    sv.append(["合计 Total", None, None, None, plan.objective, plan.bound, None])
    sv.append(["相对差距 Gap", plan.gap])
    wb.save(target)
