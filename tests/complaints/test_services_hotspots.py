"""Network KPIs beside complaint hotspots: the same area (the unit's cells, else the nearest
enclosing area with values) and the same days (the hotspot's window, local days).

Counters are hand-built so every day's expected value is known: store A's two cells report
a drop rate of 0.5 % on even days and 1.5 % on odd days and a throughput of 40 + d/2 Mbit/s
on day d; cells of other stores report values far away (50 %, 5 Mbit/s), so taking a wrong
cell or a wrong day shows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.ingest.network.counters import MeasurementDataset
from sqm.services.complaints import alerts
from sqm.services.complaints.hotspots import HotspotArea, area_daily_kpis, complaints_per_day
from sqm.store.models import OrgUnit
from sqm.store.models.network import NetworkCell

from .alert_data import AS_OF, SH, add_complaints, burst, flat, stores_of

DAY0 = date(2026, 11, 1)
WINDOW = (date(2026, 11, 10), date(2026, 12, 1))
MISSING = date(2026, 11, 15)  # store A's cells sent nothing that day


def _counters(cells: dict[str, str]) -> pd.DataFrame:
    """Hourly counters from 1 Nov to 3 Dec; ``cells`` maps a cell to its pattern."""
    rows = []
    for d in range(33):
        day = DAY0 + timedelta(days=d)
        for h in range(24):
            ts = datetime.combine(day, datetime.min.time()) + timedelta(hours=h)
            for cell, kind in cells.items():
                if kind.startswith("A") and day == MISSING:
                    continue
                if kind == "A1":
                    abn, norm, vol = (
                        (1 if d % 2 == 0 else 3),
                        (99 if d % 2 == 0 else 97),
                        6000 + 100 * d,
                    )
                elif kind == "A2":
                    abn, norm, vol = 0, 100, 2000
                else:  # any other store: far from A's values
                    abn, norm, vol = 50, 50, 500
                rows.append(
                    {
                        "cell_id": cell,
                        "ts": ts,
                        "bearer_rel_abnormal": abn,
                        "bearer_rel_normal": norm,
                        "dl_thp_vol_kbit": vol,
                        "dl_thp_time_ms": 100,
                    }
                )
    frame = pd.DataFrame(rows)
    frame["ts"] = frame["ts"].astype("datetime64[us]")
    return frame


def _expected(day: date) -> tuple[float | None, float | None]:
    if day == MISSING:
        return None, None
    d = (day - DAY0).days
    drop = 0.5 if d % 2 == 0 else 1.5
    return drop, (6000 + 100 * d + 2000) / 200


def _setup(s: Session) -> dict[str, OrgUnit]:
    """Store A (two cells) and D in one Guangzhou district, B (one cell) in another
    district, Z in Zhejiang without cells anywhere near."""
    gz = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
    assert gz is not None
    gz_stores = list(
        s.scalars(
            select(OrgUnit)
            .where(OrgUnit.kind == UnitKind.STORE, OrgUnit.path.startswith(gz.path))
            .order_by(OrgUnit.path)
        )
    )
    a = gz_stores[0]
    d = next(x for x in gz_stores[1:] if x.parent_id == a.parent_id)
    b = next(x for x in gz_stores if x.parent_id != a.parent_id)
    z = s.scalar(
        select(OrgUnit)
        .where(OrgUnit.kind == UnitKind.STORE, OrgUnit.code.startswith("ZJ-"))
        .order_by(OrgUnit.id)
    )
    assert z is not None
    for cell, unit in (("A-1", a), ("A-2", a), ("B-1", b)):
        s.add(
            NetworkCell(
                cell_id=cell,
                site_id=unit.code,
                district="d",
                city="Guangzhou",
                province="Guangdong",
                tech="5G",
                band="n78",
                lat=23.1,
                lon=113.3,
                unit_id=unit.id,
            )
        )
    s.flush()
    return {"A": a, "B": b, "D": d, "Z": z}


COUNTERS = {"A-1": "A1", "A-2": "A2", "B-1": "B"}


def test_daily_kpis_are_of_the_hotspots_area_and_days(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        u = _setup(s)
        got = area_daily_kpis(
            s,
            [HotspotArea(u[k], *WINDOW) for k in ("A", "D", "B", "Z")],
            counters=_counters(COUNTERS),
        )
        a, d, b, z = got
        days = [WINDOW[0] + timedelta(days=i) for i in range(21)]
        assert a is not None and a.area.id == u["A"].id and not a.widened
        assert a.days == days and a.cells == 2
        assert a.values["drop_rate"] == [_expected(x)[0] for x in days]
        assert a.values["dl_user_thp"] == [_expected(x)[1] for x in days]
        # D has no cells: its district's cells (A's) stand in, and the page says so
        assert d is not None and d.widened and d.area.id == u["A"].parent_id
        assert d.values == a.values
        assert b is not None and set(b.values["drop_rate"]) == {50.0}
        assert z is None


def test_scope_limits_the_cells_used(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        u = _setup(s)
        (only_b,) = area_daily_kpis(
            s,
            [HotspotArea(u["D"], *WINDOW)],
            counters=_counters(COUNTERS),
            visible=OrgUnit.path.startswith(u["B"].path),
        )
        # A's cells are not visible: D's district has none left, the city has B's
        assert only_b is not None and only_b.area.kind == UnitKind.CITY
        assert set(only_b.values["drop_rate"]) == {50.0}


def test_complaints_are_counted_per_local_day(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        u = _setup(s)
        times = [
            datetime(2026, 11, 10, 5, 0, tzinfo=SH),  # 21:00 UTC on 9 Nov, but 10 Nov here
            datetime(2026, 11, 10, 23, 30, tzinfo=SH),  # 15:30 UTC, 10 Nov
            datetime(2026, 11, 11, 0, 30, tzinfo=SH),  # 16:30 UTC on 10 Nov, but 11 Nov here
            datetime(2026, 11, 30, 23, 59, tzinfo=SH),
            datetime(2026, 12, 1, 0, 1, tzinfo=SH),  # after the window
            datetime(2026, 11, 9, 23, 59, tzinfo=SH),  # before it
        ]
        add_complaints(s, u["A"].id, "network.slow_data", times)
        add_complaints(s, u["A"].id, "network.no_signal", times)  # another sub-category
        counts = complaints_per_day(s, u["A"].id, "network.slow_data", *WINDOW)
        assert len(counts) == 21 and sum(counts) == 4
        assert counts[0] == 2 and counts[1] == 1 and counts[-1] == 1
        by_cat = complaints_per_day(s, u["A"].id, "network", *WINDOW, by="category")
        assert sum(by_cat) == 8


def _chart(html: str, anchor: str) -> dict[str, object]:
    m = re.search(anchor + r".*?data-chart='([^']+)'", html, re.S)
    assert m, f"no chart after {anchor}"
    spec: dict[str, object] = json.loads(m.group(1).replace("&#39;", "'").replace("&#34;", '"'))
    return spec


def test_pages_show_the_chart_of_the_same_area_and_days(
    demo_engine: Engine,
    client_as: Callable[[str], TestClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQM_NETWORK_DIR", str(tmp_path / "network"))
    MeasurementDataset(tmp_path / "network" / "counters").append(_counters(COUNTERS))
    with Session(demo_engine) as s:
        u = _setup(s)
        flat(s, [u["A"], *stores_of(s, 9)], AS_OF)
        burst(s, u["A"], "network.slow_data", 12)
        (alert,) = alerts.watch(s, AS_OF).raised
        per_day = complaints_per_day(s, u["A"].id, "network.slow_data", *WINDOW)
        s.commit()
        alert_id, code = alert.id, u["A"].code
    days = [(WINDOW[0] + timedelta(days=i)).strftime("%m-%d") for i in range(21)]
    expected_drop = [_expected(WINDOW[0] + timedelta(days=i))[0] for i in range(21)]

    page = client_as("analyst").get(f"/complaints/alerts/{alert_id}")
    assert page.status_code == 200 and code in page.text
    spec = _chart(page.text, "Complaints per day|每日投诉量")
    option = spec["option"]
    assert isinstance(option, dict)
    assert option["xAxis"]["data"] == days
    bars, drop, thp = option["series"]
    assert bars["data"] == per_day and sum(per_day) == 6 + 12  # background + burst
    assert drop["data"] == expected_drop
    assert thp["data"][0] == _expected(WINDOW[0])[1]

    dash = client_as("analyst").get("/complaints/dashboard")
    assert dash.status_code == 200
    spec = _chart(dash.text, 'id="net-')
    option = spec["option"]
    assert isinstance(option, dict)
    assert option["xAxis"]["data"] == days
    assert option["series"][0]["data"] == per_day
    assert option["series"][1]["data"] == expected_drop
