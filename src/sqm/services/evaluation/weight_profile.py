"""Weight profiles: checks and global (leaf) weights over an indicator tree, and the one store
of every profile (:class:`~sqm.store.models.WeightProfile`, ``kind`` indicator_system or
checklist) — the evaluation's and the inspection checklists' with their history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.checklist import Checklist
from sqm.domain.checklist_template import ProfileKey
from sqm.domain.errors import RuleError
from sqm.domain.indicator import WeightMethod
from sqm.domain.org import StoreTier
from sqm.ingest.errors import ImportRejected, ImportReport
from sqm.ingest.tabular import Table
from sqm.ingest.weight_profiles import ProfileRows, check_periods, read_weight_profiles
from sqm.store.models import IndicatorNode, IndicatorSystem, Weight, WeightProfile
from sqm.store.models.indicator import ProfileKind
from sqm.store.models.inspection import InspectionChecklist

SUM_TOLERANCE = 1e-6
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class NodeRef:
    """The part of an indicator node that weighting needs."""

    code: str
    parent: str | None


def sibling_sum_errors(
    nodes: Sequence[NodeRef], weights: Mapping[str, float], tol: float = 1e-3
) -> list[str]:
    """Messages for every sibling group whose local weights do not sum to 1.

    >>> sibling_sum_errors([NodeRef("A", None), NodeRef("B", None)], {"A": 0.5, "B": 0.4})
    ['weights under (root) sum to 0.9000, not 1: A=0.5, B=0.4']
    """
    groups: dict[str | None, list[str]] = defaultdict(list)
    for n in nodes:
        if n.code in weights:
            groups[n.parent].append(n.code)
    errors = []
    for parent, codes in groups.items():
        total = sum(weights[c] for c in codes)
        if abs(total - 1.0) > tol:
            parts = ", ".join(f"{c}={weights[c]:g}" for c in sorted(codes))
            errors.append(f"weights under {parent or '(root)'} sum to {total:.4f}, not 1: {parts}")
    for c, w in weights.items():
        if w < 0:
            errors.append(f"weight of {c} is negative ({w:g})")
    return errors


def global_weights(nodes: Sequence[NodeRef], weights: Mapping[str, float]) -> dict[str, float]:
    """Global weight of every node: the product of local weights on its path from the root.

    >>> ns = [NodeRef("D", None), NodeRef("I1", "D"), NodeRef("I2", "D")]
    >>> global_weights(ns, {"D": 1.0, "I1": 0.3, "I2": 0.7})["I2"]
    0.7
    """
    parent = {n.code: n.parent for n in nodes}
    out: dict[str, float] = {}

    def g(code: str) -> float:
        if code in out:
            return out[code]
        p = parent.get(code)
        w = weights.get(code, 0.0) * (g(p) if p is not None else 1.0)
        out[code] = w
        return w

    for n in nodes:
        g(n.code)
    return out


def node_refs(nodes: Sequence[IndicatorNode]) -> list[NodeRef]:
    by_id = {n.id: n.code for n in nodes}
    return [NodeRef(n.code, by_id.get(n.parent_id) if n.parent_id else None) for n in nodes]


def profile_for_store(
    session: Session, tier: str | None, in_province: bool | None, period_code: str
) -> WeightProfile | None:
    """The weight profile that applies to a store of ``tier`` in ``period_code``.

    The most specific match wins (tier and in-province flag before tier alone before
    a general profile); among equals, the latest ``valid_from``.
    """
    candidates = session.scalars(
        select(WeightProfile).where(
            WeightProfile.kind == ProfileKind.INDICATOR_SYSTEM,
            WeightProfile.valid_from <= period_code,
        )
    ).all()

    def fits(p: WeightProfile) -> bool:
        if p.valid_to is not None and p.valid_to < period_code:
            return False
        if p.tier is not None and (tier is None or StoreTier(p.tier) != StoreTier(tier)):
            return False
        return not (p.in_province is not None and p.in_province != in_province)

    fitting = [p for p in candidates if fits(p)]
    if not fitting:
        return None
    return max(
        fitting,
        key=lambda p: (p.tier is not None, p.in_province is not None, p.valid_from or "", p.id),
    )


class WeightRuleError(RuleError):
    """A weight profile that breaks the rules (unknown node, sums not 1, …)."""


def upsert_profile(
    session: Session,
    *,
    code: str,
    name_zh: str,
    name_en: str,
    system: IndicatorSystem,
    weights: Mapping[str, float],
    tier: str | None = None,
    in_province: bool | None = None,
    traffic_band: str | None = None,
    stage: str | None = None,
    valid_from: str,
    valid_to: str | None = None,
    method: str = "manual",
    inputs: dict[str, Any] | None = None,
) -> tuple[WeightProfile, bool]:
    """Create or update the weight profile ``code``; returns it and whether anything changed.

    Every weighted code must be a node of ``system`` and every sibling group must sum to 1.
    """
    nodes = {n.code: n for n in system.nodes}
    unknown = sorted(set(weights) - set(nodes))
    if unknown:
        raise WeightRuleError(
            f"weights name codes that are not in {system.code} v{system.version}: {', '.join(unknown)}"
        )
    errs = sibling_sum_errors(node_refs(list(system.nodes)), weights)
    if errs:
        raise WeightRuleError("; ".join(errs))
    prof = session.scalar(select(WeightProfile).where(WeightProfile.code == code))
    if prof is not None and prof.kind != ProfileKind.INDICATOR_SYSTEM:
        raise WeightRuleError(
            f"{code} is a checklist's weight profile: set it in the inspection design editor "
            "or import it with its checklist_code"
        )
    fields: dict[str, Any] = {
        "name_zh": name_zh,
        "name_en": name_en,
        "system_id": system.id,
        "tier": tier,
        "in_province": in_province,
        "traffic_band": traffic_band,
        "stage": stage,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "method": method,
        "inputs": inputs or {},
    }
    changed = False
    if prof is None:
        prof = WeightProfile(code=code, **fields)
        session.add(prof)
        session.flush()
        changed = True
    old_system_id = prof.system_id
    for k, v in fields.items():
        if getattr(getattr(prof, k), "value", getattr(prof, k)) != getattr(v, "value", v):
            setattr(prof, k, v)
            changed = True
    have = {w.node.code: w for w in prof.weights}
    if old_system_id != system.id:  # moved to another system version: weights start afresh
        for w in prof.weights:
            session.delete(w)
        have = {}
    for c, value in weights.items():
        existing = have.get(c)
        if existing is None:
            session.add(Weight(profile_id=prof.id, node_id=nodes[c].id, weight=float(value)))
            changed = True
        elif abs(existing.weight - float(value)) > 1e-12:
            existing.weight = float(value)
            changed = True
    for c, w in have.items():
        if c not in weights:
            session.delete(w)
            changed = True
    session.flush()
    session.refresh(prof)
    return prof, changed


def all_profiles(session: Session, kind: ProfileKind | None = None) -> list[WeightProfile]:
    """Every weight profile (of ``kind`` when given), by code; checklist profiles with their
    history (inactive revisions included)."""
    stmt = select(WeightProfile).order_by(WeightProfile.code)
    if kind is not None:
        stmt = stmt.where(WeightProfile.kind == kind)
    return list(session.scalars(stmt))


def system_named(session: Session, code: str, version: int | None = None) -> IndicatorSystem | None:
    """Indicator system ``code`` at ``version`` (the latest version when ``None``)."""
    stmt = select(IndicatorSystem).where(IndicatorSystem.code == code)
    if version is not None:
        stmt = stmt.where(IndicatorSystem.version == version)
    return session.scalar(stmt.order_by(IndicatorSystem.version.desc()).limit(1))


def profile_by_code(session: Session, code: str) -> WeightProfile | None:
    """The weight profile ``code`` of either kind."""
    return session.scalar(select(WeightProfile).where(WeightProfile.code == code))


# ------------------------------------------------------------------ checklist profiles


def checklist_profile_code(checklist: InspectionChecklist, key: ProfileKey, revision: int) -> str:
    """The code of revision ``revision`` of ``key``'s profile on a checklist version.

    >>> row = InspectionChecklist(code="STORE_INSPECTION", version=2)
    >>> checklist_profile_code(row, ProfileKey.parse("flagship_core.in.mature.high"), 3)
    'STORE_INSPECTION.v2.flagship_core.in.mature.high.r3'
    """
    return f"{checklist.code}.v{checklist.version}.{key.slug}.r{revision}"


def _key_filter(checklist_id: int, key: ProfileKey) -> list[Any]:
    prov = WeightProfile.in_province
    return [
        WeightProfile.kind == ProfileKind.CHECKLIST,
        WeightProfile.checklist_id == checklist_id,
        WeightProfile.tier == key.tier.value,
        prov.is_(None) if key.in_province is None else prov == key.in_province,
        WeightProfile.stage == key.stage.value,
        WeightProfile.traffic_band == key.traffic.value,
    ]


def key_of(profile: WeightProfile) -> ProfileKey:
    """The tier × province × stage × traffic key of a checklist profile."""
    prov = {True: "in", False: "out", None: "any"}[profile.in_province]
    return ProfileKey.parse(f"{profile.tier}.{prov}.{profile.stage}.{profile.traffic_band}")


def active_checklist_profile(
    session: Session, checklist_id: int, key: ProfileKey
) -> WeightProfile | None:
    """The active saved profile of a checklist version for ``key``, if one was saved."""
    return session.scalar(
        select(WeightProfile)
        .where(*_key_filter(checklist_id, key), WeightProfile.active.is_(True))
        .order_by(WeightProfile.id.desc())
        .limit(1)
    )


def active_checklist_profiles(session: Session, checklist_id: int) -> list[WeightProfile]:
    """The active saved profiles of a checklist version (one per key at most), oldest first."""
    return list(
        session.scalars(
            select(WeightProfile)
            .where(
                WeightProfile.kind == ProfileKind.CHECKLIST,
                WeightProfile.checklist_id == checklist_id,
                WeightProfile.active.is_(True),
            )
            .order_by(WeightProfile.id)
        )
    )


def checklist_profile_history(
    session: Session, checklist_id: int, key: ProfileKey
) -> list[WeightProfile]:
    """Every saved profile of ``key`` on a checklist version, newest first (active or not)."""
    return list(
        session.scalars(
            select(WeightProfile)
            .where(*_key_filter(checklist_id, key))
            .order_by(WeightProfile.id.desc())
        )
    )


def add_checklist_profile(
    session: Session,
    checklist: InspectionChecklist,
    key: ProfileKey,
    weights: Mapping[str, float],
    *,
    method: str,
    inputs: Mapping[str, Any],
    note: str = "",
    user_id: int | None,
) -> WeightProfile:
    """Store ``weights`` (checked by the caller against the checklist) as the next revision of
    ``key``'s profile on ``checklist``; the previous active revision goes inactive."""
    history = checklist_profile_history(session, checklist.id, key)
    for old in history:
        if old.active:
            old.active = False
    new = WeightProfile(
        code=checklist_profile_code(checklist, key, len(history) + 1),
        kind=ProfileKind.CHECKLIST,
        name_zh=f"{checklist.name_zh} v{checklist.version} {key.slug}",
        name_en=f"{checklist.name_en} v{checklist.version} {key.slug}",
        checklist_id=checklist.id,
        tier=key.tier.value,
        in_province=key.in_province,
        stage=key.stage.value,
        traffic_band=key.traffic.value,
        checklist_weights={str(k): float(v) for k, v in weights.items()},
        method=method,
        inputs=dict(inputs),
        note=note,
        created_by_id=user_id,
        active=True,
    )
    session.add(new)
    session.flush()
    return new


