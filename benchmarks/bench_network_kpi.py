"""Benchmark: daily per-cell network KPIs and region roll-ups, DuckDB vs plain pandas.

Synthetic 15-minute counters for 10,000 cells × 100 days (96 million rows; generated once,
cached as a day-partitioned Parquet dataset under /tmp/sqm-bench-network, the same layout
the counter loader writes). Three queries, each over the whole dataset: six catalogue KPIs
per cell and day, per city and day, per province and day (ratio of sums, sample guard).
DuckDB runs them on the full data; pandas (read Parquet, group, sum, divide) runs on the
first ``--pandas-days`` days and its rate is extrapolated (rows/s), because 96 M rows of
pandas would not fit in memory alongside the rest. Medians of ``--repeat`` runs go to
benchmarks/results/network_kpi.json.

    .venv/bin/python benchmarks/bench_network_kpi.py [--cells 10000] [--days 100]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sqm.services.network.kpi import DuckDbKpiEngine, Grain, Level
from sqm.services.network.kpi.synthetic import synthetic_inventory

KPIS = ["rrc_setup_sr", "bearer_setup_sr", "drop_rate", "ho_sr", "dl_user_thp", "availability"]
ROOT = Path("/tmp/sqm-bench-network")


def generate(cells: int, days: int) -> tuple[Path, Path]:
    counters = ROOT / f"counters_{cells}x{days}"
    inv_path = ROOT / f"inventory_{cells}.parquet"
    inv = synthetic_inventory(cells, seed=1)
    if not inv_path.exists():
        ROOT.mkdir(parents=True, exist_ok=True)
        inv.to_parquet(inv_path, index=False)
    done = counters / "_complete"
    if done.exists():
        return counters, inv_path
    rng = np.random.default_rng(1)
    cell_ids = pa.array(inv["cell_id"]).dictionary_encode()
    scale = rng.lognormal(0, 0.5, cells)
    hours = np.arange(96) / 4
    profile = (
        0.15 + 0.55 * np.exp(-((hours - 12) ** 2) / 18) + 0.9 * np.exp(-((hours - 21) ** 2) / 6)
    )
    start = date(2026, 1, 1)
    for d in range(days):
        day = start + timedelta(days=d)
        lam = np.outer(scale, profile).ravel() * 200
        n = lam.size
        att = rng.poisson(lam).astype(np.int32)
        succ = att - rng.binomial(att, 0.005).astype(np.int32)
        b_succ = succ - rng.binomial(succ, 0.004).astype(np.int32)
        abn = rng.binomial(b_succ, 0.003).astype(np.int32)
        ho_att = rng.poisson(lam * 0.6).astype(np.int32)
        ho_succ = ho_att - rng.binomial(ho_att, 0.01).astype(np.int32)
        vol = (lam * 150 * rng.random(n)).astype(np.float32)
        ts = pd.date_range(day, periods=96, freq="15min").to_numpy().astype("datetime64[us]")
        table = pa.table(
            {
                "cell_id": pa.DictionaryArray.from_arrays(
                    pa.array(np.repeat(np.arange(cells, dtype=np.int32), 96)), cell_ids.dictionary
                ),
                "ts": pa.array(np.tile(ts, cells)),
                "period_s": pa.array(np.full(n, 900, dtype=np.int16)),
                "rrc_att": att,
                "rrc_succ": succ,
                "bearer_att": succ,
                "bearer_succ": b_succ,
                "bearer_rel_abnormal": abn,
                "bearer_rel_normal": b_succ - abn,
                "ho_att": ho_att,
                "ho_succ": ho_succ,
                "dl_thp_vol_kbit": vol,
                "dl_thp_time_ms": (vol / 30).astype(np.float32),
                "unavail_s": np.where(rng.random(n) < 0.001, 300, 0).astype(np.int16),
            }
        )
        out = counters / f"day={day:%Y-%m-%d}" / "part-0.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out, row_group_size=1 << 20)
        print(f"generated {day}", flush=True)
    done.write_text("ok")
    return counters, inv_path


def pandas_kpis(paths: list[Path], inv: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The same six KPIs in plain pandas: read, group by unit and day, sum, divide."""
    cols = [
        "cell_id",
        "ts",
        "period_s",
        "rrc_att",
        "rrc_succ",
        "bearer_att",
        "bearer_succ",
        "bearer_rel_abnormal",
        "bearer_rel_normal",
        "ho_att",
        "ho_succ",
        "dl_thp_vol_kbit",
        "dl_thp_time_ms",
        "unavail_s",
    ]
    df = pd.concat([pd.read_parquet(p, columns=cols) for p in paths], ignore_index=True)
    df["cell_id"] = df["cell_id"].astype(str)
    df["day"] = df["ts"].dt.floor("D")
    df = df.merge(inv[["cell_id", "city", "province"]], on="cell_id")
    num = [c for c in cols if c not in ("cell_id", "ts")]
    out = {}
    for level in ("cell_id", "city", "province"):
        g = df.groupby([level, "day"], observed=True)[num].sum()
        r = pd.DataFrame(index=g.index)
        r["rrc_setup_sr"] = 100 * g["rrc_succ"] / g["rrc_att"]
        r["bearer_setup_sr"] = 100 * g["bearer_succ"] / g["bearer_att"]
        r["drop_rate"] = (
            100 * g["bearer_rel_abnormal"] / (g["bearer_rel_abnormal"] + g["bearer_rel_normal"])
        )
        r["ho_sr"] = 100 * g["ho_succ"] / g["ho_att"]
        r["dl_user_thp"] = g["dl_thp_vol_kbit"] / g["dl_thp_time_ms"]
        r["availability"] = 100 * (g["period_s"] - g["unavail_s"]) / g["period_s"]
        r.loc[g["rrc_att"] < 30, "rrc_setup_sr"] = np.nan
        out[level] = r
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--pandas-days", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    counters, inv_path = generate(args.cells, args.days)
    inv = pd.read_parquet(inv_path)
    rows = args.cells * args.days * 96

    engine = DuckDbKpiEngine(counters, inv_path)
    duck_times: dict[str, list[float]] = {"cell_id": [], "city": [], "province": []}
    for _ in range(args.repeat):
        for level in (Level.CELL, Level.CITY, Level.PROVINCE):
            t = time.perf_counter()
            res = engine.kpis(KPIS, level, Grain.DAY)
            duck_times[level.value].append(time.perf_counter() - t)
            assert len(res) > 0
    duck_total = statistics.median(
        [sum(duck_times[k][i] for k in duck_times) for i in range(args.repeat)]
    )
    # The way to run it: one scan, per-cell daily sums materialised, every level from them.
    one_scan = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        res_all = engine.rollups(KPIS, [Level.CELL, Level.CITY, Level.PROVINCE], Grain.DAY)
        one_scan.append(time.perf_counter() - t)
        assert len(res_all[Level.PROVINCE]) > 0
    one_scan_s = statistics.median(one_scan)

    day_dirs = sorted(p for p in counters.iterdir() if p.is_dir())[: args.pandas_days]
    paths = [next(p.glob("*.parquet")) for p in day_dirs]
    pandas_rows = args.cells * len(paths) * 96
    pt = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        pandas_kpis(paths, inv)
        pt.append(time.perf_counter() - t)
    # pandas reads once and groups three times: compare per input row for the whole set
    # (cell, city and province daily KPIs).
    pandas_total = statistics.median(pt)
    duck_rate = rows / duck_total
    pandas_rate = pandas_rows / pandas_total
    result = {
        "benchmark": "network KPIs: 6 KPIs per cell/city/province and day",
        "rows": rows,
        "cells": args.cells,
        "days": args.days,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "duckdb_seconds_median": {k: statistics.median(v) for k, v in duck_times.items()},
        "duckdb_total_seconds_median": duck_total,
        "duckdb_one_scan_rollups_seconds_median": one_scan_s,
        "duckdb_one_scan_rows_per_s": rows / one_scan_s,
        "speedup_one_scan_vs_pandas": (rows / one_scan_s) / pandas_rate,
        "duckdb_rows_per_s_per_rollup_set": duck_rate,
        "duckdb_rows_per_s_per_query": rows / statistics.median(duck_times["cell_id"]),
        "pandas_rows": pandas_rows,
        "pandas_total_seconds_median": pandas_total,
        "pandas_rows_per_s": pandas_rate,
        "pandas_note": f"pandas ran on the first {len(paths)} days ({pandas_rows:,} rows) and its rate is extrapolated",
        "speedup_duckdb_vs_pandas": duck_rate / pandas_rate,
        "repeat": args.repeat,
    }
    out = Path(__file__).parent / "results" / "network_kpi.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
