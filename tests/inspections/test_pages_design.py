"""Inspection design through the real app: editing checklist versions (in place without visits,
a new version with visits, nothing written on a bad form), who may edit, and weight profiles
set by hand, by AHP (a consistent matrix and Saaty's published drinks example) and from the
customer survey — each checked against figures computed by hand."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from html.parser import HTMLParser

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from conftest import CHROMIUM
from sqm.domain.checklist_template import ProfileKey
from sqm.services.inspections import visits as iv
from sqm.store.engine import make_sessionmaker
from sqm.store.models import AuditEntry, OrgUnit, Period, WeightProfile
from sqm.store.models.indicator import ProfileKind
from sqm.store.models.inspection import InspectionChecklist, InspectionPlanEntry, InspectionVisit

from .conftest import ARGS, NOW, TODAY, sign_in_page

Client = Callable[[str], TestClient]
FormData = dict[str, list[str]]
PARTNER = "partner.in.early.normal"
#: The checklists' weight profiles (the demo's indicator-system profiles share the table).
CHECKLIST_PROFILES = select(WeightProfile).where(WeightProfile.kind == ProfileKind.CHECKLIST)
N_CHECKLIST_PROFILES = select(func.count()).select_from(CHECKLIST_PROFILES.subquery())


class _FormScraper(HTMLParser):
    """The fields a browser would submit from one form (outside <template> elements)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.in_template = form_id, False, 0
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if tag == "template":
            self.in_template += 1
        if not self.inside or self.in_template or "name" not in a:
            if tag == "option" and self._select is not None and "selected" in a:
                self.fields.append((self._select, a.get("value", "")))
            return
        if tag == "input":
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.in_template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text))
            self._textarea = None
        elif tag == "form" and self.inside:
            self.inside = False


def scrape(html: str, form_id: str) -> FormData:
    p = _FormScraper(form_id)
    p.feed(html)
    out: FormData = {}
    for k, v in p.fields:
        out.setdefault(k, []).append(v)
    return out


def add_node(form: FormData, key: str, level: str, parent: str, **fields: str | list[str]) -> None:
    form["node"].append(key)
    form[f"{key}.level"] = [level]
    form[f"{key}.parent"] = [parent]
    for k, v in fields.items():
        form[f"{key}.{k}"] = v if isinstance(v, list) else [v]


def editor(c: TestClient, cid: int) -> FormData:
    r = c.get(f"/inspections/checklists/{cid}/edit")
    assert r.status_code == 200, r.text[:300]
    form = scrape(r.text, "checklist-editor")
    assert form["node"] and form["csrf_token"]
    return form


def checklist_row(engine: Engine, version: int = 1) -> tuple[int, str]:
    with make_sessionmaker(engine)() as s:
        row = s.scalar(select(InspectionChecklist).where(InspectionChecklist.version == version))
        if row is None:
            row = iv.ensure_template_checklist(s)
            s.commit()
        return row.id, json_of(row)


def json_of(row: InspectionChecklist) -> str:
    import json

    return json.dumps(row.definition, sort_keys=True)


def audit_count(engine: Engine) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.scalar(select(func.count(AuditEntry.id))) or 0)


# ------------------------------------------------------------------ checklists


def test_list_view_and_unchanged_save(app_client: Client, demo_engine: Engine) -> None:
    cid, _ = checklist_row(demo_engine)
    analyst = app_client("analyst")
    page = analyst.get("/inspections/checklists")
    assert page.status_code == 200 and "mystery_shopping" in page.text and "v1" in page.text
    view = analyst.get(f"/inspections/checklists/{cid}")
    assert view.status_code == 200 and "greet_on_entry" in view.text and "主动迎宾" in view.text
    r = analyst.post(f"/inspections/checklists/{cid}/edit", data=editor(analyst, cid))
    assert r.status_code == 303 and "saved=unchanged" in r.headers["location"]