def retire_checklist_profiles(session: Session, checklist_id: int, key: ProfileKey) -> int:
    """Set the active profile of ``key`` on a checklist version inactive (the plan's template
    applies again); returns how many rows were retired."""
    n = 0
    for old in checklist_profile_history(session, checklist_id, key):
        if old.active:
            old.active = False
            n += 1
    return n


# ------------------------------------------------------------------ import


def _system_of(
    session: Session, report: ImportReport, table: Table, prof: ProfileRows, exists: bool
) -> IndicatorSystem | None:
    col = table.headers.get
    if "profile_name_zh" not in prof.shared and not exists:
        report.add(
            prof.first_line,
            col("profile_name_zh", "profile_name_zh"),
            "",
            "required",
            f"no row names the new profile {prof.code} (权重方案名称 / profile_name_zh)",
        )
    code, line = prof.shared["system_code"]
    version = prof.shared.get("system_version")
    system = system_named(session, code, version[0] if version is not None else None)
    if system is None:
        shown = f"{code} v{version[0]}" if version is not None else code
        report.add(
            line,
            col("system_code", "system_code"),
            code,
            "unknown_system",
            f"no indicator system {shown} in SQM",
        )
    return system


def _check_tree_weights(
    report: ImportReport, table: Table, prof: ProfileRows, system: IndicatorSystem
) -> None:
    col = table.headers.get
    by_code = {n.code: n for n in system.nodes}
    code_of = {n.id: n.code for n in system.nodes}
    groups: dict[str | None, list[str]] = defaultdict(list)
    for node, (_, line) in prof.weights.items():
        n = by_code.get(node)
        if n is None:
            report.add(
                line,
                col("node_code", "node_code"),
                node,
                "unknown_node",
                f"no node {node} in {system.code} v{system.version}",
            )
            continue
        groups[code_of.get(n.parent_id) if n.parent_id else None].append(node)
    for parent, codes in groups.items():
        total = sum(prof.weights[c][0] for c in codes)
        if abs(total - 1.0) > 1e-3:
            lines = sorted(prof.weights[c][1] for c in codes)
            parts = ", ".join(f"{c}={prof.weights[c][0]:g}" for c in sorted(codes))
            report.add(
                lines[0],
                col("weight", "weight"),
                f"{total:.4f}",
                "weights_sum",
                f"weights under {parent or '(root)'} in profile {prof.code} (rows "
                f"{', '.join(map(str, lines))}) sum to {total:.4f}, not 1: {parts}",
            )


