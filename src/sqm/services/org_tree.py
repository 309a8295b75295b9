"""Building and querying the org tree (materialised paths): placing units, the tree
browser's levels, the unit page and the API's lists, always within a principal's scope."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from sqm.domain.errors import ConflictError, MissingError, RuleError
from sqm.domain.org import ALLOWED_PARENTS, UnitKind
from sqm.ingest.errors import ImportReport
from sqm.ingest.org_units import OrgRow
from sqm.ingest.tabular import same_value
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, Period


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


def visible_unit(session: Session, principal: Principal, unit_id: int) -> OrgUnit:
    """The org unit ``unit_id`` if ``principal`` may see it; :class:`MissingError` otherwise.

    Outside the scope and absent look the same (no leak of what exists elsewhere).

    >>> # visible_unit(session, store_manager, id_of_another_province)  → MissingError
    """
    unit = session.get(OrgUnit, unit_id)
    if unit is None or not principal.sees(unit):
        raise MissingError("no such org unit in your scope")
    return unit


def unit_by_code(session: Session, principal: Principal, code: str) -> OrgUnit:
    """The org unit with ``code`` if ``principal`` may see it; :class:`MissingError` otherwise."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None or not principal.sees(unit):
        raise MissingError(f"no org unit '{code}' in your scope")
    return unit


@dataclass(frozen=True)
class TreeLevel:
    """Units shown at one level of the tree browser, with how many children each has."""

    units: list[OrgUnit]
    counts: dict[int, int]


def child_counts(session: Session, principal: Principal, ids: Sequence[int]) -> dict[int, int]:
    """How many children in the principal's scope each unit of ``ids`` has (absent: none)."""
    if not ids:
        return {}
    rows = session.execute(
        select(OrgUnit.parent_id, func.count())
        .where(OrgUnit.parent_id.in_(ids), principal.unit_filter())
        .group_by(OrgUnit.parent_id)
    ).all()
    return {int(a): int(b) for a, b in rows if a is not None}


def scope_roots(session: Session, principal: Principal) -> list[OrgUnit]:
    """The tops of the principal's scope: the units of their grants, in tree order."""
    stmt = select(OrgUnit).where(OrgUnit.path.in_(principal.scope_paths)).order_by(OrgUnit.path)
    return list(session.scalars(stmt))


def tree_roots(session: Session, principal: Principal) -> TreeLevel:
    """The first level of the tree browser: the scope's tops and their child counts."""
    roots = scope_roots(session, principal)
    return TreeLevel(roots, child_counts(session, principal, [u.id for u in roots]))


def tree_children(session: Session, principal: Principal, unit: OrgUnit) -> TreeLevel:
    """The children of ``unit`` in scope (by kind, then code) and their child counts."""
    kids = list(
        session.scalars(
            select(OrgUnit)
            .where(OrgUnit.parent_id == unit.id, principal.unit_filter())
            .order_by(OrgUnit.kind, OrgUnit.code)
        )
    )
    return TreeLevel(kids, child_counts(session, principal, [u.id for u in kids]))


@dataclass(frozen=True)
class UnitDetail:
    """What the unit page shows besides the unit: its path, children, stores per tier and,
    for a store, the latest month (the weight profile that applies is looked up for it)."""

    crumbs: list[OrgUnit]
    children: list[OrgUnit]
    stores_by_tier: dict[str | None, int]
    latest_month: str | None


def unit_detail(session: Session, principal: Principal, unit: OrgUnit) -> UnitDetail:
    """The read model of the unit page: ancestors in scope, first 200 children in scope,
    stores per tier below a non-store unit, and the latest month for a store."""
    crumbs = [a for a in ancestors(session, unit) if principal.sees(a)]
    children = list(
        session.scalars(
            select(OrgUnit)
            .where(OrgUnit.parent_id == unit.id, principal.unit_filter())
            .order_by(OrgUnit.code)
            .limit(200)
        )
    )
    by_tier: dict[str | None, int] = {}
    if unit.kind not in (UnitKind.STORE, UnitKind.COMPETITOR_STORE):
        rows = session.execute(
            select(OrgUnit.tier, func.count())
            .where(OrgUnit.path.startswith(unit.path), OrgUnit.kind == UnitKind.STORE)
            .group_by(OrgUnit.tier)
        ).all()
        by_tier = {t: int(n) for t, n in rows}
    latest = None
    if unit.kind == UnitKind.STORE:
        latest = session.scalar(select(func.max(Period.code)).where(Period.kind == "month"))
    return UnitDetail(crumbs, children, by_tier, latest)


