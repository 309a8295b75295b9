"""Benchmark: a monthly visit plan for 3,000 stores and 120 inspectors with all rules.

Run: .venv/bin/python benchmarks/bench_visit_plan.py [n_stores n_inspectors n_territories]
Target (issue 5): < 60 s, reporting the gap to the solver's bound. The month is planned
per territory (12 territories of 250 stores and 10 inspectors, as a provincial chain's
inspection teams are organised); territories above PlanRules.max_stores_per_model are split
geographically. History: three previous months of visits, so the rotation rule bites.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sqm.services.inspections.visit_plan import PlanRules, check_plan, plan_month


def make_data(n_stores: int, n_insp: int, n_terr: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    terr = np.arange(n_stores) % n_terr
    centre = rng.uniform([22.0, 110.0], [32.0, 120.0], (n_terr, 2))
    lat = centre[terr, 0] + rng.normal(0, 0.08, n_stores)
    lon = centre[terr, 1] + rng.normal(0, 0.08, n_stores)
    tier = rng.choice(
        ["flagship_core", "first_level", "supermarket", "partner"],
        n_stores,
        p=[0.05, 0.25, 0.3, 0.4],
    )
    traffic = rng.choice(["high", "normal", "low"], n_stores, p=[0.2, 0.6, 0.2])
    stores = pd.DataFrame(
        {
            "store_id": [f"S{k:04d}" for k in range(n_stores)],
            "tier": tier,
            "territory": [f"T{t:02d}" for t in terr],
            "lat": lat,
            "lon": lon,
            "traffic": traffic,
            "central_city": rng.random(n_stores) < 0.5,
            "team_size": np.where(rng.random(n_stores) < 0.03, 2, 1),
        }
    )
    it = np.arange(n_insp) % n_terr
    inspectors = pd.DataFrame(
        {
            "inspector_id": [f"I{k:03d}" for k in range(n_insp)],
            "territory": [f"T{t:02d}" for t in it],
            "lat": centre[it, 0] + rng.normal(0, 0.05, n_insp),
            "lon": centre[it, 1] + rng.normal(0, 0.05, n_insp),
        }
    )
    # three past months planned with rotation: visit j of month m goes to inspector
    # (k + 2·m + j) mod n of the store's territory, so no one returns within three months
    rows = []
    by_terr = inspectors.groupby("territory")["inspector_id"].apply(list).to_dict()
    for k, (s, t) in enumerate(zip(stores["store_id"], stores["territory"])):
        team = by_terr[t]
        for m_back in (3, 2, 1):
            for j in range(2 if stores["tier"].iloc[k] == "flagship_core" else 1):
                day = date(2026, 11 - m_back, 1) + timedelta(days=int(rng.integers(0, 14)) + 14 * j)
                rows.append((s, team[(k // len(by_terr) + 2 * (3 - m_back) + j) % len(team)], day))
    history = pd.DataFrame(rows, columns=["store_id", "inspector_id", "date"])
    return stores, inspectors, history


def main() -> None:
    args = [int(a) for a in sys.argv[1:4]] or [3000, 120, 12]
    n_stores, n_insp, n_terr = args
    stores, inspectors, history = make_data(n_stores, n_insp, n_terr)
    rules = PlanRules(time_limit_s=50.0)
    t0 = time.perf_counter()
    plan = plan_month(stores, inspectors, history, date(2026, 11, 1), rules)
    t1 = time.perf_counter()
    recheck = check_plan(plan.assignments, stores, inspectors, history, plan.days, rules)
    t2 = time.perf_counter()
    print(
        f"{n_stores} stores, {n_insp} inspectors, {n_terr} territories, {len(plan.solves)} models"
    )
    print(
        f"visits planned: {plan.assignments['visit_id'].nunique()} (rows {len(plan.assignments)})"
    )
    print(f"plan_month: {t1 - t0:.1f} s (incl. re-check); check_plan alone: {t2 - t1:.2f} s")
    statuses = pd.Series([s.status for s in plan.solves]).value_counts().to_dict()
    print(f"statuses: {statuses}")
    print(f"objective {plan.objective:.0f}, solver bound {plan.bound:.0f}, gap {plan.gap:.2%}")
    print(
        f"best bound (max of solver and analytic travel bound per territory) "
        f"{plan.best_bound:.0f}, gap {plan.gap_to_best_bound:.2%}"
    )
    print(f"rules broken: {len(recheck)}; conflicts explained: {len(plan.conflicts)}")


if __name__ == "__main__":
    main()
