"""Area benchmarking from crowd-sourced speed tests: our operator against the others."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqm.domain.errors import RuleError


def crowd_benchmark(
    tests: pd.DataFrame,
    our_isp: str,
    *,
    by: str = "city",
    min_tests: int = 30,
) -> pd.DataFrame:
    """Per area and ISP: tests, median and 10th/90th percentile of the measured bandwidth,
    and our median relative to the best competitor's (speed distributions are skewed, so
    medians and percentiles, not means). Cells with fewer than ``min_tests`` tests get no
    statistics (NaN) and are flagged.

    Output: one row per area with ``<isp>_n``, ``<isp>_median`` …, ``our_rank`` (1 = the
    fastest median among ISPs with enough tests) and ``gap_to_best`` (our median / the best
    competitor's − 1).
    """
    for col in (by, "isp", "bandwidth_mbps"):
        if col not in tests.columns:
            raise RuleError(f"tests lack column {col!r}")
    if our_isp not in set(tests["isp"]):
        raise RuleError(f"our_isp {our_isp!r} does not occur in the tests")
    g = tests.groupby([by, "isp"], observed=True)["bandwidth_mbps"]
    stats = pd.DataFrame(
        {
            "n": g.size(),
            "median": g.median(),
            "p10": g.quantile(0.1),
            "p90": g.quantile(0.9),
        }
    )
    few = stats["n"] < min_tests
    stats.loc[few, ["median", "p10", "p90"]] = np.nan
    wide = pd.DataFrame(stats.unstack("isp"))
    wide.columns = pd.Index([f"{col[1]}_{col[0]}" for col in wide.columns])
    medians = pd.DataFrame(stats["median"].unstack("isp"))
    ours = medians.get(our_isp)
    others = medians.drop(columns=[our_isp], errors="ignore")
    best_other = others.max(axis=1, skipna=True)
    wide["our_rank"] = (
        medians.rank(axis=1, ascending=False)[our_isp] if ours is not None else np.nan
    )
    wide["gap_to_best"] = ours / best_other - 1 if ours is not None else np.nan
    return wide.reset_index()