def _checklist_of(
    session: Session, report: ImportReport, table: Table, prof: ProfileRows
) -> tuple[InspectionChecklist, Checklist] | None:
    """The checklist version a checklist profile weighs, after checking its weights cover
    exactly the checklist's indicators, each above 0, together 1 (within 0.001)."""
    col = table.headers.get
    code, line = prof.shared["checklist_code"]
    version = prof.shared.get("checklist_version")
    stmt = select(InspectionChecklist).where(InspectionChecklist.code == code)
    if version is not None:
        stmt = stmt.where(InspectionChecklist.version == version[0])
    row = session.scalar(stmt.order_by(InspectionChecklist.version.desc()).limit(1))
    if row is None:
        shown = f"{code} v{version[0]}" if version is not None else code
        report.add(
            line, col("checklist_code", "checklist_code"), code, "unknown_checklist",
            f"no inspection checklist {shown} in SQM",
        )  # fmt: skip
        return None
    cl = Checklist.model_validate(row.definition)
    want = [ind.code for ind in cl.indicators()]
    for node, (w, line) in prof.weights.items():
        if node not in want:
            report.add(
                line, col("node_code", "node_code"), node, "unknown_node",
                f"no indicator {node} in checklist {row.code} v{row.version}",
            )  # fmt: skip
        elif not w > 0:
            report.add(
                line, col("weight", "weight"), f"{w:g}", "out_of_range",
                f"checklist profile {prof.code}: every indicator needs a weight above 0",
            )  # fmt: skip
    missing = [c for c in want if c not in prof.weights]
    if missing:
        report.add(
            prof.first_line, col("node_code", "node_code"), "", "required",
            f"checklist profile {prof.code} leaves out indicators {', '.join(missing)}",
        )  # fmt: skip
    total = sum(w for w, _ in prof.weights.values())
    if abs(total - 1.0) > 1e-3:
        report.add(
            prof.first_line, col("weight", "weight"), f"{total:.4f}", "weights_sum",
            f"the weights of checklist profile {prof.code} sum to {total:.4f}, not 1",
        )  # fmt: skip
    return row, cl


