"""The template mystery-shopping checklist and its weight profiles, from the plan (§1.4).

Sections follow the plan's list word for word: 服务意识, 人员质量, 过程质量, 环境设施,
服务结果; marketing: 主动营销情况, (中域)业务宣传的一致性, 客户挽留度. Indicators inside
them are the customer-perception elements of §1.3 (服务主动性, 客户导向, 服务态度, 人员形象,
人员素质, 商品展示, 服务流程, 现场管理, 服务环境, 服务设施, 服务展示, 服务效率, 售后解决能力)
plus the capabilities §1.4 names (服务规范, 业务处理能力, 产品演示和服务体验, 营销能力).

Veto items (一票否决) sit on basic service norms (基本服务规范), as the plan says: one violation
zeroes the indicator that holds them. Critical items mark failures that must not hide behind a
good total (unexplained contract terms, no receipt, promotion text that differs from the
company's); they cap the grade.

Weight profiles apply the plan's emphases as multipliers on base indicator weights:

- stage 初期 (early): 服务规范, 环境设施, 现场管理 ×2;
- stage mature (明显改进以后): 服务亲和力 and 现场管理 ×0.5 ("降低"), 服务意识, 服务能力,
  服务结果 ×1.5 ("侧重"), 业务处理能力 and 营销能力 ×2 ("明显加大");
- traffic: high (客流量大) 业务处理能力 ×1.5; low (客流量小) 营销能力 ×1.5;
- tier: 旗舰核心店 企业形象宣传, 产品演示和服务体验, 服务过程质量, 售后 ×1.5;
  一级店 服务亲和力 ×1.5; 超市店 服务亲和力 and 销售服务能力 ×1.5; 合作店: the plan names
  no emphasis, so base weights.

The multipliers (×0.5/×1.5/×2) are SQM's quantification of the plan's words, not numbers from
the plan; the plan also distinguishes 省内/省外 stores without saying which way to shift, so
in- and out-of-province profiles start equal and are kept as separate profiles an analyst
can edit. The pass mark (60) and grade bands (90/80/60) are SQM defaults.

>>> cl = template_checklist()
>>> [s.name_zh for s in cl.sections][:5]
['服务意识', '人员质量', '过程质量', '环境设施', '服务结果']
>>> p = template_profile("flagship_core", stage="early")
>>> round(sum(p.indicator_weights.values()), 9)
1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from sqm.domain.checklist import (
    Capability,
    Checklist,
    ChecklistItem,
    Evidence,
    Indicator,
    ItemKind,
    Section,
    SectionKind,
    Traffic,
    WeightProfile,
)
from sqm.domain.indicator import ProgrammeStage
from sqm.domain.org import StoreTier

TEMPLATE_CODE = "mystery_shopping"
TEMPLATE_VERSION = 1

_PHOTO = frozenset({Evidence.PHOTO})
_NOTE = frozenset({Evidence.NOTE})
_RECEIPT = frozenset({Evidence.RECEIPT})


def _yn(code: str, zh: str, en: str, **kw: object) -> ChecklistItem:
    return ChecklistItem(code=code, text_zh=zh, text_en=en, kind=ItemKind.YES_NO, **kw)


def _sc(code: str, zh: str, en: str, n: int, **kw: object) -> ChecklistItem:
    return ChecklistItem(
        code=code,
        text_zh=zh,
        text_en=en,
        kind=ItemKind.SCALE,
        scale_max=n,
        **kw,
    )


def _ind(
    code: str, zh: str, en: str, cap: Capability, weight: float, *items: ChecklistItem
) -> Indicator:
    return Indicator(code=code, name_zh=zh, name_en=en, capability=cap, weight=weight, items=items)


def _sections() -> tuple[Section, ...]:
    c = Capability
    service_awareness = Section(
        code="service_awareness",
        name_zh="服务意识",
        name_en="Service awareness",
        indicators=(
            _ind(
                "initiative",
                "服务主动性",
                "Service initiative",
                c.SERVICE_AWARENESS,
                4,
                _yn(
                    "greet_on_entry",
                    "顾客进店后3秒内主动迎宾问候",
                    "Greets the customer within 3 s of entering",
                ),
                _yn("ask_needs", "主动询问顾客需求", "Asks about the customer's needs unprompted"),
                _yn(
                    "offer_help",
                    "顾客浏览或犹豫时主动上前提供帮助",
                    "Offers help when the customer browses or hesitates",
                    na_allowed=True,
                ),
            ),
            _ind(
                "affinity",
                "服务亲和力",
                "Service affinity",
                c.AFFINITY,
                4,
                _sc("smile_eye_contact", "微笑服务、目光交流", "Smiles and keeps eye contact", 3),
                _sc("warm_attitude", "服务态度热情、耐心", "Warm and patient attitude", 5),
                _yn(
                    "farewell",
                    "顾客离店时礼貌道别",
                    "Says goodbye politely when the customer leaves",
                ),
            ),
            _ind(
                "customer_orientation",
                "客户导向",
                "Customer orientation",
                c.SERVICE_AWARENESS,
                3,
                _yn(
                    "introduce_trends",
                    "介绍最新产品和潮流趋势",
                    "Introduces new products and trends",
                ),
                _sc(
                    "recommend_by_needs",
                    "按顾客需求推荐合适的产品或套餐",
                    "Recommends products or plans that fit the stated needs",
                    3,
                ),
            ),
        ),
    )
    staff_quality = Section(
        code="staff_quality",
        name_zh="人员质量",
        name_en="Staff quality",
        indicators=(
            _ind(
                "staff_image",
                "人员形象",
                "Staff appearance",
                c.SERVICE_NORMS,
                2,
                _yn(
                    "uniform_badge",
                    "按规定着工装、佩戴工牌",
                    "Wears the uniform and name badge",
                    evidence=_PHOTO,
                ),
                _yn("grooming", "仪容仪表整洁", "Neat grooming"),
            ),
            _ind(
                "staff_manner",
                "人员素质",
                "Staff manner",
                c.AFFINITY,
                3,
                _yn("polite_language", "使用礼貌用语", "Uses polite language"),
                _sc(
                    "tone_respect",
                    "谈吐、语气得体,尊重顾客",
                    "Speaks appropriately and respectfully",
                    3,
                ),
            ),
            _ind(
                "service_norms",
                "基本服务规范",
                "Basic service norms",
                c.SERVICE_NORMS,
                4,
                _yn(
                    "no_dispute",
                    "未与顾客争执,无态度恶劣、推诿",
                    "No argument with, rudeness to or brushing off of the customer",
                    veto=True,
                    evidence=_NOTE,
                ),
                _yn(
                    "no_idling",
                    "当班期间无玩手机、闲聊、扎堆",
                    "No phone use, chatting or huddling while on duty",
                    veto=True,
                    evidence=_NOTE,
                ),
                _yn(
                    "counter_staffed",
                    "营业时间柜台有人值守",
                    "Counters staffed during opening hours",
                ),
            ),
            _ind(
                "product_knowledge",
                "业务能力",
                "Product and service knowledge",
                c.SERVICE_CAPABILITY,
                4,
                _sc(
                    "explain_products",
                    "准确介绍产品功能与资费",
                    "Explains product features and tariffs correctly",
                    5,
                ),
                _sc(
                    "answer_questions",
                    "准确解答顾客疑问",
                    "Answers the customer's questions correctly",
                    3,
                ),
            ),
        ),
    )
    process_quality = Section(
        code="process_quality",
        name_zh="过程质量",
        name_en="Process quality",
        indicators=(
            _ind(
                "service_flow",
                "服务流程",
                "Service flow",
                c.PROCESS,
                3,
                _yn(
                    "queue_guidance",
                    "排队引导、叫号有序",
                    "Queue guidance and ticketing in order",
                    na_allowed=True,
                ),
                _yn(
                    "customer_freedom",
                    "给予顾客适当自由度,不强迫推销",
                    "Leaves the customer room to choose, no pushy selling",
                ),
            ),
            _ind(
                "transaction_handling",
                "业务处理能力",
                "Transaction handling",
                c.TRANSACTION,
                4,
                _yn(
                    "transaction_accurate",
                    "业务办理(开卡、缴费、充值)准确无差错",
                    "Transactions (SIM, payment, top-up) done without error",
                    na_allowed=True,
                ),
                _sc(
                    "transaction_speed",
                    "办理效率高,无较长等候",
                    "Transactions handled quickly, no long wait",
                    3,
                    na_allowed=True,
                ),
                _yn(
                    "explain_terms",
                    "办理前说明资费与协议条款",
                    "Explains tariff and contract terms before signing",
                    critical=True,
                    na_allowed=True,
                    evidence=_NOTE,
                ),
            ),
            _ind(
                "demo_experience",
                "产品演示和服务体验",
                "Product demonstration and experience",
                c.DEMO_EXPERIENCE,
                3,
                _yn("product_demo", "主动演示产品功能", "Demonstrates the product unprompted"),
                _yn(
                    "demo_devices_working", "体验机可正常使用", "Demo devices work", evidence=_PHOTO
                ),
            ),
            _ind(
                "on_site_management",
                "现场管理",
                "On-site management",
                c.ON_SITE_MANAGEMENT,
                3,
                _sc(
                    "on_site_order",
                    "现场秩序良好,意外情况处置不慌乱",
                    "Orderly floor; incidents handled calmly",
                    3,
                ),
                _yn(
                    "manager_on_floor",
                    "店长或值班经理在岗巡场",
                    "Store or duty manager present on the floor",
                ),
            ),
        ),
    )
    environment = Section(
        code="environment_facilities",
        name_zh="环境设施",
        name_en="Environment and facilities",
        indicators=(
            _ind(
                "environment",
                "服务环境",
                "Service environment",
                c.ENVIRONMENT,
                3,
                _yn(
                    "clean_tidy", "店内整洁、无杂物", "Store clean and uncluttered", evidence=_PHOTO
                ),
                _yn(
                    "light_comfort",
                    "照明充足、温度舒适",
                    "Good lighting and comfortable temperature",
                ),
            ),
            _ind(
                "facilities",
                "服务设施",
                "Service facilities",
                c.ENVIRONMENT,
                2,
                _yn(
                    "seats",
                    "设有顾客休息座椅",
                    "Seats for customers to rest",
                    na_allowed=True,
                    evidence=_PHOTO,
                ),
                _yn(
                    "equipment_working",
                    "叫号机、POS等设备完好",
                    "Ticketing machine, POS and other equipment work",
                ),
            ),
            _ind(
                "merchandise_display",
                "商品展示",
                "Merchandise display",
                c.ENVIRONMENT,
                3,
                _sc(
                    "display_attractive",
                    "商品陈列整齐、便于选购",
                    "Merchandise displayed neatly and easy to choose from",
                    3,
                    evidence=_PHOTO,
                ),
                _yn(
                    "price_tags",
                    "商品明码标价",
                    "Every product carries a price tag",
                    veto=True,
                    evidence=_PHOTO,
                ),
            ),
            _ind(
                "service_display",
                "服务展示与企业形象宣传",
                "Service display and brand image",
                c.BRAND_IMAGE,
                2,
                _yn(
                    "standards_posted",
                    "服务标准与服务承诺对外公示",
                    "Service standards and pledges displayed",
                    evidence=_PHOTO,
                ),
                _yn(
                    "brand_materials",
                    "企业形象宣传物料规范",
                    "Brand materials follow the guidelines",
                    evidence=_PHOTO,
                ),
            ),
        ),
    )
    result = Section(
        code="service_result",
        name_zh="服务结果",
        name_en="Service result",
        indicators=(
            _ind(
                "efficiency",
                "服务效率",
                "Service efficiency",
                c.RESULT,
                3,
                _sc(
                    "wait_time",
                    "等候时间(0:超过15分钟…3:3分钟以内)",
                    "Waiting time (0: over 15 min … 3: within 3 min)",
                    3,
                ),
            ),
            _ind(
                "purchase_result",
                "实际购买",
                "Actual purchase",
                c.RESULT,
                3,
                _yn(
                    "purchase_done",
                    "实际购买顺利完成",
                    "The purchase was completed smoothly",
                    na_allowed=True,
                    evidence=_RECEIPT,
                ),
                _yn(
                    "receipt_issued",
                    "主动开具小票或发票",
                    "Receipt or invoice issued unprompted",
                    critical=True,
                    na_allowed=True,
                    evidence=_RECEIPT,
                ),
            ),
            _ind(
                "after_sales",
                "售后解决能力",
                "After-sales problem solving",
                c.AFTER_SALES,
                3,
                _sc(
                    "after_sales_answer",
                    "退换、维修等售后问题解答清楚并给出办法",
                    "Explains returns and repairs clearly and offers a solution",
                    3,
                    na_allowed=True,
                ),
            ),
            _ind(
                "overall_impression",
                "整体服务感受",
                "Overall impression",
                c.RESULT,
                2,
                _sc(
                    "overall",
                    "暗访员对本次服务的整体感受",
                    "Inspector's overall impression of the service",
                    10,
                ),
            ),
        ),
    )
    marketing = Section(
        code="proactive_marketing",
        name_zh="主动营销",
        name_en="Proactive marketing",
        kind=SectionKind.MARKETING,
        indicators=(
            _ind(
                "marketing_initiative",
                "主动营销情况",
                "Proactive marketing",
                c.MARKETING,
                3,
                _yn(
                    "recommend_offers",
                    "主动推荐当期活动和业务",
                    "Recommends the current offers unprompted",
                ),
                _yn(
                    "cross_sell",
                    "主动推荐配件或增值业务",
                    "Suggests accessories or value-added services",
                ),
                _sc("closing_skill", "营销话术与促成能力", "Sales talk and closing skill", 5),
            ),
        ),
    )
    consistency = Section(
        code="promotion_consistency",
        name_zh="促销一致性",
        name_en="Consistency with promotions",
        kind=SectionKind.MARKETING,
        indicators=(
            _ind(
                "promotion_messages",
                "业务宣传的一致性",
                "Consistency of promotion messages",
                c.MARKETING,
                3,
                _yn(
                    "materials_current",
                    "宣传物料为公司当期活动",
                    "Promotion materials are the company's current ones",
                    evidence=_PHOTO,
                ),
                _yn(
                    "script_consistent",
                    "店员介绍的活动内容与公司宣传一致",
                    "What staff say about offers matches the company's promotion",
                    critical=True,
                    evidence=_NOTE,
                ),
                _yn(
                    "price_consistent",
                    "成交价格与宣传价格一致",
                    "Price paid matches the advertised price",
                    na_allowed=True,
                    evidence=_RECEIPT,
                ),
            ),
        ),
    )
    retention = Section(
        code="customer_retention",
        name_zh="客户挽留",
        name_en="Customer retention",
        kind=SectionKind.MARKETING,
        indicators=(
            _ind(
                "retention",
                "客户挽留度",
                "Customer retention",
                c.MARKETING,
                2,
                _yn(
                    "retain_on_leave",
                    "顾客表示要离开或再考虑时主动挽留",
                    "Tries to keep the customer who says they will leave or think it over",
                ),
                _yn(
                    "offer_alternative",
                    "提供替代方案或优惠",
                    "Offers an alternative or a discount",
                    na_allowed=True,
                ),
                _yn(
                    "follow_up_contact",
                    "留下联系方式或邀约再次到店",
                    "Takes contact details or invites the customer back",
                ),
            ),
        ),
    )
    return (
        service_awareness,
        staff_quality,
        process_quality,
        environment,
        result,
        marketing,
        consistency,
        retention,
    )


@cache
def template_checklist() -> Checklist:
    """The mystery-shopping checklist that ships with SQM (version 1), built from the plan.

    >>> cl = template_checklist()
    >>> sum(1 for it in cl.items() if it.veto), cl.pass_mark
    (3, 60.0)
    """
    return Checklist(
        code=TEMPLATE_CODE,
        version=TEMPLATE_VERSION,
        name_zh="门店服务质量暗访检查表",
        name_en="Store service-quality mystery-shopping checklist",
        sections=_sections(),
        pass_mark=60.0,
        critical_cap_grade="C",
    )


#: Multipliers on base indicator weights, by what the plan says to stress (see module doc).
STAGE_EMPHASIS: dict[ProgrammeStage, dict[Capability, float]] = {
    ProgrammeStage.EARLY: {
        Capability.SERVICE_NORMS: 2.0,
        Capability.ENVIRONMENT: 2.0,
        Capability.ON_SITE_MANAGEMENT: 2.0,
    },
    ProgrammeStage.MATURE: {
        Capability.AFFINITY: 0.5,
        Capability.ON_SITE_MANAGEMENT: 0.5,
        Capability.SERVICE_AWARENESS: 1.5,
        Capability.SERVICE_CAPABILITY: 1.5,
        Capability.RESULT: 1.5,
        Capability.TRANSACTION: 2.0,
        Capability.MARKETING: 2.0,
    },
}

TRAFFIC_EMPHASIS: dict[Traffic, dict[Capability, float]] = {
    Traffic.HIGH: {Capability.TRANSACTION: 1.5},
    Traffic.NORMAL: {},
    Traffic.LOW: {Capability.MARKETING: 1.5},
}

TIER_EMPHASIS: dict[StoreTier, dict[Capability, float]] = {
    StoreTier.FLAGSHIP_CORE: {
        Capability.BRAND_IMAGE: 1.5,
        Capability.DEMO_EXPERIENCE: 1.5,
        Capability.PROCESS: 1.5,
        Capability.AFTER_SALES: 1.5,
    },
    StoreTier.FIRST_LEVEL: {Capability.AFFINITY: 1.5},
    StoreTier.SUPERMARKET: {Capability.AFFINITY: 1.5, Capability.MARKETING: 1.5},
    StoreTier.PARTNER: {},
}


def emphasised_weights(
    checklist: Checklist, emphases: Iterable[Mapping[Capability, float]]
) -> dict[str, float]:
    """Indicator weights = base weight × product of the emphasis multipliers, normalised to 1.

    Formula: w_k ∝ b_k · Π_e m_e(capability_k), Σ_k w_k = 1.

    >>> w = emphasised_weights(template_checklist(), [{Capability.MARKETING: 2.0}])
    >>> w["retention"] > emphasised_weights(template_checklist(), [])["retention"]
    True
    """
    raw: dict[str, float] = {}
    emph = list(emphases)
    for ind in checklist.indicators():
        w = ind.weight
        for e in emph:
            w *= e.get(ind.capability, 1.0)
        raw[ind.code] = w
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def template_profile(
    tier: str | StoreTier,
    *,
    stage: str | ProgrammeStage = ProgrammeStage.EARLY,
    traffic: str | Traffic = Traffic.NORMAL,
    in_province: bool | None = True,
    checklist: Checklist | None = None,
) -> WeightProfile:
    """The plan's weight profile for one store kind (tier, stage, traffic, in/out of province).

    >>> early = template_profile("first_level", stage="early")
    >>> mature = template_profile("first_level", stage="mature")
    >>> early.indicator_weights["service_norms"] > mature.indicator_weights["service_norms"]
    True
    """
    cl = checklist or template_checklist()
    t, s, tr = StoreTier(tier), ProgrammeStage(stage), Traffic(traffic)
    weights = emphasised_weights(cl, [STAGE_EMPHASIS[s], TRAFFIC_EMPHASIS[tr], TIER_EMPHASIS[t]])
    return WeightProfile(
        code=f"{cl.code}.v{cl.version}.{ProfileKey(t, in_province, s, tr).slug}",
        checklist_code=cl.code,
        checklist_version=cl.version,
        tier=t.value,
        in_province=in_province,
        stage=s.value,
        traffic=tr,
        indicator_weights=weights,
        method="plan_template",
        note="plan §1.4 emphases as multipliers on base weights (sqm.domain.checklist_template)",
    )


def template_profiles(checklist: Checklist | None = None) -> list[WeightProfile]:
    """Every template profile: 4 tiers × in/out of province × 2 stages × 3 traffic levels.

    >>> len(template_profiles())
    48
    """
    return [
        template_profile(t, stage=s, traffic=tr, in_province=p, checklist=checklist)
        for t in StoreTier
        for p in (True, False)
        for s in ProgrammeStage
        for tr in Traffic
    ]


@dataclass(frozen=True)
class ProfileKey:
    """Which stores a weight profile is for: tier × in/out of province × stage × traffic.

    ``slug`` names the key in URLs and profile codes (``first_level.in.early.normal``).

    >>> k = ProfileKey.parse("supermarket.out.mature.low")
    >>> k.tier.value, k.in_province, k.stage.value, k.traffic.value, k.slug
    ('supermarket', False, 'mature', 'low', 'supermarket.out.mature.low')
    """

    tier: StoreTier
    in_province: bool | None
    stage: ProgrammeStage
    traffic: Traffic

    @property
    def slug(self) -> str:
        """The key as ``tier.in|out|any.stage.traffic``."""
        prov = {True: "in", False: "out", None: "any"}[self.in_province]
        return f"{self.tier.value}.{prov}.{self.stage.value}.{self.traffic.value}"

    @classmethod
    def parse(cls, slug: str) -> ProfileKey:
        """The key named by ``slug``; ``ValueError`` naming the bad part otherwise."""
        parts = slug.split(".")
        if len(parts) != 4:
            raise ValueError(f"a profile key has 4 parts tier.province.stage.traffic, got {slug!r}")
        tier, prov, stage, traffic = parts
        provinces = {"in": True, "out": False, "any": None}
        if prov not in provinces:
            raise ValueError(f"province part must be in, out or any, got {prov!r}")
        return cls(StoreTier(tier), provinces[prov], ProgrammeStage(stage), Traffic(traffic))


def profile_keys() -> list[ProfileKey]:
    """The 48 keys the template covers, in the order of :func:`template_profiles`.

    >>> len(profile_keys()), profile_keys()[0].slug
    (48, 'flagship_core.in.early.high')
    """
    return [
        ProfileKey(t, p, s, tr)
        for t in StoreTier
        for p in (True, False)
        for s in ProgrammeStage
        for tr in Traffic
    ]


#: The store intercept survey's 13 perception items (plan §1.3; question codes of
#: :data:`sqm.domain.instrument_templates.INTERCEPT_ITEMS`) → the checklist indicator that
#: checks the same element of service on a visit. The plan built the checklist's indicators
#: from these very elements, so each survey item has exactly one indicator; 服务态度 (the
#: staff's warmth and attitude) is observed by 服务亲和力. Indicators without a survey item
#: (basic norms, transaction handling, marketing…) get no customer-derived importance.
SURVEY_ITEM_INDICATORS: dict[str, str] = {
    "Q01": "initiative",  # 服务主动性
    "Q02": "customer_orientation",  # 客户导向
    "Q03": "affinity",  # 服务态度 → 服务亲和力
    "Q04": "staff_image",  # 人员形象
    "Q05": "staff_manner",  # 人员素质
    "Q06": "merchandise_display",  # 商品展示
    "Q07": "service_flow",  # 服务流程
    "Q08": "on_site_management",  # 现场管理
    "Q09": "environment",  # 服务环境
    "Q10": "facilities",  # 服务设施
    "Q11": "service_display",  # 服务展示
    "Q12": "efficiency",  # 服务效率
    "Q13": "after_sales",  # 售后解决能力
}


def profile_from_section_weights(
    base: WeightProfile, checklist: Checklist, section_weights: Mapping[str, float], *, method: str
) -> WeightProfile:
    """Re-scale a profile so its sections get the given weights (e.g. from AHP on sections).

    Inside a section, indicators keep their relative weights from ``base``.
    Formula: w'_k = W_s · w_k / Σ_{j∈s} w_j, with W normalised to sum to 1.

    >>> cl = template_checklist()
    >>> p = template_profile("partner")
    >>> sw = {s.code: 1.0 for s in cl.sections}
    >>> q = profile_from_section_weights(p, cl, sw, method="ahp")
    >>> round(q.section_weights(cl)["service_result"], 4)
    0.125
    """
    base.check_against(checklist)
    missing = {s.code for s in checklist.sections} - set(section_weights)
    if missing or any(not v > 0 for v in section_weights.values()):
        raise ValueError(
            f"section_weights must give a positive weight to every section; missing {sorted(missing)}"
        )
    total_w = sum(section_weights[s.code] for s in checklist.sections)
    current = base.section_weights(checklist)
    sec_of = checklist.section_of_indicator()
    new = {
        k: section_weights[sec_of[k]] / total_w * w / current[sec_of[k]]
        for k, w in base.indicator_weights.items()
    }
    norm = sum(new.values())
    return base.model_copy(
        update={
            "indicator_weights": {k: v / norm for k, v in new.items()},
            "method": method,
            "code": f"{base.code}.{method}",
        }
    )
