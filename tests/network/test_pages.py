"""Network pages on the demo: every page renders for the network engineer, scope holds,
and an alert can be acknowledged with a comment and resolved."""

from __future__ import annotations

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