def _apply_checklist_profile(
    session: Session, prof: ProfileRows, row: InspectionChecklist
) -> tuple[bool, bool]:
    """Set the weights in force for the profile's key; (created, changed)."""
    shared = {k: v for k, (v, _) in prof.shared.items()}
    prov = {True: "in", False: "out", None: "any"}[shared.get("in_province")]
    key = ProfileKey.parse(f"{shared['tier']}.{prov}.{shared['stage']}.{shared['traffic_band']}")
    total = sum(w for w, _ in prof.weights.values())
    weights = {c: w / total for c, (w, _) in prof.weights.items()}
    active = active_checklist_profile(session, row.id, key)
    method = str(shared.get("method") or (active.method if active else WeightMethod.MANUAL))
    inputs = shared.get("inputs", active.inputs if active else {})
    note = str(shared.get("note", active.note if active else ""))
    if active is not None:
        have = active.checklist_weights or {}
        same = set(have) == set(weights) and all(
            abs(float(have[c]) - w) <= 1e-12 for c, w in weights.items()
        )
        if same and (active.method, active.inputs or {}, active.note) == (method, inputs, note):
            return False, False
    add_checklist_profile(
        session, row, key, weights, method=method, inputs=inputs, note=note, user_id=None
    )
    return active is None, True


