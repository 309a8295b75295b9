"""Benchmark: full SERVQUAL survey analysis on 1,000,000 respondents × 44 items.

Run: .venv/bin/python benchmarks/bench_survey_analysis.py [--respondents N] [--runs R]
Target (issue 3): < 5 s for gap scores per item and dimension, their summaries per store
(n, mean, sd, t-interval), Cronbach's α per dimension (perception items) and the IPA
quadrants of the 22 items, on synthetic data (22 E + 22 P items, 7-point scale,
~300 stores, 5 % missing answers). Data generation is not timed.
Writes benchmarks/results/survey_analysis.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sqm.methods.reliability import cronbach_alpha
from sqm.methods.servqual import dimension_gaps, ipa_quadrants, item_gaps, summarise

DIMENSIONS = {
    "tangibles": [1, 2, 3, 4],
    "reliability": [5, 6, 7, 8, 9],
    "responsiveness": [10, 11, 12, 13],
    "assurance": [14, 15, 16, 17],
    "empathy": [18, 19, 20, 21, 22],
}
ITEMS = [f"q{i}" for i in range(1, 23)]
N_STORES = 300


def make_data(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    store = rng.integers(0, N_STORES, n)
    store_quality = rng.normal(0, 0.6, N_STORES)[store]
    person = rng.normal(0, 0.8, n)
    item_level = rng.uniform(4.5, 6.0, 22)
    e = np.clip(
        np.rint(item_level + 0.5 + 0.6 * person[:, None] + rng.normal(0, 0.9, (n, 22))), 1, 7
    )
    p = np.clip(
        np.rint(
            item_level
            + store_quality[:, None]
            + 0.8 * person[:, None]
            + rng.normal(0, 1.0, (n, 22))
        ),
        1,
        7,
    )
    p[rng.random((n, 22)) < 0.05] = np.nan
    e[rng.random((n, 22)) < 0.05] = np.nan
    return (
        pd.DataFrame(p, columns=ITEMS),
        pd.DataFrame(e, columns=ITEMS),
        pd.Series(np.char.add("S", store.astype(str)), name="store"),
    )


def analyse(p: pd.DataFrame, e: pd.DataFrame, store: pd.Series) -> dict[str, float]:
    t = {}
    c0 = time.process_time()
    t0 = time.perf_counter()
    dims = {d: [f"q{i}" for i in idx] for d, idx in DIMENSIONS.items()}
    gaps = item_gaps(p, e)
    dgaps = dimension_gaps(gaps, dims)
    t["gaps"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    per_store = summarise(pd.concat([gaps, dgaps], axis=1), by=store)
    overall = summarise(pd.concat([gaps, dgaps], axis=1))
    t["summaries"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    alphas = {d: cronbach_alpha(p[cols]) for d, cols in dims.items()}
    t["alpha"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    ipa = ipa_quadrants(e.mean(), p.mean())
    t["ipa"] = time.perf_counter() - t3
    t["total"] = time.perf_counter() - t0
    # CPU seconds of this process: less sensitive than wall time to other jobs on a
    # shared machine (but counts every BLAS thread).
    t["total_cpu"] = time.process_time() - c0
    assert len(per_store) == N_STORES * 27 and len(overall) == 27 and len(ipa) == 22
    assert all(0 < a < 1 for a in alphas.values())
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--respondents", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    p, e, store = make_data(args.respondents)
    load0 = os.getloadavg()
    runs = [analyse(p, e, store) for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"respondents={args.respondents:,} items=44 stores={N_STORES} runs={args.runs}")
    for k, v in med.items():
        print(f"  median {k:<10} {v:7.3f} s")
    print(f"  all totals: {[round(r['total'], 3) for r in runs]}  (target < 5 s)")
    print(f"  load average before/after: {load0} / {os.getloadavg()}")
    out = Path(__file__).resolve().parent / "results" / "survey_analysis.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "bench_survey_analysis",
                "respondents": args.respondents,
                "items": 44,
                "stores": N_STORES,
                "runs": args.runs,
                "median_seconds": med,
                "total_seconds_per_run": [r["total"] for r in runs],
                "load_average_before_after": [load0, os.getloadavg()],
                "target_seconds": 5.0,
                "machine": f"{platform.machine()} {platform.python_version()}",
                "numpy": np.__version__,
                "pandas": pd.__version__,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