def test_edit_without_visits_updates_the_version_in_place(
    app_client: Client, demo_engine: Engine
) -> None:
    cid, _ = checklist_row(demo_engine)
    analyst = app_client("analyst")
    form = editor(analyst, cid)
    # the first section's first item (greet_on_entry) gets a new English text
    assert form["s0i0t0.code"] == ["greet_on_entry"]
    form["s0i0t0.text_en"] = ["Greets the customer within 3 seconds"]
    # a new 0–4 scale item with a photo under 人员形象 (s1i0), N/A allowed
    add_node(
        form,
        "nbadge",
        "item",
        "s1i0",
        code="badge_readable",
        text_zh="工牌字迹清晰可读",
        text_en="Name badge is readable",
        kind="scale",
        scale_max="4",
        points="2",
        na_allowed="1",
        evidence=["photo"],
    )
    r = analyst.post(f"/inspections/checklists/{cid}/edit", data=form)
    assert r.status_code == 303, r.text[:2000]
    assert r.headers["location"].startswith(f"/inspections/checklists/{cid}?saved=same")
    with make_sessionmaker(demo_engine)() as s:
        rows = s.scalars(select(InspectionChecklist)).all()
        assert [x.version for x in rows] == [1]
        cl = iv.checklist_of(rows[0])
        item = cl.item("badge_readable")
        assert (item.kind, item.scale_max, item.points, item.na_allowed) == ("scale", 4, 2.0, True)
        assert item.evidence == frozenset({"photo"})
        assert cl.item_codes()[cl.item_codes().index("grooming") + 1] == "badge_readable"
        assert cl.item("greet_on_entry").text_en == "Greets the customer within 3 seconds"
        trail = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "inspection_checklist")
        ).all()
        changes = {(e.action, e.username) for e in trail if e.action != "create"}
        assert ("edit", "analyst") in changes and {u for _, u in changes} == {"analyst"}
    assert "badge_readable" in analyst.get(f"/inspections/checklists/{cid}").text


def test_a_large_checklist_saves_in_one_form(app_client: Client, demo_engine: Engine) -> None:
    """A real checklist may hold a hundred items or more: the editor's single form then has
    well over the 1,000 fields a form parser allows by default."""
    cid, _ = checklist_row(demo_engine)
    analyst = app_client("analyst")
    form = editor(analyst, cid)
    for k in range(80):
        add_node(
            form,
            f"extra{k}",
            "item",
            "s4i3",  # 整体服务感受
            code=f"extra_{k}",
            text_zh=f"补充检查项 {k}",
            text_en=f"Extra item {k}",
            kind="yes_no",
            scale_max="1",
            points="1",
        )
    assert sum(len(v) for v in form.values()) > 1500
    r = analyst.post(f"/inspections/checklists/{cid}/edit", data=form)
    assert r.status_code == 303, r.text[:500]
    with make_sessionmaker(demo_engine)() as s:
        cl = iv.checklist_of(s.get(InspectionChecklist, cid))
        assert len(cl.items()) == 48 + 80 and cl.item("extra_79").text_en == "Extra item 79"


