"""Benchmark: every complaint measure and the hotspot scan over 10 million complaints.

Synthetic data (generated once, cached as Parquet under /tmp/sqm-bench-complaints): 3,000
units, 8 categories, 5 million customers, a year of complaints with response and resolution
times, SLA deadlines, contacts and satisfaction.  Each measure runs `--repeat` times; the
median wall time and CPU time (process time; the machine is shared, so wall time also
measures the neighbours) per measure and for the whole set go to
benchmarks/results/complaints.json.

    .venv/bin/python benchmarks/bench_complaints.py [--rows 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sqm.methods.complaint_measures import (
    HotspotWindow,
    complaint_rate,
    first_contact_resolution,
    hotspots,
    on_time_rate,
    pareto,
    repeat_rate,
    response_times,
    satisfaction,
)

CACHE = Path("/tmp/sqm-bench-complaints")
RESULTS = Path(__file__).resolve().parent / "results" / "complaints.json"
CATEGORIES = ["network", "billing", "service", "product", "broadband", "vas", "porting", "privacy"]


def make_data(rows: int, seed: int = 0) -> pd.DataFrame:
    path = CACHE / f"complaints_{rows}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    rng = np.random.default_rng(seed)
    units = 3000
    unit = rng.integers(0, units, rows).astype(np.int32)
    cat = rng.choice(
        len(CATEGORIES), rows, p=[0.3, 0.25, 0.12, 0.08, 0.12, 0.07, 0.03, 0.03]
    ).astype(np.int8)
    start = np.datetime64("2025-12-01T00:00:00", "s")
    received = start + rng.integers(0, 365 * 86_400, rows).astype("timedelta64[s]")
    fr = received + (rng.exponential(3.0, rows) * 3600).astype("timedelta64[s]")
    res_h = rng.lognormal(3.0, 1.0, rows)
    resolved = received + (res_h * 3600).astype("timedelta64[s]")
    resolved[rng.random(rows) < 0.05] = np.datetime64("NaT")
    due = received + np.timedelta64(72, "h")
    sat = rng.choice([1, 2, 3, 4, 5, np.nan], rows, p=[0.05, 0.07, 0.13, 0.3, 0.25, 0.2])
    df = pd.DataFrame(
        {
            "unit": unit,
            "category": pd.Categorical.from_codes(cat, CATEGORIES),
            "customer_ref": rng.integers(0, 5_000_000, rows),
            "received_at": received.astype("datetime64[ns]"),
            "first_response_at": fr.astype("datetime64[ns]"),
            "resolved_at": resolved.astype("datetime64[ns]"),
            "resolution_due": due.astype("datetime64[ns]"),
            "contacts": rng.choice([1, 1, 1, 2, 3], rows).astype(np.float64),
            "satisfaction": sat,
        }
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path)
    return df


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    df = make_data(args.rows)
    load_s = time.perf_counter() - t0
    customers = pd.Series(
        np.random.default_rng(1).integers(5_000, 200_000, 3000).astype(float), index=range(3000)
    )
    as_of = pd.Timestamp("2026-12-01")
    window = HotspotWindow.trailing("2026-12-01", current_days=7, baseline_days=56)
    measures: dict[str, Callable[[], object]] = {
        "complaint_rate": lambda: complaint_rate(df, customers, "unit"),
        "response_times": lambda: response_times(df, "unit"),
        "on_time_rate": lambda: on_time_rate(df, as_of, "unit"),
        "first_contact_resolution": lambda: first_contact_resolution(df, "unit"),
        "repeat_rate": lambda: repeat_rate(df, "unit"),
        "satisfaction": lambda: satisfaction(df, "unit"),
        "pareto": lambda: pareto(df, "category"),
        "hotspots": lambda: hotspots(df, window, customers=customers),
    }
    times: dict[str, list[float]] = {k: [] for k in measures}
    cpu: dict[str, list[float]] = {k: [] for k in measures}
    totals, cpu_totals = [], []
    for _ in range(args.repeat):
        total = cpu_total = 0.0
        for name, fn in measures.items():
            s, c = time.perf_counter(), time.process_time()
            fn()
            dt, dc = time.perf_counter() - s, time.process_time() - c
            times[name].append(dt)
            cpu[name].append(dc)
            total += dt
            cpu_total += dc
        totals.append(total)
        cpu_totals.append(cpu_total)
    result = {
        "benchmark": "complaint measures and hotspots",
        "rows": args.rows,
        "repeat": args.repeat,
        "load_parquet_s": round(load_s, 3),
        "median_s": {k: round(statistics.median(v), 3) for k, v in times.items()},
        "total_median_s": round(statistics.median(totals), 3),
        "cpu_median_s": {k: round(statistics.median(v), 3) for k, v in cpu.items()},
        "cpu_total_median_s": round(statistics.median(cpu_totals), 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "pandas": pd.__version__,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
