"""Benchmark: ITU-T G.107 E-model R and MOS over 10 million voice-call records.

Random calls (codec Ie/Bpl from the G.113 table, loss 0–10 %, burst ratio 1–4, one-way
delay 20–400 ms); `r_factor` + `mos_from_r` on whole arrays; median of `--repeat` runs
to benchmarks/results/emodel.json. Target: under 2 s.

    .venv/bin/python benchmarks/bench_emodel.py [--calls 10000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from sqm.methods.emodel import CODECS, mos_from_r, r_factor


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    codecs = [c for c in CODECS.values() if c.bpl is not None]
    pick = rng.integers(0, len(codecs), args.calls)
    ie = np.array([c.ie for c in codecs])[pick]
    bpl = np.array([c.bpl for c in codecs], dtype=float)[pick]
    loss = rng.uniform(0, 10, args.calls)
    burst = rng.uniform(1, 4, args.calls)
    delay = rng.uniform(20, 400, args.calls)
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        mos = mos_from_r(r_factor(ie, bpl, loss, burst, delay))
        times.append(time.perf_counter() - t)
    assert np.all((mos >= 1) & (mos <= 4.5))
    med = statistics.median(times)
    result = {
        "benchmark": "E-model R + MOS, vectorised",
        "calls": args.calls,
        "seconds_median": med,
        "seconds_all": times,
        "calls_per_s": args.calls / med,
        "target_seconds": 2.0,
    }
    out = Path(__file__).parent / "results" / "emodel.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