def test_saving_a_version_with_visits_makes_the_next_one(
    app_client: Client, demo_engine: Engine, planned: dict[str, int]
) -> None:
    insp = app_client("inspector01")
    r = insp.post(
        f"/inspections/plan/{planned['entry']}/start",
        data={"csrf_token": insp.headers["X-CSRF-Token"]},
    )
    first_visit = int(re.findall(r"/inspections/visits/(\d+)/form", r.headers["location"])[0])
    cid, before = checklist_row(demo_engine)
    analyst = app_client("analyst")
    # an edited weight profile on v1 follows to v2 (same indicators)
    form = analyst.get(f"/inspections/weights/{cid}/{PARTNER}")
    manual = scrape(form.text, "manual-form")
    assert (
        analyst.post(f"/inspections/weights/{cid}/{PARTNER}/manual", data=manual).status_code == 303
    )
    form = editor(analyst, cid)
    key = next(k for k in form["node"] if form.get(f"{k}.code") == ["farewell"])
    form[f"{key}.critical"] = ["1"]
    r = analyst.post(f"/inspections/checklists/{cid}/edit", data=form)
    assert r.status_code == 303, r.text[:2000]
    assert "saved=new" in r.headers["location"] and "carried=1" in r.headers["location"]
    new_id = int(re.findall(r"/inspections/checklists/(\d+)", r.headers["location"])[0])
    assert new_id != cid
    with make_sessionmaker(demo_engine)() as s:
        old, new = s.get(InspectionChecklist, cid), s.get(InspectionChecklist, new_id)
        assert old is not None and new is not None
        assert (old.version, new.version) == (1, 2)
        assert json_of(old) == before  # visits keep their version, unchanged
        assert iv.checklist_of(new).item("farewell").critical
        assert not iv.checklist_of(old).item("farewell").critical
        v = s.get(InspectionVisit, first_visit)
        assert v is not None and v.checklist_id == cid
        carried = s.scalars(CHECKLIST_PROFILES.where(WeightProfile.checklist_id == new_id)).all()
        assert len(carried) == 1 and carried[0].inputs["carried_over_from"] == 1
        # the next visit started is filled against v2
        other = s.scalars(
            select(OrgUnit).where(OrgUnit.kind == "store", OrgUnit.id != planned["store"])
        ).first()
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        assert other is not None and period is not None
        e = InspectionPlanEntry(
            period_id=period.id,
            unit_id=other.id,
            inspector_id=v.inspector_id,
            planned_date=TODAY,
            visit_key=f"{other.code}@{TODAY}",
        )
        s.add(e)
        s.commit()
        eid = e.id
    r = insp.post(
        f"/inspections/plan/{eid}/start", data={"csrf_token": insp.headers["X-CSRF-Token"]}
    )
    second = int(re.findall(r"/inspections/visits/(\d+)/form", r.headers["location"])[0])
    with make_sessionmaker(demo_engine)() as s:
        v2 = s.get(InspectionVisit, second)
        assert v2 is not None and v2.checklist_id == new_id


def test_a_bad_checklist_is_refused_and_nothing_is_written(
    app_client: Client, demo_engine: Engine
) -> None:
    cid, before = checklist_row(demo_engine)
    analyst = app_client("analyst")
    form = editor(analyst, cid)
    n_audit = audit_count(demo_engine)
    form["s0i0t0.text_en"] = ["   "]  # bilingual texts: English missing
    form["s0i0t1.code"] = ["greet_on_entry"]  # duplicate code
    form["s0i1t0.veto"] = ["1"]  # smile_eye_contact is a 0–3 scale: veto needs yes/no
    form["s0i1t1.points"] = ["lots"]
    add_node(form, "lonely", "indicator", "s2", code="empty_one", name_zh="空", name_en="Empty")
    add_node(form, "orphan", "item", "nowhere", code="x1", text_zh="x", text_en="x", kind="yes_no")
    r = analyst.post(f"/inspections/checklists/{cid}/edit", data=form)
    assert r.status_code == 422
    text = r.text
    assert 'id="editor-errors"' in text
    for node in ("s0i0t0", "s0i1t0", "s0i1t1", "lonely", "orphan"):
        assert f"<code>{node}</code>" in text, node
    assert "veto items must be yes/no" in text and "must be a number" in text
    assert "needs at least one item" in text and "belongs under a indicator" in text
    # the form comes back as sent (the new indicator is still there)
    assert 'name="lonely.code" value="empty_one"' in text
    # fix everything but the duplicate: the uniqueness rule of the whole tree speaks
    form["s0i0t0.text_en"] = ["Greets"]
    form["s0i1t0.veto"] = []
    form["s0i1t1.points"] = ["1"]
    form["node"] = [k for k in form["node"] if k not in ("lonely", "orphan")]
    r = analyst.post(f"/inspections/checklists/{cid}/edit", data=form)
    assert r.status_code == 422 and "codes must be unique" in r.text
    with make_sessionmaker(demo_engine)() as s:
        rows = s.scalars(select(InspectionChecklist)).all()
        assert len(rows) == 1 and json_of(rows[0]) == before
    assert audit_count(demo_engine) == n_audit
    # someone else saved meanwhile: the stale editor gets a conflict
    fresh = editor(analyst, cid)
    fresh["name_en"] = ["Renamed"]
    assert analyst.post(f"/inspections/checklists/{cid}/edit", data=fresh).status_code == 303
    form["s0i0t1.code"] = ["ask_needs"]
    assert analyst.post(f"/inspections/checklists/{cid}/edit", data=form).status_code == 409


