"""Network pages on the demo: every page renders for the network engineer, scope holds,
and an alert can be acknowledged with a comment and resolved."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from conftest import make_client, sign_in
from sqm.store.models.network import NetworkAlert, NetworkCell

pytestmark = pytest.mark.slow  # builds the demo network once per session


def test_pages_render_for_the_network_engineer(network_demo: Engine) -> None:
    c = sign_in(make_client(network_demo), "netops")
    for url in (
        "/network",
        "/network?level=city",
        "/network/map?kpi=drop_rate",
        "/network/worst?kpi=rrc_setup_sr&rank_by=impact",
        "/network/alerts?status=all",
    ):
        r = c.get(url)
        assert r.status_code == 200, (url, r.text[:500])
    assert c.get("/network/map?kpi=nope").status_code in (400, 422)


def test_cell_page_and_alert_lifecycle(network_demo: Engine) -> None:
    with Session(network_demo) as s:
        alert = s.scalars(select(NetworkAlert).where(NetworkAlert.status == "open")).first()
        assert alert is not None
        cell = s.scalars(select(NetworkCell).where(NetworkCell.site_id == alert.site_id)).first()
        assert cell is not None
        alert_id, cell_pk = alert.id, cell.id
    c = sign_in(make_client(network_demo), "netops")
    page = c.get(f"/network/cells/{cell_pk}")
    assert page.status_code == 200 and cell.cell_id in page.text
    assert c.post(f"/network/alerts/{alert_id}/ack", data={"comment": ""}).status_code in (400, 422)
    r = c.post(f"/network/alerts/{alert_id}/ack", data={"comment": "crew on the way"})
    assert r.status_code == 303
    r = c.post(f"/network/alerts/{alert_id}/resolve", data={"note": "fixed"})
    assert r.status_code == 303
    with Session(network_demo) as s:
        a = s.get(NetworkAlert, alert_id)
        assert a is not None and a.status == "resolved" and a.ack_comment == "crew on the way"
        # (the demo's data lie a few days ahead of the clock, so order by entry, not time)
        assert [e.kind for e in sorted(a.events, key=lambda e: e.id)][-2:] == [
            "acknowledged",
            "resolved",
        ]


def test_store_manager_sees_only_own_cells(network_demo: Engine) -> None:
    # A Guangzhou store manager has no network permission: the pages are closed to them.
    c = sign_in(make_client(network_demo), "store.manager")
    assert c.get("/network").status_code in (403, 404)


def test_maintenance_window_from_the_alert_page(network_demo: Engine) -> None:
    with Session(network_demo) as s:
        site = s.scalars(select(NetworkCell.site_id)).first()
    c = sign_in(make_client(network_demo), "netops")
    form = {
        "scope": site,
        "kpi": "rrc_setup_sr",
        "starts_at": "2026-12-01T01:00",
        "ends_at": "2026-12-01T05:00",
        "reason": "antenna swap",
    }
    assert c.post("/network/silences", data=form).status_code == 303
    assert "antenna swap" in c.get("/network/alerts").text
    bad = dict(form, scope="NOT-A-SITE")
    assert c.post("/network/silences", data=bad).status_code in (400, 422)
    backwards = dict(form, ends_at="2026-11-30T00:00")
    assert c.post("/network/silences", data=backwards).status_code in (400, 422)


def test_crowd_comparison_page(network_demo: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import shared_data

    if not (shared_data() / "network" / "cn_crowd" / "5G.csv").exists():
        pytest.skip("shared/data/network is not beside the repository")
    monkeypatch.setenv("SQM_SHARED_DATA", str(shared_data()))
    c = sign_in(make_client(network_demo), "netops")
    r = c.get("/network/crowd?tech=5G&isp=China Telecom")
    assert r.status_code == 200 and "guangdongsheng" in r.text
    assert c.get("/network/crowd?tech=3G").status_code in (400, 422)


def test_cells_and_alerts_outside_the_scope_are_404(network_demo: Engine) -> None:
    """CellInScope and AlertInScope: a network engineer of Guangzhou gets 404 for a cell or
    an alert of another area (pages and the shared ack/resolve actions), a user without
    the permission 403 before any 404."""
    from datetime import UTC, datetime

    from sqm.domain.roles import Role
    from sqm.services.users import create_user, grant
    from sqm.store.models import OrgUnit

    with Session(network_demo) as s:
        gz = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
        assert gz is not None
        user = create_user(s, "net.gz", "sqm-test-pass-2026")
        grant(s, None, user, Role.NETWORK_ENGINEER, gz)
        rows = s.execute(
            select(NetworkCell.id, NetworkCell.site_id, NetworkCell.unit_id, OrgUnit.path).join(
                OrgUnit, OrgUnit.id == NetworkCell.unit_id
            )
        ).all()
        mine = next(r for r in rows if r.path.startswith(gz.path))
        foreign = next(r for r in rows if not r.path.startswith(gz.path))
        now = datetime(2026, 12, 1, tzinfo=UTC)
        alerts = {}
        for name, r in (("mine", mine), ("foreign", foreign)):
            a = NetworkAlert(
                dedup_key=f"test|drop_rate|{r.site_id}",
                rule="test",
                kpi="drop_rate",
                site_id=r.site_id,
                unit_id=r.unit_id,
                cells=[],
                status="open",
                first_fired_at=now,
                last_seen_at=now,
            )
            s.add(a)
            s.flush()
            alerts[name] = a.id
        s.commit()

    c = sign_in(make_client(network_demo), "net.gz", "sqm-test-pass-2026")
    assert c.get(f"/network/cells/{mine.id}").status_code == 200
    assert c.get(f"/network/cells/{foreign.id}").status_code == 404
    assert c.get("/network/cells/999999999").status_code == 404
    r = c.post(f"/network/alerts/{alerts['foreign']}/ack", data={"comment": "on it"})
    assert r.status_code == 404
    assert c.post(f"/network/alerts/{alerts['foreign']}/resolve").status_code == 404
    r = c.post(f"/network/alerts/{alerts['mine']}/ack", data={"comment": "on it"})
    assert r.status_code == 303
    with Session(network_demo) as s:
        foreign_alert = s.get(NetworkAlert, alerts["foreign"])
        mine_alert = s.get(NetworkAlert, alerts["mine"])
        assert foreign_alert is not None and foreign_alert.status == "open"
        assert mine_alert is not None and mine_alert.status == "acknowledged"

    sm = sign_in(make_client(network_demo), "store.manager")
    assert sm.get(f"/network/cells/{foreign.id}").status_code == 403
    r = sm.post(f"/network/alerts/{alerts['foreign']}/ack", data={"comment": "x"})
    assert r.status_code == 403


# ------------------------------------------------------------------ what the charts hold

_CHART = re.compile(r"data-chart='([^']*)'")


def _charts(page_html: str) -> list[dict[str, Any]]:
    """The chart specs a page draws (``data-chart`` attributes, as charts.js reads them)."""
    return [json.loads(html.unescape(m)) for m in _CHART.findall(page_html)]


def _gz_network_engineer(engine: Engine) -> str:
    """A network engineer over Guangzhou (user ``net.gz``); returns the unit's path."""
    from sqm.domain.roles import Role
    from sqm.services.users import create_user, grant
    from sqm.store.models import OrgUnit

    with Session(engine) as s:
        gz = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
        assert gz is not None
        user = create_user(s, "net.gz", "sqm-test-pass-2026")
        grant(s, None, user, Role.NETWORK_ENGINEER, gz)
        s.commit()
        return gz.path


