"""Evaluate a period (评价周期): leaf values → normalised scores → composite scores up the
indicator tree with each store's weight profile → grades, ranks among peers and change
since the previous period, each with its uncertainty → roll-ups up the org tree.

Uncertainty. Each leaf value may come with a standard error (a survey mean's, a KPI
ratio's). Normalisation is locally linear, so a leaf's score error is ``|slope| × se``;
the composite is a weighted mean, so its error is ``sqrt(Σ (gᵢ · slopeᵢ · seᵢ)²)`` with
``gᵢ`` the global leaf weights renormalised over the leaves that were observed (the
delta method, leaves taken as independent). Rank intervals come from simulating the
scores with those errors (a parametric bootstrap): a store with six survey answers gets
a wide rank interval, one with six hundred a narrow one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.domain.indicator import Direction
from sqm.domain.org import UnitKind
from sqm.domain.period import PeriodSpec
from sqm.lazy import lazy_import
from sqm.methods._validation import MethodInputError
from sqm.methods.composite import composite_scores, grade, indicator_tree
from sqm.methods.normalise import piecewise_target
from sqm.services.evaluation.indicator_system import tree_rows
from sqm.services.evaluation.sources import collect_values
from sqm.services.evaluation.weight_profile import profile_for_store
from sqm.store.audit import record
from sqm.store.models import (
    IndicatorNode,
    IndicatorSystem,
    OrgUnit,
    Period,
    UnitScore,
    WeightProfile,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")

#: Grade → lowest score for it (the chain's usual bands).
GRADE_CUTOFFS: dict[str, float] = {"A": 90.0, "B": 80.0, "C": 70.0, "D": 60.0, "E": 0.0}
#: A unit needs this share of the leaf weight observed to get a score at all.
MIN_COVERAGE = 0.3
Z95 = 1.959963984540054
ROOT = "__total__"


class EvaluationError(RuleError):
    """The period cannot be evaluated (no such period, no indicator system, …)."""


@dataclass(frozen=True)
class LeafSpec:
    """What normalising one leaf needs."""

    code: str
    parent: str | None
    source: str | None
    source_ref: str | None
    higher_is_better: bool
    scale_min: float | None
    scale_max: float | None
    target: float | None
    warning: float | None
    is_veto: bool

    @classmethod
    def of(cls, node: IndicatorNode, parent: str | None) -> LeafSpec:
        return cls(
            code=node.code,
            parent=parent,
            source=node.source,
            source_ref=node.source_ref,
            higher_is_better=Direction(node.direction) is Direction.HIGHER_IS_BETTER,
            scale_min=node.scale_min,
            scale_max=node.scale_max,
            target=node.target,
            warning=node.warning,
            is_veto=bool(node.is_veto),
        )


def leaf_scores(values: np.ndarray, spec: LeafSpec) -> np.ndarray:
    """Normalise raw leaf values to 0–100.

    With a target and a warning threshold: 100 at the target, 60 at the warning
    threshold, linear between and beyond, reaching 0 at the far end of the scale
    (:func:`sqm.methods.normalise.piecewise_target`). Otherwise min–max over the leaf's
    stated scale, reversed for lower-is-better leaves. A veto leaf scores 100 when
    complied with (value ≥ 1) and 0 otherwise.

    >>> spec = LeafSpec("x", None, None, None, True, 0.0, 100.0, 90.0, 70.0, False)
    >>> leaf_scores(np.array([95.0, 90.0, 70.0, 35.0]), spec).tolist()
    [100.0, 100.0, 60.0, 30.0]
    """
    v = np.asarray(values, dtype=float)
    if spec.is_veto:
        return np.where(np.isnan(v), np.nan, np.where(v >= 1.0, 100.0, 0.0))
    if spec.target is not None and spec.warning is not None and spec.target != spec.warning:
        benefit = spec.target > spec.warning
        floor = spec.scale_min if benefit else spec.scale_max
        if floor is not None and not (
            (floor < spec.warning) if benefit else (floor > spec.warning)
        ):
            floor = None
        out = np.full_like(v, np.nan)
        ok = ~np.isnan(v)
        out[ok] = piecewise_target(v[ok], spec.target, spec.warning, benefit=benefit, floor=floor)
        return out
    if (
        spec.scale_min is not None
        and spec.scale_max is not None
        and spec.scale_max > spec.scale_min
    ):
        s = (v - spec.scale_min) / (spec.scale_max - spec.scale_min) * 100.0
        return np.clip(s if spec.higher_is_better else 100.0 - s, 0.0, 100.0)
    raise EvaluationError(f"leaf {spec.code} has neither a target/warning pair nor a scale")


def _slopes(values: np.ndarray, spec: LeafSpec) -> np.ndarray:
    """d score / d value at each value (central difference), for error propagation."""
    if spec.is_veto:
        return np.zeros_like(values, dtype=float)
    span = (
        (spec.scale_max - spec.scale_min)
        if spec.scale_max is not None and spec.scale_min is not None
        else 1.0
    )
    h = max(abs(span), 1e-9) * 1e-4
    return (leaf_scores(values + h, spec) - leaf_scores(values - h, spec)) / (2 * h)


@dataclass
class EvaluationSummary:
    period: str
    system: str
    units: int = 0
    scored: int = 0
    mean_coverage: float = 0.0
    changed: int = 0
    warnings: list[str] = field(default_factory=list)


def _system(session: Session, code: str) -> IndicatorSystem:
    systems = session.scalars(
        select(IndicatorSystem)
        .where(IndicatorSystem.code == code)
        .order_by(IndicatorSystem.version.desc())
    ).all()
    if not systems:
        raise EvaluationError(f"no indicator system '{code}'")
    published = [s for s in systems if s.status == "published"]
    return published[0] if published else systems[0]


def _profile_tree(profile: WeightProfile, parent_of: dict[str, str | None]) -> Any:
    local = {w.node.code: w.weight for w in profile.weights}
    edges = [(parent_of[c] or ROOT, c, w) for c, w in local.items() if c in parent_of]
    return indicator_tree(edges)


def _rank_intervals(
    scores: np.ndarray, se: np.ndarray, rng: np.random.Generator, draws: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank (1 = best, ties share the lowest) and its 95 % interval by simulating the scores."""
    s = pd.Series(scores)
    ranks = s.rank(ascending=False, method="min").to_numpy()
    sim = scores[None, :] + rng.standard_normal((draws, scores.size)) * np.nan_to_num(se)[None, :]
    order = (-sim).argsort(axis=1).argsort(axis=1) + 1
    lo = np.percentile(order, 2.5, axis=0, method="lower")
    hi = np.percentile(order, 97.5, axis=0, method="higher")
    return ranks, np.minimum(lo, ranks), np.maximum(hi, ranks)


