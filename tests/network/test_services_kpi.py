"""KPI engine (DuckDB): hand-computed cases and an independent pandas implementation."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.services.network.kpi import DuckDbKpiEngine, Grain, KpiQueryError, Level
from sqm.services.network.kpi.synthetic import Incident, synthetic_counters, synthetic_inventory

INV = pd.DataFrame(
    {
        "cell_id": ["A", "B", "C"],
        "site_id": ["S1", "S1", "S2"],
        "district": ["D1", "D1", "D2"],
        "city": ["X", "X", "Y"],
        "province": ["P", "P", "P"],
        "tech": ["4G", "4G", "5G"],
        "band": ["B3", "B3", "n78"],
        "lat": [23.1, 23.1, 23.2],
        "lon": [113.2, 113.2, 113.3],
    }
)


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s)


def _counters() -> pd.DataFrame:
    rows = [
        # cell, ts, rrc_att, rrc_succ, period_s, unavail_s, active_ue
        ("A", "2026-03-02 00:00", 10, 9, 900, 0, 10.0),
        ("A", "2026-03-02 00:15", 90, 90, 300, 30, 20.0),
        ("B", "2026-03-02 00:00", 2, 1, 900, 0, 1.0),
        ("C", "2026-03-02 00:00", 50, 45, 900, 900, 4.0),
        ("C", "2026-03-03 00:00", 50, 50, 900, 0, 4.0),
    ]
    df = pd.DataFrame(
        rows,
        columns=["cell_id", "ts", "rrc_att", "rrc_succ", "period_s", "unavail_s", "active_ue"],
    )
    df["ts"] = pd.to_datetime(df["ts"])
    return df


@pytest.fixture()
def engine() -> DuckDbKpiEngine:
    return DuckDbKpiEngine(_counters(), INV)


def _row(df: pd.DataFrame, unit: str, period: str) -> pd.Series:
    hit = df[(df["unit"] == unit) & (df["period"] == _ts(period))]
    assert len(hit) == 1, df
    return hit.iloc[0]


def test_ratio_of_sums_not_mean_of_ratios(engine: DuckDbKpiEngine) -> None:
    day = engine.kpis(["rrc_setup_sr"], Level.CELL, Grain.DAY)
    a = _row(day, "A", "2026-03-02")
    # (9 + 90) / (10 + 90) = 99 %, whereas the mean of the two ratios is (90 % + 100 %)/2 = 95 %.
    assert a["rrc_setup_sr"] == pytest.approx(99.0)
    assert a["rrc_setup_sr__num"] == 99 and a["rrc_setup_sr__den"] == 100


def test_minimum_sample_guard_gives_no_verdict_on_few_attempts(engine: DuckDbKpiEngine) -> None:
    day = engine.kpis(["rrc_setup_sr"], Level.CELL, Grain.DAY)
    b = _row(day, "B", "2026-03-02")
    # 1 of 2 attempts: the catalogue's guard is 30 attempts, so no value, only the flag.
    assert pd.isna(b["rrc_setup_sr"]) and bool(b["rrc_setup_sr__guarded"])
    assert b["rrc_setup_sr__n"] == 2


def test_roll_up_to_site_and_province(engine: DuckDbKpiEngine) -> None:
    site = engine.kpis(["rrc_setup_sr"], Level.SITE, Grain.DAY)
    # Site S1 = cells A and B: (99 + 1) / (100 + 2).
    assert _row(site, "S1", "2026-03-02")["rrc_setup_sr"] == pytest.approx(100 / 102 * 100)
    prov = engine.kpis(["rrc_setup_sr"], Level.PROVINCE, Grain.WEEK)
    # Week of Monday 2026-03-02: all five rows: 195 / 202.
    assert _row(prov, "P", "2026-03-02")["rrc_setup_sr"] == pytest.approx(195 / 202 * 100)


def test_availability_and_time_weighted_mean(engine: DuckDbKpiEngine) -> None:
    day = engine.kpis(["availability", "active_ue"], Level.CELL, Grain.DAY)
    a = _row(day, "A", "2026-03-02")
    # (900 + 300 − 30) / 1200 = 97.5 %; active UEs (10·900 + 20·300) / 1200 = 12.5.
    assert a["availability"] == pytest.approx(97.5)
    assert a["active_ue"] == pytest.approx(12.5)
    c = _row(day, "C", "2026-03-02")
    assert c["availability"] == pytest.approx(0.0)


def test_quarter_hour_and_month_grains(engine: DuckDbKpiEngine) -> None:
    q = engine.kpis(["rrc_setup_sr"], Level.CITY, Grain.QUARTER_HOUR)
    assert _row(q, "X", "2026-03-02 00:15")["rrc_setup_sr"] == pytest.approx(100.0)
    m = engine.kpis(["rrc_setup_sr"], Level.NETWORK, Grain.MONTH)
    assert _row(m, "all", "2026-03-01")["rrc_setup_sr"] == pytest.approx(195 / 202 * 100)


def test_time_window(engine: DuckDbKpiEngine) -> None:
    day = engine.kpis(
        ["rrc_setup_sr"],
        Level.CELL,
        Grain.DAY,
        start=datetime(2026, 3, 3),
        end=datetime(2026, 3, 4),
    )
    assert day["unit"].tolist() == ["C"]


def test_missing_counter_leaves_the_row_out_of_both_sums() -> None:
    df = _counters()
    df["rrc_succ"] = df["rrc_succ"].astype("Float64")
    df.loc[1, "rrc_succ"] = pd.NA  # A 00:15 not reported
    day = DuckDbKpiEngine(df, INV).kpis(["rrc_setup_sr"], Level.CELL, Grain.DAY)
    a = _row(day, "A", "2026-03-02")
    assert a["rrc_setup_sr__den"] == 10  # not 100
    assert pd.isna(a["rrc_setup_sr"])  # 10 attempts < 30: guarded


def test_worst_cells_rank_by_failures_not_ratio() -> None:
    df = pd.DataFrame(
        {
            "cell_id": ["A", "B", "C"],
            "ts": pd.to_datetime(["2026-03-02"] * 3),
            "rrc_att": [1000, 40, 500],
            "rrc_succ": [980, 30, 495],
        }
    )
    e = DuckDbKpiEngine(df, INV)
    w = e.worst_cells("rrc_setup_sr")
    # A: 20 failures at 98 %; B: 10 failures at 75 %; C: 5 failures at 99 %.
    assert w["unit"].tolist() == ["A", "B", "C"]
    assert w["failures"].tolist() == [20, 10, 5]
    assert w["share_of_failures"].iloc[0] == pytest.approx(20 / 35)
    # impact = failures × traffic (attempts): A 20 000, C 2 500, B 400.
    assert e.worst_cells("rrc_setup_sr", rank_by="impact")["unit"].tolist() == ["A", "C", "B"]


def test_busy_hour_and_time_consistent_busy_hour() -> None:
    rows = [
        ("A", "2026-03-02 20:00", 10.0),
        ("A", "2026-03-02 21:00", 8.0),
        ("A", "2026-03-03 20:00", 5.0),
        ("A", "2026-03-03 21:30", 9.0),
    ]
    df = pd.DataFrame(rows, columns=["cell_id", "ts", "dl_volume_mb"])
    df["ts"] = pd.to_datetime(df["ts"])
    e = DuckDbKpiEngine(df, INV)
    bh = e.busy_hours("dl_volume_mb", Level.CELL)
    assert bh["busy_hour"].tolist() == [_ts("2026-03-02 20:00"), _ts("2026-03-03 21:00")]
    # Hour 20 averages 7.5 over the two days, hour 21 averages 8.5: TCBH is 21:00.
    tc = e.time_consistent_busy_hour("dl_volume_mb", Level.CELL)
    assert tc["hour_of_day"].tolist() == [21]
    assert tc["mean_traffic"].iloc[0] == pytest.approx(8.5)


def test_test_result_kpis_respect_service_filter() -> None:
    tests = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-03-02 10:00"] * 4),
            "city": ["X"] * 4,
            "service": ["voice", "voice", "voice", "ping"],
            "attempt": [1, 1, 1, 1],
            "access_ok": [1, 1, 0, 1],
            "setup_time_s": [2.0, 4.0, None, None],
            "dropped": [0, 1, 0, 0],
            "completed": [1, 0, 0, 1],
        }
    )
    cat = shipped_catalogue()
    # Same KPIs with the guard lifted, so 3 calls give a value here.
    from dataclasses import replace

    kpis = [
        replace(cat[c], min_samples=0)
        for c in ("voice_non_accessibility", "voice_setup_time", "voice_cut_off_ratio")
    ]
    got = DuckDbKpiEngine(tests).kpis(kpis, Level.CITY, Grain.DAY).iloc[0]
    assert got["voice_non_accessibility"] == pytest.approx(100 / 3)  # 1 of 3 calls, ping ignored
    assert got["voice_setup_time"] == pytest.approx(3.0)
    assert got["voice_cut_off_ratio"] == pytest.approx(50.0)


def test_query_errors_name_the_problem(engine: DuckDbKpiEngine) -> None:
    with pytest.raises(KpiQueryError, match="ho_att"):
        engine.kpis(["ho_sr"], Level.CELL, Grain.DAY)
    with pytest.raises(KpiQueryError, match="same source"):
        engine.kpis(["rrc_setup_sr", "ping_rtt"], Level.CELL, Grain.DAY)
    with pytest.raises(KpiQueryError, match="not in the KPI catalogue"):
        engine.kpis(["nope"], Level.CELL, Grain.DAY)


def _pandas_daily(counters: pd.DataFrame, inv: pd.DataFrame, level: str) -> pd.DataFrame:
    """Independent reference: group, sum, divide, in plain pandas."""
    df = counters.merge(inv[["cell_id", level]], on="cell_id") if level != "cell_id" else counters
    df = df.assign(day=df["ts"].dt.floor("D"))
    g = df.groupby([level, "day"])[
        ["rrc_att", "rrc_succ", "ho_att", "ho_succ", "bearer_rel_abnormal", "bearer_rel_normal"]
    ].sum()
    return pd.DataFrame(
        {
            "rrc_setup_sr": 100 * g["rrc_succ"] / g["rrc_att"],
            "ho_sr": 100 * g["ho_succ"] / g["ho_att"],
            "drop_rate": 100
            * g["bearer_rel_abnormal"]
            / (g["bearer_rel_abnormal"] + g["bearer_rel_normal"]),
        }
    )


@pytest.mark.parametrize("level", [Level.CELL, Level.DISTRICT, Level.PROVINCE])
def test_duckdb_matches_plain_pandas_on_synthetic_network(level: Level) -> None:
    inv = synthetic_inventory(24, seed=3)
    counters = synthetic_counters(
        inv,
        datetime(2026, 3, 2),
        3,
        seed=3,
        incidents=(Incident("C000005", datetime(2026, 3, 3, 18), 4),),
    )
    got = DuckDbKpiEngine(counters, inv).kpis(
        ["rrc_setup_sr", "ho_sr", "drop_rate"], level, Grain.DAY
    )
    want = _pandas_daily(counters, inv, level.value)
    got = got.set_index(["unit", "period"]).sort_index()
    for code in ("rrc_setup_sr", "ho_sr", "drop_rate"):
        np.testing.assert_allclose(
            got[code].to_numpy(), want[code].sort_index().to_numpy(), rtol=1e-12
        )


def test_rollups_from_one_scan_equal_the_direct_queries() -> None:
    inv = synthetic_inventory(12, seed=5)
    counters = synthetic_counters(inv, datetime(2026, 3, 2), 2, seed=5)
    e = DuckDbKpiEngine(counters, inv)
    codes = ["rrc_setup_sr", "drop_rate", "dl_user_thp", "availability"]
    levels = [Level.CELL, Level.SITE, Level.CITY, Level.PROVINCE, Level.NETWORK]
    got = e.rollups(codes, levels, Grain.DAY)
    for lvl in levels:
        want = e.kpis(codes, lvl, Grain.DAY)
        pd.testing.assert_frame_equal(got[lvl], want, check_dtype=False)


@pytest.mark.parametrize("literal_cells", [200, 0])
@pytest.mark.parametrize("source", ["frame", "parquet"])
def test_only_inventory_cells_at_every_level(
    source: str, literal_cells: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: with ``only_inventory_cells`` the cell level (which needs no inventory
    join) reads only the inventory's cells, as do the worst-cell ranking (its limit counts
    the inventory's cells) and the roll-ups; named as literals or as a semi-join."""
    from sqm.services.network.kpi import duckdb_engine

    monkeypatch.setattr(duckdb_engine, "_LITERAL_CELLS", literal_cells)
    data: pd.DataFrame | Path = _counters()
    if source == "parquet":
        data = tmp_path / "c.parquet"
        _counters().to_parquet(data)
    ab = INV[INV["cell_id"].isin(["A", "C"])]
    e = DuckDbKpiEngine(data, ab, only_inventory_cells=True)
    assert set(e.kpis(["rrc_setup_sr"], Level.CELL, Grain.DAY)["unit"]) == {"A", "C"}
    assert e.worst_cells("rrc_setup_sr", limit=3)["unit"].tolist() == ["C", "A"]
    site = e.kpis(["rrc_setup_sr"], Level.SITE, Grain.MONTH).set_index("unit")
    # S1 without B: A's 99 of 100 (B's 1 of 2 would make it 100 of 102).
    assert site.loc["S1", "rrc_setup_sr__num"] == 99 and site.loc["S1", "rrc_setup_sr__den"] == 100
    net = e.kpis(["rrc_setup_sr"], Level.NETWORK, Grain.MONTH)
    assert net["rrc_setup_sr__den"].sum() == 200
    # Without the option the cell level reads every cell of the measurements.
    plain = DuckDbKpiEngine(data, ab)
    assert set(plain.kpis(["rrc_setup_sr"], Level.CELL, Grain.DAY)["unit"]) == {"A", "B", "C"}
    with pytest.raises(ValueError, match="inventory"):
        DuckDbKpiEngine(data, only_inventory_cells=True)
