"""Benchmark: store scores, grades and ranks with intervals for 3,000 stores × 12 periods.

Run: .venv/bin/python benchmarks/bench_inspection_scores.py
Target (issue 5): < 2 s for scoring the visits, store-period scores with bootstrap
intervals (B = 200), grades, change since last period and peer ranks with intervals.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import pandas as pd

from sqm.domain.checklist_template import template_checklist, template_profile
from sqm.methods.visit_score import (
    compile_checklist,
    peer_ranks,
    score_visits,
    store_period_scores,
)

N_STORES, N_PERIODS, N_BOOT = 3000, 12, 200
TIERS = ["flagship_core", "first_level", "supermarket", "partner"]


def make_data(seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lay = compile_checklist(template_checklist())
    tier = rng.choice(4, N_STORES, p=[0.05, 0.25, 0.3, 0.4])
    visits_per = np.where(tier == 0, 2, 1)  # key stores twice a month
    store = np.repeat(np.arange(N_STORES), visits_per)
    store = np.tile(store, N_PERIODS)
    period = np.repeat(np.arange(N_PERIODS), visits_per.sum())
    n = store.size
    quality = rng.beta(6, 2, N_STORES)[store]
    ans = (rng.random((n, lay.n_items)) < quality[:, None]).astype(float)
    scale = lay.scale_max > 1
    ans[:, scale] = np.round(
        quality[:, None] * lay.scale_max[scale] * rng.uniform(0.6, 1.1, (n, int(scale.sum())))
    )
    ans = np.clip(ans, 0, lay.scale_max)
    na = lay.na_allowed & (rng.random((n, lay.n_items)) < 0.2)
    ans[na] = np.nan
    profiles = np.array(
        [[template_profile(t).indicator_weights[k] for k in lay.indicator_codes] for t in TIERS]
    )
    weights = profiles[tier[store]]
    frame = pd.DataFrame(
        {
            "store": store,
            "period": [f"2026-{p + 1:02d}" for p in period],
            "tier": np.array(TIERS)[tier[store]],
        }
    )
    return frame, ans, weights


def run_once(frame: pd.DataFrame, ans: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    c0 = time.process_time()
    t0 = time.perf_counter()
    lay = compile_checklist(template_checklist())
    vs = score_visits(lay, ans, weights)
    df = frame.assign(total=vs.total)
    sp = store_period_scores(df, layout=lay, n_boot=N_BOOT, seed=0)
    tier_of = df.drop_duplicates("store").set_index("store")["tier"]
    peer_ranks(sp, tier_of.loc[sp.frame["store"]].to_numpy())
    peer_ranks(sp, None)
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    frame, ans, weights = make_data()
    print(f"{len(frame)} visits, {N_STORES} stores × {N_PERIODS} periods, B = {N_BOOT}")
    runs = [run_once(frame, ans, weights) for _ in range(5)]
    wall = [w for w, _ in runs]
    cpu = [c for _, c in runs]
    print(f"wall median {statistics.median(wall):.3f} s ({', '.join(f'{t:.3f}' for t in wall)})")
    print(f"CPU  median {statistics.median(cpu):.3f} s ({', '.join(f'{t:.3f}' for t in cpu)})")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
