"""Use cases on indicator systems: versioning, editing rules, tree views, and writing a
validated import file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sqm.domain.errors import ConflictError, MissingError, RuleError
from sqm.domain.indicator import LEVEL_ORDER, Direction, IndicatorSource, NodeLevel
from sqm.ingest.errors import ImportRejected, ImportReport
from sqm.ingest.indicator_systems import IndicatorImport, NodeRow
from sqm.ingest.tabular import same_value
from sqm.store.models import IndicatorNode, IndicatorSystem, Weight, WeightProfile
from sqm.store.models.indicator import ProfileKind


class IndicatorRuleError(RuleError):
    """An edit that breaks the indicator system's rules."""


class PublishedSystemError(IndicatorRuleError, ConflictError):
    """A change to a published version (HTTP 409): published versions never change."""


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
    """Raise :class:`PublishedSystemError` unless ``system`` is a draft."""
    if system.status == "published":
        raise PublishedSystemError(
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
    session.flush()
    session.expire(system, ["nodes"])  # the system's node list no longer holds them


def profiles_using(session: Session, system: IndicatorSystem) -> list[WeightProfile]:
    """The weight profiles over ``system``."""
    return list(session.scalars(select(WeightProfile).where(WeightProfile.system_id == system.id)))


def all_profiles(session: Session) -> list[WeightProfile]:
    """Every weight profile of an indicator system, by code (checklists' profiles belong to
    the inspection design)."""
    stmt = (
        select(WeightProfile)
        .where(WeightProfile.kind == ProfileKind.INDICATOR_SYSTEM)
        .order_by(WeightProfile.code)
    )
    return list(session.scalars(stmt))


def list_systems(session: Session) -> list[IndicatorSystem]:
    """Every indicator system version, by code and version."""
    stmt = select(IndicatorSystem).order_by(IndicatorSystem.code, IndicatorSystem.version)
    return list(session.scalars(stmt))


def get_system(session: Session, system_id: int) -> IndicatorSystem:
    """The indicator system version ``system_id`` (:class:`MissingError` if absent)."""
    s = session.get(IndicatorSystem, system_id)
    if s is None:
        raise MissingError("no such indicator system")
    return s


def system_node(session: Session, system: IndicatorSystem, node_id: int) -> IndicatorNode:
    """The node ``node_id`` of ``system`` (:class:`MissingError` if absent or elsewhere)."""
    n = session.get(IndicatorNode, node_id)
    if n is None or n.system_id != system.id:
        raise MissingError("no such indicator in this system")
    return n


def find_system(session: Session, code: str, version: int | None = None) -> IndicatorSystem:
    """Version ``version`` of the system ``code``, or its latest version when None
    (:class:`MissingError` if there is none)."""
    stmt = select(IndicatorSystem).where(IndicatorSystem.code == code)
    if version is None:
        stmt = stmt.order_by(IndicatorSystem.version.desc()).limit(1)
    else:
        stmt = stmt.where(IndicatorSystem.version == version)
    s = session.scalar(stmt)
    if s is None:
        raise MissingError(f"no indicator system '{code}'" + (f" v{version}" if version else ""))
    return s


class PublishRefused(IndicatorRuleError):
    """Publishing refused: ``problems`` lists everything that stands in the way (each
    names its node or weight profile and the rule); nothing was changed."""

    def __init__(self, system: IndicatorSystem, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"{system.code} v{system.version} cannot be published: " + "; ".join(problems)
        )


def leaf_problems(node: IndicatorNode) -> list[str]:
    """Why the leaf ``node`` cannot be scored (empty when it can): it needs a source and
    its reference, and — unless it is a veto (complied with or not) — a target with a
    distinct warning threshold, or a scale whose minimum is below its maximum.

    >>> leaf_problems(IndicatorNode(code="x", source="manual", source_ref="x", target=90.0))
    ['x: no warning threshold beside the target 90, and no scale (scale_min < scale_max)']
    """
    out = []
    if not node.source:
        out.append(f"{node.code}: no source (where its values come from)")
    elif not (node.source_ref or "").strip():
        out.append(f"{node.code}: no source_ref (which {node.source} measure it reads)")
    if node.is_veto:
        return out
    has_pair = node.target is not None and node.warning is not None and node.target != node.warning
    has_scale = (
        node.scale_min is not None
        and node.scale_max is not None
        and node.scale_min < node.scale_max
    )
    if not (has_pair or has_scale):
        if node.target is not None and node.warning is None:
            why = f"no warning threshold beside the target {node.target:g}"
        elif node.target is not None and node.target == node.warning:
            why = "its target equals its warning threshold"
        else:
            why = "no target and warning threshold"
        out.append(f"{node.code}: {why}, and no scale (scale_min < scale_max)")
    return out


def profiles_in_use(session: Session, system: IndicatorSystem) -> list[WeightProfile]:
    """The weight profiles that evaluation may apply to ``system``: those over any version
    of its code that have no end (``valid_to``)."""
    return list(
        session.scalars(
            select(WeightProfile)
            .join(IndicatorSystem, IndicatorSystem.id == WeightProfile.system_id)
            .where(
                WeightProfile.kind == ProfileKind.INDICATOR_SYSTEM,
                IndicatorSystem.code == system.code,
                WeightProfile.valid_to.is_(None),
            )
            .order_by(WeightProfile.code)
        )
    )


def publish_problems(session: Session, system: IndicatorSystem) -> list[str]:
    """Everything that stands in the way of publishing ``system``, checked over the whole
    tree: its structure, every leaf scorable (:func:`leaf_problems`), and every weight
    profile in use (:func:`profiles_in_use`) weighing exactly its nodes with sibling
    weights that sum to 1. Empty when it may be published."""
    from sqm.services.evaluation.weight_profile import node_refs, sibling_sum_errors

    rows = tree_rows(system)
    if not rows:
        return [f"{system.code} v{system.version} has no indicators"]
    by_id = {r.node.id: r.node.code for r in rows}
    problems = validate_node_rows(
        [
            {
                "code": r.node.code,
                "parent_code": by_id.get(r.node.parent_id) if r.node.parent_id else None,
                "level": r.node.level,
            }
            for r in rows
        ]
    )
    for r in rows:
        if r.is_leaf:
            problems += leaf_problems(r.node)
    codes = [r.node.code for r in rows]
    refs = node_refs([r.node for r in rows])
    for prof in profiles_in_use(session, system):
        weights = {w.node.code: w.weight for w in prof.weights}
        missing = [c for c in codes if c not in weights]
        if missing:
            problems.append(f"weight profile {prof.code}: no weight for {', '.join(missing)}")
        extra = sorted(set(weights) - set(codes))
        if extra:
            problems.append(
                f"weight profile {prof.code}: weighs {', '.join(extra)}, which are not in "
                f"v{system.version}"
            )
        kept = {c: w for c, w in weights.items() if c in set(codes)}
        problems += [f"weight profile {prof.code}: {e}" for e in sibling_sum_errors(refs, kept)]
    return problems


def publish(session: Session, system: IndicatorSystem) -> None:
    """Publish ``system``: from now on it never changes (changes go to a new version).

    The whole tree is checked first (:func:`publish_problems`); any problem refuses the
    publication with :class:`PublishRefused` listing all of them, and nothing changes.
    """
    if system.status == "published":
        return
    problems = publish_problems(session, system)
    if problems:
        raise PublishRefused(system, problems)
    system.status = "published"


@dataclass(frozen=True)
class NodeEdit:
    """The editable fields of a node as a form sends them (text; empty = none)."""

    name_zh: str
    name_en: str = ""
    definition_zh: str = ""
    definition_en: str = ""
    source: str = ""
    source_ref: str = ""
    direction: str = "higher"
    unit: str = ""
    scale_min: str = ""
    scale_max: str = ""
    target: str = ""
    warning: str = ""
    is_veto: bool = False


def _opt_float(field: str, raw: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise IndicatorRuleError(f"{field}: '{raw}' is not a number") from exc


def edit_node(system: IndicatorSystem, node: IndicatorNode, edit: NodeEdit) -> IndicatorNode:
    """Change a node of a draft ``system`` (:class:`PublishedSystemError` otherwise).

    >>> edit_node(IndicatorSystem(status="draft"), IndicatorNode(), NodeEdit(name_zh=" "))
    Traceback (most recent call last):
    ...
    sqm.services.evaluation.indicator_system.IndicatorRuleError: name_zh: the Chinese name is required
    """
    check_editable(system)
    if not edit.name_zh.strip():
        raise IndicatorRuleError("name_zh: the Chinese name is required")
    if edit.direction not in {d.value for d in Direction}:
        raise IndicatorRuleError(f"direction: '{edit.direction}' must be 'higher' or 'lower'")
    if edit.source and edit.source not in {x.value for x in IndicatorSource}:
        raise IndicatorRuleError(f"source: '{edit.source}' is not a known source")
    lo, hi = _opt_float("scale_min", edit.scale_min), _opt_float("scale_max", edit.scale_max)
    if lo is not None and hi is not None and lo >= hi:
        raise IndicatorRuleError("scale_min must be below scale_max")
    target, warning = _opt_float("target", edit.target), _opt_float("warning", edit.warning)
    node.name_zh, node.name_en = edit.name_zh.strip(), edit.name_en.strip()
    node.definition_zh, node.definition_en = edit.definition_zh.strip(), edit.definition_en.strip()
    node.source = IndicatorSource(edit.source) if edit.source else None
    node.source_ref = edit.source_ref.strip() or None
    node.direction = Direction(edit.direction)
    node.unit = edit.unit.strip() or None
    node.scale_min, node.scale_max = lo, hi
    node.target, node.warning = target, warning
    node.is_veto = edit.is_veto
    return node


def add_node(
    session: Session,
    system: IndicatorSystem,
    parent: IndicatorNode | None,
    *,
    code: str,
    level: str,
    name_zh: str,
    name_en: str = "",
) -> IndicatorNode:
    """Add a node under ``parent`` (None: a dimension at the root) of a draft ``system``.

    A code the system already has is a :class:`ConflictError`.
    """
    check_editable(system)
    if level not in {lv.value for lv in NodeLevel}:
        raise IndicatorRuleError(f"level '{level}' must be dimension, indicator or item")
    check_child_level(parent, NodeLevel(level))
    if not code.strip() or not name_zh.strip():
        raise IndicatorRuleError("code and name_zh are required")
    node = IndicatorNode(
        system_id=system.id,
        code=code.strip(),
        parent_id=parent.id if parent else None,
        level=NodeLevel(level),
        name_zh=name_zh.strip(),
        name_en=name_en.strip(),
        sort_order=len(system.nodes),
    )
    session.add(node)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"an indicator with code '{code.strip()}' already exists") from exc
    return node


NUMBER_FIELDS = ("scale_min", "scale_max", "target", "warning")
"""Node fields holding numbers (compared with a tolerance on import: xlsx rounds)."""

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


def _keep_stored_floats(system: IndicatorSystem, rows: list[NodeRow]) -> None:
    """Use the stored number where the file's differs only in the last digits (xlsx)."""
    have = {n.code: n for n in system.nodes}
    for row in rows:
        node = have.get(row.values["code"])
        if node is None:
            continue
        for f in NUMBER_FIELDS:
            v, old = row.values.get(f), getattr(node, f)
            if isinstance(v, float) and isinstance(old, float) and same_value(old, v):
                row.values[f] = old


def _weights_lost(session: Session, system: IndicatorSystem, rows: list[NodeRow]) -> list[str]:
    """Warn which weight profiles lose weights because their nodes leave a draft system."""
    if system.status == "published":
        return []  # a published version is never changed: a new draft is made instead
    keep = {r.values["code"] for r in rows}
    gone = {n.id: n.code for n in system.nodes if n.code not in keep}
    if not gone:
        return []
    hit = session.execute(
        select(WeightProfile.code, Weight.node_id)
        .join(Weight, Weight.profile_id == WeightProfile.id)
        .where(Weight.node_id.in_(list(gone)))
    ).all()
    if not hit:
        return []
    profiles = sorted({str(code) for code, _ in hit})
    nodes = sorted({gone[int(nid)] for _, nid in hit})
    return [
        f"{system.code}: nodes {', '.join(nodes)} were removed with their weights in profiles "
        f"{', '.join(profiles)}; check that those profiles' sibling weights still sum to 1"
    ]


def apply_indicator_systems(
    session: Session,
    parsed: IndicatorImport,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Upsert each system of a validated file (:func:`sqm.ingest.indicator_systems.
    read_indicator_systems`) with :func:`upsert_system`, counting nodes into its report.

    Writes are flushed, not committed (the caller commits the whole file or rolls it back).
    A system the service refuses raises :class:`ImportRejected` carrying the report.
    """
    report = parsed.report
    done = 0
    for sys in parsed.systems:
        before = session.scalar(
            select(IndicatorSystem)
            .where(IndicatorSystem.code == sys.code)
            .order_by(IndicatorSystem.version.desc())
            .limit(1)
        )
        old_names = (before.name_zh, before.name_en) if before is not None else None
        name_en = sys.name_en
        if name_en is None:
            keep = not parsed.names_en_given  # an absent column keeps the stored name
            name_en = before.name_en if before is not None and keep else ""
        if before is not None:
            _keep_stored_floats(before, sys.rows)
            report.notes.extend(_weights_lost(session, before, sys.rows))
        try:
            out = upsert_system(
                session, sys.code, sys.name_zh or "", name_en, [r.values for r in sys.rows]
            )
        except IndicatorRuleError as exc:
            report.add(sys.rows[0].line, "system_code", sys.code, "rejected", str(exc))
            raise ImportRejected(report) from exc
        report.created += out.created
        report.updated += out.updated
        report.deleted += out.deleted
        report.unchanged += len(sys.rows) - out.created - out.updated
        if out.new_version:
            report.notes.append(
                f"{sys.code}: v{out.system.version - 1} is published, so the changes went "
                f"into a new draft version v{out.system.version}"
            )
        elif before is None:
            report.notes.append(f"{sys.code}: new system, draft v{out.system.version}")
        elif out.changed or old_names != (out.system.name_zh, out.system.name_en):
            report.notes.append(f"{sys.code}: draft v{out.system.version} updated")
        done += len(sys.rows)
        if progress is not None:
            progress(done, report.rows_read)
    return report
