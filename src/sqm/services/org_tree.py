"""Building and querying the org tree (materialised paths)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.domain.org import ALLOWED_PARENTS, UnitKind
from sqm.store.models import OrgUnit


class OrgTreeError(RuleError):
    """A unit that would break the tree's rules (wrong parent kind, a cycle, …)."""


def check_parent(kind: UnitKind, parent: OrgUnit | None) -> None:
    """Raise :class:`OrgTreeError` if a unit of ``kind`` may not sit under ``parent``."""
    parent_kind = UnitKind(parent.kind) if parent is not None else None
    if parent_kind not in ALLOWED_PARENTS[UnitKind(kind)]:
        allowed = ", ".join(sorted(k.value if k else "(root)" for k in ALLOWED_PARENTS[kind]))
        raise OrgTreeError(
            f"a {kind.value} cannot sit under {parent_kind.value if parent_kind else '(root)'}; "
            f"allowed parents: {allowed}"
        )


def place(session: Session, unit: OrgUnit, parent: OrgUnit | None) -> None:
    """Attach ``unit`` under ``parent`` and set its path and depth (flushes to get an id).

    Moving a unit re-paths its whole subtree.
    """
    check_parent(UnitKind(unit.kind), parent)
    if parent is not None and unit.id is not None and parent.path.startswith(unit.path):
        raise OrgTreeError(f"unit {unit.code} cannot move under its own descendant {parent.code}")
    old_path = unit.path if unit.id is not None else None
    unit.parent = parent
    if unit.id is None:
        session.add(unit)
        session.flush()
    new_path = (parent.path if parent is not None else "/") + f"{unit.id}/"
    unit.depth = new_path.count("/") - 2
    if old_path and old_path != new_path and old_path != "/":
        for d in session.scalars(
            select(OrgUnit).where(OrgUnit.path.startswith(old_path), OrgUnit.id != unit.id)
        ):
            d.path = new_path + d.path[len(old_path) :]
            d.depth = d.path.count("/") - 2
    unit.path = new_path


def search_units(
    session: Session, query: str, scope_filter: object, limit: int = 50
) -> list[OrgUnit]:
    """Units whose code or name contains ``query`` (case-insensitive), within a scope."""
    q = f"%{query.lower()}%"
    stmt = (
        select(OrgUnit)
        .where(scope_filter)  # type: ignore[arg-type]
        .where(
            or_(
                func.lower(OrgUnit.code).like(q),
                func.lower(OrgUnit.name_zh).like(q),
                func.lower(OrgUnit.name_en).like(q),
            )
        )
        .order_by(OrgUnit.depth, OrgUnit.code)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def ancestors(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """The unit's ancestors from the root down (excluding the unit)."""
    ids = [int(x) for x in unit.path.strip("/").split("/") if x][:-1]
    if not ids:
        return []
    by_id = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]
