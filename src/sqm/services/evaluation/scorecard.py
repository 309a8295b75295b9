"""Read models of the scores: the ranking of a period, a unit's scorecard, the home page's
overview. Each takes the principal and returns only units in their scope.

>>> Ranking([], None, [], {"A": 0}).grades
{'A': 0}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.services.evaluation.evaluate import GRADE_CUTOFFS
from sqm.services.org_tree import scope_roots
from sqm.services.scope import Principal
from sqm.store.models import IndicatorNode, IndicatorSystem, OrgUnit, Period, UnitScore

STORE_KINDS = (UnitKind.STORE, UnitKind.COMPETITOR_STORE)


def scored_periods(session: Session) -> list[str]:
    """Codes of the periods that have scores, newest first."""
    rows = session.scalars(
        select(Period.code)
        .join(UnitScore, UnitScore.period_id == Period.id)
        .distinct()
        .order_by(Period.code.desc())
    )
    return list(rows)


def node_names(session: Session, system_code: str, locale: str) -> dict[str, str]:
    """Node code → name in ``locale`` for the latest version of ``system_code``, in the
    order the nodes were created (empty when there is no such system)."""
    system = session.scalar(
        select(IndicatorSystem)
        .where(IndicatorSystem.code == system_code)
        .order_by(IndicatorSystem.version.desc())
        .limit(1)
    )
    if system is None:
        return {}
    nodes = session.scalars(
        select(IndicatorNode).where(IndicatorNode.system_id == system.id).order_by(IndicatorNode.id)
    )
    return {n.code: n.name(locale) for n in nodes}


def monthly_history(session: Session, unit: OrgUnit) -> list[UnitScore]:
    """The unit's scores of monthly periods, oldest first."""
    stmt = (
        select(UnitScore)
        .join(Period, Period.id == UnitScore.period_id)
        .where(UnitScore.unit_id == unit.id, Period.kind == "month")
        .order_by(Period.code)
    )
    return list(session.scalars(stmt))


def children_scores(
    session: Session, principal: Principal, unit: OrgUnit, period_id: int
) -> list[UnitScore]:
    """Scores of ``unit``'s children in scope for one period, best first."""
    stmt = (
        select(UnitScore)
        .join(OrgUnit, OrgUnit.id == UnitScore.unit_id)
        .where(
            UnitScore.period_id == period_id,
            OrgUnit.parent_id == unit.id,
            principal.unit_filter(),
        )
        .order_by(UnitScore.score.desc())
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Ranking:
    """Store and competitor scores of one period, best first (unscored last), with the
    count of stores per grade; ``period`` is None when no period has scores."""

    periods: list[str]
    period: str | None
    rows: list[UnitScore]
    grades: dict[str, int]


def store_ranking(
    session: Session, principal: Principal, period: str | None, peer_group: str | None = None
) -> Ranking:
    """The ranking of the stores in the principal's scope for ``period`` (default: the
    newest scored one), optionally of one peer group (a tier or ``competitor``)."""
    periods = scored_periods(session)
    period = period if period in periods else (periods[0] if periods else None)
    grades: dict[str, int] = {g: 0 for g in GRADE_CUTOFFS}
    if period is None:
        return Ranking(periods, None, [], grades)
    stmt = (
        select(UnitScore)
        .join(OrgUnit, OrgUnit.id == UnitScore.unit_id)
        .join(Period, Period.id == UnitScore.period_id)
        .where(Period.code == period, principal.unit_filter(), OrgUnit.kind.in_(STORE_KINDS))
    )
    if peer_group:
        stmt = stmt.where(UnitScore.peer_group == peer_group)
    rows = sorted(session.scalars(stmt).all(), key=lambda r: (r.score is None, -(r.score or 0)))
    for r in rows:
        if r.grade:
            grades[r.grade] = grades.get(r.grade, 0) + 1
    return Ranking(periods, period, rows, grades)


@dataclass(frozen=True)
class Scorecard:
    """A unit's scorecard: its monthly history, the latest score's dimensions and
    indicators as (code, name, score) in the system's order, and its children's scores."""

    history: list[UnitScore]
    latest: UnitScore | None
    names: dict[str, str]
    dims: list[tuple[str, str, float | None]]
    indicators: list[tuple[str, str, float | None]]
    children: list[UnitScore] = field(default_factory=list)


def unit_scorecard(session: Session, principal: Principal, unit: OrgUnit, locale: str) -> Scorecard:
    """The scorecard of ``unit`` (which the caller has checked is in scope)."""
    history = monthly_history(session, unit)
    latest = history[-1] if history else None
    names = node_names(session, latest.system_code, locale) if latest else {}
    order = {c: i for i, c in enumerate(names)}
    parts = sorted(
        (latest.dimensions if latest else {}).items(), key=lambda kv: order.get(kv[0], 10**6)
    )
    dims = [(c, names.get(c, c), v) for c, v in parts if "." not in c]
    indicators = [(c, names.get(c, c), v) for c, v in parts if "." in c]
    children: list[UnitScore] = []
    if unit.kind not in STORE_KINDS and latest is not None:
        children = children_scores(session, principal, unit, latest.period_id)
    return Scorecard(history, latest, names, dims, indicators, children)


@dataclass(frozen=True)
class QualityOverview:
    """The executive's view of the top of a scope: its monthly history, the units under
    it in the latest period, and the stores whose score moved significantly (most down
    first). ``top`` is None when the principal has no scope."""

    top: OrgUnit | None
    history: list[UnitScore] = field(default_factory=list)
    below: list[UnitScore] = field(default_factory=list)
    movers: list[UnitScore] = field(default_factory=list)

    @property
    def latest(self) -> UnitScore | None:
        return self.history[-1] if self.history else None


def quality_overview(session: Session, principal: Principal, movers: int = 6) -> QualityOverview:
    """Where quality stands in the principal's scope and where it moved."""
    tops = scope_roots(session, principal)
    if not tops:
        return QualityOverview(None)
    top = tops[0]
    history = monthly_history(session, top)
    if not history:
        return QualityOverview(top)
    latest = history[-1]
    below = list(
        session.scalars(
            select(UnitScore)
            .join(OrgUnit, OrgUnit.id == UnitScore.unit_id)
            .where(UnitScore.period_id == latest.period_id, OrgUnit.parent_id == top.id)
            .order_by(UnitScore.score.desc())
        )
    )
    moved = list(
        session.scalars(
            select(UnitScore)
            .join(OrgUnit, OrgUnit.id == UnitScore.unit_id)
            .where(
                UnitScore.period_id == latest.period_id,
                OrgUnit.kind == UnitKind.STORE,
                UnitScore.change_significant.is_(True),
                principal.unit_filter(),
            )
            .order_by(UnitScore.change)
            .limit(movers)
        )
    )
    return QualityOverview(top, history, below, moved)
