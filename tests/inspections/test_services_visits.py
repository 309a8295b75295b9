"""Inspection use cases on a migrated database: scoring with the store's profile, appeal
deadline, overturn re-scoring, rectification closing, and the indicator-source producer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, select

from sqm.domain.checklist_template import template_checklist, template_profile
from sqm.methods.visit_score import compile_checklist, score_visits
from sqm.services.evaluation.sources import collect_values
from sqm.services.inspections import visits as iv
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, Period, User
from sqm.store.models.inspection import InspectionVisit


def _visit(s, unit: OrgUnit, period: Period, user: User) -> InspectionVisit:  # type: ignore[no-untyped-def]
    row = iv.ensure_template_checklist(s)
    v = InspectionVisit(
        checklist_id=row.id,
        unit_id=unit.id,
        period_id=period.id,
        inspector_id=user.id,
        team=[user.id],
        planned_date=date(2026, 11, 10),
        answers={},
        item_notes={},
        overturned=[],
        section_scores={},
        vetoed=[],
        review_reasons=[],
        status="draft",
    )
    s.add(v)
    s.flush()
    return v


def _answers(fail: dict[str, float] | None = None) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        it.code: float(it.scale_max) for it in template_checklist().items()
    }
    out.update(fail or {})
    return out


def test_submit_review_appeal_and_producer(demo_engine: Engine) -> None:
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        store = s.scalar(select(OrgUnit).where(OrgUnit.kind == "store").order_by(OrgUnit.id))
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        insp = s.scalar(select(User).where(User.username == "inspector01"))
        analyst = s.scalar(select(User).where(User.username == "analyst"))
        assert store and period and insp and analyst
        v = _visit(s, store, period, insp)
        fail = {"no_idling": 0.0, "farewell": 0.0, "seats": None}
        start = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
        with pytest.raises(iv.InspectionError, match="note is required"):
            iv.submit_visit(
                s,
                v,
                _answers(fail),
                started_at=start,
                ended_at=start + timedelta(minutes=40),
                checkin=(store.lat or 0, store.lon or 0),
            )
        iv.submit_visit(
            s,
            v,
            _answers(fail),
            started_at=start,
            ended_at=start + timedelta(minutes=40),
            checkin=(store.lat or 0, store.lon or 0),
            item_notes={"no_idling": "店员玩手机"},
        )
        assert v.status == "submitted" and v.review_reasons == []
        # the score equals the method applied with the store's own profile; 2026-11 lies in
        # the mature stage of the demo's indicator system (it starts at 2026-06)
        cl = template_checklist()
        lay = compile_checklist(cl)
        assert iv.stage_for(s, store, period) == "mature"
        prof = iv.profile_for(cl, store, iv.tier_medians(s), stage="mature")
        assert v.profile_code == prof.code
        a = np.array(
            [[np.nan if _answers(fail)[c] is None else _answers(fail)[c] for c in lay.item_codes]]
        )
        assert v.total == pytest.approx(round(float(score_visits(lay, a, prof).total[0]), 2))
        assert v.vetoed == ["service_norms"]
        reviewed = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
        tasks = iv.review_visit(
            s, v, accept=True, reviewer_id=analyst.id, today=reviewed.date(), now=reviewed
        )
        assert {t.item_code for t in tasks} == {"no_idling", "farewell"}
        # appeal: not a finding, too late, then in time
        with pytest.raises(iv.InspectionError, match="not a finding"):
            iv.raise_appeal(s, v, "greet_on_entry", analyst.id, "x", today=reviewed.date())
        assert v.reviewed_at is not None
        late = v.reviewed_at.date() + timedelta(days=iv.APPEAL_DAYS + 1)
        with pytest.raises(iv.InspectionError, match="deadline"):
            iv.raise_appeal(s, v, "no_idling", analyst.id, "x", today=late)
        ap = iv.raise_appeal(
            s, v, "no_idling", analyst.id, "录像显示未玩手机", today=v.reviewed_at.date()
        )
        before = v.total
        iv.decide_appeal(s, ap, overturn=True, user_id=analyst.id)
        assert v.total is not None and before is not None and v.total > before and v.vetoed == []
        with pytest.raises(iv.InspectionError, match="already decided"):
            iv.decide_appeal(s, ap, overturn=False, user_id=analyst.id)
        t = next(t for t in tasks if t.item_code == "farewell")
        with pytest.raises(iv.InspectionError, match="note"):
            iv.close_rectification(s, t, " ")
        iv.close_rectification(s, t, "已培训")
        assert t.status == "closed"
        s.flush()
        # the indicator system reads section scores and the basic-norm veto
        vals = collect_values(s, period)
        mine = vals[(vals["unit_id"] == store.id) & (vals["source"] == "inspection_item")]
        refs = dict(zip(mine["source_ref"], mine["value"], strict=True))
        assert refs["veto:basic_norms"] == 1.0  # overturned: no violation left
        assert refs["section:service_awareness"] == pytest.approx(
            v.section_scores["service_awareness"]
        )
        assert "section:environment" in refs and "section:retention" in refs


def test_competitor_profile_and_traffic_classes() -> None:
    cl = template_checklist()
    comp = OrgUnit(code="C", name_zh="竞", name_en="C", kind="competitor_store", traffic=100)
    p = iv.profile_for(cl, comp, {"first_level": 4500.0})
    assert p.tier == "first_level" and p.traffic == "low"
    big = OrgUnit(
        code="B", name_zh="大", name_en="B", kind="store", tier="supermarket", traffic=9000
    )
    assert iv.traffic_class(big, {"supermarket": 2500.0}) == "high"
    got = iv.profile_for(cl, big, {"supermarket": 2500.0})
    want = template_profile("supermarket", traffic="high", in_province=None)
    assert got.indicator_weights == want.indicator_weights


def test_profile_from_ahp_and_importance() -> None:
    from sqm.methods.weights import ahp

    cl = template_checklist()
    base = template_profile("first_level", stage="mature")
    n = len(cl.sections)
    # service sections twice as important as marketing ones: a consistent matrix
    imp = np.array([2.0] * 5 + [1.0] * 3)
    m = imp[:, None] / imp[None, :]
    prof = iv.profile_from_ahp(base, cl, m)
    sw = prof.section_weights(cl)
    ref = np.asarray(ahp(m).weights, dtype=float)
    assert [sw[s.code] for s in cl.sections] == pytest.approx(ref.tolist())
    assert sw["service_result"] == pytest.approx(2 / 13)
    bad = np.ones((n, n))
    bad[0, 1], bad[1, 0] = 9.0, 1 / 9
    bad[1, 2], bad[2, 1] = 9.0, 1 / 9
    bad[0, 2], bad[2, 0] = 1 / 9, 9.0
    with pytest.raises(iv.InspectionError, match="inconsistent"):
        iv.profile_from_ahp(base, cl, bad)
    blended = iv.profile_from_importance(base, cl, {"efficiency": 3.0, "affinity": 1.0}, alpha=0.5)
    assert sum(blended.indicator_weights.values()) == pytest.approx(1.0)
    assert blended.indicator_weights["efficiency"] == pytest.approx(
        0.5 * base.indicator_weights["efficiency"] + 0.5 * 0.75
    )


def test_publish_versions_and_audit_trail(demo_engine: Engine) -> None:
    from sqm.store.audit import Actor, acting_as
    from sqm.store.models import AuditEntry

    factory = make_sessionmaker(demo_engine)
    with acting_as(Actor(None, "test")), factory() as s:
        first = iv.ensure_template_checklist(s)
        cl = iv.checklist_of(first)
        second = iv.publish_checklist(s, cl.model_copy(update={"pass_mark": 70.0}))
        assert (first.version, second.version) == (1, 2)
        assert iv.checklist_of(second).pass_mark == 70.0
        assert iv.checklist_of(first).pass_mark == 60.0  # old visits keep their version
        s.commit()
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "inspection_checklist")
        ).all()
        assert {e.entity_id for e in entries} >= {str(first.id), str(second.id)}


def test_submit_answers_inspector_day_report_and_queues(demo_engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The use cases the phone form and the API share, and the read models of the pages."""
    import io

    from PIL import Image

    from sqm.services.scope import load_principal
    from sqm.store.models.inspection import InspectionPlanEntry

    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        store = s.scalar(
            select(OrgUnit).where(OrgUnit.kind == "store", OrgUnit.code.like("GD-GZ-%"))
        )
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        insp = s.scalar(select(User).where(User.username == "inspector01"))
        analyst = s.scalar(select(User).where(User.username == "analyst"))
        mgr = s.scalar(select(User).where(User.username == "area.gz"))
        assert store and period and insp and analyst and mgr
        day = date(2026, 11, 10)
        entry = InspectionPlanEntry(
            period_id=period.id,
            unit_id=store.id,
            inspector_id=insp.id,
            planned_date=day,
            visit_key=f"{store.code}@{day}",
        )
        s.add(entry)
        s.flush()
        todo = iv.inspector_day(s, insp.id, day)
        assert [e.id for e in todo.todays] == [entry.id] and todo.later == [] and not todo.drafts
        v = iv.open_planned_visit(s, entry, insp.id)
        assert iv.inspector_day(s, insp.id, day).drafts == {entry.visit_key: v}
        # evidence: images only, kept by content hash outside the database
        buf = io.BytesIO()
        Image.new("RGB", (16, 16), (0, 90, 200)).save(buf, format="PNG")
        with pytest.raises(iv.InspectionError, match="photo or receipt"):
            iv.add_evidence(
                s,
                v,
                b"MZ",
                root=tmp_path,
                filename="x.exe",
                content_type="application/x",
                kind="photo",
                item_code=None,
                user_id=insp.id,
            )
        ev = iv.add_evidence(
            s,
            v,
            buf.getvalue(),
            root=tmp_path,
            filename="../../shelf.png",
            content_type="image/png",
            kind="photo",
            item_code="clean_tidy",
            user_id=insp.id,
        )
        assert ev.filename == "shelf.png" and (tmp_path / ev.sha256).read_bytes() == buf.getvalue()
        assert iv.evidence_file(tmp_path, ev) == tmp_path / ev.sha256
        assert iv.visit_evidence(s, v) == [ev]
        # answers that do not fit the checklist are refused with the codes named
        start = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
        bad = dict(_answers())
        del bad["greet_on_entry"]
        bad["free_coffee"] = 1.0
        with pytest.raises(iv.InspectionError) as exc:
            iv.submit_answers(
                s,
                v,
                iv.Submission(bad, start),
                inspector_id=insp.id,
                now=start + timedelta(hours=1),
            )
        assert exc.value.details == {"unknown": ["free_coffee"], "unanswered": ["greet_on_entry"]}
        assert "1 item(s) not answered: greet_on_entry" in str(exc.value)
        sub = iv.Submission(
            _answers({"farewell": 0.0}),
            start,
            checkin=(store.lat or 0.0, store.lon or 0.0),
        )
        iv.submit_answers(s, v, sub, inspector_id=insp.id, now=start + timedelta(minutes=40))
        assert v.status == "submitted" and v.ended_at == start + timedelta(minutes=40)
        assert entry.status == "done"
        with pytest.raises(iv.InspectionError, match="only drafts"):
            iv.submit_answers(s, v, sub, inspector_id=insp.id)
        # the review queue is the reviewer's, in scope
        everyone = load_principal(s, analyst.id)
        area = load_principal(s, mgr.id)
        assert everyone is not None and area is not None
        assert v in iv.review_queue(s, everyone).visits
        rep = iv.visit_report(s, everyone, v, day)
        assert rep.can_review and rep.can_decide and not rep.can_appeal
        assert [it.code for it in rep.findings] == ["farewell"] and rep.evidence == [ev]
        iv.review_visit(s, v, accept=True, reviewer_id=analyst.id, today=day, now=start)
        # the area manager may appeal within APPEAL_DAYS of the review, not after
        assert iv.visit_report(s, area, v, day).can_appeal
        late = day + timedelta(days=iv.APPEAL_DAYS + 1)
        assert not iv.visit_report(s, area, v, late).can_appeal
        tasks = iv.rectification_tasks(s, area, "open", store=store.code)
        assert [t.item_code for t in tasks] == ["farewell"]
        assert iv.rectification_tasks(s, area, "closed") == []
        listed = iv.list_visits(s, area, period="2026-11")
        assert v in listed.visits and listed.total >= 1 and listed.periods[v.period_id] == "2026-11"
        assert listed.users[insp.id].username == "inspector01"
        with pytest.raises(iv.InspectionError, match="no period"):
            iv.list_visits(s, area, period="2031-01")
        s.rollback()