def test_store_managers_and_inspectors_cannot_edit(app_client: Client, demo_engine: Engine) -> None:
    cid, before = checklist_row(demo_engine)
    form = editor(app_client("analyst"), cid)
    for user in ("store.manager", "inspector01"):
        c = app_client(user)
        assert c.get(f"/inspections/checklists/{cid}/edit").status_code == 403
        form["csrf_token"] = [c.headers["X-CSRF-Token"]]
        form["name_en"] = [f"by {user}"]
        assert c.post(f"/inspections/checklists/{cid}/edit", data=form).status_code == 403
        tok = {"csrf_token": c.headers["X-CSRF-Token"], "active": "0"}
        assert c.post(f"/inspections/checklists/{cid}/active", data=tok).status_code == 403
        weights = {f"w_{k}": "5" for k in ("initiative", "affinity")}
        weights["csrf_token"] = c.headers["X-CSRF-Token"]
        r = c.post(f"/inspections/weights/{cid}/{PARTNER}/manual", data=weights)
        assert r.status_code == 403
    # a store manager may read the standard they are checked against; an inspector has the
    # form of each visit instead
    assert app_client("store.manager").get("/inspections/checklists").status_code == 200
    assert app_client("inspector01").get("/inspections/checklists").status_code == 403
    with make_sessionmaker(demo_engine)() as s:
        assert [json_of(r) for r in s.scalars(select(InspectionChecklist))] == [before]
        assert s.scalar(N_CHECKLIST_PROFILES) == 0


def test_the_last_active_version_cannot_retire(app_client: Client, demo_engine: Engine) -> None:
    cid, _ = checklist_row(demo_engine)
    analyst = app_client("analyst")
    r = analyst.post(
        f"/inspections/checklists/{cid}/active",
        data={"csrf_token": analyst.headers["X-CSRF-Token"], "active": "0"},
    )
    assert r.status_code == 409


# ------------------------------------------------------------------ weights