@dataclass(frozen=True)
class UnitCounts:
    """Units in a scope by kind, and stores by tier (kind / tier value → count)."""

    by_kind: dict[str, int]
    stores_by_tier: dict[str | None, int]


def unit_counts(session: Session, principal: Principal) -> UnitCounts:
    """How many units of each kind, and stores of each tier, the principal sees."""
    by_kind = session.execute(
        select(OrgUnit.kind, func.count()).where(principal.unit_filter()).group_by(OrgUnit.kind)
    ).all()
    by_tier = session.execute(
        select(OrgUnit.tier, func.count())
        .where(principal.unit_filter(), OrgUnit.kind == UnitKind.STORE)
        .group_by(OrgUnit.tier)
    ).all()
    return UnitCounts({str(k): int(n) for k, n in by_kind}, {t: int(n) for t, n in by_tier})


@dataclass(frozen=True)
class UnitPage:
    """One page of a unit list: the total and the units with their parents' codes."""

    total: int
    items: list[tuple[OrgUnit, str | None]]


def list_units(
    session: Session,
    principal: Principal,
    *,
    kind: str | None = None,
    tier: str | None = None,
    parent_code: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> UnitPage:
    """Units in the principal's scope in tree order, filtered, one page of them."""
    parent = aliased(OrgUnit)
    stmt = select(OrgUnit, parent.code).outerjoin(parent, OrgUnit.parent_id == parent.id)
    stmt = stmt.where(principal.unit_filter())
    if kind:
        stmt = stmt.where(OrgUnit.kind == kind)
    if tier:
        stmt = stmt.where(OrgUnit.tier == tier)
    if parent_code:
        stmt = stmt.where(parent.code == parent_code)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            func.lower(OrgUnit.code).like(like)
            | func.lower(OrgUnit.name_zh).like(like)
            | func.lower(OrgUnit.name_en).like(like)
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(OrgUnit.path).limit(limit).offset(offset)).all()
    return UnitPage(int(total), [(u, pc) for u, pc in rows])


def create_unit(
    session: Session, principal: Principal, values: dict[str, Any], parent_code: str | None
) -> OrgUnit:
    """Create a unit under ``parent_code`` (a unit in the principal's scope).

    Raises :class:`ConflictError` when the code exists, :class:`OrgTreeError` when the
    parent is missing or of a kind the unit may not sit under.
    """
    code = values["code"]
    if session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is not None:
        raise ConflictError(f"org unit '{code}' exists already")
    if parent_code is None:
        raise OrgTreeError("parent_code: a new unit must sit under a unit in your scope")
    parent = unit_by_code(session, principal, parent_code)
    unit = OrgUnit(**values)
    place(session, unit, parent)
    return unit


def update_unit(
    session: Session,
    principal: Principal,
    unit: OrgUnit,
    values: dict[str, Any],
    parent_code: str | None = None,
) -> OrgUnit:
    """Change ``unit``'s attributes and, given ``parent_code``, move it there (in scope)."""
    for k, v in values.items():
        setattr(unit, k, v)
    if parent_code is not None:
        place(session, unit, unit_by_code(session, principal, parent_code))
    session.flush()
    return unit


def apply_org_rows(
    session: Session,
    rows: Sequence[OrgRow],
    report: ImportReport,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Upsert validated org rows (parents first, from
    :func:`sqm.ingest.org_units.read_org_units`) by code, counting into ``report``.

    Only what differs is written: re-importing the same rows changes nothing (no update,
    no audit entry). Writes are flushed, not committed: the caller commits the whole file
    in one transaction or rolls it back (a dry run).
    """
    existing = {u.code: u for u in session.scalars(select(OrgUnit))}
    for i, r in enumerate(rows, start=1):
        unit = existing.get(r.code)
        parent = existing.get(r.parent_code) if r.parent_code is not None else None
        if unit is None:
            unit = OrgUnit(code=r.code, **dict(r.values))
            place(session, unit, parent)
            existing[r.code] = unit
            report.created += 1
        else:
            dirty = False
            for k, v in r.values.items():
                if not same_value(getattr(unit, k), v):
                    setattr(unit, k, v)
                    dirty = True
            if unit.parent_id != (parent.id if parent is not None else None):
                place(session, unit, parent)
                dirty = True
            if dirty:
                report.updated += 1
            else:
                report.unchanged += 1
        if progress is not None:
            progress(i, len(rows))
    session.flush()
    return report
