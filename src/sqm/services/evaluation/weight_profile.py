"""Weight profiles over an indicator tree: checks and global (leaf) weights."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.domain.org import StoreTier
from sqm.store.models import IndicatorNode, IndicatorSystem, Weight, WeightProfile

SUM_TOLERANCE = 1e-6


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
        select(WeightProfile).where(WeightProfile.valid_from <= period_code)
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
        key=lambda p: (p.tier is not None, p.in_province is not None, p.valid_from, p.id),
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
