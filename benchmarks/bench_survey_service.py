"""Benchmark: the survey analysis service on 1,000,000 SERVQUAL answers × 44 items.

Runs the full analysis path an analyst page triggers — SERVQUAL gaps per item, dimension
and overall by store (unweighted and weighted), reliability per dimension, KMO/Bartlett
and the SERVQUAL IPA — and prints the median of a few repeats.

    .venv/bin/python benchmarks/bench_survey_service.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from sqm.domain.instrument import Facet
from sqm.domain.instrument_templates import servqual
from sqm.services.surveys import analysis as sa
from sqm.services.surveys.demo_data import demo_stores, servqual_answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    stores = demo_stores(500)
    t0 = time.perf_counter()
    answers = servqual_answers(stores, ["2026-10"], per_store=args.rows // len(stores), seed=1)
    print(f"generated {len(answers):,} answers × 44 items in {time.perf_counter() - t0:.1f} s")
    inst = servqual()
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(answers))
    steps = {
        "gaps by store": lambda: sa.servqual_gaps(answers, inst, by="unit"),
        "gaps by store, weighted": lambda: sa.servqual_gaps(
            answers, inst, by="unit", weights=weights
        ),
        "gaps by city × period": lambda: sa.servqual_gaps(answers, inst, by=["city", "period"]),
        "reliability (P and E)": lambda: (
            sa.reliability_by_dimension(answers, inst, Facet.PERCEPTION),
            sa.reliability_by_dimension(answers, inst, Facet.EXPECTATION),
        ),
        "validity (KMO, Bartlett, EFA)": lambda: sa.validity(answers, inst),
        "gaps overall + IPA": lambda: sa.ipa_servqual(
            answers, inst, gaps=sa.servqual_gaps(answers, inst)
        ),
    }
    totals = []
    for _ in range(args.repeats):
        total = 0.0
        for name, step in steps.items():
            t = time.perf_counter()
            step()
            took = time.perf_counter() - t
            total += took
            print(f"  {name:32s} {took:6.2f} s")
        totals.append(total)
        print(f"  {'total':32s} {total:6.2f} s")
    print(f"median total over {args.repeats} repeats: {statistics.median(totals):.2f} s")


if __name__ == "__main__":
    main()