def test_weights_by_hand_move_the_visit_score(
    app_client: Client, demo_engine: Engine, planned: dict[str, int]
) -> None:
    cid, _ = checklist_row(demo_engine)
    with make_sessionmaker(demo_engine)() as s:
        store = s.get(OrgUnit, planned["store"])
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        assert store is not None and period is not None
        # 2026-11 is in the demo indicator system's mature stage
        assert iv.stage_for(s, store, period) == "mature"
        key = iv.profile_key(store, iv.tier_medians(s), "mature")
        indicators = [i.code for i in iv.checklist_of(s.get(InspectionChecklist, cid)).indicators()]
    assert len(indicators) == 22
    analyst = app_client("analyst")
    page = analyst.get(f"/inspections/weights/{cid}/{key.slug}")
    assert page.status_code == 200
    assert 'id="profile-chart"' in page.text and "/static/vendor/echarts.min.js" in page.text
    assert 'id="weight-sum"' in page.text
    # 79 % on 服务主动性, 1 % on each of the 21 others
    form = {f"w_{k}": ("79" if k == "initiative" else "1") for k in indicators}
    form["csrf_token"] = analyst.headers["X-CSRF-Token"]
    # not 100: refused, nothing written
    bad = {**form, "w_affinity": "0.5"}
    r = analyst.post(f"/inspections/weights/{cid}/{key.slug}/manual", data=bad)
    assert r.status_code == 422 and "99.50" in r.text
    r = analyst.post(f"/inspections/weights/{cid}/{key.slug}/manual", data={**form, "note": "试行"})
    assert r.status_code == 303
    with make_sessionmaker(demo_engine)() as s:
        rows = s.scalars(CHECKLIST_PROFILES).all()
        assert len(rows) == 1
        p = rows[0]
        assert (p.method, p.active, p.note, p.created_by.username if p.created_by else None) == (
            "manual",
            True,
            "试行",
            "analyst",
        )
        assert p.checklist_weights["initiative"] == pytest.approx(0.79)
        assert p.checklist_weights["affinity"] == pytest.approx(0.01)
        trail = s.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "weight_profile", AuditEntry.entity_id == str(p.id)
            )
        ).all()
        assert trail and {e.username for e in trail} == {"analyst"}
    shown = analyst.get(f"/inspections/weights/{cid}/{key.slug}").text
    assert "79.00%" in shown and "试行" in shown
    # a visit that fails every item of 服务主动性 and passes the rest scores 0·0.79 + 100·0.21
    insp = app_client("inspector01")
    r = insp.post(
        f"/inspections/plan/{planned['entry']}/start",
        data={"csrf_token": insp.headers["X-CSRF-Token"]},
    )
    vid = int(re.findall(r"/inspections/visits/(\d+)/form", r.headers["location"])[0])
    with make_sessionmaker(demo_engine)() as s:
        cl = iv.checklist_of(s.get(InspectionChecklist, cid))
    answers = {
        f"a_{it.code}": "0"
        if it.code in ("greet_on_entry", "ask_needs", "offer_help")
        else str(it.scale_max)
        for it in cl.items()
    }
    from datetime import timedelta

    answers.update(
        csrf_token=insp.headers["X-CSRF-Token"],
        started_at=(NOW - timedelta(minutes=30)).isoformat(),
        checkin_lat=str(planned["lat"]),
        checkin_lon=str(planned["lon"]),
    )
    assert insp.post(f"/inspections/visits/{vid}/submit", data=answers).status_code == 303
    with make_sessionmaker(demo_engine)() as s:
        v = s.get(InspectionVisit, vid)
        assert v is not None and v.status == "submitted"
        assert v.total == pytest.approx(21.0)
        assert v.profile_code is not None and v.profile_code.endswith(f"{key.slug}@{p.id}")
    # back to the template: the history keeps the manual row
    r = analyst.post(
        f"/inspections/weights/{cid}/{key.slug}/reset",
        data={"csrf_token": analyst.headers["X-CSRF-Token"]},
    )
    assert r.status_code == 303
    with make_sessionmaker(demo_engine)() as s:
        assert [x.active for x in s.scalars(CHECKLIST_PROFILES)] == [False]


def _ahp_form(c: TestClient, upper: dict[tuple[int, int], str], note: str = "") -> dict[str, str]:
    form = {f"a{i}_{j}": v for (i, j), v in upper.items()}
    form["csrf_token"] = c.headers["X-CSRF-Token"]
    form["note"] = note
    return form


def test_ahp_consistent_matrix_gives_the_ratios_by_hand(
    app_client: Client, demo_engine: Engine
) -> None:
    cid, _ = checklist_row(demo_engine)
    analyst = app_client("analyst")
    # priorities 9:3:3:1:1:1:1:1 over the 8 sections as a perfectly consistent matrix
    w = [9, 3, 3, 1, 1, 1, 1, 1]
    upper = {}
    for i in range(8):
        for j in range(i + 1, 8):
            q = w[i] / w[j]
            upper[(i, j)] = str(int(q)) if q >= 1 else f"1/{round(1 / q)}"
    preview = analyst.post(
        f"/inspections/weights/{cid}/{PARTNER}/ahp/preview", data=_ahp_form(analyst, upper)
    )
    assert preview.status_code == 200
    assert '<span id="ahp-cr">0.000</span>' in preview.text
    assert 'data-ahp-weight="service_awareness">45.0%' in preview.text
    r = analyst.post(
        f"/inspections/weights/{cid}/{PARTNER}/ahp", data=_ahp_form(analyst, upper, "AHP 试算")
    )
    assert r.status_code == 303
    with make_sessionmaker(demo_engine)() as s:
        p = s.scalar(CHECKLIST_PROFILES)
        assert p is not None and p.method == "ahp"
        assert p.inputs["cr"] == pytest.approx(0.0, abs=1e-9)
        assert p.inputs["matrix"][0][1] == 3.0 and p.inputs["matrix"][1][0] == pytest.approx(1 / 3)
        # a section with one indicator gets its section's share: 1/20
        assert p.checklist_weights["marketing_initiative"] == pytest.approx(0.05)
        # 服务结果 (1/20) keeps the partner/early/normal template ratios 3:3:3:2
        assert p.checklist_weights["efficiency"] == pytest.approx(0.05 * 3 / 11)
        assert p.checklist_weights["overall_impression"] == pytest.approx(0.05 * 2 / 11)
        # 服务意识 (9/20): initiative 4, affinity 4, customer_orientation 3
        assert p.checklist_weights["initiative"] == pytest.approx(0.45 * 4 / 11)


