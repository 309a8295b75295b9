"""Declarative rule sets: the TOML loader, and the packaged default set on synthetic counters.

The injected incidents are the demo's (tests/network/test_services_watch.py): three cells,
5, 30 and 5 (data end) hours of a 25×, 30× and 15× failure rate, on counters from
:func:`synthetic_counters`; every other cell is clean, so any alert there is a false one.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sqm.cli.main import app
from sqm.methods.alert_rules import (
    Baseline,
    CusumRule,
    EwmaRule,
    StaticThreshold,
    Sustained,
    Trend,
)
from sqm.services.network.kpi import DuckDbKpiEngine
from sqm.services.network.kpi.synthetic import Incident, synthetic_counters, synthetic_inventory
from sqm.services.network.rule_set import RuleSetError, load_rule_set, parse_rule_set
from sqm.services.network.watch import backtest_rule_set

GOOD = """
[[rule]]
name = "rrc_static"
kpi = "rrc_setup_sr"
level = "critical"
kind = "threshold"
fire = 93.0
recover = 98.0

[[rule]]
name = "drop_k"
kpi = "drop_rate"
level = "major"
kind = "sustained"
bad = 3.0
k = 3
recover_k = 2

[[rule]]
name = "rrc_base"
kpi = "rrc_setup_sr"
level = "major"
kind = "baseline"
z = 5.0
z_recover = 2.5
weeks = 3
min_deviation = 1.5

[[rule]]
name = "thp_trend"
kpi = "dl_user_thp"
level = "minor"
kind = "trend"
window = 10
alpha = 0.01

[[rule]]
name = "rrc_ewma"
kpi = "rrc_setup_sr"
level = "major"
kind = "ewma"
lam = 0.2
L = 3.0
mu0 = 99.0
sigma = 0.5

[[rule]]
name = "drop_cusum"
kpi = "drop_rate"
level = "minor"
kind = "cusum"
direction = "lower"
k = 0.5
h = 4
train = 48
min_sigma = 0.1
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "rules.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_good_file_gives_the_right_rules(tmp_path: Path) -> None:
    specs = load_rule_set(_write(tmp_path, GOOD))
    by = {s.name: s for s in specs}
    assert [s.name for s in specs] == [
        "rrc_static",
        "drop_k",
        "rrc_base",
        "thp_trend",
        "rrc_ewma",
        "drop_cusum",
    ]
    assert by["rrc_static"].rule == StaticThreshold(93.0, 98.0, "higher")
    assert by["rrc_static"].level == "critical" and by["rrc_static"].grain == "hour"
    # drop_rate is lower-is-better in the catalogue: the direction comes from there.
    assert by["drop_k"].rule == Sustained(3.0, k=3, direction="lower", recover_k=2)
    assert by["rrc_base"].rule == Baseline(
        weeks=3, z=5.0, z_recover=2.5, direction="higher", min_deviation=1.5, min_weeks=2
    )
    assert by["thp_trend"].rule == Trend(window=10, alpha=0.01, direction="higher")
    assert by["thp_trend"].grain == "day"
    assert by["rrc_ewma"].rule == EwmaRule(0.2, 3.0, "higher", 168, 99.0, 0.5, 0.0)
    assert by["drop_cusum"].rule == CusumRule(0.5, 4.0, "lower", 48, None, None, 0.1)


@pytest.mark.parametrize(
    ("change", "rule", "field"),
    [
        (("recover = 98.0", "recover = 90.0"), "rrc_static", "recover"),
        (('kind = "threshold"', 'kind = "spike"'), "rrc_static", "kind"),
        (('kpi = "drop_rate"\nlevel = "major"', 'kpi = "nope"\nlevel = "major"'), "drop_k", "kpi"),
        (("k = 3\n", "k = 0\n"), "drop_k", "k"),
        (("k = 3\n", "k = 2.5\n"), "drop_k", "k"),
        (("z_recover = 2.5", "z_recover = 6.0"), "rrc_base", "z_recover"),
        (("z = 5.0", 'z = "five"'), "rrc_base", "z"),
        (("window = 10", "window = 3"), "thp_trend", "window"),
        (("alpha = 0.01", 'alpha = 0.01\ngrain = "hour"'), "thp_trend", "grain"),
        (("lam = 0.2", "lam = 1.5"), "rrc_ewma", "lam"),
        (("L = 3.0\n", ""), "rrc_ewma", "L"),
        (("h = 4", "h = 4\nrecover = 1"), "drop_cusum", "recover"),
        (
            ('level = "minor"\nkind = "cusum"', 'level = "page"\nkind = "cusum"'),
            "drop_cusum",
            "level",
        ),
        (('name = "drop_cusum"', 'name = "drop_k"'), "drop_k", "name"),
    ],
)
def test_a_bad_file_names_the_rule_and_field(
    tmp_path: Path, change: tuple[str, str], rule: str, field: str
) -> None:
    assert change[0] in GOOD
    bad = GOOD.replace(change[0], change[1], 1)
    with pytest.raises(RuleSetError) as exc:
        load_rule_set(_write(tmp_path, bad))
    msg = str(exc.value)
    assert f"rule {rule!r}" in msg and f"field {field!r}" in msg, msg
    assert msg.startswith("rules.toml: ")


