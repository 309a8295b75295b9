"""Monthly visit plan from the database: stores, inspectors and past visits in, plan entries out.

Territories are provinces (an inspector's role grant names their province); an inspector's
base is the centre of the stores in their territory. Key stores (visited twice a month) are
flagship core stores and high-traffic first-level stores, as the plan says.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sqm.domain.errors import MissingError
from sqm.domain.org import UnitKind
from sqm.domain.roles import Role
from sqm.lazy import lazy_import
from sqm.services.inspections.access import plan_filter
from sqm.services.inspections.visit_plan import (
    PlanRules,
    Violation,
    VisitPlan,
    check_plan,
    export_plan_xlsx,
    plan_month,
    working_days,
)
from sqm.services.inspections.visits import InspectionError, tier_medians, traffic_class
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, Period, RoleGrant, User
from sqm.store.models.inspection import InspectionPlanEntry, InspectionVisit

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")


def _province(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 else parts[0]


def planning_frames(
    session: Session, period: Period
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(stores, inspectors, history) frames for :func:`sqm.services.inspections.visit_plan.plan_month`."""
    med = tier_medians(session)
    units = list(
        session.scalars(
            select(OrgUnit).where(OrgUnit.kind == UnitKind.STORE, OrgUnit.status == "active")
        )
    )
    stores = pd.DataFrame(
        {
            "store_id": [str(u.id) for u in units],
            "tier": [str(u.tier) for u in units],
            "territory": [_province(u.path) for u in units],
            "lat": [float(u.lat or 0.0) for u in units],
            "lon": [float(u.lon or 0.0) for u in units],
            "central_city": [u.area_type != "county" for u in units],
            "traffic": [traffic_class(u, med).value for u in units],
        }
    )
    grants = session.execute(
        select(RoleGrant.user_id, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == RoleGrant.scope_unit_id)
        .where(RoleGrant.role == Role.INSPECTOR)
    ).all()
    rows = []
    for uid, path in grants:
        terr = _province(path)
        mine = stores[stores["territory"] == terr]
        lat = float(mine["lat"].mean()) if len(mine) else 0.0
        lon = float(mine["lon"].mean()) if len(mine) else 0.0
        rows.append({"inspector_id": str(uid), "territory": terr, "lat": lat, "lon": lon})
    inspectors = pd.DataFrame(
        rows, columns=["inspector_id", "territory", "lat", "lon"]
    ).drop_duplicates("inspector_id")
    since = period.start - timedelta(days=130)
    hist = session.execute(
        select(
            InspectionVisit.unit_id, InspectionVisit.inspector_id, InspectionVisit.planned_date
        ).where(
            InspectionVisit.planned_date >= since,
            InspectionVisit.planned_date < period.start,
            InspectionVisit.status.in_(["submitted", "needs_review", "accepted"]),
        )
    ).all()
    history = pd.DataFrame(
        [(str(u), str(i), d) for u, i, d in hist], columns=["store_id", "inspector_id", "date"]
    )
    return stores, inspectors, history


def plan_period(session: Session, period: Period, rules: PlanRules | None = None) -> VisitPlan:
    """Plan the period's visits for every active store (see :mod:`sqm.services.inspections.visit_plan`)."""
    stores, inspectors, history = planning_frames(session, period)
    if stores.empty or inspectors.empty:
        raise ValueError("planning needs at least one store and one inspector")
    return plan_month(stores, inspectors, history, period.start, rules)


def save_plan(session: Session, period: Period, plan: VisitPlan) -> int:
    """Replace the period's still-planned entries by the plan's; returns the number written."""
    session.execute(
        delete(InspectionPlanEntry).where(
            InspectionPlanEntry.period_id == period.id, InspectionPlanEntry.status == "planned"
        )
    )
    a = plan.assignments
    entries = [
        InspectionPlanEntry(
            period_id=period.id,
            unit_id=int(str(s)),
            inspector_id=int(str(i)),
            planned_date=d,
            visit_key=str(k),
        )
        for s, i, d, k in zip(
            a["store_id"], a["inspector_id"], a["date"], a["visit_id"], strict=True
        )
    ]
    session.add_all(entries)
    session.flush()
    return len(entries)