def evaluate_period(
    session: Session,
    period_code: str,
    *,
    system_code: str = "STORE_SQ",
    seed: int = 0,
    draws: int = 2000,
) -> EvaluationSummary:
    """Score every store and competitor store in ``period_code`` and roll the scores up.

    Replaces the period's earlier scores for the system (re-running is idempotent) and
    writes one audit entry saying how many scores changed.
    """
    spec = PeriodSpec.parse(period_code)
    period = session.scalar(select(Period).where(Period.code == spec.code))
    if period is None:
        raise EvaluationError(f"no period '{spec.code}'")
    system = _system(session, system_code)
    summary = EvaluationSummary(period=period.code, system=f"{system.code} v{system.version}")
    rows = tree_rows(system)
    code_of = {r.node.id: r.node.code for r in rows}
    parent_of = {
        r.node.code: (code_of[r.node.parent_id] if r.node.parent_id else None) for r in rows
    }
    leaves = [LeafSpec.of(r.node, parent_of[r.node.code]) for r in rows if r.is_leaf]
    by_ref = {(lf.source, lf.source_ref): lf for lf in leaves if lf.source and lf.source_ref}

    units = session.scalars(
        select(OrgUnit)
        .where(
            OrgUnit.kind.in_([UnitKind.STORE, UnitKind.COMPETITOR_STORE]),
            OrgUnit.status == "active",
        )
        .order_by(OrgUnit.id)
    ).all()
    summary.units = len(units)
    values = collect_values(session, period)
    ids = [u.id for u in units]
    raw = pd.DataFrame(np.nan, index=ids, columns=[lf.code for lf in leaves])
    ses = raw.copy()
    if not values.empty:
        for (src, ref), grp in values.groupby(["source", "source_ref"]):
            lf = by_ref.get((str(src), str(ref)))
            if lf is None:
                continue
            grp = grp[grp["unit_id"].isin(raw.index)]
            raw.loc[grp["unit_id"].to_numpy(), lf.code] = grp["value"].to_numpy(dtype=float)
            ses.loc[grp["unit_id"].to_numpy(), lf.code] = grp["se"].to_numpy(dtype=float)
    missing = [lf.code for lf in leaves if raw[lf.code].isna().all()]
    if missing:
        summary.warnings.append(f"no values this period for: {', '.join(missing)}")
    scored = pd.DataFrame(index=ids, columns=raw.columns, dtype=float)
    score_se = pd.DataFrame(0.0, index=ids, columns=raw.columns)
    for lf in leaves:
        v = raw[lf.code].to_numpy()
        try:
            scored[lf.code] = leaf_scores(v, lf)
        except EvaluationError as exc:
            # One leaf that cannot be normalised is reported and left out (as if not
            # measured: the coverage shows it); every other leaf is scored.
            summary.warnings.append(f"{exc}: not scored")
            scored[lf.code] = np.nan
            continue
        score_se[lf.code] = np.abs(_slopes(v, lf)) * np.nan_to_num(ses[lf.code].to_numpy())

    # One composite per weight profile: stores of a tier (and stage) share their weights.
    profiles: dict[int, WeightProfile | None] = {}
    for u in units:
        tier = (
            u.tier if u.kind == UnitKind.STORE else "first_level"
        )  # competitors: a comparable tier
        profiles[u.id] = profile_for_store(session, tier, u.in_province, period.code)
    results: dict[int, dict[str, Any]] = {}
    for prof_id in {p.id for p in profiles.values() if p is not None}:
        prof = next(p for p in profiles.values() if p is not None and p.id == prof_id)
        members = [uid for uid, p in profiles.items() if p is not None and p.id == prof_id]
        try:
            tree = _profile_tree(prof, parent_of)
        except MethodInputError as exc:
            # A profile whose weights do not form a tree over this version scores none of
            # its stores (reported); the stores of every other profile are scored.
            summary.warnings.append(
                f"weight profile {prof.code} does not fit {system.code} v{system.version} "
                f"({exc}): its {len(members)} unit(s) are not scored"
            )
            continue
        leaf_cols = [c for c in tree.leaves]
        frame = scored.loc[members, leaf_cols]
        vetoes = {
            lf.parent: (raw.loc[members, lf.code] < 1).to_numpy()
            for lf in leaves
            if lf.is_veto and lf.parent and lf.code in leaf_cols
        }
        res = composite_scores(
            frame, tree, vetoes=vetoes or None, cutoffs=GRADE_CUTOFFS, min_coverage=MIN_COVERAGE
        )
        g = tree.global_weights()
        obs = frame.notna().to_numpy()
        gw = obs * g[leaf_cols].to_numpy()[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            gw = gw / gw.sum(axis=1, keepdims=True)
        se = np.sqrt(np.nansum((gw * score_se.loc[members, leaf_cols].to_numpy()) ** 2, axis=1))
        for k, uid in enumerate(members):
            s = res.scores.iloc[k]
            results[uid] = {
                "profile": prof.code,
                "score": None if pd.isna(s) else float(s),
                "se": None if pd.isna(s) else float(se[k]),
                "coverage": float(res.coverage.iloc[k]),
                "grade": None
                if res.grades is None or pd.isna(res.grades.iloc[k])
                else str(res.grades.iloc[k]),
                "capped": bool(res.capped.iloc[k]),
                "dimensions": {
                    c: (None if pd.isna(x) else round(float(x), 4))
                    for c, x in res.node_scores.iloc[k].items()
                    if c not in tree.leaves and c != ROOT
                },
                "vetoed": [c for c in res.vetoed.columns if bool(res.vetoed.iloc[k][c])],
            }
    for u in units:
        if profiles[u.id] is None:
            summary.warnings.append(
                f"no weight profile applies to {u.code} ({u.tier}) in {period.code}"
            )
    rng = np.random.default_rng(seed)
    previous = _previous_scores(session, period, system.code)
    new_rows = _store_rows(units, results, previous, period, system, rng, draws)
    new_rows += _rollups(session, units, new_rows, period, system, previous, rng, draws)
    old = {
        (r.unit_id): r.score
        for r in session.scalars(
            select(UnitScore).where(
                UnitScore.period_id == period.id, UnitScore.system_code == system.code
            )
        )
    }
    session.execute(
        delete(UnitScore).where(
            UnitScore.period_id == period.id, UnitScore.system_code == system.code
        )
    )
    session.add_all(new_rows)
    summary.scored = sum(
        1
        for r in new_rows
        if r.score is not None and r.unit.kind in (UnitKind.STORE, UnitKind.COMPETITOR_STORE)
    )
    cov = [r.coverage for r in new_rows if r.unit.kind == UnitKind.STORE]
    summary.mean_coverage = float(np.mean(cov)) if cov else 0.0
    summary.changed = sum(1 for r in new_rows if old.get(r.unit_id, -1.0) != r.score)
    record(
        session,
        "evaluate",
        "unit_score",
        period.code,
        note=f"{system.code} v{system.version}: {summary.scored} units scored, {summary.changed} scores changed",
        changes={
            "scored": summary.scored,
            "changed": summary.changed,
            "mean_coverage": round(summary.mean_coverage, 4),
        },
    )
    session.flush()
    return summary


def _previous_scores(
    session: Session, period: Period, system_code: str
) -> dict[int, tuple[float | None, float | None, float]]:
    prev = PeriodSpec.parse(period.code).previous().code
    rows = session.execute(
        select(UnitScore.unit_id, UnitScore.score, UnitScore.se, UnitScore.coverage)
        .join(Period, Period.id == UnitScore.period_id)
        .where(Period.code == prev, UnitScore.system_code == system_code)
    ).all()
    return {uid: (s, se, cov) for uid, s, se, cov in rows}


#: Coverage may differ this much between two periods for their scores to be compared.
COMPARABLE_COVERAGE = 0.05


def _change(
    score: float | None,
    se: float | None,
    coverage: float,
    prev: tuple[float | None, float | None, float] | None,
) -> tuple[float | None, bool | None]:
    """Change since the previous period and whether it exceeds its 95 % noise band.

    When the two scores rest on different parts of the indicator tree (a survey wave in
    one month and not the other), the difference mixes a real change with a change of
    what was measured: it is reported, but never called significant (None).

    >>> _change(80.0, 1.0, 1.0, (75.0, 1.0, 1.0))
    (5.0, True)
    >>> _change(80.0, 1.0, 1.0, (75.0, 1.0, 0.6))
    (5.0, None)
    """
    if score is None or prev is None or prev[0] is None:
        return None, None
    d = score - prev[0]
    if abs(coverage - prev[2]) > COMPARABLE_COVERAGE:
        return d, None
    band = Z95 * float(np.hypot(se or 0.0, prev[1] or 0.0))
    return d, bool(abs(d) > band) if band > 0 else None


def _score_row(unit: OrgUnit, period: Period, system: IndicatorSystem, **kw: Any) -> UnitScore:
    row = UnitScore(
        unit_id=unit.id,
        period_id=period.id,
        system_code=system.code,
        system_version=system.version,
        **kw,
    )
    row.unit = unit
    return row


def _assign_ranks(rows: Sequence[UnitScore], rng: np.random.Generator, draws: int) -> None:
    groups: dict[str | None, list[UnitScore]] = {}
    for r in rows:
        if r.score is not None:
            groups.setdefault(r.peer_group, []).append(r)
    for members in groups.values():
        sc = np.array([m.score for m in members], dtype=float)
        se = np.array([m.se or 0.0 for m in members], dtype=float)
        ranks, lo, hi = _rank_intervals(sc, se, rng, draws)
        for m, r, a, b in zip(members, ranks, lo, hi, strict=True):
            m.rank, m.rank_lower, m.rank_upper, m.peers = int(r), int(a), int(b), len(members)


def _store_rows(
    units: Sequence[OrgUnit],
    results: dict[int, dict[str, Any]],
    previous: dict[int, tuple[float | None, float | None, float]],
    period: Period,
    system: IndicatorSystem,
    rng: np.random.Generator,
    draws: int,
) -> list[UnitScore]:
    rows = []
    for u in units:
        r = results.get(u.id)
        if r is None:
            continue
        s, se = r["score"], r["se"]
        change, sig = _change(s, se, r["coverage"], previous.get(u.id))
        rows.append(
            _score_row(
                u,
                period,
                system,
                profile_code=r["profile"],
                score=s,
                se=se,
                lower=None if s is None else max(0.0, s - Z95 * (se or 0.0)),
                upper=None if s is None else min(100.0, s + Z95 * (se or 0.0)),
                coverage=r["coverage"],
                grade=r["grade"],
                capped=r["capped"],
                peer_group=(u.tier if u.kind == UnitKind.STORE else "competitor"),
                change=change,
                change_significant=sig,
                dimensions=r["dimensions"],
                vetoed=r["vetoed"],
            )
        )
    _assign_ranks(rows, rng, draws)
    return rows


def _rollups(
    session: Session,
    units: Sequence[OrgUnit],
    store_rows: list[UnitScore],
    period: Period,
    system: IndicatorSystem,
    previous: dict[int, tuple[float | None, float | None, float]],
    rng: np.random.Generator,
    draws: int,
) -> list[UnitScore]:
    """Districts, cities, provinces and the company: the traffic-weighted mean of their own
    stores' scores (competitors excluded), with the error of that weighted mean."""
    own = [r for r in store_rows if r.unit.kind == UnitKind.STORE and r.score is not None]
    areas = session.scalars(
        select(OrgUnit).where(
            OrgUnit.kind.in_(
                [UnitKind.DISTRICT, UnitKind.CITY, UnitKind.PROVINCE, UnitKind.COMPANY]
            )
        )
    ).all()
    out = []
    for a in areas:
        members = [r for r in own if r.unit.path.startswith(a.path)]
        if not members:
            continue
        w = np.array([max(r.unit.traffic or 1, 1) for r in members], dtype=float)
        w = w / w.sum()
        sc = np.array([r.score for r in members], dtype=float)
        se = np.array([r.se or 0.0 for r in members], dtype=float)
        s = float(w @ sc)
        e = float(np.sqrt(np.sum((w * se) ** 2)))
        dims: dict[str, Any] = {}
        for key in members[0].dimensions:
            vals = np.array(
                [np.nan if r.dimensions.get(key) is None else r.dimensions[key] for r in members],
                dtype=float,
            )
            ok = ~np.isnan(vals)
            dims[key] = round(float(vals[ok] @ w[ok] / w[ok].sum()), 4) if ok.any() else None
        # An area's coverage is its stores' coverage, weighted as its score is.
        leaf_cov = float(w @ np.array([r.coverage for r in members]))
        change, sig = _change(s, e, leaf_cov, previous.get(a.id))
        out.append(
            _score_row(
                a,
                period,
                system,
                profile_code=None,
                score=s,
                se=e,
                lower=max(0.0, s - Z95 * e),
                upper=min(100.0, s + Z95 * e),
                coverage=leaf_cov,
                grade=str(grade(pd.Series([s]), GRADE_CUTOFFS).iloc[0]),
                peer_group=str(a.kind),
                change=change,
                change_significant=sig,
                dimensions=dims,
                vetoed=[],
            )
        )
    _assign_ranks(out, rng, draws)
    return out
