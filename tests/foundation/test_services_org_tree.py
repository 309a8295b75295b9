"""The org tree's read models and writes, always within a principal's scope; the org-unit
import as a pair (ingest reads and validates, the service writes)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from sqm.domain.errors import ConflictError, MissingError
from sqm.ingest.org_units import read_org_units
from sqm.services import org_tree
from sqm.services.org_tree import OrgTreeError
from sqm.services.scope import Principal, load_principal
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import OrgUnit, User


def _principal(s, username: str) -> Principal:  # type: ignore[no-untyped-def]
    uid = s.scalar(select(User.id).where(User.username == username))
    p = load_principal(s, uid)
    assert p is not None
    return p


def _unit(s, code: str) -> OrgUnit:  # type: ignore[no-untyped-def]
    u = s.scalar(select(OrgUnit).where(OrgUnit.code == code))
    assert u is not None
    return u


def test_visible_unit_and_unit_by_code_hide_what_lies_outside(demo_engine: Engine) -> None:
    with make_sessionmaker(demo_engine)() as s:
        gz = _principal(s, "area.gz")
        cd, gzc = _unit(s, "SC-CD"), _unit(s, "GD-GZ")
        assert org_tree.visible_unit(s, gz, gzc.id) is gzc
        with pytest.raises(MissingError, match="no such org unit"):
            org_tree.visible_unit(s, gz, cd.id)
        with pytest.raises(MissingError):
            org_tree.visible_unit(s, gz, 10**9)
        assert org_tree.unit_by_code(s, gz, "GD-GZ") is gzc
        with pytest.raises(MissingError, match="SC-CD"):
            org_tree.unit_by_code(s, gz, "SC-CD")


def test_tree_levels_count_only_children_in_scope(demo_engine: Engine) -> None:
    with make_sessionmaker(demo_engine)() as s:
        analyst, gz = _principal(s, "analyst"), _principal(s, "area.gz")
        top = org_tree.tree_roots(s, analyst)
        assert [u.code for u in top.units] == ["ZY"]
        kids = org_tree.tree_children(s, analyst, top.units[0])
        assert top.counts[top.units[0].id] == len(kids.units) > 1
        assert [u.code for u in org_tree.tree_roots(s, gz).units] == ["GD-GZ"]
        # Of Guangdong's children, the area manager sees only their own city.
        gd = _unit(s, "GD-GZ").parent
        assert gd is not None
        assert len(org_tree.tree_children(s, analyst, gd).units) > 1
        assert [u.code for u in org_tree.tree_children(s, gz, gd).units] == ["GD-GZ"]


def test_unit_detail_and_counts(demo_engine: Engine) -> None:
    with make_sessionmaker(demo_engine)() as s:
        gz = _principal(s, "area.gz")
        city = _unit(s, "GD-GZ")
        d = org_tree.unit_detail(s, gz, city)
        assert d.crumbs == []  # Guangdong and the company lie above the scope
        assert d.children and all(c.parent_id == city.id for c in d.children)
        stores = s.scalar(
            select(func.count())
            .select_from(OrgUnit)
            .where(OrgUnit.path.startswith(city.path), OrgUnit.kind == "store")
        )
        assert sum(d.stores_by_tier.values()) == stores
        assert d.latest_month is None
        store = s.scalar(
            select(OrgUnit).where(OrgUnit.path.startswith(city.path), OrgUnit.kind == "store")
        )
        assert store is not None
        sd = org_tree.unit_detail(s, gz, store)
        assert sd.latest_month == "2026-11" and sd.stores_by_tier == {}
        assert sd.crumbs[0].code == "GD-GZ"
        counts = org_tree.unit_counts(s, _principal(s, "store.manager"))
        assert counts.by_kind == {"store": 1}
        assert sum(counts.stores_by_tier.values()) == 1


def test_list_units_filters_within_scope(demo_engine: Engine) -> None:
    with make_sessionmaker(demo_engine)() as s:
        gz = _principal(s, "area.gz")
        page = org_tree.list_units(s, gz, kind="store", limit=5)
        assert page.total > 5 and len(page.items) == 5
        assert all(u.code.startswith("GD-GZ-") and pc for u, pc in page.items)
        assert org_tree.list_units(s, gz, q="SC-CD").total == 0
        assert org_tree.list_units(s, gz, parent_code="GD-GZ").total > 0


def test_create_and_update_unit_rules(demo_engine: Engine) -> None:
    f = make_sessionmaker(demo_engine)
    with transaction(f) as s:
        gz = _principal(s, "area.gz")
        values = {"code": "GD-GZ-NEW", "name_zh": "新区", "kind": "district"}
        u = org_tree.create_unit(s, gz, values, "GD-GZ")
        assert u.path.startswith(_unit(s, "GD-GZ").path) and u.depth == 3
        with pytest.raises(ConflictError, match="exists already"):
            org_tree.create_unit(s, gz, values, "GD-GZ")
        with pytest.raises(OrgTreeError, match="parent_code"):
            org_tree.create_unit(s, gz, dict(values, code="X1"), None)
        with pytest.raises(MissingError):
            org_tree.create_unit(s, gz, dict(values, code="X2"), "SC-CD")
        org_tree.update_unit(s, gz, u, {"name_en": "New district"})
        assert u.name_en == "New district"


def test_reading_an_org_file_writes_nothing_and_applying_it_is_idempotent(
    demo_engine: Engine,
) -> None:
    data = "编码,名称,类型,上级编码\nGD-GZ-D9,新区九,区县,GD-GZ\nGD-GZ-D9-S1,新店,门店,GD-GZ-D9\n"
    f = make_sessionmaker(demo_engine)
    with transaction(f) as s:
        parsed = read_org_units(s, data.encode(), "u.csv")
        assert parsed.report.ok and [r.code for r in parsed.rows] == ["GD-GZ-D9", "GD-GZ-D9-S1"]
        assert not s.new and not s.dirty
        report = org_tree.apply_org_rows(s, parsed.rows, parsed.report)
        assert (report.created, report.updated) == (2, 0)
    with transaction(f) as s:
        again = read_org_units(s, data.encode(), "u.csv")
        report = org_tree.apply_org_rows(s, again.rows, again.report)
        assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    with f() as s:
        bad = read_org_units(s, data.replace("GD-GZ\n", "NOPE\n").encode(), "u.csv")
        assert not bad.report.ok and bad.rows == []
        assert bad.report.errors[0].rule == "parent_not_found"