def plan_summary(plan: VisitPlan) -> dict[str, float]:
    """Headline figures of a plan: visits, inspectors used, objective, bound, gap, rules broken."""
    a = plan.assignments
    return {
        "visits": float(a["visit_id"].nunique()) if len(a) else 0.0,
        "inspectors": float(a["inspector_id"].nunique()) if len(a) else 0.0,
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap if np.isfinite(plan.gap) else float("nan"),
        "best_bound": plan.best_bound,
        "gap_to_best_bound": plan.gap_to_best_bound,
        "rules_broken": float(len(plan.violations)),
    }


# ------------------------------------------------------------------ the stored plan, read back


class UnknownPlanPeriod(InspectionError):
    """A period code that names no period."""


def period_named(session: Session, code: str) -> Period:
    """The period with ``code``; :class:`UnknownPlanPeriod` (422) when there is none."""
    per = session.scalar(select(Period).where(Period.code == code))
    if per is None:
        raise UnknownPlanPeriod(f"period: no period '{code}'", {"period": code})
    return per


@dataclass(frozen=True)
class PlanCalendar:
    """The month's still-planned visits at the stores in scope, by day; the rules the whole
    month breaks (planned entries plus visits already made, stores in scope); the inspectors
    an entry may be moved to (id, name)."""

    by_day: dict[date, list[InspectionPlanEntry]]
    violations: list[Violation]
    inspectors: list[tuple[int, str]]


def plan_calendar(
    session: Session, principal: Principal, rules: PlanRules | None = None
) -> PlanCalendar:
    """The plan calendar a reviewer edits: every still-planned entry at the stores in scope
    (up to 2,000), and the re-check of the month of the latest of them against every rule."""
    entries = list(
        session.scalars(
            select(InspectionPlanEntry)
            .join(OrgUnit, OrgUnit.id == InspectionPlanEntry.unit_id)
            .where(principal.unit_filter(), InspectionPlanEntry.status == "planned")
            .order_by(InspectionPlanEntry.planned_date, InspectionPlanEntry.inspector_id)
            .limit(2000)
        )
    )
    by_day: dict[date, list[InspectionPlanEntry]] = {}
    for e in entries:
        by_day.setdefault(e.planned_date, []).append(e)
    if not entries:
        return PlanCalendar(by_day, [], [])
    period = session.get(Period, entries[-1].period_id)
    assert period is not None
    stores, insp, history = planning_frames(session, period)
    inspectors = [
        (u.id, u.display_name)
        for u in session.scalars(
            select(User).where(User.id.in_([int(x) for x in insp["inspector_id"]]))
        )
    ]
    done = session.execute(
        select(
            InspectionVisit.unit_id, InspectionVisit.inspector_id, InspectionVisit.planned_date
        ).where(
            InspectionVisit.period_id == period.id,
            InspectionVisit.status != "draft",
            InspectionVisit.planned_date.is_not(None),
        )
    ).all()
    planned = session.execute(
        select(
            InspectionPlanEntry.unit_id,
            InspectionPlanEntry.inspector_id,
            InspectionPlanEntry.planned_date,
        ).where(
            InspectionPlanEntry.period_id == period.id,
            InspectionPlanEntry.status == "planned",
        )
    ).all()
    assignments = pd.DataFrame(
        [(str(u), str(i), d) for u, i, d in [*done, *planned]],
        columns=["store_id", "inspector_id", "date"],
    )
    rules = rules or PlanRules()
    in_scope = {
        str(i)
        for i in session.scalars(
            select(OrgUnit.id).where(principal.unit_filter(), OrgUnit.kind == "store")
        )
    }
    violations = [
        v
        for v in check_plan(
            assignments, stores, insp, history, working_days(period.start, rules), rules
        )
        if v.store_id is None or v.store_id in in_scope
    ]
    return PlanCalendar(by_day, violations, inspectors)


