"""The monthly visit plan: every rule holds in generated plans; infeasible cases are explained.

The re-check (check_plan) recomputes each rule from the frames; the tests below also check
the key rules directly with pandas, independently of both the solver and the re-check.
"""

from __future__ import annotations

import io
from datetime import date
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from sqm.services.inspections.visit_plan import (
    PlanRules,
    check_plan,
    export_plan_xlsx,
    plan_month,
    store_priority,
    working_days,
)

MONTH = date(2026, 11, 1)
RULES = PlanRules(time_limit_s=8, seed=1, deterministic_time=0.5)


def _stores(n: int, territory: str = "T1", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tiers = ["flagship_core", "first_level", "supermarket", "partner"]
    return pd.DataFrame(
        {
            "store_id": [f"{territory}-S{k:02d}" for k in range(n)],
            "tier": [tiers[k % 4] for k in range(n)],
            "territory": territory,
            "lat": 31.2 + rng.normal(0, 0.03, n),
            "lon": 121.4 + rng.normal(0, 0.03, n),
            "central_city": [k % 8 < 4 for k in range(n)],
            "team_size": [2 if k == 5 else 1 for k in range(n)],
        }
    )


def _inspectors(n: int, territory: str = "T1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "inspector_id": [f"{territory}-I{k}" for k in range(n)],
            "territory": territory,
            "lat": 31.2,
            "lon": 121.4,
        }
    )


@pytest.fixture(scope="module")
def generated() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, object]:
    stores = pd.concat([_stores(24, "T1", 1), _stores(16, "T2", 2)], ignore_index=True)
    insp = pd.concat([_inspectors(5, "T1"), _inspectors(4, "T2")], ignore_index=True)
    insp["days_off"] = [[date(2026, 11, 2)] if k == 0 else [] for k in range(len(insp))]
    # history: T1-I0 saw T1-S00 on 20 Sep → may not return before 20 Dec
    history = pd.DataFrame(
        {
            "store_id": ["T1-S00", "T1-S01"],
            "inspector_id": ["T1-I0", "T1-I1"],
            "date": [date(2026, 9, 20), date(2026, 7, 1)],
        }
    )
    plan = plan_month(stores, insp, history, MONTH, RULES)
    return stores, insp, history, plan


def test_generated_plan_breaks_no_rule(generated) -> None:  # type: ignore[no-untyped-def]
    stores, insp, history, plan = generated
    assert plan.violations == [] and plan.conflicts == []
    assert check_plan(plan.assignments, stores, insp, history, plan.days, RULES) == []
    assert all(s.status in ("OPTIMAL", "FEASIBLE") for s in plan.solves)
    assert plan.bound <= plan.objective + 1e-6
    # the analytic travel bound is a valid lower bound too
    assert plan.best_bound <= plan.objective + 1e-6
    assert all(s.travel_bound > 0 for s in plan.solves)


def test_rules_directly(generated) -> None:  # type: ignore[no-untyped-def]
    stores, insp, _, plan = generated
    a = plan.assignments.merge(stores, on="store_id").merge(
        insp[["inspector_id", "territory"]], on="inspector_id", suffixes=("", "_insp")
    )
    # territory
    assert (a["territory"] == a["territory_insp"]).all()
    # visits per store: flagship core twice, others once (team visits count once)
    per_store = a.drop_duplicates(["store_id", "date"]).groupby("store_id").size()
    want = np.where(stores["tier"] == "flagship_core", 2, 1)
    assert per_store.reindex(stores["store_id"]).tolist() == want.tolist()
    # team visit: T*-S05 gets two inspectors on one day
    team = a[a["store_id"].str.endswith("S05")].groupby(["store_id", "date"]).size()
    assert (team == 2).all()
    # rotation: nobody twice in the same store; T1-I0 not at T1-S00 before 20 Dec
    assert not a.duplicated(["store_id", "inspector_id"]).any()
    assert a[(a["store_id"] == "T1-S00") & (a["inspector_id"] == "T1-I0")].empty
    # capacity per day and per week
    assert a.groupby(["inspector_id", "date"]).size().max() <= RULES.cap_day
    wk = a["date"].map(lambda d: d.isocalendar()[1])
    assert a.groupby([a["inspector_id"], wk]).size().max() <= RULES.cap_week
    # days off and planning days
    assert a[(a["inspector_id"] == "T1-I0") & (a["date"] == date(2026, 11, 2))].empty
    assert set(a["date"]) <= set(working_days(MONTH, RULES))
    # a key store's two visits at least min_gap_days apart
    for _, g in a.drop_duplicates(["store_id", "date"]).groupby("store_id"):
        ds = sorted(g["date"])
        assert all((d2 - d1).days >= RULES.min_gap_days for d1, d2 in pairwise(ds))


