"""Survey design pages through the real app: instruments (from a template or empty, the
editor with every question type, versions once answers exist, field-level validation that
writes nothing, the phone preview), new waves (quota allocation previewed then created,
interlocked cells, single-use links), the sample-size calculator, and who may use them."""

from __future__ import annotations

import doctest
import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from conftest import make_client, sign_in
from sqm.domain import instrument_draft
from sqm.domain.errors import MissingError
from sqm.domain.instrument import QuestionType
from sqm.domain.instrument_templates import TEMPLATES
from sqm.domain.org import StoreTier
from sqm.domain.roles import Role
from sqm.services.demo import DEMO_STEPS, run_demo
from sqm.services.surveys import design, fielding
from sqm.services.surveys.links import LinkSigner
from sqm.services.users import create_user, grant
from sqm.store.engine import make_sessionmaker
from sqm.store.models import (
    AuditEntry,
    OrgUnit,
    Period,
    SurveyInstrument,
    SurveyQuota,
    SurveyResponse,
    SurveyToken,
    SurveyWave,
)

FOUNDATION_STEPS = [s for s in DEMO_STEPS if s[1].startswith("sqm.services.demo:")]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The foundation demo on SQLite and (when switched on) on PostgreSQL."""
    if request.param == "sqlite":
        eng: Engine = request.getfixturevalue("demo_engine")
        return eng
    eng = request.getfixturevalue("pg_engine")
    run_demo(eng, steps=FOUNDATION_STEPS)
    return eng


def _client(engine: Engine, username: str = "analyst", locale: str = "zh") -> TestClient:
    c = sign_in(make_client(engine), username)
    assert c.get(f"/lang/{locale}").status_code == 303
    return c


# ---------------------------------------------------------------- reading forms like a browser


class _FormFields(HTMLParser):
    """The fields a browser submits from the form with id ``form_id`` (no button values)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: list[str | None] | None = None  # name, first value, selected value
        self._option: list[str | bool | None] | None = None  # value, text, selected
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            name = a.get("name")
            if not name or kind in ("submit", "button", "reset", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value") or ""))
        elif tag == "select":
            self._select = [a.get("name"), None, None]
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea":
            self._textarea = [a.get("name") or "", ""]

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data
        if self._option is not None:
            self._option[1] = str(self._option[1]) + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "option" and self._option is not None and self._select is not None:
            value, text, selected = self._option
            chosen = str(value) if value is not None else str(text).strip()
            if self._select[1] is None:
                self._select[1] = chosen
            if selected:
                self._select[2] = chosen
            self._option = None
        elif tag == "select" and self._select is not None:
            name, first, chosen = self._select
            if name:
                self.fields.append((name, chosen if chosen is not None else first or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea[0], self._textarea[1]))
            self._textarea = None


def form_of(html: str, form_id: str) -> dict[str, list[str]]:
    """``name → values`` of a form as the browser would send it."""
    parser = _FormFields(form_id)
    parser.feed(html)
    out: dict[str, list[str]] = {}
    for name, value in parser.fields:
        out.setdefault(name, []).append(value)
    assert out, f"no form {form_id!r} on the page"
    return out


def _errors(page: str) -> dict[str, str]:
    """The messages shown next to the fields: field key → text."""
    return {
        k: html.unescape(v) for k, v in re.findall(r'id="err-([^"]+)" role="alert">([^<]*)<', page)
    }


def _instrument_rows(engine: Engine, code: str) -> list[tuple[int, str]]:
    with make_sessionmaker(engine)() as s:
        return [
            (r.version, r.content_hash)
            for r in s.scalars(
                select(SurveyInstrument)
                .where(SurveyInstrument.code == code)
                .order_by(SurveyInstrument.version)
            )
        ]


def _audit_count(engine: Engine) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.scalar(select(func.count(AuditEntry.id))) or 0)


