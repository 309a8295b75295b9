"""The checklist tree and the plan's template checklist and weight profiles."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sqm.domain.checklist import (
    Capability,
    Checklist,
    ChecklistItem,
    Indicator,
    ItemKind,
    Section,
    SectionKind,
)
from sqm.domain.checklist_template import (
    profile_from_section_weights,
    template_checklist,
    template_profile,
    template_profiles,
)


def _item(code: str, **kw: object) -> ChecklistItem:
    return ChecklistItem(code=code, text_zh="项", text_en="item", kind=ItemKind.YES_NO, **kw)  # type: ignore[arg-type]


def _checklist(*items: ChecklistItem, **kw: object) -> Checklist:
    ind = Indicator(code="ind", name_zh="指标", name_en="Indicator", items=items)
    sec = Section(code="sec", name_zh="维度", name_en="Section", indicators=(ind,))
    return Checklist(code="c", version=1, name_zh="表", name_en="List", sections=(sec,), **kw)  # type: ignore[arg-type]


def test_template_sections_use_the_plans_words() -> None:
    cl = template_checklist()
    service = [s.name_zh for s in cl.sections if s.kind is SectionKind.SERVICE]
    marketing = [s.name_zh for s in cl.sections if s.kind is SectionKind.MARKETING]
    # plan §1.4: 服务意识 人员质量 过程质量 环境设施 服务结果; 主动营销情况 宣传的一致性 客户挽留度
    assert service == ["服务意识", "人员质量", "过程质量", "环境设施", "服务结果"]
    assert marketing == ["主动营销", "促销一致性", "客户挽留"]
    names = {ind.name_zh for ind in cl.indicators()}
    assert {
        "服务主动性",
        "客户导向",
        "人员形象",
        "人员素质",
        "商品展示",
        "服务流程",
        "现场管理",
        "服务环境",
        "服务设施",
        "服务效率",
        "售后解决能力",
        "业务处理能力",
    } <= names


def test_template_veto_items_are_basic_norms_and_yes_no() -> None:
    cl = template_checklist()
    veto = [it for it in cl.items() if it.veto]
    assert veto and all(it.kind is ItemKind.YES_NO for it in veto)
    ind_of = cl.indicator_of_item()
    assert {ind_of[it.code] for it in veto} == {"service_norms", "merchandise_display"}
    assert any(it.critical for it in cl.items())
    assert all(it.text_en and it.text_zh for it in cl.items())


def test_duplicate_codes_are_rejected() -> None:
    with pytest.raises(ValidationError, match="unique"):
        _checklist(_item("a"), _item("a"))


def test_veto_item_must_be_yes_no() -> None:
    with pytest.raises(ValidationError, match="veto items must be yes/no"):
        ChecklistItem(
            code="x", text_zh="x", text_en="x", kind=ItemKind.SCALE, scale_max=3, veto=True
        )


def test_yes_no_item_has_scale_one_and_scale_needs_two() -> None:
    with pytest.raises(ValidationError):
        ChecklistItem(code="x", text_zh="x", text_en="x", kind=ItemKind.YES_NO, scale_max=3)
    with pytest.raises(ValidationError):
        ChecklistItem(code="x", text_zh="x", text_en="x", kind=ItemKind.SCALE, scale_max=1)


def test_grade_bands_must_descend_to_zero_and_cap_must_exist() -> None:
    from sqm.domain.checklist import GradeBand

    bands = (
        GradeBand(code="A", name_zh="优", name_en="A", min_score=50),
        GradeBand(code="B", name_zh="良", name_en="B", min_score=60),
    )
    with pytest.raises(ValidationError, match="descending"):
        _checklist(_item("a"), grade_bands=bands)
    with pytest.raises(ValidationError, match="critical_cap_grade"):
        _checklist(_item("a"), critical_cap_grade="Z")


def test_grade_lookup() -> None:
    cl = template_checklist()
    assert [cl.grade(s).code for s in (100, 90, 89.9, 80, 60, 59.99, 0)] == list("AABBCDD")


def test_every_profile_fits_and_sums_to_one() -> None:
    cl = template_checklist()
    profiles = template_profiles()
    assert len(profiles) == 4 * 2 * 2 * 3
    assert len({p.code for p in profiles}) == len(profiles)
    for p in profiles:
        p.check_against(cl)
        assert sum(p.indicator_weights.values()) == pytest.approx(1.0)
        assert sum(p.section_weights(cl).values()) == pytest.approx(1.0)


def _cap_share(profile_kw: dict[str, object], cap: Capability) -> float:
    cl = template_checklist()
    p = template_profile(**profile_kw)  # type: ignore[arg-type]
    return sum(p.indicator_weights[i.code] for i in cl.indicators() if i.capability is cap)


@pytest.mark.parametrize("tier", ["flagship_core", "first_level", "supermarket", "partner"])
def test_stage_emphasis_follows_the_plan(tier: str) -> None:
    early = {"tier": tier, "stage": "early"}
    mature = {"tier": tier, "stage": "mature"}
    # 初期: 服务规范、环境设施、现场管理 weigh more
    for cap in (Capability.SERVICE_NORMS, Capability.ENVIRONMENT, Capability.ON_SITE_MANAGEMENT):
        assert _cap_share(early, cap) > _cap_share(mature, cap)
    # mature: 服务意识、服务能力、服务结果, 业务处理能力 and 营销能力 weigh more; 亲和力 less
    for cap in (
        Capability.SERVICE_AWARENESS,
        Capability.SERVICE_CAPABILITY,
        Capability.RESULT,
        Capability.TRANSACTION,
        Capability.MARKETING,
    ):
        assert _cap_share(mature, cap) > _cap_share(early, cap)
    assert _cap_share(mature, Capability.AFFINITY) < _cap_share(early, Capability.AFFINITY)


def test_traffic_rule() -> None:
    hi = {"tier": "first_level", "traffic": "high"}
    lo = {"tier": "first_level", "traffic": "low"}
    assert _cap_share(hi, Capability.TRANSACTION) > _cap_share(lo, Capability.TRANSACTION)
    assert _cap_share(lo, Capability.MARKETING) > _cap_share(hi, Capability.MARKETING)


def test_tier_emphasis() -> None:
    base = {"tier": "partner"}
    assert _cap_share({"tier": "flagship_core"}, Capability.DEMO_EXPERIENCE) > _cap_share(
        base, Capability.DEMO_EXPERIENCE
    )
    assert _cap_share({"tier": "first_level"}, Capability.AFFINITY) > _cap_share(
        base, Capability.AFFINITY
    )
    assert _cap_share({"tier": "supermarket"}, Capability.MARKETING) > _cap_share(
        base, Capability.MARKETING
    )


def test_profile_from_section_weights_keeps_inner_ratios() -> None:
    cl = template_checklist()
    p = template_profile("first_level", stage="mature")
    sw = {s.code: float(k + 1) for k, s in enumerate(cl.sections)}
    q = profile_from_section_weights(p, cl, sw, method="ahp")
    total = sum(sw.values())
    for code, w in q.section_weights(cl).items():
        assert w == pytest.approx(sw[code] / total)
    a, b = "initiative", "affinity"  # both in 服务意识
    assert q.indicator_weights[a] / q.indicator_weights[b] == pytest.approx(
        p.indicator_weights[a] / p.indicator_weights[b]
    )
    assert q.method == "ahp"