def test_inspector_list_and_excel(generated) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    stores, insp, _, plan = generated
    mine = plan.for_inspector("T1-I2")
    assert (mine["inspector_id"] == "T1-I2").all() and mine["date"].is_monotonic_increasing
    buf = io.BytesIO()
    export_plan_xlsx(plan, stores, insp, buf)
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames == ["计划 Plan", "日历 Calendar", "规则 Rules", "求解 Solver"]
    assert wb["计划 Plan"].max_row == len(plan.assignments) + 1
    assert wb["日历 Calendar"].max_row == len(insp) + 1


def test_hand_edited_plan_is_rechecked(generated) -> None:  # type: ignore[no-untyped-def]
    stores, insp, history, plan = generated
    edited = plan.assignments.copy()
    # move one T1 visit to an inspector of T2, and give T1-I0 its blocked store
    k = edited.index[edited["store_id"] == "T1-S03"][0]
    edited.loc[k, "inspector_id"] = "T2-I0"
    extra = {
        "visit_id": "x",
        "store_id": "T1-S00",
        "inspector_id": "T1-I0",
        "date": date(2026, 11, 30),
        "team_size": 1,
    }
    edited = pd.concat([edited, pd.DataFrame([extra])], ignore_index=True)
    rules = {v.rule for v in check_plan(edited, stores, insp, history, plan.days, RULES)}
    assert {"territory", "rotation", "visits"} <= rules


def test_rotation_blocks_until_after_three_months() -> None:
    stores = _stores(1).assign(tier="partner")
    insp = _inspectors(1)
    plan_rows = pd.DataFrame(
        {"store_id": ["T1-S00"], "inspector_id": ["T1-I0"], "date": [date(2026, 11, 20)]}
    )
    hist = pd.DataFrame(
        {"store_id": ["T1-S00"], "inspector_id": ["T1-I0"], "date": [date(2026, 8, 20)]}
    )
    days = working_days(MONTH, RULES)
    # 20 Aug + 3 months = 20 Nov: "时间间隔超过3个月" needs a later day
    assert [v.rule for v in check_plan(plan_rows, stores, insp, hist, days, RULES)] == ["rotation"]
    ok = plan_rows.assign(date=[date(2026, 11, 21)])
    assert check_plan(ok, stores, insp, hist, days, RULES) == []


def test_priority_order_when_capacity_is_short() -> None:
    # 1 inspector, capacity 1 visit a week: only the highest-priority stores get visits
    stores = pd.DataFrame(
        {
            "store_id": ["P5", "P4", "P3", "P2", "P1"],
            "tier": ["partner", "supermarket", "first_level", "first_level", "flagship_core"],
            "central_city": [True, True, False, True, True],
            "key": [False] * 5,
            "territory": "T",
            "lat": 31.2,
            "lon": 121.4,
        }
    )
    insp = pd.DataFrame(
        {"inspector_id": ["I"], "territory": ["T"], "lat": [31.2], "lon": [121.4], "cap_week": [1]}
    )
    rules = PlanRules(time_limit_s=5, spread_tolerance=10.0)
    plan = plan_month(stores, insp, None, MONTH, rules)
    n_weeks = len({d.isocalendar()[1] for d in plan.days})
    visited = set(plan.assignments["store_id"])
    order = ["P1", "P2", "P3", "P4", "P5"]
    assert visited == set(order[: min(n_weeks, 5)])
    assert store_priority("first_level", True) < store_priority("first_level", False)


