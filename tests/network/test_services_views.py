"""The network read models' scope rules on a small hand-built organisation: a cell, an
alert or a maintenance window outside the principal's area is invisible or refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.domain.roles import ROLE_PERMISSIONS, Role
from sqm.services.network import views
from sqm.services.network.alerts import visible_alert
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, User
from sqm.store.models.network import NetworkAlert, NetworkCell

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
ENGINEER = Principal(
    1,
    "net.a",
    "",
    frozenset({Role.NETWORK_ENGINEER}),
    ("/1/2/",),
    ROLE_PERMISSIONS[Role.NETWORK_ENGINEER],
)


@pytest.fixture()
def session(sqlite_engine: Engine) -> Iterator[Session]:
    with Session(sqlite_engine) as s:
        s.add(OrgUnit(id=1, code="CO", name_zh="公司", kind="company", path="/1/"))
        s.add(OrgUnit(id=2, code="A", name_zh="甲", kind="city", path="/1/2/", parent_id=1))
        s.add(OrgUnit(id=3, code="B", name_zh="乙", kind="city", path="/1/3/", parent_id=1))
        s.add(User(id=1, username="net.a", password_hash="x"))
        s.flush()
        for pk, unit in ((1, 2), (2, 3)):
            s.add(
                NetworkCell(
                    id=pk,
                    cell_id=f"C{pk}",
                    site_id=f"S{pk}",
                    district="d",
                    city="c",
                    province="p",
                    tech="4G",
                    lat=23.1,
                    lon=113.3,
                    unit_id=unit,
                )
            )
            s.add(
                NetworkAlert(
                    id=pk,
                    dedup_key=f"r|drop_rate|S{pk}",
                    rule="r",
                    kpi="drop_rate",
                    site_id=f"S{pk}",
                    unit_id=unit,
                    cells=[f"C{pk}"],
                    status="open",
                    first_fired_at=T0,
                    last_seen_at=T0,
                )
            )
        s.flush()
        yield s


def test_cells_and_alerts_in_scope(session: Session) -> None:
    assert list(views.visible_cells(session, ENGINEER)["cell_id"]) == ["C1"]
    assert views.visible_scopes(session, ENGINEER) == {"C1", "S1"}
    mine = views.visible_cell(session, ENGINEER, 1)
    assert mine is not None and mine.unit.code == "A"
    assert views.visible_cell(session, ENGINEER, 2) is None
    assert views.visible_cell(session, ENGINEER, 99) is None
    assert visible_alert(session, ENGINEER, 1) is not None
    assert visible_alert(session, ENGINEER, 2) is None
    assert visible_alert(session, ENGINEER, 99) is None
    assert [a.id for a in views.alert_list(session, ENGINEER, "all")] == [1]
    with pytest.raises(RuleError, match="status"):
        views.alert_list(session, ENGINEER, "nonsense")


def test_maintenance_windows_only_on_visible_sites(session: Session) -> None:
    window = {"kpi": "", "starts_at": T0, "ends_at": T0.replace(hour=12), "reason": " swap "}
    with pytest.raises(RuleError, match="not a site or cell in your area"):
        views.add_silence(session, ENGINEER, scope="S2", **window)
    with pytest.raises(RuleError, match="ends_at"):
        views.add_silence(session, ENGINEER, scope="S1", **(window | {"ends_at": T0}))
    with pytest.raises(RuleError, match="catalogue"):
        views.add_silence(session, ENGINEER, scope="S1", **(window | {"kpi": "nope"}))
    made = views.add_silence(session, ENGINEER, scope=" S1 ", **window)
    assert (made.scope, made.kpi, made.reason) == ("S1", None, "swap")
    session.flush()
    assert [x.scope for x in views.visible_silences(session, ENGINEER)] == ["S1"]


def test_pages_without_counters_have_no_figures(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "_counters", lambda: None)
    ov = views.overview(session, ENGINEER, "city", "en")
    assert ov["has_data"] is False and ov["open_alerts"] == 1
    assert views.cell_map(session, ENGINEER, "drop_rate") is None
    assert views.worst_cells(session, ENGINEER, "rrc_setup_sr", "failures") == []
    with pytest.raises(RuleError):
        views.overview(session, ENGINEER, "planet", "en")
    with pytest.raises(RuleError):
        views.cell_map(session, ENGINEER, "nope")
    with pytest.raises(RuleError):
        views.crowd("3G", "China Mobile")