def test_not_toml_or_no_rules_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError, match="not valid TOML"):
        load_rule_set(_write(tmp_path, "[[rule]\nname ="))
    with pytest.raises(RuleSetError, match="at least one"):
        parse_rule_set({})


def test_the_packaged_set_covers_every_kind() -> None:
    specs = load_rule_set()
    assert {s.kind for s in specs} == {
        "threshold",
        "sustained",
        "baseline",
        "trend",
        "ewma",
        "cusum",
    }


INCIDENT_CELLS = {
    "C000010": "2026-11-12 18:00",
    "C000025": "2026-11-20 09:00",
    "C000040": "2026-11-29 19:00",
}
NEW_KINDS = ("baseline", "ewma", "cusum", "trend")


@pytest.fixture(scope="module")
def counters() -> tuple[pd.DataFrame, pd.DataFrame]:
    inv = synthetic_inventory(60, seed=3)
    incidents = (
        Incident("C000010", datetime(2026, 11, 12, 18), 5, 25.0),
        Incident("C000025", datetime(2026, 11, 20, 9), 30, 30.0),
        Incident("C000040", datetime(2026, 11, 29, 19), 200, 15.0),
    )
    c = synthetic_counters(
        inv, datetime(2026, 11, 2), 28, seed=7, incidents=incidents, base_attempts=120.0
    )
    c["ts"] = c["ts"].astype("datetime64[us]")
    return c, inv


def test_default_set_raises_the_injected_incidents_and_is_quiet_elsewhere(
    counters: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    c, inv = counters
    specs = [s for s in load_rule_set() if s.kind in NEW_KINDS]
    eng = DuckDbKpiEngine(c, inv)
    bt = backtest_rule_set(eng, specs, datetime(2026, 11, 2), datetime(2026, 11, 30), per_cell=True)
    eng.close()
    alerting = bt[bt["alerts"] > 0]
    # Nothing on the 57 clean cells, from any of the new kinds.
    assert set(alerting["cell_id"]) <= set(INCIDENT_CELLS), alerting
    found = {k: set(g["cell_id"]) for k, g in alerting.groupby("kind")}
    # EWMA and CUSUM (trained on the first week) find all three, one alert each.
    assert found["ewma"] == found["cusum"] == set(INCIDENT_CELLS)
    assert (alerting["alerts"] == 1).all()
    # The baseline needs two past weeks of the same hour: the 12 November incident is in
    # the second week, so only the later two can be seen.
    assert found["baseline"] == {"C000025", "C000040"}
    assert "trend" not in found  # short outages are not trends


def test_default_trend_rule_finds_a_slow_decline(
    counters: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    c, inv = counters
    c = c.copy()
    # Cell C000005 loses 0.2 percentage points of RRC success a day from 16 November.
    days = (c["ts"] - pd.Timestamp("2026-11-16")).dt.days.clip(lower=0).to_numpy()
    sel = (c["cell_id"] == "C000005").to_numpy()
    lost = np.round(c["rrc_att"].to_numpy() * 0.002 * days).astype(int)
    c.loc[sel, "rrc_succ"] = np.maximum(c["rrc_succ"].to_numpy() - lost, 0)[sel]
    specs = [s for s in load_rule_set() if s.kind == "trend" and s.kpi == "rrc_setup_sr"]
    eng = DuckDbKpiEngine(c, inv)
    bt = backtest_rule_set(eng, specs, datetime(2026, 11, 2), datetime(2026, 11, 30), per_cell=True)
    eng.close()
    assert set(bt.loc[bt["alerts"] > 0, "cell_id"]) == {"C000005"}


def test_cli_refuses_a_bad_rule_file(tmp_path: Path) -> None:
    bad = _write(tmp_path, GOOD.replace("window = 10", "window = 3"))
    r = CliRunner().invoke(
        app,
        [
            "network",
            "backtest",
            "--rules",
            str(bad),
            "--start",
            "2026-11-02",
            "--end",
            "2026-11-30",
        ],
    )
    assert r.exit_code == 1
    assert "thp_trend" in r.output and "window" in r.output