def test_ahp_on_saatys_drinks_example_and_an_inconsistent_matrix(
    app_client: Client, demo_engine: Engine
) -> None:
    cid, _ = checklist_row(demo_engine)
    analyst = app_client("analyst")
    # drop the last section (客户挽留) so seven sections remain, as Saaty's seven drinks
    form = editor(analyst, cid)
    last = [k for k in form["node"] if form[f"{k}.level"] == ["section"]][-1]
    form["node"] = [k for k in form["node"] if not k.startswith(last)]
    assert analyst.post(f"/inspections/checklists/{cid}/edit", data=form).status_code == 303
    # Saaty (2008), "Decision making with the analytic hierarchy process", Int. J. Services
    # Sciences 1(1): drinks consumed in the US — coffee, wine, tea, beer, soda, milk, water
    drinks = [
        ["9", "5", "2", "1", "1", "1/2"],
        ["1/3", "1/9", "1/9", "1/9", "1/9"],
        ["1/3", "1/4", "1/3", "1/9"],
        ["1/2", "1", "1/3"],
        ["2", "1/2"],
        ["1/3"],
    ]
    upper = {(i, i + 1 + k): v for i, row in enumerate(drinks) for k, v in enumerate(row)}
    r = analyst.post(
        f"/inspections/weights/{cid}/{PARTNER}/ahp", data=_ahp_form(analyst, upper, "Saaty")
    )
    assert r.status_code == 303, r.text[:1500]
    with make_sessionmaker(demo_engine)() as s:
        p = s.scalar(CHECKLIST_PROFILES)
        assert p is not None
        published = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]
        got = [p.inputs["section_weights"][c] for c in p.inputs["sections"]]
        np.testing.assert_allclose(got, published, atol=6e-4)
        # published CR 0.022 with Saaty's 2005 RI(7) = 1.35; SQM reports RI(7) = 1.32 (1980)
        assert p.inputs["ri"] == 1.32
        assert round(p.inputs["ci"] / 1.35, 3) == 0.022
    # an intransitive judgment (A ≫ B ≫ C but C ≫ A): shown, and refused when saved
    bad = dict(upper)
    bad[(0, 1)], bad[(1, 2)], bad[(0, 2)] = "9", "9", "1/9"
    preview = analyst.post(
        f"/inspections/weights/{cid}/{PARTNER}/ahp/preview", data=_ahp_form(analyst, bad)
    )
    assert "CR must stay below 0.10" in preview.text or "CR 须小于 0.10" in preview.text
    r = analyst.post(f"/inspections/weights/{cid}/{PARTNER}/ahp", data=_ahp_form(analyst, bad))
    assert r.status_code == 422 and "inconsistent" in r.text
    with make_sessionmaker(demo_engine)() as s:
        assert s.scalar(N_CHECKLIST_PROFILES) == 1