def plan_workbook(
    session: Session, principal: Principal, locale: str = "zh", rules: PlanRules | None = None
) -> tuple[str, bytes]:
    """The stored plan of the latest planned month (stores in scope) as an Excel workbook
    with the rule re-check on its own sheet: (period code, xlsx bytes)."""
    latest = session.scalar(
        select(InspectionPlanEntry.period_id)
        .order_by(InspectionPlanEntry.planned_date.desc())
        .limit(1)
    )
    period = session.get(Period, latest) if latest is not None else None
    if period is None:
        raise MissingError("no plan yet")
    rows = session.execute(
        select(
            InspectionPlanEntry.visit_key,
            InspectionPlanEntry.unit_id,
            InspectionPlanEntry.inspector_id,
            InspectionPlanEntry.planned_date,
        )
        .join(OrgUnit, OrgUnit.id == InspectionPlanEntry.unit_id)
        .where(InspectionPlanEntry.period_id == period.id, principal.unit_filter())
        .order_by(InspectionPlanEntry.planned_date)
    ).all()
    a = pd.DataFrame(
        [(k, str(u), str(i), d, 1) for k, u, i, d in rows],
        columns=["visit_id", "store_id", "inspector_id", "date", "team_size"],
    )
    stores, insp, history = planning_frames(session, period)
    in_scope = set(a["store_id"])
    stores = stores[stores["store_id"].isin(in_scope)]
    insp = insp[insp["inspector_id"].isin(set(a["inspector_id"]))]
    rules = rules or PlanRules()
    days = working_days(period.start, rules)
    names = {
        str(u.id): u.name(locale)
        for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_([int(x) for x in in_scope])))
    }
    stores = stores.assign(name=stores["store_id"].map(names))
    plan = VisitPlan(period.start, days, a, check_plan(a, stores, insp, history, days, rules), [])
    buf = io.BytesIO()
    export_plan_xlsx(plan, stores, insp, buf)
    return period.code, buf.getvalue()


def move_entry(
    session: Session,
    entry: InspectionPlanEntry,
    *,
    day: date | None = None,
    inspector_id: int | None = None,
) -> InspectionPlanEntry:
    """Edit one planned visit by hand: a new date and/or inspector (the calendar re-checks
    the month's rules afterwards)."""
    if inspector_id is not None:
        if session.get(User, inspector_id) is None:  # before the change: no flush of a bad key
            raise InspectionError("no such inspector")
        entry.inspector_id = inspector_id
    if day is not None:
        entry.planned_date = day
    return entry


@dataclass(frozen=True)
class PlanRow:
    """One assignment of the month's plan, with everyone planned on the same visit."""

    id: int
    period: str
    date: date
    store_code: str
    store_name: str
    inspector: str
    inspector_name: str
    visit_key: str
    team: list[str]
    status: str


def month_plan(
    session: Session,
    principal: Principal,
    period: str | None = None,
    *,
    inspector: str | None = None,
    status: str | None = None,
) -> list[PlanRow]:
    """The assignments of ``period`` (default: the latest planned month ``principal`` sees)
    that ``principal`` may see (:func:`sqm.services.inspections.access.plan_filter`),
    optionally of one inspector (user name) or status; by date."""
    visible = plan_filter(principal)
    if period is not None:
        per = period_named(session, period)
    else:
        latest = session.scalar(
            select(InspectionPlanEntry.period_id)
            .join(OrgUnit, OrgUnit.id == InspectionPlanEntry.unit_id)
            .where(visible)
            .order_by(InspectionPlanEntry.planned_date.desc())
            .limit(1)
        )
        if latest is None:
            return []
        found = session.get(Period, latest)
        assert found is not None
        per = found
    conds = [visible, InspectionPlanEntry.period_id == per.id]
    if inspector is not None:
        conds.append(User.username == inspector)
    if status is not None:
        conds.append(InspectionPlanEntry.status == status)
    rows = list(
        session.scalars(
            select(InspectionPlanEntry)
            .join(OrgUnit, OrgUnit.id == InspectionPlanEntry.unit_id)
            .join(User, User.id == InspectionPlanEntry.inspector_id)
            .where(*conds)
            .order_by(InspectionPlanEntry.planned_date, InspectionPlanEntry.id)
        )
    )
    keys = {e.visit_key for e in rows}
    team: dict[str, list[str]] = {}
    if keys:
        for key, name in session.execute(
            select(InspectionPlanEntry.visit_key, User.username)
            .join(User, User.id == InspectionPlanEntry.inspector_id)
            .where(InspectionPlanEntry.visit_key.in_(list(keys)))
            .order_by(User.username)
        ):
            team.setdefault(key, []).append(name)
    return [
        PlanRow(
            id=e.id,
            period=per.code,
            date=e.planned_date,
            store_code=e.unit.code,
            store_name=e.unit.name_zh,
            inspector=e.inspector.username,
            inspector_name=e.inspector.display_name or e.inspector.username,
            visit_key=e.visit_key,
            team=team.get(e.visit_key, []),
            status=e.status,
        )
        for e in rows
    ]
