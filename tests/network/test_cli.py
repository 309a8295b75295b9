"""``sqm network`` commands: import with line-level errors, KPIs from the dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sqm.cli.main import app
from sqm.services.network.kpi.synthetic import synthetic_inventory


def test_import_counters_and_print_kpis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQM_NETWORK_DIR", str(tmp_path / "net"))
    inv = synthetic_inventory(3, seed=1)
    (tmp_path / "net").mkdir()
    inv.to_parquet(tmp_path / "net" / "inventory.parquet", index=False)
    good = tmp_path / "pm.csv"
    good.write_text(
        "cell_id,ts,rrc_att,rrc_succ\nC000000,2026-01-05 10:00,100,99\nC000001,2026-01-05 10:00,50,40\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("cell_id,ts,rrc_att,rrc_succ\nC000000,2026-01-05 10:15,10,11\n")
    runner = CliRunner()
    r = runner.invoke(app, ["network", "import-counters", str(good), str(bad)])
    assert r.exit_code == 1
    assert "2 rows" in r.output and "line 2" in r.output and "rrc_succ" in r.output
    r = runner.invoke(
        app, ["network", "kpis", "--kpi", "rrc_setup_sr", "--level", "network", "--grain", "day"]
    )
    assert r.exit_code == 0, r.output
    assert "92.667" in r.output  # (99 + 40) / (100 + 50) = 139 / 150
