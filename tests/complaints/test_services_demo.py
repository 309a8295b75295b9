"""The demo step: a year of complaints with Chinese texts whose hotspots the scan finds,
and the indicator-system producer over them."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sqm.methods.complaint_measures import HotspotWindow, hotspots
from sqm.services.complaints.demo import HOTSPOTS
from sqm.services.complaints.indicators import complaint_values
from sqm.services.demo import DEMO_STEPS, run_demo
from sqm.store.models import Complaint, OrgUnit, Period


@pytest.mark.slow
def test_demo_complaints_and_indicator_values(sqlite_engine: Engine) -> None:
    steps = [
        s for s in DEMO_STEPS if s[1].startswith("sqm.services.demo:") and "evaluate" not in s[1]
    ]
    ctx = run_demo(
        sqlite_engine,
        steps=[*steps, ("complaints", "sqm.services.complaints.demo:build_demo_complaints")],
    )
    n = int(ctx.extra["complaints"])  # type: ignore[call-overload]
    assert 10_000 < n < 40_000
    with Session(sqlite_engine) as s:
        rows = s.execute(
            select(OrgUnit.code, Complaint.subcategory, Complaint.received_at, Complaint.text).join(
                OrgUnit, Complaint.unit_id == OrgUnit.id
            )
        ).all()
        df = pd.DataFrame(rows, columns=["unit", "category", "received_at", "text"])
        assert df["text"].str.contains(r"[\u4e00-\u9fff]").mean() > 0.99
        end = pd.Timestamp(ctx.periods[-1].end) + pd.Timedelta(days=1)
        h = hotspots(df, HotspotWindow.trailing(end, 21, 21 * 8))
        found = set(h.index[h["hotspot"]])
        expected = {(ctx.stores[i].code, code) for i, code, _ in HOTSPOTS}
        assert expected <= found
        assert len(found - expected) <= 2
        period = s.scalar(select(Period).where(Period.code == ctx.periods[-2].code))
        assert period is not None
        vals = complaint_values(s, period)
    assert set(vals["source_ref"]) == {
        "complaint_rate_per_10k",
        "on_time_rate",
        "resolution_satisfaction",
    }
    rate = vals[vals["source_ref"] == "complaint_rate_per_10k"]["value"]
    assert 2 < rate.median() < 20  # about 8 per 10,000 customers a month by construction
    share = vals[vals["source_ref"] != "complaint_rate_per_10k"]["value"]
    assert share.between(0, 100).all()