def _new_from_template(c: TestClient, template: str, code: str) -> None:
    r = c.post(
        "/survey-design/instruments/new",
        data={"template": template, "code": code, "name_zh": "", "name_en": ""},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/survey-design/instruments/{code}?saved=created"


def _answer_once(engine: Engine, code: str, *, answer: bool = True) -> int:
    """Field one wave of the latest version of ``code`` and store one customer's answers
    (none when not ``answer``); return the version's row id."""
    factory = make_sessionmaker(engine)
    with factory() as s:
        row = s.scalars(
            select(SurveyInstrument)
            .where(SurveyInstrument.code == code)
            .order_by(SurveyInstrument.version.desc())
        ).first()
        store = s.scalars(select(OrgUnit).where(OrgUnit.kind == "store")).first()
        period = s.scalars(select(Period).order_by(Period.start.desc())).first()
        assert row is not None and store is not None and period is not None
        wave = fielding.create_wave(
            s, code=f"W-{code}", period=period, instrument=row, stores=[store], total=5
        )
        s.commit()
        signer = LinkSigner(b"test-secret".ljust(16, b"."))
        target = fielding.resolve_link(s, signer, signer.open_link(wave.code, store.code))
        row_id = row.id
    if answer:
        result = fielding.submit(factory, target, {"nps": "9", "csat": "5", "segment": "1"})
        assert result.outcome is fielding.Outcome.ACCEPTED
    return row_id


# ---------------------------------------------------------------- instruments


def test_create_from_a_template_stores_version_1(demo_engine: Engine) -> None:
    c = _client(demo_engine)
    assert c.get("/survey-design").status_code == 200
    page = c.get("/survey-design/instruments/new")
    assert page.status_code == 200
    for code in TEMPLATES:
        assert f'value="{code}"' in page.text
    _new_from_template(c, "servqual", "sq_gz")
    with make_sessionmaker(demo_engine)() as s:
        row = s.scalar(select(SurveyInstrument).where(SurveyInstrument.code == "sq_gz"))
        assert row is not None
        assert (row.version, row.kind) == (1, "servqual")
        inst = fielding.instrument_of(row)
    template = TEMPLATES["servqual"]()
    assert inst.name == template.name  # names left empty keep the template's
    assert [q.to_dict() for q in inst.questions] == [q.to_dict() for q in template.questions]
    listing = c.get("/survey-design").text
    assert 'data-code="sq_gz"' in listing and "v1" in listing
    detail = c.get("/survey-design/instruments/sq_gz?saved=created")
    assert 'data-saved="created"' in detail.text and 'data-version="1"' in detail.text


def test_a_new_instrument_needs_a_free_code(demo_engine: Engine) -> None:
    c = _client(demo_engine, locale="en")
    _new_from_template(c, "nps_csat", "quick")
    for code, message in (
        ("quick", "exists"),
        ("9lives", "starts with a letter"),
        ("", "Required"),
    ):
        r = c.post("/survey-design/instruments/new", data={"template": "nps_csat", "code": code})
        assert r.status_code == 422
        assert message in re.search(r'id="err-code"[^>]*>([^<]*)<', r.text).group(1)  # type: ignore[union-attr]
    assert len(_instrument_rows(demo_engine, "quick")) == 1


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_saving_the_untouched_editor_changes_nothing(demo_engine: Engine, template: str) -> None:
    """Every field the editor draws posts back to the same content (same hash)."""
    c = _client(demo_engine)
    _new_from_template(c, template, f"t_{template}")
    before = _instrument_rows(demo_engine, f"t_{template}")
    editor = c.get(f"/survey-design/instruments/t_{template}/edit")
    assert editor.status_code == 200
    fields = form_of(editor.text, "editor-form")
    r = c.post(f"/survey-design/instruments/t_{template}/edit", data={**fields, "op": ["save"]})
    assert r.status_code == 303, re.findall(r'class="err"[^>]*>([^<]*)<', r.text)
    assert "saved=unchanged" in r.headers["location"]
    assert _instrument_rows(demo_engine, f"t_{template}") == before


def test_an_edit_replaces_a_version_without_answers(engine: Engine) -> None:
    c = _client(engine)
    _new_from_template(c, "nps_csat", "quick")
    [(_, old_hash)] = _instrument_rows(engine, "quick")
    _answer_once(engine, "quick", answer=False)  # a wave, but no answers yet
    editor = c.get("/survey-design/instruments/quick/edit").text
    assert 'data-next="1"' in editor and "有 1 个调查批次使用该版本" in editor
    fields = form_of(editor, "editor-form")
    fields["g0.q1.zh"] = ["您对今天的服务满意吗？"]
    r = c.post("/survey-design/instruments/quick/edit", data={**fields, "op": ["save"]})
    assert r.status_code == 303
    assert r.headers["location"] == "/survey-design/instruments/quick?saved=updated&v=1"
    [(version, new_hash)] = _instrument_rows(engine, "quick")
    assert version == 1 and new_hash != old_hash
    with make_sessionmaker(engine)() as s:
        row = s.scalar(select(SurveyInstrument).where(SurveyInstrument.code == "quick"))
        assert row is not None
        assert fielding.instrument_of(row).question("csat").text.zh == "您对今天的服务满意吗？"


def test_an_edit_after_answers_makes_a_new_version_and_answers_keep_theirs(
    engine: Engine,
) -> None:
    c = _client(engine)
    _new_from_template(c, "nps_csat", "quick")
    v1_id = _answer_once(engine, "quick")
    editor = c.get("/survey-design/instruments/quick/edit").text
    assert 'data-next="2"' in editor  # the page says a save makes version 2
    fields = form_of(editor, "editor-form")
    fields["g0.q0.en"] = ["Would you recommend this store to a friend?"]
    r = c.post("/survey-design/instruments/quick/edit", data={**fields, "op": ["save"]})
    assert r.status_code == 303
    assert r.headers["location"] == "/survey-design/instruments/quick?saved=new_version&v=2"
    rows = _instrument_rows(engine, "quick")
    assert [v for v, _ in rows] == [1, 2] and rows[0][1] != rows[1][1]
    with make_sessionmaker(engine)() as s:
        v1 = s.get_one(SurveyInstrument, v1_id)
        assert fielding.instrument_of(v1).question("nps").text.en.startswith("How likely")
        [response] = s.scalars(select(SurveyResponse)).all()
        assert response.instrument_id == v1_id
    history = c.get("/survey-design/instruments/quick").text
    assert re.search(r'data-version="1">.*?class="num answers">1<', history, re.S)
    assert re.search(r'data-version="2">.*?class="num answers">0<', history, re.S)
    # a second edit goes onto version 2, which has no answers: no version 3
    fields = form_of(c.get("/survey-design/instruments/quick/edit").text, "editor-form")
    fields["g0.q0.zh"] = ["您会向朋友推荐本门店吗？"]
    r = c.post("/survey-design/instruments/quick/edit", data={**fields, "op": ["save"]})
    assert r.headers["location"].endswith("saved=updated&v=2")
    assert [v for v, _ in _instrument_rows(engine, "quick")] == [1, 2]


def test_field_errors_are_shown_next_to_the_field_and_nothing_is_written(
    engine: Engine,
) -> None:
    c = _client(engine)
    c.get("/lang/en")
    _new_from_template(c, "nps_csat", "quick")
    before, audits = _instrument_rows(engine, "quick"), _audit_count(engine)
    fields = form_of(c.get("/survey-design/instruments/quick/edit").text, "editor-form")
    fields["g0.q0.en"] = [""]  # NPS question without its English text
    fields["g0.q1.points"] = ["4"]  # CSAT has 3, 5 or 7 points
    fields["g0.q3.o1.code"] = ["1"]  # the segment options' codes twice
    fields["g0.q1.if_field"] = ["reason"]  # a condition on a later question
    fields["g0.q1.if_op"] = ["answered"]
    fields["name_en"] = [""]
    r = c.post("/survey-design/instruments/quick/edit", data={**fields, "op": ["save"]})
    assert r.status_code == 422
    errors = _errors(r.text)
    assert errors["g0.q0.en"] == "Required"
    assert errors["name_en"] == "Required"
    assert "3, 5" in errors["g0.q1.points"]
    assert errors["g0.q3.o1.code"] == "This option code is used twice"
    assert "not an answer field of an earlier question" in errors["g0.q1.if_field"]
    assert 'id="error-summary"' in r.text
    # what was typed is still there to correct
    assert form_of(r.text, "editor-form")["g0.q3.o1.code"] == ["1"]
    assert _instrument_rows(engine, "quick") == before
    assert _audit_count(engine) == audits


def test_structural_edits_redraw_the_draft_and_store_nothing(demo_engine: Engine) -> None:
    c = _client(demo_engine)
    _new_from_template(c, "nps_csat", "quick")
    before = _instrument_rows(demo_engine, "quick")
    fields = form_of(c.get("/survey-design/instruments/quick/edit").text, "editor-form")
    r = c.post("/survey-design/instruments/quick/edit", data={**fields, "op": ["add_question:0"]})
    assert r.status_code == 200 and 'data-anchor="g0-q4"' in r.text
    fields = form_of(r.text, "editor-form")
    assert fields["g0.q4.code"] == ["q1"] and fields["g0.q4.type"] == ["likert"]
    fields["g0.q4.type"] = ["multiple"]
    r = c.post("/survey-design/instruments/quick/edit", data={**fields, "op": ["refresh:0:4"]})
    fields = form_of(r.text, "editor-form")
    assert fields["g0.q4.o0.code"] == ["1"] and fields["g0.q4.o1.code"] == ["2"]
    r = c.post("/survey-design/instruments/quick/edit", data={**fields, "op": ["question_up:0:4"]})
    assert form_of(r.text, "editor-form")["g0.q3.code"] == ["q1"]
    bad = c.post("/survey-design/instruments/quick/edit", data={**fields, "op": ["remove_group:7"]})
    assert bad.status_code == 422
    assert _instrument_rows(demo_engine, "quick") == before


def _custom_instrument_form() -> dict[str, list[str]]:
    """A custom instrument with every question type, a profile question and conditions."""
    f: dict[str, list[str]] = {
        "code": ["all_types"],
        "kind": ["custom"],
        "is_new": ["1"],
        "name_zh": ["全题型问卷"],
        "name_en": ["Every question type"],
        "audience": ["customer"],
        "intro_zh": ["请回答以下问题"],
        "intro_en": ["Please answer these questions"],
        "d0.code": ["staff"],
        "d0.zh": ["人员"],
        "d0.en": ["Staff"],
        "d1.code": ["place"],
        "d1.zh": ["环境"],
        "d1.en": ["Place"],
        "g0.code": ["ratings"],
        "g0.zh": ["评分"],
        "g0.en": ["Ratings"],
        "g1.code": ["more"],
        "g1.zh": ["更多"],
        "g1.en": ["More"],
        "g1.if_field": ["nps"],
        "g1.if_op": ["ge"],
        "g1.if_value": ["0"],
    }

    def q(g: int, n: int, code: str, qtype: str, dim: str, **extra: str) -> None:
        p = f"g{g}.q{n}."
        f.update(
            {
                p + "code": [code],
                p + "type": [qtype],
                p + "zh": [f"题目 {code}"],
                p + "en": [f"Question {code}"],
                p + "dimension": [dim],
                p + "required": ["1"],
            }
        )
        f.update({p + k: [v] for k, v in extra.items()})

    ends = {"low_zh": "差", "low_en": "Poor", "high_zh": "好", "high_en": "Good"}
    q(0, 0, "att", "likert", "staff", points="7", facet="perception", **ends)
    q(0, 1, "rel", "paired", "staff", points="5", **ends)
    q(0, 2, "nps", "nps", "staff", **ends)
    q(0, 3, "sat", "csat", "place", points="3", **ends)
    q(1, 0, "imp", "constant_sum", "staff")
    f["g1.q0.parts"] = ["staff", "place"]
    q(1, 1, "segment", "single", "profile", profile="segment")
    for k, (zh, en) in enumerate([("普通", "Ordinary"), ("政企", "Business")]):
        f.update({f"g1.q1.o{k}.code": [str(k + 1)], f"g1.q1.o{k}.zh": [zh], f"g1.q1.o{k}.en": [en]})
    q(
        1,
        2,
        "why",
        "multiple",
        "place",
        max_choices="2",
        if_field="segment",
        if_op="eq",
        if_value="2",
    )
    for k, (zh, en) in enumerate([("价格", "Price"), ("网络", "Network"), ("服务", "Service")]):
        f.update({f"g1.q2.o{k}.code": [str(k + 1)], f"g1.q2.o{k}.zh": [zh], f"g1.q2.o{k}.en": [en]})
    q(1, 3, "note", "text", "place", max_length="300", if_field="nps", if_op="le", if_value="6")
    return f


def test_an_empty_instrument_is_stored_on_its_first_valid_save(demo_engine: Engine) -> None:
    c = _client(demo_engine)
    r = c.post(
        "/survey-design/instruments/new",
        data={"template": "", "code": "all_types", "name_zh": "全题型", "name_en": "All"},
    )
    assert r.status_code == 200 and 'name="is_new" value="1"' in r.text
    assert _instrument_rows(demo_engine, "all_types") == []  # a draft, not stored yet
    r = c.post("/survey-design/instruments/all_types/edit", data=_custom_instrument_form())
    assert r.status_code == 303, re.findall(r'role="alert">([^<]*)<', r.text)
    assert r.headers["location"] == "/survey-design/instruments/all_types?saved=created&v=1"
    with make_sessionmaker(demo_engine)() as s:
        row = s.scalar(select(SurveyInstrument).where(SurveyInstrument.code == "all_types"))
        assert row is not None
        inst = fielding.instrument_of(row)
    assert {q.qtype for q in inst.questions} == set(QuestionType)
    assert inst.question("att").points == 7 and inst.question("sat").points == 3
    assert inst.question("why").max_choices == 2 and inst.question("note").max_length == 300
    assert inst.question("why").show_if.to_dict() == {"field": "segment", "op": "eq", "value": 2}  # type: ignore[union-attr]
    assert inst.groups[1].show_if.to_dict() == {"field": "nps", "op": "ge", "value": 0}  # type: ignore[union-attr]
    assert [f.name for f in inst.fields()][:5] == ["att", "rel_e", "rel_p", "nps", "sat"]
    # saving it again as "new" is refused: the code is taken now
    again = c.post("/survey-design/instruments/all_types/edit", data=_custom_instrument_form())
    assert again.status_code == 422 and 'id="err-code"' in again.text
    # the preview draws every question with the customers' own template
    page = c.get("/survey-design/instruments/all_types/versions/1/preview")
    assert page.status_code == 200 and "/versions/1/form" in page.text
    frame = c.get("/survey-design/instruments/all_types/versions/1/form?lang=en")
    assert frame.status_code == 200
    for code in ("att", "rel", "nps", "sat", "imp", "segment", "why", "note"):
        assert f'id="q-{code}"' in frame.text
    assert "Question why" in frame.text
    assert "form-action 'none'" in frame.headers["content-security-policy"]
    assert c.post("/survey-design/instruments/all_types/versions/1/form").status_code == 405


def test_a_wrong_new_instrument_writes_nothing(demo_engine: Engine) -> None:
    c = _client(demo_engine, locale="en")
    form = _custom_instrument_form()
    form["g1.q0.parts"] = ["staff"]  # a constant sum over one dimension
    form["g1.q1.code"] = ["kind"]  # the segment question must be called "segment"
    r = c.post("/survey-design/instruments/all_types/edit", data=form)
    assert r.status_code == 422
    errors = _errors(r.text)
    assert "at least two dimensions" in errors["g1.q0.parts"]
    assert "must be 'segment'" in errors["g1.q1.code"]
    assert _instrument_rows(demo_engine, "all_types") == []


# ---------------------------------------------------------------- waves


def _three_flagships(engine: Engine) -> tuple[int, list[str]]:
    """A district whose only flagship stores are three with traffic 1000, 300 and 50."""
    with make_sessionmaker(engine)() as s:
        district = s.scalars(
            select(OrgUnit).where(OrgUnit.kind == "district").order_by(OrgUnit.code)
        ).first()
        assert district is not None
        stores = list(
            s.scalars(
                select(OrgUnit)
                .where(OrgUnit.kind == "store", OrgUnit.path.startswith(district.path))
                .order_by(OrgUnit.code)
            )
        )
        assert len(stores) >= 4
        for store in stores:
            store.tier = StoreTier.PARTNER
        for store, traffic in zip(stores[:3], (1000, 300, 50), strict=False):
            store.tier, store.traffic, store.status = StoreTier.FLAGSHIP_CORE, traffic, "active"
        s.commit()
        return district.id, [x.code for x in stores[:3]]


def _wave_form(c: TestClient, **values: str | list[str]) -> dict[str, list[str]]:
    fields = form_of(c.get("/survey-design/waves/new").text, "wave-form")
    for key, value in values.items():
        fields[key] = value if isinstance(value, list) else [value]
    return fields


def _flagship_wave_form(
    c: TestClient, engine: Engine, code: str, **values: str | list[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """The new-wave form for the three flagships of :func:`_three_flagships`, 40 answers,
    the instrument ``quick`` (NPS + CSAT) unless ``values`` say otherwise."""
    _new_from_template(c, "nps_csat", "quick")
    district_id, stores = _three_flagships(engine)
    wanted: dict[str, str | list[str]] = {
        "code": code,
        "instrument_id": str(_instrument_id(engine, "quick")),
        "root_id": str(district_id),
        "tiers": ["flagship_core"],
        "total": "40",
    }
    return _wave_form(c, **{**wanted, **values}), stores


def _instrument_id(engine: Engine, code: str) -> int:
    with make_sessionmaker(engine)() as s:
        row = s.scalar(select(SurveyInstrument.id).where(SurveyInstrument.code == code))
        assert row is not None
        return int(row)


def _cells(engine: Engine, wave_code: str) -> dict[tuple[str, str], int]:
    with make_sessionmaker(engine)() as s:
        return {
            (u, seg): t
            for u, seg, t in s.execute(
                select(OrgUnit.code, SurveyQuota.segment, SurveyQuota.target)
                .join(SurveyQuota, SurveyQuota.unit_id == OrgUnit.id)
                .join(SurveyWave, SurveyWave.id == SurveyQuota.wave_id)
                .where(SurveyWave.code == wave_code)
            )
        }


def test_a_wave_is_previewed_then_created_with_proportional_quotas(engine: Engine) -> None:
    c = _client(engine)
    fields, (a, b, small) = _flagship_wave_form(c, engine, "2026-11-quick", minimum="5")
    r = c.post("/survey-design/waves/new", data={**fields, "action": ["preview"]})
    assert r.status_code == 200, re.findall(r'role="alert">([^<]*)<', r.text)
    # By hand: 40 × (1000, 300, 50) / 1350 = 29.63, 8.89, 1.48; the third is below the
    # minimum, so it gets 5 and the other 35 are re-shared: 35 × 1000/1300 = 26.92,
    # 35 × 300/1300 = 8.08 → 26 + 8 + 5 = 39; the last one goes to the largest remainder
    # (.92) → 27, 8, 5.
    shown = dict(re.findall(r'<tr data-unit="([^"]+)">.*?class="num target">(\d+)', r.text))
    assert shown == {a: "27", b: "8", small: "5"}
    assert _cells(engine, "2026-11-quick") == {}  # a preview creates nothing
    fields = form_of(r.text, "wave-form")
    r = c.post("/survey-design/waves/new", data={**fields, "action": ["create"]})
    assert r.status_code == 303
    assert _cells(engine, "2026-11-quick") == {(a, "*"): 27, (b, "*"): 8, (small, "*"): 5}
    with make_sessionmaker(engine)() as s:
        wave = s.scalar(select(SurveyWave).where(SurveyWave.code == "2026-11-quick"))
        assert wave is not None
        assert (wave.status, wave.link_mode, wave.full_policy) == ("open", "open", "over_quota")
    assert r.headers["location"] == f"/surveys/{wave.id}"
    assert "2026-11-quick" in c.get("/surveys").text
    # the wave as the analyst sees it (scope, quota, count: the same queries on PostgreSQL)
    assert c.get(f"/surveys/{wave.id}").status_code == 200
    count = c.get(f"/api/v1/surveys/waves/{wave.id}/responses/count").json()
    assert count == {"wave": "2026-11-quick", "responses": 0}


def test_interlocked_quotas_split_each_store_by_segment(demo_engine: Engine) -> None:
    c = _client(demo_engine)
    fields, (a, b, small) = _flagship_wave_form(
        c,
        demo_engine,
        "W-X",
        interlocked="1",
        share_ordinary="70",
        share_business="30",
        full_policy="close",
        open_now=[],
    )
    r = c.post("/survey-design/waves/new", data={**fields, "action": ["preview"]})
    assert r.status_code == 200
    r = c.post(
        "/survey-design/waves/new", data={**form_of(r.text, "wave-form"), "action": ["create"]}
    )
    assert r.status_code == 303
    # By hand, 70/30 within each store, largest remainders: 27 → 18.9/8.1 → 19/8;
    # 8 → 5.6/2.4 → 6/2; 5 → 3.5/1.5 → tie, the larger share first → 4/1.
    assert _cells(demo_engine, "W-X") == {
        (a, "ordinary"): 19,
        (a, "business"): 8,
        (b, "ordinary"): 6,
        (b, "business"): 2,
        (small, "ordinary"): 4,
        (small, "business"): 1,
    }
    with make_sessionmaker(demo_engine)() as s:
        wave = s.scalar(select(SurveyWave).where(SurveyWave.code == "W-X"))
        assert wave is not None
        assert (wave.status, wave.interlocked, wave.full_policy) == ("draft", True, "close")


def test_a_plan_that_changed_since_its_preview_is_shown_again(demo_engine: Engine) -> None:
    c = _client(demo_engine)
    fields, _ = _flagship_wave_form(c, demo_engine, "W-1")
    previewed = form_of(c.post("/survey-design/waves/new", data=fields).text, "wave-form")
    previewed["total"] = ["60"]
    r = c.post("/survey-design/waves/new", data={**previewed, "action": ["create"]})
    assert r.status_code == 409 and 'id="plan-changed"' in r.text
    assert _cells(demo_engine, "W-1") == {}


def test_wave_errors_are_shown_by_field_and_nothing_is_created(demo_engine: Engine) -> None:
    c = _client(demo_engine)
    c.get("/lang/en")
    _new_from_template(c, "staff", "staff")  # no segment question
    fields, _ = _flagship_wave_form(
        c,
        demo_engine,
        "bad|code",
        instrument_id=str(_instrument_id(demo_engine, "staff")),
        total="12",
        interlocked="1",
        share_ordinary="70",
        share_business="20",
        link_mode="token",
        tokens_per_store="0",
    )
    audits = _audit_count(demo_engine)
    r = c.post("/survey-design/waves/new", data={**fields, "action": ["create"]})
    assert r.status_code == 422
    errors = _errors(r.text)
    assert "letters, digits" in errors["code"]
    assert errors["total"].startswith("At least 15 needed (3 stores × 5 each)")
    assert "add up to 100" in errors["share_business"]
    assert "no segment question" in errors["interlocked"]
    assert "from 1 to 5000" in errors["tokens_per_store"]
    fields = _wave_form(c, code="ok", tiers=[], instrument_id="")
    errors = _errors(c.post("/survey-design/waves/new", data=fields).text)
    assert set(errors) >= {"tiers", "instrument_id", "total"}
    with make_sessionmaker(demo_engine)() as s:
        assert s.scalar(select(func.count(SurveyWave.id))) == 0
    assert _audit_count(demo_engine) == audits


def test_single_use_links_are_issued_and_shown_once(demo_engine: Engine) -> None:
    c = _client(demo_engine)
    fields, stores = _flagship_wave_form(
        c, demo_engine, "W-T", link_mode="token", tokens_per_store="2"
    )
    previewed = form_of(c.post("/survey-design/waves/new", data=fields).text, "wave-form")
    r = c.post("/survey-design/waves/new", data={**previewed, "action": ["create"]})
    assert r.status_code == 201
    links = re.findall(r"http://testserver/s/(t\.[\w.-]+)", r.text)
    assert len(links) == 3  # the first link of each store on the page …
    csv_links = re.findall(r"/s/(t\.[\w.-]+?)%0D%0A", r.text)
    assert len(csv_links) == 6  # … and all six in the download
    with make_sessionmaker(demo_engine)() as s:
        assert s.scalar(select(func.count(SurveyToken.id))) == 6
    assert c.get(f"/s/{csv_links[0]}").status_code == 200
    assert set(re.findall(r'data-unit="([^"]+)"', r.text)) == set(stores)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Cochran: 1.96² · 0.25 / 0.05² = 384.1 → 385; N = 10,000 → 370 (Krejcie & Morgan 1970)
        ("calc_margin=5&calc_confidence=95", "385"),
        ("calc_margin=5&calc_confidence=95&calc_population=10000", "370"),
        # 1.96² · 0.25 / 0.03² = 1067.1 → 1068; 2.576² · 0.25 / 0.05² = 663.4 → 664
        ("calc_margin=3&calc_confidence=95", "1068"),
        ("calc_margin=5&calc_confidence=99", "664"),
        # a mean score: (1.96 · 1 / 0.1)² = 384.1 → 385
        ("calc_margin=0.1&calc_confidence=95&calc_sd=1", "385"),
    ],
)
def test_the_sample_size_calculator(
    client_as: Callable[[str], TestClient], query: str, expected: str
) -> None:
    r = client_as("analyst").get(f"/survey-design/sample-size?{query}")
    assert r.status_code == 200
    assert re.search(r'id="sample-n">(\d+)<', r.text).group(1) == expected  # type: ignore[union-attr]


def test_the_calculator_explains_bad_input(client_as: Callable[[str], TestClient]) -> None:
    c = client_as("analyst")
    c.get("/lang/en")
    r = c.get("/survey-design/sample-size?calc_margin=120&calc_confidence=80")
    assert 'data-field="margin"' in r.text and 'data-field="confidence"' in r.text
    assert 'id="sample-n"' not in r.text


# ---------------------------------------------------------------- access


def test_a_store_manager_cannot_design_surveys(client_as: Callable[[str], TestClient]) -> None:
    for user in ("store.manager", "area.gz"):
        c = client_as(user)
        for path in (
            "/survey-design",
            "/survey-design/instruments/new",
            "/survey-design/waves/new",
            "/survey-design/sample-size?calc_margin=5",
        ):
            assert c.get(path).status_code == 403, (user, path)
        r = c.post("/survey-design/instruments/new", data={"template": "nps_csat", "code": "x"})
        assert r.status_code == 403
        assert c.post("/survey-design/waves/new", data={"code": "x"}).status_code == 403
        assert 'href="/survey-design"' not in c.get("/").text
    assert 'href="/survey-design"' in client_as("analyst").get("/").text


def test_a_scoped_analyst_targets_only_stores_in_scope(demo_engine: Engine) -> None:
    with make_sessionmaker(demo_engine)() as s:
        user = create_user(s, "analyst.gd", "gd-analyst-2026!", "广东分析师")
        gd = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD"))
        sc = s.scalar(select(OrgUnit).where(OrgUnit.code == "SC"))
        assert gd is not None and sc is not None
        grant(s, None, user, Role.QUALITY_ANALYST, gd)
        s.commit()
        sc_id = sc.id
    c = sign_in(make_client(demo_engine), "analyst.gd", "gd-analyst-2026!")
    _new_from_template(c, "nps_csat", "quick")
    page = c.get("/survey-design/waves/new").text
    assert "(SC)" not in page and "(GD)" in page
    fields = _wave_form(
        c,
        code="W-SC",
        instrument_id=str(_instrument_id(demo_engine, "quick")),
        root_id=str(sc_id),
        total="500",
    )
    r = c.post("/survey-design/waves/new", data={**fields, "action": ["create"]})
    assert r.status_code == 422 and 'id="err-root_id"' in r.text
    assert _cells(demo_engine, "W-SC") == {}


@pytest.mark.parametrize("module", [instrument_draft, design], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


def test_an_unknown_instrument_or_version_is_404(
    client_as: Callable[[str], TestClient], demo_engine: Engine
) -> None:
    c = client_as("analyst")
    for path in (
        "/survey-design/instruments/no_such",
        "/survey-design/instruments/no_such/edit",
        "/survey-design/instruments/no_such/versions/1/preview",
        "/survey-design/instruments/no_such/versions/1/form",
    ):
        assert c.get(path).status_code == 404, path
    with make_sessionmaker(demo_engine)() as s:
        with pytest.raises(MissingError, match="no such instrument"):
            design.instrument_row(s, "no_such")
    r = c.post("/survey-design/instruments/no_such/edit", data={"op": "save", "code": "x"})
    assert r.status_code == 404
