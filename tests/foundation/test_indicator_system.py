"""The indicator system: tree rules, idempotent upsert, versioning; weight profiles."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from sqm.domain import plan_indicators
from sqm.services.evaluation.indicator_system import (
    IndicatorRuleError,
    upsert_system,
    validate_node_rows,
)
from sqm.services.evaluation.weight_profile import (
    NodeRef,
    WeightRuleError,
    global_weights,
    profile_for_store,
    sibling_sum_errors,
    upsert_profile,
)
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import AuditEntry, IndicatorSystem


def test_plan_system_is_a_valid_tree() -> None:
    assert validate_node_rows(plan_indicators.indicator_rows()) == []


def test_tree_rules_name_the_node_and_the_rule() -> None:
    rows = [
        {"code": "D", "parent_code": None, "level": "dimension"},
        {"code": "I", "parent_code": "D", "level": "item"},
        {"code": "X", "parent_code": "NOPE", "level": "indicator"},
        {"code": "D", "parent_code": None, "level": "dimension"},
    ]
    errors = validate_node_rows(rows)
    assert "I: a item cannot sit under D (dimension)" in errors
    assert "X: parent 'NOPE' is not in the system" in errors
    assert "D: code appears twice" in errors


def test_upsert_is_idempotent_and_versions_published_systems(any_engine: Engine) -> None:
    f = make_sessionmaker(any_engine)
    rows = plan_indicators.indicator_rows()
    with transaction(f) as s:
        out = upsert_system(s, "SQ", "体系", "System", rows)
        assert out.created == len(rows) and out.system.version == 1
    with transaction(f) as s:
        n_audit = len(s.scalars(select(AuditEntry)).all())
        again = upsert_system(s, "SQ", "体系", "System", rows)
        assert not again.changed
    with f() as s:
        assert len(s.scalars(select(AuditEntry)).all()) == n_audit
    with transaction(f) as s:
        sysm = s.scalar(select(IndicatorSystem).where(IndicatorSystem.code == "SQ"))
        assert sysm is not None
        sysm.status = "published"
    changed = [dict(r) for r in rows]
    changed[2]["target"] = 0.5
    with transaction(f) as s:
        v2 = upsert_system(s, "SQ", "体系", "System", changed)
        assert v2.new_version and v2.system.version == 2 and v2.system.status == "draft"
    with pytest.raises(IndicatorRuleError), transaction(f) as s:
        upsert_system(
            s, "SQ", "体系", "System", [{"code": "A", "parent_code": None, "level": "item"}]
        )


def test_global_weights_multiply_down_the_tree() -> None:
    nodes = [NodeRef("A", None), NodeRef("B", None), NodeRef("A1", "A"), NodeRef("A2", "A")]
    g = global_weights(nodes, {"A": 0.6, "B": 0.4, "A1": 0.25, "A2": 0.75})
    assert g["A2"] == pytest.approx(0.45) and g["A1"] == pytest.approx(0.15)
    assert sibling_sum_errors(nodes, {"A": 0.6, "B": 0.3, "A1": 0.25, "A2": 0.75}) == [
        "weights under (root) sum to 0.9000, not 1: A=0.6, B=0.3"
    ]


def test_plan_profiles_sum_to_one_at_every_level() -> None:
    rows = plan_indicators.indicator_rows()
    refs = [NodeRef(r["code"], r["parent_code"]) for r in rows]
    for prof in plan_indicators.weight_profiles("2025-12", "2026-06", "2026-05"):
        assert sibling_sum_errors(refs, prof["weights"], tol=1e-9) == [], prof["code"]
        leaves = {r["code"] for r in rows} - {r["parent_code"] for r in rows}
        total = sum(v for c, v in global_weights(refs, prof["weights"]).items() if c in leaves)
        assert total == pytest.approx(1.0)


def test_profile_rules_and_store_matching(any_engine: Engine) -> None:
    f = make_sessionmaker(any_engine)
    with transaction(f) as s:
        system = upsert_system(s, "SQ", "体系", "", plan_indicators.indicator_rows()).system
        for prof in plan_indicators.weight_profiles("2025-12", "2026-06", "2026-05"):
            upsert_profile(s, system=system, **prof)
        bad = plan_indicators.weight_profiles("2025-12", "2026-06", "2026-05")[0]
        bad["weights"] = dict(bad["weights"], CUST=0.9)
        bad["code"] = "BAD"
        with pytest.raises(WeightRuleError, match="sum to"):
            upsert_profile(s, system=system, **bad)
    with f() as s:
        early = profile_for_store(s, "supermarket", True, "2026-02")
        mature = profile_for_store(s, "supermarket", False, "2026-09")
        assert early is not None and early.code == "WP.supermarket.early"
        assert mature is not None and mature.code == "WP.supermarket.mature"
        assert profile_for_store(s, "supermarket", True, "2025-01") is None
