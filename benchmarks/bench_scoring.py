"""Benchmark: composite scores, grades and ranks with bootstrap uncertainty.

Run: .venv/bin/python benchmarks/bench_scoring.py [--units 10000] [--indicators 150]
     [--visits 10] [--boot 1000] [--repeats 3]

Synthetic indicator tree (root → 10 dimensions → 150 leaf items), 10,000 units with
``--visits`` observations (respondents or inspection visits) each. Timed steps, medians
over ``--repeats`` runs (data generation not timed):

1. ``composite``: composite_scores of the unit × leaf matrix (3 % of items missing,
   re-weighted; two veto indicators; a critical rule; grades by cut-offs; ranks with ties).
2. ``bootstrap``: bootstrap_composite with ``--boot`` resamples of the visits within each
   unit on complete data (scores and ranks intervals, the fast linear path).
3. ``bootstrap_missing``: the same with 3 % missing answers (leaf means and the tree are
   recomputed in every resample); timed on ``--boot-missing`` resamples and reported
   per resample and extrapolated to ``--boot``.
4. ``tied_bands``, ``sensitivity`` (1,000 weight draws at ±20 %).

Writes benchmarks/results/scoring.json.
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
from typing import Any

import numpy as np
import pandas as pd

from sqm.methods.composite import CriticalRule, IndicatorTree, composite_scores, indicator_tree
from sqm.methods.sensitivity import weight_sensitivity
from sqm.methods.uncertainty import bootstrap_composite, tied_bands

CUTOFFS = {"A": 90.0, "B": 80.0, "C": 70.0, "D": 60.0, "E": 0.0}


def make_tree(n_leaves: int, n_dims: int, rng: np.random.Generator) -> IndicatorTree:
    edges = [("total", f"d{d}", float(rng.uniform(0.5, 2))) for d in range(n_dims)]
    edges += [(f"d{j % n_dims}", f"i{j:03d}", float(rng.uniform(0.5, 2))) for j in range(n_leaves)]
    return indicator_tree(edges)


def make_visits(
    tree: IndicatorTree, units: int, visits: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    level = rng.uniform(55, 95, size=units)
    n = units * visits
    unit = np.repeat(np.arange(units), visits)
    x = level[unit, None] + rng.normal(0, 12, size=(n, len(tree.leaves)))
    values = pd.DataFrame(np.clip(x, 0, 100), columns=list(tree.leaves))
    return values, np.char.add("U", unit.astype(str).astype("U6"))


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--indicators", type=int, default=150)
    ap.add_argument("--dimensions", type=int, default=10)
    ap.add_argument("--visits", type=int, default=10)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--boot-missing", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results" / "scoring.json"
    )
    args = ap.parse_args()

    rng = np.random.default_rng(20261125)
    tree = make_tree(args.indicators, args.dimensions, rng)
    values, unit = make_visits(tree, args.units, args.visits, rng)
    unit_scores = values.groupby(unit, sort=True).mean()
    unit_scores = unit_scores.mask(rng.random(unit_scores.shape) < 0.03)
    vetoes = {
        "i000": rng.random(args.units) < 0.01,
        "d3": rng.random(args.units) < 0.005,
    }
    critical = [CriticalRule(node="i001", below=40.0, cap="C")]
    missing_values = values.mask(rng.random(values.shape) < 0.03)

    results: dict[str, float] = {}
    t, comp = timed(
        lambda: composite_scores(
            unit_scores, tree, vetoes=vetoes, critical=critical, cutoffs=CUTOFFS
        ),
        args.repeats,
    )
    results["composite_grades_ranks_s"] = t
    t, boot = timed(
        lambda: bootstrap_composite(values, unit, tree, n_boot=args.boot, seed=1), args.repeats
    )
    results["bootstrap_complete_s"] = t
    t, _ = timed(
        lambda: bootstrap_composite(missing_values, unit, tree, n_boot=args.boot_missing, seed=1),
        args.repeats,
    )
    results["bootstrap_missing_per_resample_s"] = t / args.boot_missing
    results["bootstrap_missing_extrapolated_s"] = t / args.boot_missing * args.boot
    t, bands = timed(lambda: tied_bands(boot), args.repeats)
    results["tied_bands_s"] = t
    leaf_w = tree.global_weights()
    t, _ = timed(
        lambda: weight_sensitivity(unit_scores, leaf_w, spread=0.2, n_draws=1000, seed=1),
        args.repeats,
    )
    results["sensitivity_1000_draws_s"] = t

    print(
        f"units={args.units} indicators={args.indicators} visits/unit={args.visits} "
        f"boot={args.boot} repeats={args.repeats} (medians)"
    )
    print(f"{'step':40s} {'seconds':>10s}")
    for k, v in results.items():
        print(f"{k:40s} {v:10.3f}")
    print(
        f"graded units: {comp.grades.notna().sum()}, capped: {int(comp.capped.sum())}, "
        f"tied bands: {bands['band'].nunique()} chained, "
        f"{tied_bands(boot, method='anchor')['band'].nunique()} anchored, for {len(bands)} units, "
        f"median rank interval width: {float((boot.rank_upper - boot.rank_lower).median()):.0f}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "benchmark": "scoring",
                "params": {k: v for k, v in vars(args).items() if k != "out"},
                # Shared 2-core machine: the load average says how noisy the medians are.
                "load_average_1_5_15min": list(os.getloadavg()),
                "seconds_median": results,
                "machine": {"python": platform.python_version(), "processor": platform.machine()},
                "numpy": np.__version__,
                "pandas": pd.__version__,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
