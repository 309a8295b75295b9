"""Voice quality per call and crowd-test benchmarking by area."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqm.domain.errors import RuleError
from sqm.ingest.network import read_cn_crowd
from sqm.methods.emodel import mos_from_r, r_factor
from sqm.services.network.kpi.crowd import crowd_benchmark
from sqm.services.network.kpi.voice import call_quality, voice_quality_by

DATA = Path(__file__).parent / "data"


def test_call_quality_is_the_e_model_per_call() -> None:
    calls = pd.DataFrame(
        {
            "cell_id": ["a", "a", "b"],
            "ie": [0.0, 11.0, 5.0],
            "bpl": [25.1, 19.0, 10.0],
            "packet_loss_pct": [0.0, 2.0, 8.0],
            "burst_ratio": [1.0, 2.0, 1.0],
            "one_way_delay_ms": [50.0, 150.0, 300.0],
        }
    )
    rated = call_quality(calls)
    for i, row in calls.iterrows():
        r = r_factor(
            row["ie"],
            row["bpl"],
            row["packet_loss_pct"],
            row["burst_ratio"],
            row["one_way_delay_ms"],
        )
        assert rated.loc[i, "r"] == pytest.approx(r)
        assert rated.loc[i, "mos"] == pytest.approx(mos_from_r(r))
    by = voice_quality_by(rated).set_index("cell_id")
    assert by.loc["a", "calls"] == 2
    assert by.loc["a", "mos_mean"] == pytest.approx(rated["mos"][:2].mean())
    assert by.loc["b", "poor_share"] == (rated.loc[2, "mos"] < 3.1)


def test_crowd_benchmark_medians_and_rank() -> None:
    df = pd.DataFrame(
        {
            "city": ["x"] * 7 + ["y"] * 2,
            "isp": ["A", "A", "A", "B", "B", "B", "B", "A", "B"],
            "bandwidth_mbps": [10, 20, 30, 5, 15, 25, 35, 100, 1],
        }
    )
    b = crowd_benchmark(df, "A", min_tests=3).set_index("city")
    assert b.loc["x", "A_median"] == 20 and b.loc["x", "B_median"] == 20
    assert b.loc["x", "gap_to_best"] == pytest.approx(0.0)
    assert np.isnan(b.loc["y", "A_median"])  # 1 test < min_tests: no statistic
    with pytest.raises(RuleError, match="our_isp"):
        crowd_benchmark(df, "Z")


def test_crowd_benchmark_on_the_public_excerpt() -> None:
    df = read_cn_crowd(DATA / "cn_crowd_4g_excerpt.csv")
    b = crowd_benchmark(df, "China Mobile", by="province", min_tests=5)
    assert "China Mobile_median" in b.columns and len(b) == df["province"].nunique()
    # Independent check of one cell against pandas' median.
    prov = b.dropna(subset=["China Mobile_median"]).iloc[0]["province"]
    want = df[(df["province"] == prov) & (df["isp"] == "China Mobile")]["bandwidth_mbps"].median()
    got = b.set_index("province").loc[prov, "China Mobile_median"]
    assert got == pytest.approx(want)