def test_infeasible_case_is_explained_and_relaxed() -> None:
    # one flagship store needs two visits, but its territory has two inspectors and one of
    # them visited it in October: rotation and the visit count cannot both hold
    stores = pd.DataFrame(
        {
            "store_id": ["F1", "P1"],
            "tier": ["flagship_core", "partner"],
            "territory": "T",
            "lat": [31.2, 31.21],
            "lon": [121.4, 121.41],
        }
    )
    insp = pd.DataFrame({"inspector_id": ["A", "B"], "territory": "T", "lat": 31.2, "lon": 121.4})
    hist = pd.DataFrame({"store_id": ["F1"], "inspector_id": ["A"], "date": [date(2026, 10, 28)]})
    plan = plan_month(stores, insp, hist, MONTH, PlanRules(time_limit_s=5))
    assert len(plan.conflicts) == 1
    c = plan.conflicts[0]
    assert {"visits", "rotation"} <= set(c.rules) and "F1" in c.stores and "A" in c.inspectors
    assert "F1" in c.message
    # best relaxed plan: rotation (higher priority) holds, the second visit is dropped
    rules_broken = [v.rule for v in plan.violations]
    assert rules_broken == ["second_visit"]
    assert set(plan.assignments["store_id"]) == {"F1", "P1"}
    assert plan.assignments.query("store_id == 'F1'")["inspector_id"].tolist() == ["B"]


def test_territory_without_inspectors_is_reported() -> None:
    stores = _stores(2, "T9")
    plan = plan_month(stores, _inspectors(1, "T1"), None, MONTH, PlanRules(time_limit_s=2))
    assert plan.conflicts and plan.conflicts[0].rules == ("territory",)
    assert {v.rule for v in plan.violations} == {"visits"}


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="lat"):
        plan_month(_stores(2).drop(columns=["lat"]), _inspectors(1), None, MONTH)
    with pytest.raises(ValueError, match="tier"):
        store_priority("kiosk", False)


@pytest.mark.slow
def test_plan_from_the_demo_database(demo_engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from sqm.services.inspections.planning import plan_period, save_plan
    from sqm.store.engine import make_sessionmaker
    from sqm.store.models import Period
    from sqm.store.models.inspection import InspectionPlanEntry

    with make_sessionmaker(demo_engine)() as s:
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        assert period is not None
        plan = plan_period(s, period, PlanRules(time_limit_s=6, deterministic_time=0.5))
        assert plan.violations == []
        n = save_plan(s, period, plan)
        assert n == len(plan.assignments) > 300
        assert s.query(InspectionPlanEntry).count() == n
        # read back: the calendar a reviewer edits, in their scope, re-checked after a move
        from datetime import date

        from sqm.domain.roles import ROLE_PERMISSIONS, Role
        from sqm.services.inspections.planning import move_entry, plan_calendar, plan_workbook
        from sqm.services.scope import Principal
        from sqm.store.models import OrgUnit

        gz = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
        assert gz is not None
        perms = ROLE_PERMISSIONS[Role.QUALITY_ANALYST]
        everyone = Principal(1, "a", "", frozenset(), ("/",), perms)
        local = Principal(2, "g", "", frozenset(), (gz.path,), perms)
        cal = plan_calendar(s, everyone)
        assert cal.violations == [] and sum(len(v) for v in cal.by_day.values()) == n
        mine = plan_calendar(s, local)
        shown = [e for es in mine.by_day.values() for e in es]
        assert shown and all(e.unit.path.startswith(gz.path) for e in shown)
        move_entry(s, shown[0], day=date(2026, 11, 29))  # a Sunday
        assert "day_off" in {v.rule for v in plan_calendar(s, local).violations}
        code, data = plan_workbook(s, local, "en")
        assert code == "2026-11" and data[:2] == b"PK"


def test_deterministic_mode_gives_the_same_plan() -> None:
    stores, insp = _stores(20, "T1", 3), _inspectors(3, "T1")
    rules = PlanRules(time_limit_s=5, deterministic_time=0.3)
    a = plan_month(stores, insp, None, MONTH, rules).assignments
    b = plan_month(stores, insp, None, MONTH, rules).assignments
    assert a.equals(b) and len(a) > 20