def import_weight_profiles(
    session: Session,
    data: bytes,
    filename: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Read a weight file (:func:`sqm.ingest.weight_profiles.read_weight_profiles`), check it
    against the stored indicator systems and checklists and, when it has no error, write
    every profile in it: indicator-system profiles are upserted by code, checklist profiles
    set the weights in force for their key (see the ingest module for the format).

    Counts in the report are of profiles (a profile is updated when any field or weight
    changed). Writes go to ``session`` (flushed, not committed).

    >>> # import_weight_profiles(s, Path("weights.xlsx").read_bytes(), "weights.xlsx")
    >>> # → 'weights: 496 rows read; 0 created, 0 updated, 8 unchanged, 0 deleted'
    """
    wf = read_weight_profiles(data, filename, dry_run=dry_run)
    report, table, profiles = wf.report, wf.table, wf.profiles
    systems: dict[str, IndicatorSystem] = {}
    lists: dict[str, InspectionChecklist] = {}
    known = set(session.scalars(select(WeightProfile.code).where(WeightProfile.code.in_(profiles))))
    for prof in profiles.values():
        if "checklist_code" in prof.shared and "system_code" not in prof.shared:
            found = _checklist_of(session, report, table, prof)
            if found is not None:
                lists[prof.code] = found[0]
        elif "system_code" in prof.shared and "checklist_code" not in prof.shared:
            exists = prof.code in known
            system = _system_of(session, report, table, prof, exists)
            if system is not None:
                systems[prof.code] = system
                _check_tree_weights(report, table, prof, system)
                check_periods(report, table, prof, exists)
    if not report.ok:
        return report
    for i, prof in enumerate(profiles.values(), start=1):
        if prof.code in lists:
            created, changed = _apply_checklist_profile(session, prof, lists[prof.code])
        else:
            created, changed = _apply_system_profile(
                session, report, table, prof, systems[prof.code]
            )
        if created:
            report.created += 1
        elif changed:
            report.updated += 1
        else:
            report.unchanged += 1
        if progress is not None:
            progress(i, len(profiles))
    return report


_KEPT_WHEN_EMPTY = frozenset({"profile_name_zh", "valid_from", "inputs"})


def _apply_system_profile(
    session: Session, report: ImportReport, table: Table, prof: ProfileRows, system: IndicatorSystem
) -> tuple[bool, bool]:
    """Upsert an indicator-system profile; (created, changed)."""
    existing = profile_by_code(session, prof.code)

    def get(name: str, default: Any) -> Any:
        if name in prof.shared:
            return prof.shared[name][0]
        # Name, first period and inputs cannot be cleared: no value keeps the stored one.
        if existing is not None and (name in _KEPT_WHEN_EMPTY or not table.has(name)):
            return getattr(existing, name.removeprefix("profile_"))
        return default

    try:
        _, changed = upsert_profile(
            session,
            code=prof.code,
            name_zh=get("profile_name_zh", ""),
            name_en=get("profile_name_en", ""),
            system=system,
            weights={c: w for c, (w, _) in prof.weights.items()},
            tier=get("tier", None),
            in_province=get("in_province", None),
            traffic_band=get("traffic_band", None),
            stage=get("stage", None),
            valid_from=get("valid_from", ""),
            valid_to=get("valid_to", None),
            method=get("method", "manual"),
            inputs=get("inputs", {}),
        )
    except WeightRuleError as exc:
        report.add(prof.first_line, "profile_code", prof.code, "rejected", str(exc))
        raise ImportRejected(report) from exc
    return existing is None, changed