def _intercept_answers(engine: Engine, n_copies: int = 2) -> None:
    """Intercept answers in 2026-11 whose 13 items are mutually uncorrelated (the 13 non-
    constant columns of a 16 × 16 Hadamard matrix, answered 2 or 4) and whose overall rating
    is Q01 + Q03 − 3: each of Q01 and Q03 correlates 1/√2 with it, the others 0."""
    from scipy.linalg import hadamard

    from sqm.domain.instrument_templates import store_intercept
    from sqm.services.surveys.fielding import store_instrument
    from sqm.store.models import SurveyResponse, SurveyWave

    h = hadamard(16)[:, 1:14]
    with make_sessionmaker(engine)() as s:
        inst = store_instrument(s, store_intercept())
        period = s.scalar(select(Period).where(Period.code == "2026-11"))
        stores = s.scalars(select(OrgUnit).where(OrgUnit.kind == "store").limit(4)).all()
        assert period is not None
        wave = SurveyWave(code="INT-2026-11", period_id=period.id, instrument_id=inst.id)
        s.add(wave)
        s.flush()
        for copy in range(n_copies):
            for r, row in enumerate(h):
                ans = {f"Q{j + 1:02d}": int(3 + x) for j, x in enumerate(row)}
                ans["overall"] = ans["Q01"] + ans["Q03"] - 3
                s.add(
                    SurveyResponse(
                        wave_id=wave.id,
                        unit_id=stores[(r + copy) % 4].id,
                        instrument_id=inst.id,
                        answers=ans,
                        channel="demo",
                    )
                )
        s.commit()


def test_weights_from_the_customer_survey_by_hand(app_client: Client, demo_engine: Engine) -> None:
    cid, _ = checklist_row(demo_engine)
    _intercept_answers(demo_engine)
    analyst = app_client("analyst")
    page = analyst.get(f"/inspections/weights/{cid}/{PARTNER}")
    assert '<option value="2026-11" selected>' in page.text
    data = {"csrf_token": analyst.headers["X-CSRF-Token"], "periods": "2026-11", "alpha": "0.5"}
    preview = analyst.post(f"/inspections/weights/{cid}/{PARTNER}/survey/preview", data=data)
    assert preview.status_code == 200
    # uncorrelated items: relative weights are r² = ½ for Q01 and Q03, 0 for the rest
    assert 'data-importance="Q01">50.0%' in preview.text
    assert 'data-importance="Q03">50.0%' in preview.text
    assert 'data-importance="Q05">0.0%' in preview.text
    r = analyst.post(f"/inspections/weights/{cid}/{PARTNER}/survey", data=data)
    assert r.status_code == 303, r.text[:1500]
    with make_sessionmaker(demo_engine)() as s:
        p = s.scalar(CHECKLIST_PROFILES)
        assert p is not None and p.method == "customer_importance"
        # template partner/in/early/normal: base weights sum to 83 with 服务主动性 4 and
        # 基本服务规范 4 × 2 (early stage doubles service norms); w' = ½ w + ½ m
        assert p.checklist_weights["initiative"] == pytest.approx(0.5 * 4 / 83 + 0.5 * 0.5)
        assert p.checklist_weights["affinity"] == pytest.approx(0.5 * 4 / 83 + 0.5 * 0.5)
        assert p.checklist_weights["service_norms"] == pytest.approx(0.5 * 8 / 83)
        assert p.inputs["periods"] == ["2026-11"] and p.inputs["n"] == 32
        assert p.inputs["mapping"]["Q03"] == "affinity" and p.inputs["alpha"] == 0.5
    # α outside (0, 1) and a period without a survey are refused
    bad = analyst.post(f"/inspections/weights/{cid}/{PARTNER}/survey", data={**data, "alpha": "1"})
    assert bad.status_code == 422
    bad = analyst.post(
        f"/inspections/weights/{cid}/{PARTNER}/survey", data={**data, "periods": "2026-01"}
    )
    assert bad.status_code == 422 and "no intercept survey" in bad.text


def test_profile_grid_lists_all_48(app_client: Client, demo_engine: Engine) -> None:
    cid, _ = checklist_row(demo_engine)
    c = app_client("store.manager")
    page = c.get("/inspections/weights")
    assert page.status_code == 200
    assert (
        len(re.findall(rf'href="/inspections/weights/{cid}/[a-z_]+\.(in|out)\.', page.text)) == 48
    )
    assert c.get(f"/inspections/weights/{cid}/{PARTNER}").status_code == 200
    assert 'id="manual-form"' not in c.get(f"/inspections/weights/{cid}/{PARTNER}").text
    assert c.get(f"/inspections/weights/{cid}/nonsense").status_code == 404
    assert ProfileKey.parse(PARTNER).slug == PARTNER


