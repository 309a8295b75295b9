"""The indicator system: tree rules, idempotent upsert, versioning, editing rules, the
import pair (read, then apply); weight profiles."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from sqm.domain import plan_indicators
from sqm.domain.errors import ConflictError, MissingError
from sqm.ingest.indicator_systems import read_indicator_systems
from sqm.services.evaluation import indicator_system as ind
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


def test_editing_rules_conflicts_and_missing_versions(sqlite_engine: Engine) -> None:
    f = make_sessionmaker(sqlite_engine)
    rows = plan_indicators.indicator_rows()
    with transaction(f) as s:
        draft = upsert_system(s, "SQ", "体系", "System", rows).system
        other = upsert_system(s, "SQ2", "体系二", "", rows).system
        dim = ind.find_system(s, "SQ").nodes[0]
        assert ind.find_system(s, "SQ", 1) is draft
        with pytest.raises(MissingError, match="'SQ' v7"):
            ind.find_system(s, "SQ", 7)
        with pytest.raises(MissingError):
            ind.get_system(s, 10**6)
        with pytest.raises(MissingError, match="in this system"):
            ind.system_node(s, other, dim.id)
        with pytest.raises(ind.IndicatorRuleError, match="scale_min must be below"):
            ind.edit_node(draft, dim, ind.NodeEdit(name_zh="维", scale_min="5", scale_max="1"))
        with pytest.raises(ind.IndicatorRuleError, match="target: 'x' is not a number"):
            ind.edit_node(draft, dim, ind.NodeEdit(name_zh="维", target="x"))
        ind.edit_node(draft, dim, ind.NodeEdit(name_zh=" 维 ", target="80", is_veto=True))
        assert (dim.name_zh, dim.target, dim.is_veto) == ("维", 80.0, True)
        new = ind.add_node(s, draft, None, code="NEW", level="dimension", name_zh="新维度")
        assert new.id is not None and new.parent_id is None
        with pytest.raises(ind.IndicatorRuleError, match="cannot sit"):
            ind.add_node(s, draft, None, code="NEW2", level="item", name_zh="项")
    with pytest.raises(ConflictError, match="already exists"), transaction(f) as s:
        draft = ind.find_system(s, "SQ")
        ind.add_node(s, draft, None, code="NEW", level="dimension", name_zh="又一个")
    with transaction(f) as s:
        draft = ind.find_system(s, "SQ")
        ind.delete_node(s, next(n for n in draft.nodes if n.code == "NEW"))  # not scorable
        ind.publish(s, draft)
    with f() as s:
        published = ind.find_system(s, "SQ")
        for change in (
            lambda: ind.edit_node(published, published.nodes[0], ind.NodeEdit(name_zh="x")),
            lambda: ind.add_node(s, published, None, code="N3", level="dimension", name_zh="x"),
            lambda: ind.delete_node(s, published.nodes[0]),
        ):
            with pytest.raises(ind.PublishedSystemError) as err:
                change()
            assert isinstance(err.value, ConflictError) and err.value.status_code == 409


IND_CSV = (
    "指标体系编码,指标体系名称,编码,上级编码,层级,名称,目标值\n"
    "T,测试体系,D1,,维度,服务,\n"
    "T,,D1.I1,D1,指标,态度,90\n"
)


def test_reading_an_indicator_file_touches_no_database_and_applying_is_idempotent(
    sqlite_engine: Engine,
) -> None:
    parsed = read_indicator_systems(IND_CSV.encode(), "i.csv")
    assert parsed.report.ok and [s.code for s in parsed.systems] == ["T"]
    assert parsed.names_en_given is False
    f = make_sessionmaker(sqlite_engine)
    with transaction(f) as s:
        report = ind.apply_indicator_systems(s, parsed)
        assert (report.created, report.unchanged) == (2, 0)
        assert report.notes == ["T: new system, draft v1"]
    with transaction(f) as s:
        report = ind.apply_indicator_systems(s, read_indicator_systems(IND_CSV.encode(), "i.csv"))
        assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    bad = read_indicator_systems(IND_CSV.replace(",D1,指标", ",D9,指标").encode(), "i.csv")
    assert not bad.report.ok and bad.systems == []
    assert bad.report.errors[0].rule == "parent_not_found"


def test_publish_checks_the_whole_tree_first_and_changes_nothing(any_engine: Engine) -> None:
    """Issue 18: a leaf without a source, scale or target could be published, after which
    evaluation aborted for the month. Publishing checks every leaf and every weight profile
    in use, refuses with all problems named, and changes nothing."""
    from sqm.store.models import IndicatorNode, Weight, WeightProfile

    f = make_sessionmaker(any_engine)
    with transaction(f) as s:
        system = upsert_system(s, "SQ", "体系", "", plan_indicators.indicator_rows()).system
        for prof in plan_indicators.weight_profiles("2025-12", "2026-06", "2026-05"):
            upsert_profile(s, system=system, **prof)
        assert ind.publish_problems(s, system) == []
        leaf = next(r.node for r in ind.tree_rows(system) if r.is_leaf and not r.node.is_veto)
        kept = {f: getattr(leaf, f) for f in ("source", "source_ref", "scale_min", "scale_max")}
        kept |= {"target": leaf.target, "warning": leaf.warning}
        ind.edit_node(system, leaf, ind.NodeEdit(name_zh=leaf.name_zh))  # clears them all
        parent = s.get_one(IndicatorNode, leaf.parent_id)
        ind.add_node(s, system, parent, code="NEWLEAF", level=str(leaf.level), name_zh="新项")
        mature = s.scalars(
            select(WeightProfile)
            .where(WeightProfile.valid_to.is_(None))
            .order_by(WeightProfile.code)
        ).first()
        assert mature is not None
        w = next(x for x in mature.weights if x.node.code == leaf.code)
        w.weight += 0.5
        leaf_code, mature_code, weight_id = leaf.code, mature.code, w.id
    with pytest.raises(ind.PublishRefused) as err, transaction(f) as s:
        ind.publish(s, ind.find_system(s, "SQ"))
    problems = err.value.problems
    assert f"{leaf_code}: no source (where its values come from)" in problems
    assert any(p.startswith(f"{leaf_code}: no target and warning threshold") for p in problems)
    assert "NEWLEAF: no source (where its values come from)" in problems
    assert any(f"weight profile {mature_code}: no weight for NEWLEAF" == p for p in problems)
    assert any(p.startswith(f"weight profile {mature_code}: weights under") for p in problems)
    assert err.value.status_code == 422
    with f() as s:
        assert ind.find_system(s, "SQ").status == "draft"
    # Fixed, it publishes.
    with transaction(f) as s:
        system = ind.find_system(s, "SQ")
        ind.delete_node(s, next(n for n in system.nodes if n.code == "NEWLEAF"))
        leaf = next(n for n in system.nodes if n.code == leaf_code)
        for k, v in kept.items():
            setattr(leaf, k, v)
        s.get_one(Weight, weight_id).weight -= 0.5
        ind.publish(s, system)
    with f() as s:
        assert ind.find_system(s, "SQ").status == "published"


def test_evaluation_reports_a_bad_node_and_scores_the_rest(demo_engine: Engine) -> None:
    """A published version with an unscorable leaf (published before publishing checked)
    and a weight profile that no longer forms a tree: the month is evaluated, the leaf and
    the profile are named in the warnings, and every other store is scored."""
    from sqm.domain.org import UnitKind
    from sqm.services.evaluation.evaluate import evaluate_period
    from sqm.store.models import IndicatorValue, OrgUnit, Period, UnitScore, Weight, WeightProfile

    f = make_sessionmaker(demo_engine)
    with transaction(f) as s:
        system = ind.find_system(s, "STORE_SQ")
        leaves = [r.node for r in ind.tree_rows(system) if r.is_leaf]
        period = s.scalars(select(Period).where(Period.code == "2026-10")).one()
        stores = s.scalars(select(OrgUnit).where(OrgUnit.kind == UnitKind.STORE)).all()
        for n in leaves:  # a value for every leaf and store, entered by hand
            value = 1.0 if n.is_veto else n.target if n.target is not None else n.scale_max
            assert n.source and n.source_ref and value is not None, n.code
            s.add_all(
                IndicatorValue(
                    unit_id=u.id,
                    period_id=period.id,
                    source=n.source,
                    source_ref=n.source_ref,
                    value=float(value),
                )
                for u in stores
            )
        bad = next(n for n in leaves if not n.is_veto)
        bad.target = bad.warning = bad.scale_min = bad.scale_max = None
        broken = s.scalars(
            select(WeightProfile).where(
                WeightProfile.valid_to.is_(None), WeightProfile.tier == "supermarket"
            )
        ).first()
        assert broken is not None
        top = next(w for w in broken.weights if w.node.parent_id is None)
        s.delete(s.get_one(Weight, top.id))  # its children lose their parent: two roots
        bad_code, broken_code = bad.code, broken.code
        supermarkets = {u.id for u in stores if u.tier == "supermarket"}
        assert supermarkets and len(supermarkets) < len(stores)
    with transaction(f) as s:
        summary = evaluate_period(s, "2026-10")
    assert f"leaf {bad_code} has neither a target/warning pair nor a scale: not scored" in (
        summary.warnings
    )
    assert any(w.startswith(f"weight profile {broken_code} does not fit") for w in summary.warnings)
    with f() as s:
        scores = dict(
            s.execute(
                select(UnitScore.unit_id, UnitScore.score)
                .join(Period, Period.id == UnitScore.period_id)
                .where(Period.code == "2026-10", UnitScore.unit_id.in_([u.id for u in stores]))
            ).all()
        )
    others = {u.id for u in stores} - supermarkets
    assert all(scores.get(uid) is not None for uid in others)
    assert not supermarkets & set(scores)
    assert summary.scored == len(others)
