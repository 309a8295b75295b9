"""The early-warning run over the demo network: the ongoing incident stays one alert."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sqm.config import get_settings
from sqm.methods.alert_rules import Sustained
from sqm.services.network.kpi import DuckDbKpiEngine
from sqm.services.network.watch import backtest_cells, watch
from sqm.store.models.network import NetworkAlert

pytestmark = pytest.mark.slow  # builds the demo network once per session


def _engine() -> DuckDbKpiEngine:
    root = get_settings().network_dir
    return DuckDbKpiEngine(root / "counters", root / "inventory.parquet")


def test_watch_keeps_the_ongoing_incident_as_one_alert(network_demo: Engine) -> None:
    rules = {"sustained": Sustained(bad=96.0, k=3, direction="higher")}
    with Session(network_demo) as s:
        before = s.scalars(
            select(NetworkAlert).where(
                NetworkAlert.status == "open", NetworkAlert.rule == "sustained"
            )
        ).all()
        assert len(before) == 1
        result = watch(s, _engine(), "rrc_setup_sr", rules, send=False)
        s.flush()
        after = s.scalars(
            select(NetworkAlert).where(
                NetworkAlert.status == "open", NetworkAlert.rule == "sustained"
            )
        ).all()
        # The incident is still on at the last hour: same alert, nothing new, nothing closed.
        assert result.firing >= 1 and result.resolved == 0
        assert before[0].id in {a.id for a in after}
        assert before[0].site_id not in {a.site_id for a in after if a.id != before[0].id}


def test_backtest_counts_what_the_rules_would_have_raised(network_demo: Engine) -> None:
    bt = backtest_cells(
        _engine(),
        "rrc_setup_sr",
        {"sustained": Sustained(bad=96.0, k=3), "loose": Sustained(bad=99.5, k=1)},
        datetime(2026, 11, 2),
        datetime(2026, 11, 30),
    ).set_index("rule")
    # The strict rule finds the three injected incidents; a loose one would page far more.
    assert 3 <= bt.loc["sustained", "alerts"] <= 6
    assert bt.loc["loose", "alerts"] > 10 * bt.loc["sustained", "alerts"]


def test_watch_runs_a_rule_set_with_each_rules_level_and_grain(network_demo: Engine) -> None:
    from sqm.services.network.rule_set import load_rule_set
    from sqm.services.network.watch import watch_rule_set

    specs = [s for s in load_rule_set() if s.name in ("rrc_static", "rrc_trend")]
    assert {s.grain for s in specs} == {"hour", "day"}
    with Session(network_demo) as s:
        result = watch_rule_set(s, _engine(), specs, send=False)
        s.flush()
        assert result.cells == 900
        new = s.scalars(select(NetworkAlert).where(NetworkAlert.rule == "rrc_static")).all()
        # The incident still on at the last hour fires the critical static rule.
        assert result.firing >= 1
        assert new and all(a.severity == "critical" for a in new)
