"""Complaint measures as a source of the indicator system (``complaint_metric`` leaves).

Producer for :data:`sqm.services.evaluation.sources.SOURCE_PRODUCERS`: per org unit with
complaints in the period, ``complaint_rate_per_10k`` (complaints received per 10,000 of the
unit's customers), ``on_time_rate`` (% of complaints whose outcome is known that were resolved
by their deadline) and ``resolution_satisfaction`` (% of answered ratings that are 4 or 5).
``n`` is the number of complaints behind each value and ``se`` its standard error
(Poisson for the rate, binomial for the shares).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.store.models import Complaint, OrgUnit, Period

COLUMNS = ["unit_id", "source_ref", "value", "n", "se"]


def complaint_values(session: Session, period: Period) -> pd.DataFrame:
    """Complaint indicator values of every unit with complaints in ``period``."""
    start = datetime.combine(period.start, time(0), tzinfo=UTC) - timedelta(
        hours=8
    )  # China day starts
    end = datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=UTC) - timedelta(hours=8)
    rows = session.execute(
        select(
            Complaint.unit_id,
            OrgUnit.customers,
            Complaint.resolved_at,
            Complaint.resolution_due,
            Complaint.satisfaction,
        )
        .join(OrgUnit, Complaint.unit_id == OrgUnit.id)
        .where(
            Complaint.received_at >= start,
            Complaint.received_at < end,
            Complaint.status != "cancelled",
        )
    ).all()
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    df = pd.DataFrame(
        rows, columns=["unit_id", "customers", "resolved_at", "resolution_due", "satisfaction"]
    )
    resolved = pd.to_datetime(df["resolved_at"], utc=True)
    due = pd.to_datetime(df["resolution_due"], utc=True)
    now = pd.Timestamp(min(datetime.now(UTC), end))
    df["judged"] = resolved.notna() | (due < now)
    df["on_time"] = resolved.notna() & (resolved <= due)
    df["answered"] = df["satisfaction"].notna()
    df["satisfied"] = df["satisfaction"].fillna(0) >= 4
    g = df.groupby("unit_id")
    agg = pd.DataFrame(
        {
            "count": g.size(),
            "customers": g["customers"].first(),
            "judged": g["judged"].sum(),
            "on_time": g["on_time"].sum(),
            "answered": g["answered"].sum(),
            "satisfied": g["satisfied"].sum(),
        }
    )
    out = []
    has_cust = agg["customers"].notna() & (agg["customers"] > 0)
    a = agg[has_cust]
    out.append(
        pd.DataFrame(
            {
                "unit_id": a.index,
                "source_ref": "complaint_rate_per_10k",
                "value": a["count"] / a["customers"] * 1e4,
                "n": a["count"],
                "se": np.sqrt(a["count"]) / a["customers"] * 1e4,
            }
        )
    )
    for ref, num, den in (
        ("on_time_rate", "on_time", "judged"),
        ("resolution_satisfaction", "satisfied", "answered"),
    ):
        b = agg[agg[den] > 0]
        p = b[num] / b[den]
        out.append(
            pd.DataFrame(
                {
                    "unit_id": b.index,
                    "source_ref": ref,
                    "value": p * 100,
                    "n": b[den],
                    "se": np.sqrt(p * (1 - p) / b[den]) * 100,
                }
            )
        )
    return pd.concat(out, ignore_index=True)[COLUMNS]