def test_cell_page_charts_hold_only_that_cell(network_demo: Engine) -> None:
    """Issue 18: the cell page drew all 900 cells × 168 hours in each chart (13 MB). Each
    chart holds this cell's hours of the last week, with the values of this cell alone."""
    from sqm.config import get_settings
    from sqm.services.network.kpi import DuckDbKpiEngine, Grain, Level
    from sqm.services.network.views import CELL_KPIS

    with Session(network_demo) as s:
        cell = s.scalars(select(NetworkCell).order_by(NetworkCell.id)).first()
        assert cell is not None
        cell_pk, cell_id = cell.id, cell.cell_id
    r = sign_in(make_client(network_demo), "netops").get(f"/network/cells/{cell_pk}")
    assert r.status_code == 200
    assert len(r.content) < 200_000, len(r.content)
    charts = _charts(r.text)
    assert len(charts) == len(CELL_KPIS)

    # The same KPIs computed from this cell's counters alone (filtered before the engine).
    counters = pd.read_parquet(get_settings().network_dir / "counters")
    own = counters[counters["cell_id"] == cell_id].drop(columns=["day"], errors="ignore")
    end = pd.Timestamp(counters["ts"].max()).normalize() + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=7)
    engine = DuckDbKpiEngine(own)
    want = engine.kpis(CELL_KPIS, Level.CELL, Grain.HOUR, start=start, end=end)
    engine.close()
    assert set(want["unit"]) == {cell_id} and len(want) == 7 * 24
    labels = [t.strftime("%m-%d %H:00") for t in want["period"]]
    for spec, code in zip(charts, CELL_KPIS, strict=True):
        assert spec["labels"] == labels, code
        expected = [None if pd.isna(v) else round(float(v), 3) for v in want[code]]
        assert spec["values"] == pytest.approx(expected, nan_ok=True), code


