"""Storage: migrations on SQLite and PostgreSQL, the org tree's paths, the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, select

from sqm.domain.org import StoreTier, UnitKind
from sqm.services.org_tree import OrgTreeError, place
from sqm.store.audit import Actor, acting_as
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.migrate import current_heads
from sqm.store.models import AuditEntry, OrgUnit


def test_migrations_create_every_table(any_engine: Engine) -> None:
    import sqm.store.models  # noqa: F401
    from sqm.store.base import Base

    tables = set(inspect(any_engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "0001_foundation" in current_heads(any_engine) or current_heads(any_engine)


def test_sqlite_runs_in_wal_mode(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _tree(engine: Engine) -> dict[str, OrgUnit]:
    f = make_sessionmaker(engine)
    with transaction(f) as s:
        co = OrgUnit(code="C", name_zh="公司", kind=UnitKind.COMPANY)
        place(s, co, None)
        p1 = OrgUnit(code="P1", name_zh="省一", kind=UnitKind.PROVINCE)
        place(s, p1, co)
        p2 = OrgUnit(code="P2", name_zh="省二", kind=UnitKind.PROVINCE)
        place(s, p2, co)
        c1 = OrgUnit(code="P1-C1", name_zh="市一", kind=UnitKind.CITY)
        place(s, c1, p1)
        st = OrgUnit(code="P1-C1-S1", name_zh="店一", kind=UnitKind.STORE, tier=StoreTier.PARTNER)
        place(s, st, c1)
        return {u.code: u for u in (co, p1, p2, c1, st)}


def test_paths_follow_the_tree_and_moves_repath_the_subtree(any_engine: Engine) -> None:
    units = _tree(any_engine)
    f = make_sessionmaker(any_engine)
    with transaction(f) as s:
        c1 = s.get(OrgUnit, units["P1-C1"].id)
        p2 = s.get(OrgUnit, units["P2"].id)
        assert c1 is not None and p2 is not None
        place(s, c1, p2)
    with f() as s:
        store = s.scalar(select(OrgUnit).where(OrgUnit.code == "P1-C1-S1"))
        assert store is not None
        assert store.path == f"/{units['C'].id}/{units['P2'].id}/{units['P1-C1'].id}/{store.id}/"
        assert store.depth == 3


def test_tree_grammar_is_enforced(any_engine: Engine) -> None:
    units = _tree(any_engine)
    f = make_sessionmaker(any_engine)
    with pytest.raises(OrgTreeError, match="cannot sit under"), transaction(f) as s:
        prov = s.get(OrgUnit, units["P1"].id)
        place(s, OrgUnit(code="X", name_zh="x", kind=UnitKind.COMPANY), prov)
    with pytest.raises(OrgTreeError, match="own descendant"), transaction(f) as s:
        p1 = s.get(OrgUnit, units["P1"].id)
        c1 = s.get(OrgUnit, units["P1-C1"].id)
        assert p1 is not None and c1 is not None
        p1.kind = UnitKind.DISTRICT  # so the kind rule passes and the cycle rule must catch it
        place(s, p1, c1)


def test_audit_log_records_who_changed_what_in_the_same_transaction(any_engine: Engine) -> None:
    units = _tree(any_engine)
    f = make_sessionmaker(any_engine)
    with acting_as(Actor(7, "wangmin")), transaction(f) as s:
        st = s.get(OrgUnit, units["P1-C1-S1"].id)
        assert st is not None
        st.traffic = 4321
    with f() as s:
        e = s.scalars(select(AuditEntry).where(AuditEntry.action == "update")).all()[-1]
        assert (e.username, e.user_id, e.entity, e.entity_id) == (
            "wangmin",
            7,
            "org_unit",
            str(units["P1-C1-S1"].id),
        )
        assert e.changes == {"traffic": [None, 4321]}
        created = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "create", AuditEntry.entity == "org_unit")
        ).all()
        assert {c.entity_id for c in created} == {str(u.id) for u in units.values()}
    # A rolled-back change leaves neither the change nor its audit entry.
    n_before = _count(f)
    with pytest.raises(RuntimeError), transaction(f) as s:
        st = s.get(OrgUnit, units["P1-C1-S1"].id)
        assert st is not None
        st.traffic = 1
        s.flush()
        raise RuntimeError("abort")
    assert _count(f) == n_before


def _count(f: object) -> int:
    with f() as s:  # type: ignore[operator]
        return len(s.scalars(select(AuditEntry)).all())
