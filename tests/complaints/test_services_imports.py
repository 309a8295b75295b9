"""Bulk import into the store (all or nothing) and category suggestion at intake."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sqm.domain.complaint_texts import generate
from sqm.domain.org import UnitKind
from sqm.ingest.complaints import read_complaint_table
from sqm.methods.text_classifier import train
from sqm.services.complaints import classifier as svc
from sqm.services.complaints import handling as ch
from sqm.services.complaints.imports import store_import
from sqm.store.models import Complaint, OrgUnit


def _unit(engine: Engine) -> str:
    with Session(engine) as s:
        code = s.scalar(
            select(OrgUnit.code).where(OrgUnit.kind == UnitKind.STORE).order_by(OrgUnit.id)
        )
        assert code is not None
        return code


def test_store_import_is_all_or_nothing_and_idempotent(demo_engine: Engine) -> None:
    unit = _unit(demo_engine)
    csv = (
        "source_id,channel,received_at,unit,subcategory,text,status,resolved_at,satisfaction\n"
        f"B-1,hotline,2026-11-02 10:00,{unit},billing.refund,退费没到账,resolved,2026-11-03 10:00,4\n"
        f"B-2,app,2026-11-02 11:00,{unit},network.slow_data,网速慢,,,\n"
    )
    with Session(demo_engine) as s:
        out = store_import(s, read_complaint_table(io.StringIO(csv)))
        s.commit()
        assert (out.created, out.already_known, out.errors) == (2, 0, [])
        again = store_import(s, read_complaint_table(io.StringIO(csv)))
        s.commit()
        assert (again.created, again.already_known) == (0, 2)
        c = s.scalar(select(Complaint).where(Complaint.source_id == "B-1"))
        assert c is not None and c.status == "resolved" and c.satisfaction == 4
    bad = csv + "B-3,web,2026-11-02 12:00,NO-SUCH,,x,,,\n"
    with Session(demo_engine) as s:
        out = store_import(
            s, read_complaint_table(io.StringIO(bad.replace("B-1", "C-1").replace("B-2", "C-2")))
        )
        s.commit()
        assert [(e.row, e.column) for e in out.errors] == [(4, "unit")]
        assert (
            s.scalar(
                select(func.count()).select_from(Complaint).where(Complaint.source_id.like("C-%"))
            )
            == 0
        )


@pytest.mark.slow
def test_intake_stores_a_suggestion_when_a_model_exists(
    demo_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    client_as: Callable[[str], TestClient],
) -> None:
    gs = list(generate(600, seed=5))
    svc.save(
        train([g.text for g in gs], [g.subcategory for g in gs]), tmp_path / svc.DEFAULT_PATH.name
    )
    monkeypatch.setenv("SQM_MODEL_DIR", str(tmp_path))
    with Session(demo_engine) as s:
        data = ch.ComplaintInput(
            "crm",
            "S-1",
            "hotline",
            datetime.now(UTC),
            _unit(demo_engine),
            "办的300兆宽带测速只有几十兆",
        )
        c, _ = ch.intake(s, data)
        assert c.suggested_subcategory is not None and c.suggested_subcategory.startswith(
            "broadband."
        )
        assert not c.category_confirmed and c.subcategory is None
    frag = client_as("handler").get(
        "/complaints/suggest", params={"text": "宽带三天两头断线，重启光猫也没用"}
    )
    assert frag.status_code == 200 and "broadband." in frag.text


def test_escalations_are_recorded_once_per_level(demo_engine: Engine) -> None:
    from zoneinfo import ZoneInfo

    from sqm.store.models import AuditEntry

    sh = ZoneInfo("Asia/Shanghai")
    with Session(demo_engine) as s:
        data = ch.ComplaintInput(
            "miit",
            "R-1",
            "regulator",
            datetime(2026, 11, 30, 10, tzinfo=sh),
            _unit(demo_engine),
            "申诉",
        )
        ch.intake(s, data)
        # regulator policy: 2 business hours to first response, warning at half of it
        levels = []
        for hh, mm in ((10, 30), (11, 30), (11, 45), (14, 0), (16, 0), (16, 30)):
            levels.append(
                [n.level for n in ch.escalate_due(s, datetime(2026, 11, 30, hh, mm, tzinfo=sh))]
            )
        assert levels == [[], ["team_lead"], [], ["manager"], ["director"], []]
        assert (
            s.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "escalate")
            )
            == 3
        )