def test_scoped_engineer_pages_hold_no_other_area(network_demo: Engine) -> None:
    """No chart or table of the network pages holds a cell, site or region outside the
    viewer's scope, and the worst-cell list ranks the viewer's own cells (it was the
    network's 30 worst, filtered afterwards: a Guangzhou engineer saw a handful)."""
    from sqm.services.network.views import MAP_KPIS, worst_kpis
    from sqm.store.models import OrgUnit

    gz_path = _gz_network_engineer(network_demo)
    with Session(network_demo) as s:
        rows = s.execute(
            select(
                NetworkCell.id,
                NetworkCell.cell_id,
                NetworkCell.site_id,
                NetworkCell.district,
                NetworkCell.city,
                NetworkCell.province,
                OrgUnit.path,
            ).join(OrgUnit, OrgUnit.id == NetworkCell.unit_id)
        ).all()
    mine = [r for r in rows if r.path.startswith(gz_path)]
    foreign = [r for r in rows if not r.path.startswith(gz_path)]
    assert mine and foreign
    foreign_ids = {r.cell_id for r in foreign} | {r.site_id for r in foreign}
    foreign_regions = set()
    for col in ("district", "city", "province"):
        foreign_regions |= {getattr(r, col) for r in foreign} - {getattr(r, col) for r in mine}

    c = sign_in(make_client(network_demo), "net.gz", "sqm-test-pass-2026")
    urls = [f"/network?level={lvl}" for lvl in ("province", "city", "district")]
    urls += [f"/network/map?kpi={k}" for k in MAP_KPIS]
    urls += [
        f"/network/worst?kpi={k}&rank_by={b}" for k in worst_kpis() for b in ("failures", "impact")
    ]
    urls += ["/network/alerts?status=all", f"/network/cells/{mine[0].id}"]
    for url in urls:
        r = c.get(url)
        assert r.status_code == 200, url
        leaked = {x for x in foreign_ids | foreign_regions if x in r.text}
        assert not leaked, (url, sorted(leaked)[:5])
        for spec in _charts(r.text):
            drawn = json.dumps(spec)
            assert not {x for x in foreign_ids | foreign_regions if x in drawn}, url

    overview = _charts(c.get("/network?level=district").text)
    assert overview and all(
        {s["name"] for s in spec["series"]} <= {r.district for r in mine} for spec in overview
    )
    points = _charts(c.get("/network/map?kpi=drop_rate").text)[0]["option"]["series"][0]["data"]
    assert {p[3] for p in points} <= {r.cell_id for r in mine} and points
    worst = c.get("/network/worst?kpi=rrc_setup_sr&rank_by=failures").text
    listed = {r.cell_id for r in mine if f">{r.cell_id}<" in worst}
    assert len(listed) == min(30, len(mine)), len(listed)