@pytest.mark.browser
@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian chromium not installed")
def test_editors_in_a_real_browser(live: str, demo_engine: Engine) -> None:
    """The live sum of hand weights, the AHP consistency ratio as judgments are typed, the
    weights chart drawn by ECharts, and an item added with the editor's button."""
    from playwright.sync_api import sync_playwright

    cid, _ = checklist_row(demo_engine)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN"
        ).new_page()
        sign_in_page(page, live, "analyst")
        page.goto(f"{live}/inspections/weights/{cid}/{PARTNER}")
        page.wait_for_selector("#profile-chart svg")  # ECharts from /static/vendor drew it
        page.click("#by-hand summary")
        assert page.inner_text("#weight-sum") == "100.00 %"
        assert page.get_attribute("#weight-sum", "class") == "ok"
        before = float(page.input_value("#w_initiative"))
        page.fill("#w_initiative", f"{before + 1.5:.3f}")
        assert page.inner_text("#weight-sum") == "101.50 %"
        assert page.get_attribute("#weight-sum", "class") == "bad"
        # AHP: 服务意识 three times as important as 人员质量, the rest equal (CR from the server)
        page.click("#by-ahp summary")
        page.fill('input[name="a0_1"]', "3")
        # selectors, not wait_for_function: the pages' CSP forbids the eval it needs
        page.wait_for_selector("#ahp-cr", state="attached")
        assert page.inner_text('[data-mirror="0_1"]') == "1/3"
        page.fill('input[name="a0_1"]', "9")
        page.fill('input[name="a1_2"]', "9")
        page.fill('input[name="a0_2"]', "1/9")
        page.wait_for_selector("#ahp-outcome:has-text('CR 须小于 0.10')", state="attached")
        # the editor: add an item to 人员形象 and save
        page.goto(f"{live}/inspections/checklists/{cid}/edit")
        indicator = page.locator('.node.indicator[data-key="s1i0"]')
        indicator.locator('button[data-add="item"]').click()
        new = indicator.locator(".node.item").last
        new.locator('input[name$=".code"]').fill("badge_readable")
        new.locator('input[name$=".text_zh"]').fill("工牌字迹清晰可读")
        new.locator('input[name$=".text_en"]').fill("Name badge is readable")
        new.locator("select[data-kind]").select_option("scale")
        assert new.locator("input[data-scale]").input_value() == "5"
        new.locator('input[name$=".evidence"][value="photo"]').check()
        page.click("#save-checklist")
        page.wait_for_selector("#saved")
        browser.close()
    with make_sessionmaker(demo_engine)() as s:
        cl = iv.checklist_of(s.get(InspectionChecklist, cid))
        item = cl.item("badge_readable")
        assert (item.kind, item.scale_max, item.evidence) == ("scale", 5, frozenset({"photo"}))


def test_the_checklist_and_key_of_a_path_404_after_the_permission(
    app_client: Client, demo_engine: Engine
) -> None:
    cid, _ = checklist_row(demo_engine)
    analyst = app_client("analyst")
    assert analyst.get("/inspections/checklists/999999").status_code == 404
    assert analyst.get(f"/inspections/weights/999999/{PARTNER}").status_code == 404
    assert (
        analyst.get(f"/inspections/weights/{cid}/partner.nowhere.early.normal").status_code == 404
    )
    assert analyst.get(f"/inspections/weights/{cid}/{PARTNER}").status_code == 200
    # no permission: 403 before the missing checklist's 404
    assert (
        app_client("inspector01").get(f"/inspections/weights/999999/{PARTNER}").status_code == 403
    )
    manager = app_client("store.manager")
    r = manager.post(
        f"/inspections/weights/999999/{PARTNER}/reset",
        data={"csrf_token": manager.headers["X-CSRF-Token"]},
    )
    assert r.status_code == 403
