"""Monthly visit plan from the database: stores, inspectors and past visits in, plan entries out.

Territories are provinces (an inspector's role grant names their province); an inspector's
base is the centre of the stores in their territory. Key stores (visited twice a month) are
flagship core stores and high-traffic first-level stores, as the plan says.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.domain.roles import Role
from sqm.services.inspections.visit_plan import PlanRules, VisitPlan, plan_month
from sqm.services.inspections.visits import tier_medians, traffic_class
from sqm.store.models import OrgUnit, Period, RoleGrant
from sqm.store.models.inspection import InspectionPlanEntry, InspectionVisit


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
