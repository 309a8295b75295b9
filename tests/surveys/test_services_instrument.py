"""Instruments: structure rules, templates, versioning, answer validation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqm.domain.errors import RuleError
from sqm.domain.instrument import (
    Condition,
    ConditionOp,
    Dimension,
    Facet,
    Group,
    Instrument,
    Question,
    QuestionType,
    Text,
    coerce_answers,
    revise,
    validate_answers,
    visible_questions,
)
from sqm.domain.instrument_templates import (
    INTERCEPT_ITEMS,
    SERVQUAL_ITEMS,
    TEMPLATES,
    ecsi,
    nps_csat,
    servqual,
    staff_survey,
    store_intercept,
)


def _full_servqual_answers(e: int = 6, p: int = 5) -> dict[str, object]:
    answers: dict[str, object] = {}
    for code, *_ in SERVQUAL_ITEMS:
        answers[f"{code}_e"] = e
        answers[f"{code}_p"] = p
    answers.update(
        imp_tangibles=10,
        imp_reliability=30,
        imp_responsiveness=25,
        imp_assurance=20,
        imp_empathy=15,
        segment=1,
        age_band=2,
        tenure=3,
        product=1,
    )
    return answers


def test_servqual_has_the_pzb_structure() -> None:
    inst = servqual()
    per_dim = {d: len(v) for d, v in inst.items_by_dimension(Facet.PERCEPTION).items()}
    # Parasuraman, Zeithaml & Berry (1988), Table 1: 4 + 5 + 4 + 4 + 5 = 22 items.
    assert per_dim == {
        "tangibles": 4,
        "reliability": 5,
        "responsiveness": 4,
        "assurance": 4,
        "empathy": 5,
    }
    rating_fields = [f for f in inst.fields() if f.qtype is QuestionType.PAIRED]
    assert len(rating_fields) == 44  # 22 expectation + 22 perception
    assert all(f.minimum == 1 and f.maximum == 7 for f in rating_fields)


def test_intercept_has_the_13_items_of_the_plan() -> None:
    inst = store_intercept()
    names = [q.text.zh.split("：")[0] for q in inst.questions if q.code.startswith("Q")]
    assert names == [
        "服务主动性",
        "客户导向",
        "服务态度",
        "人员形象",
        "人员素质",
        "商品展示",
        "服务流程",
        "现场管理",
        "服务环境",
        "服务设施",
        "服务展示",
        "服务效率",
        "售后解决能力",
    ]
    assert {"overall", "nps"} <= set(inst.field_map())
    assert len(INTERCEPT_ITEMS) == 13


def test_staff_survey_uses_the_customer_expectation_field_names() -> None:
    staff = {f.name for f in staff_survey().fields() if f.facet is Facet.EXPECTATION}
    customer = {f.name for f in servqual().fields() if f.facet is Facet.EXPECTATION}
    assert staff == customer and len(staff) == 22


def test_ecsi_blocks() -> None:
    blocks = ecsi().items_by_dimension()
    assert set(blocks) == {
        "image",
        "expectation",
        "quality",
        "value",
        "satisfaction",
        "complaints",
        "loyalty",
    }


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_templates_round_trip_through_json_and_are_bilingual(name: str) -> None:
    inst = TEMPLATES[name]()
    again = Instrument.from_json(inst.to_json())
    assert again == inst and again.content_hash == inst.content_hash
    for q in inst.questions:
        assert q.text.zh and q.text.en and q.text.zh != q.text.en
    dims = {d.code for d in inst.dimensions} | {"profile"}
    assert all(q.dimension in dims for q in inst.questions)


def test_tampered_definition_is_refused() -> None:
    data = nps_csat().to_dict()
    data["groups"][0]["questions"][0]["text"]["en"] = "changed"
    with pytest.raises(RuleError, match="content_hash"):
        Instrument.from_dict(data)


def test_versioning_rule() -> None:
    a = nps_csat()
    same = nps_csat()
    assert revise(a, same, has_answers=True) is a
    edited = replace(a, name=Text("快评", "Quick"))
    assert edited.content_hash != a.content_hash
    assert revise(a, edited, has_answers=False).version == 1
    v2 = revise(a, edited, has_answers=True)
    assert v2.version == 2 and v2.name.en == "Quick"
    # the version number is not part of the content: equal content, equal hash
    assert v2.content_hash == edited.content_hash
    with pytest.raises(RuleError, match="keeps the code"):
        revise(a, replace(edited, code="other"), has_answers=True)


def test_structure_rules() -> None:
    dim = (Dimension("d", Text("维", "dim")),)
    q = Question("q1", QuestionType.LIKERT, Text("问", "Q"), "d")
    with pytest.raises(RuleError, match="not declared"):
        Instrument(
            "x", Text("x", "x"), dim, (Group("g", Text("g", "g"), (replace(q, dimension="zz"),)),)
        )
    with pytest.raises(RuleError, match="used twice"):
        Instrument("x", Text("x", "x"), dim, (Group("g", Text("g", "g"), (q, q)),))
    with pytest.raises(RuleError, match="5, 7 or 10"):
        Instrument("x", Text("x", "x"), dim, (Group("g", Text("g", "g"), (replace(q, points=6),)),))
    later = replace(q, code="q0", show_if=Condition("q1", ConditionOp.EQ, 1))
    with pytest.raises(RuleError, match="earlier question"):
        Instrument("x", Text("x", "x"), dim, (Group("g", Text("g", "g"), (later, q)),))


def test_complete_servqual_answers_are_valid() -> None:
    assert validate_answers(servqual(), _full_servqual_answers()) == []


def test_field_level_messages_in_both_languages() -> None:
    answers = _full_servqual_answers()
    answers["T1_p"] = 8
    answers["R2_e"] = 4.5
    del answers["E5_p"]
    answers["imp_empathy"] = 20  # sum 105
    answers["bogus"] = 1
    errors = {(e.field, e.rule): e for e in validate_answers(servqual(), answers)}
    assert set(errors) == {
        ("T1_p", "range"),
        ("R2_e", "range"),
        ("E5_p", "required"),
        ("imp", "constant_sum"),
        ("bogus", "unknown"),
    }
    msg = errors[("imp", "constant_sum")].message
    assert "105" in msg.zh and "105" in msg.en and "100" in msg.en
    assert errors[("E5_p", "required")].to_dict()["zh"] == "此题必答"


def test_validation_by_group_checks_only_that_group() -> None:
    errors = validate_answers(servqual(), {"T1_e": 7}, groups=["tangibles"])
    assert {e.field for e in errors} == {"T1_p", "T2_e", "T2_p", "T3_e", "T3_p", "T4_e", "T4_p"}


def test_show_if_conditions() -> None:
    inst = nps_csat()
    assert [q.code for q in visible_questions(inst, {"nps": 9})] == ["nps", "csat", "segment"]
    assert "reason" in [q.code for q in visible_questions(inst, {"nps": 3})]
    errors = validate_answers(inst, {"nps": 9, "csat": 5, "segment": 1, "reason": "slow"})
    assert [(e.field, e.rule) for e in errors] == [("reason", "hidden")]
    assert validate_answers(inst, {"nps": 3, "csat": 2, "segment": 2, "reason": "slow"}) == []
    # optional when shown
    assert validate_answers(inst, {"nps": 3, "csat": 2, "segment": 2}) == []


def test_choice_rules_and_coercion() -> None:
    inst = nps_csat()
    errors = validate_answers(inst, {"nps": "7", "csat": "5", "segment": "3"})
    assert [(e.field, e.rule) for e in errors] == [("segment", "option")]
    clean = coerce_answers(inst, {"nps": "7", "csat": "5", "segment": "2", "reason": ""})
    assert clean == {"nps": 7, "csat": 5, "segment": 2}


def test_multiple_choice() -> None:
    from sqm.domain.instrument import Option

    q = Question(
        "chan",
        QuestionType.MULTIPLE,
        Text("渠道", "Channels"),
        "d",
        options=(Option(1, Text("a", "a")), Option(2, Text("b", "b")), Option(3, Text("c", "c"))),
        max_choices=2,
    )
    inst = Instrument(
        "m", Text("m", "m"), (Dimension("d", Text("d", "d")),), (Group("g", Text("g", "g"), (q,)),)
    )
    assert validate_answers(inst, {"chan": [1, 3]}) == []
    assert [e.rule for e in validate_answers(inst, {"chan": [1, 2, 3]})] == ["max_choices"]
    assert [e.rule for e in validate_answers(inst, {"chan": [4]})] == ["option"]
    assert [e.rule for e in validate_answers(inst, {"chan": []})] == ["required"]


@given(st.lists(st.integers(min_value=0, max_value=100), min_size=5, max_size=5))
def test_constant_sum_valid_exactly_when_it_adds_to_100(points: list[int]) -> None:
    answers = _full_servqual_answers()
    for part, value in zip(
        ["tangibles", "reliability", "responsiveness", "assurance", "empathy"], points, strict=True
    ):
        answers[f"imp_{part}"] = value
    errors = validate_answers(servqual(), answers)
    assert (errors == []) == (sum(points) == 100)


@given(st.integers(min_value=-3, max_value=13))
def test_nps_range(score: int) -> None:
    errors = validate_answers(nps_csat(), {"nps": score, "csat": 3, "segment": 1})
    assert (errors == []) == (0 <= score <= 10)
