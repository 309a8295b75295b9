"""Use cases on indicator systems: versioning, editing rules, tree views."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.domain.indicator import LEVEL_ORDER, NodeLevel
from sqm.store.models import IndicatorNode, IndicatorSystem, Weight, WeightProfile


class IndicatorRuleError(RuleError):
    """An edit that breaks the indicator system's rules."""


@dataclass(frozen=True)
class TreeRow:
    node: IndicatorNode
    depth: int
    is_leaf: bool


def tree_rows(system: IndicatorSystem) -> list[TreeRow]:
    """The nodes of ``system`` in depth-first order with their depth and leaf flag."""
    kids: dict[int | None, list[IndicatorNode]] = {}
    for n in system.nodes:
        kids.setdefault(n.parent_id, []).append(n)
    for v in kids.values():
        v.sort(key=lambda n: (n.sort_order, n.code))
    out: list[TreeRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for n in kids.get(parent, []):
            out.append(TreeRow(n, depth, n.id not in kids))
            walk(n.id, depth + 1)

    walk(None, 0)
    return out


def check_editable(system: IndicatorSystem) -> None:
    if system.status == "published":
        raise IndicatorRuleError(
            f"{system.code} v{system.version} is published and cannot change; make a new version"
        )


def check_child_level(parent: IndicatorNode | None, level: NodeLevel) -> None:
    """Dimensions sit at the root, indicators under dimensions, items under indicators."""
    expected = NodeLevel.DIMENSION if parent is None else None
    if parent is not None:
        order = LEVEL_ORDER[NodeLevel(parent.level)] + 1
        expected = next((lv for lv, o in LEVEL_ORDER.items() if o == order), None)
    if expected is None or NodeLevel(level) != expected:
        where = f"under {parent.code} ({parent.level})" if parent else "at the root"
        raise IndicatorRuleError(
            f"a {NodeLevel(level).value} cannot sit {where}; expected "
            f"{expected.value if expected else 'nothing (items are leaves)'}"
        )


def new_version(session: Session, system: IndicatorSystem) -> IndicatorSystem:
    """Copy ``system`` into a new draft version (its nodes and their tree)."""
    latest = session.scalar(
        select(func.max(IndicatorSystem.version)).where(IndicatorSystem.code == system.code)
    )
    copy = IndicatorSystem(
        code=system.code,
        version=int(latest or 0) + 1,
        name_zh=system.name_zh,
        name_en=system.name_en,
        status="draft",
    )
    session.add(copy)
    session.flush()
    id_map: dict[int, IndicatorNode] = {}
    for row in tree_rows(system):
        n = row.node
        c = IndicatorNode(
            system_id=copy.id,
            code=n.code,
            parent_id=id_map[n.parent_id].id if n.parent_id else None,
            level=n.level,
            name_zh=n.name_zh,
            name_en=n.name_en,
            definition_zh=n.definition_zh,
            definition_en=n.definition_en,
            source=n.source,
            source_ref=n.source_ref,
            direction=n.direction,
            scale_min=n.scale_min,
            scale_max=n.scale_max,
            unit=n.unit,
            target=n.target,
            warning=n.warning,
            is_veto=n.is_veto,
            sort_order=n.sort_order,
        )
        session.add(c)
        session.flush()
        id_map[n.id] = c
    return copy


def delete_node(session: Session, node: IndicatorNode) -> None:
    """Delete a node and its subtree, and their weights in every profile."""
    system = session.get(IndicatorSystem, node.system_id)
    assert system is not None
    check_editable(system)
    rows = tree_rows(system)
    doomed = {node.id}
    for r in rows:
        if r.node.parent_id in doomed:
            doomed.add(r.node.id)
    for w in session.scalars(select(Weight).where(Weight.node_id.in_(doomed))):
        session.delete(w)
    for r in reversed(rows):
        if r.node.id in doomed:
            session.delete(r.node)


def profiles_using(session: Session, system: IndicatorSystem) -> list[WeightProfile]:
    return list(session.scalars(select(WeightProfile).where(WeightProfile.system_id == system.id)))


NODE_FIELDS = (
    "level",
    "name_zh",
    "name_en",
    "definition_zh",
    "definition_en",
    "source",
    "source_ref",
    "direction",
    "scale_min",
    "scale_max",
    "unit",
    "target",
    "warning",
    "is_veto",
)


@dataclass(frozen=True)
class UpsertOutcome:
    system: IndicatorSystem
    created: int
    updated: int
    deleted: int
    new_version: bool

    @property
    def changed(self) -> bool:
        return self.new_version or bool(self.created or self.updated or self.deleted)


def _plain(v: object) -> object:
    return getattr(v, "value", v)


def validate_node_rows(rows: list[dict[str, object]]) -> list[str]:
    """Rule violations of a whole tree given as rows (code, parent_code, level, …).

    >>> validate_node_rows([{"code": "D1", "parent_code": None, "level": "indicator"}])
    ['D1: a indicator cannot sit at the root; expected dimension']
    """
    errors: list[str] = []
    by_code: dict[str, dict[str, object]] = {}
    for r in rows:
        code = str(r["code"])
        if code in by_code:
            errors.append(f"{code}: code appears twice")
        by_code[code] = r
    for r in rows:
        code, parent = str(r["code"]), r.get("parent_code")
        level = NodeLevel(str(_plain(r["level"])))
        if parent is None or parent == "":
            if level is not NodeLevel.DIMENSION:
                errors.append(f"{code}: a {level.value} cannot sit at the root; expected dimension")
            continue
        pr = by_code.get(str(parent))
        if pr is None:
            errors.append(f"{code}: parent '{parent}' is not in the system")
            continue
        want = LEVEL_ORDER[NodeLevel(str(_plain(pr["level"])))] + 1
        if LEVEL_ORDER[level] != want:
            errors.append(
                f"{code}: a {level.value} cannot sit under {parent} ({_plain(pr['level'])})"
            )
    # Cycles: walk up from every node.
    for code in by_code:
        seen: set[str] = set()
        cur: str | None = code
        while cur is not None:
            if cur in seen:
                errors.append(f"{code}: parents form a cycle")
                break
            seen.add(cur)
            nxt = by_code.get(cur, {}).get("parent_code")
            cur = str(nxt) if nxt not in (None, "") else None
    return errors


def upsert_system(
    session: Session, code: str, name_zh: str, name_en: str, rows: list[dict[str, object]]
) -> UpsertOutcome:
    """Create or update the indicator system ``code`` from node rows, idempotently.

    A draft latest version is updated in place; a published one gets a new draft version
    when (and only when) the rows differ from it. Re-sending the same rows changes nothing.
    """
    errors = validate_node_rows(rows)
    if errors:
        raise IndicatorRuleError("; ".join(errors))
    latest = session.scalar(
        select(IndicatorSystem)
        .where(IndicatorSystem.code == code)
        .order_by(IndicatorSystem.version.desc())
        .limit(1)
    )
    wanted = {str(r["code"]): r for r in rows}

    def same_as(system: IndicatorSystem) -> bool:
        have = {n.code: n for n in system.nodes}
        if set(have) != set(wanted) or system.name_zh != name_zh or system.name_en != name_en:
            return False
        by_id = {n.id: n.code for n in system.nodes}
        for c, r in wanted.items():
            n = have[c]
            if (by_id.get(n.parent_id) if n.parent_id else None) != (r.get("parent_code") or None):
                return False
            for f in NODE_FIELDS:
                if f in r and _plain(getattr(n, f)) != _plain(r[f]):
                    return False
        return True

    made_version = False
    if latest is not None and same_as(latest):
        return UpsertOutcome(latest, 0, 0, 0, False)
    if latest is None or latest.status == "published":
        made_version = latest is not None
        system = IndicatorSystem(
            code=code,
            version=(latest.version + 1) if latest else 1,
            name_zh=name_zh,
            name_en=name_en,
            status="draft",
        )
        session.add(system)
        session.flush()
    else:
        system = latest
        system.name_zh, system.name_en = name_zh, name_en
    have = {n.code: n for n in system.nodes}
    created = updated = 0
    order = {c: i for i, c in enumerate(wanted)}
    # Parents before children, so parent ids exist when children are placed.
    depth: dict[str, int] = {}

    def d(c: str) -> int:
        if c not in depth:
            p = wanted[c].get("parent_code")
            depth[c] = 0 if p in (None, "") else d(str(p)) + 1
        return depth[c]

    for c in sorted(wanted, key=lambda c: (d(c), order[c])):
        r = wanted[c]
        parent_code = r.get("parent_code") or None
        parent_id = have[str(parent_code)].id if parent_code else None
        n = have.get(c)
        if n is None:
            n = IndicatorNode(system_id=system.id, code=c)
            session.add(n)
            have[c] = n
            created += 1
            dirty = True
        else:
            dirty = (
                n.parent_id != parent_id
                or any(f in r and _plain(getattr(n, f)) != _plain(r[f]) for f in NODE_FIELDS)
                or n.sort_order != order[c]
            )
            updated += int(dirty)
        if dirty:
            n.parent_id = parent_id
            n.sort_order = order[c]
            for f in NODE_FIELDS:
                if f in r:
                    setattr(n, f, r[f])
        session.flush()
    deleted = 0
    for c in [c for c in have if c not in wanted]:
        delete_node(session, have[c])
        deleted += 1
    session.flush()
    session.refresh(system)
    return UpsertOutcome(system, created, updated, deleted, made_version)
