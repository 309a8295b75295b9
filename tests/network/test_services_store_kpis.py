"""Store-level network KPIs from counters: ratio of sums over the store's cells, by hand."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sqm.services.network.indicators import network_indicator_values
from sqm.services.network.kpi import DuckDbKpiEngine
from sqm.services.network.store_kpis import store_kpis, write_store_kpis
from sqm.store.models import Period
from sqm.store.models.network import NetworkCell

pytestmark = pytest.mark.slow  # uses the demo database (built once per session)


def _period(s: Session) -> Period:
    p = s.scalar(select(Period).where(Period.code == "2026-11"))
    if p is None:
        p = Period(code="2026-11", kind="month", start=date(2026, 11, 1), end=date(2026, 11, 30))
        s.add(p)
        s.flush()
    return p


def test_store_kpis_are_ratios_of_sums_over_the_stores_cells(network_demo: Engine) -> None:
    with Session(network_demo) as s:
        cells = s.scalars(select(NetworkCell).order_by(NetworkCell.id)).all()
        a1, a2, a3 = cells[0], cells[1], cells[2]  # three sectors of the first store
        b1 = next(c for c in cells if c.unit_id != a1.unit_id)
        assert a1.unit_id == a2.unit_id
        rows = [
            # cell, ts, abnormal, normal releases, DL volume kbit, DL time ms
            (a1.cell_id, "2026-11-03 10:00", 2, 98, 400_000.0, 6_000.0),
            (a1.cell_id, "2026-11-20 10:00", 1, 199, 200_000.0, 4_000.0),
            (a2.cell_id, "2026-11-05 12:00", 5, 195, 300_000.0, 10_000.0),
            (a3.cell_id, "2026-10-31 23:45", 50, 50, 1.0, 1_000_000.0),  # October: left out
            (b1.cell_id, "2026-11-07 08:00", 1, 49, 100_000.0, 500.0),
        ]
        counters = pd.DataFrame(
            rows,
            columns=[
                "cell_id",
                "ts",
                "bearer_rel_abnormal",
                "bearer_rel_normal",
                "dl_thp_vol_kbit",
                "dl_thp_time_ms",
            ],
        )
        counters["ts"] = pd.to_datetime(counters["ts"]).astype("datetime64[us]")
        counters["period_s"] = 900
        period = _period(s)
        eng = DuckDbKpiEngine(counters)
        got = store_kpis(s, eng, period).set_index(["unit_id", "source_ref"])
        eng.close()

        # Store A: drop = 100 · (2 + 1 + 5) / (100 + 200 + 200) = 1.6 %,
        # se = 100 · √(0.016 · 0.984 / 500) = 0.56114 %.
        a = got.loc[(a1.unit_id, "voice_drop_rate")]
        assert a["value"] == pytest.approx(1.6)
        assert a["se"] == pytest.approx(100 * math.sqrt(0.016 * 0.984 / 500))
        assert a["n"] == 500
        # Throughput = 900 000 kbit / 20 000 ms = 45 Mbit/s; cell residuals y − R·x:
        # 600 000 − 450 000 = 150 000 and 300 000 − 450 000 = −150 000, so
        # se² = 2 · 150 000² / (2 · 1 · 10 000²) = 225 → se = 15.
        t = got.loc[(a1.unit_id, "dl_user_throughput")]
        assert t["value"] == pytest.approx(45.0)
        assert t["se"] == pytest.approx(15.0)
        # Store B: 50 releases (≥ guard 30) → 2 %; 500 ms of transfer < 1000 → no value.
        assert got.loc[(b1.unit_id, "voice_drop_rate"), "value"] == pytest.approx(2.0)
        assert (b1.unit_id, "dl_user_throughput") not in got.index
        assert set(got.index.get_level_values(0)) == {a1.unit_id, b1.unit_id}

        # Written for the scorecard and read back by the indicator producer (replacing
        # the demo's values for these stores, not adding to them).
        assert write_store_kpis(s, period, got.reset_index()) == 3
        ind = network_indicator_values(s, period).set_index(["unit_id", "source_ref"])
        assert ind.loc[(a1.unit_id, "dl_user_throughput"), "value"] == pytest.approx(45.0)
        assert ind.loc[(a1.unit_id, "voice_drop_rate"), "n"] == 500
        # The standard errors travel with the values into the scorecard.
        assert ind.loc[(a1.unit_id, "dl_user_throughput"), "se"] == pytest.approx(15.0)
        assert ind.loc[(a1.unit_id, "voice_drop_rate"), "se"] == pytest.approx(
            100 * math.sqrt(0.016 * 0.984 / 500)
        )
        assert ind.index.is_unique


def test_cli_store_kpis_writes_the_month(
    network_demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from sqm.cli.main import app
    from sqm.config import get_settings

    monkeypatch.setenv("SQM_DATABASE_URL", str(network_demo.url))
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["network", "store-kpis", "2026-11"])
        bad = CliRunner().invoke(app, ["network", "store-kpis", "2026Q4"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    assert "600 value(s) written for 2026-11" in r.output  # 300 stores × 2 references
    assert bad.exit_code == 1 and "no such month" in bad.output
