"""The store service-quality indicator system of the retail chain's plan (中域电讯服务质量提升整体方案).

Four dimensions — what customers perceive (surveys), what inspectors find (暗访 checklist
sections), how complaints are handled, and the network the store's customers live on —
each leaf naming its source. The mystery-shopping sections are the plan's own:
服务意识, 人员素质, 过程质量, 环境设施, 服务结果, plus the marketing checks 主动营销,
宣传一致性, 客户挽留. Basic service norms (基本服务规范) are a veto item (一票否决).

Weights follow the plan's rules: an early programme stage weighs service norms,
environment and on-site management; a mature stage weighs service awareness,
capability and results; flagship core stores stress process quality and after-sales,
first-level stores service affinity, supermarket stores affinity plus selling ability.
"""

from __future__ import annotations

from typing import Any

SYSTEM_CODE = "STORE_SQ"
SYSTEM_NAME = ("门店服务质量指标体系", "Store service-quality indicator system")


def _n(code: str, parent: str | None, level: str, zh: str, en: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "code": code,
        "parent_code": parent,
        "level": level,
        "name_zh": zh,
        "name_en": en,
    }
    row.update(kw)
    return row


_SURVEY = {
    "source": "survey_item",
    "scale_min": 0.0,
    "scale_max": 100.0,
    "unit": "分",
    "direction": "higher",
}
_INSP = {
    "source": "inspection_item",
    "scale_min": 0.0,
    "scale_max": 100.0,
    "unit": "分",
    "direction": "higher",
}

INTERCEPT_ITEMS: list[tuple[str, str, str]] = [
    ("initiative", "服务主动性", "Service initiative"),
    ("orientation", "客户导向", "Customer orientation"),
    ("attitude", "服务态度", "Service attitude"),
    ("image", "人员形象", "Staff image"),
    ("staff_quality", "人员素质", "Staff quality"),
    ("display", "商品展示", "Merchandise display"),
    ("flow", "服务流程", "Service flow"),
    ("onsite", "现场管理", "On-site management"),
    ("environment", "服务环境", "Environment"),
    ("facilities", "服务设施", "Facilities"),
    ("service_display", "服务展示", "Service display"),
    ("efficiency", "服务效率", "Efficiency"),
    ("after_sales", "售后解决能力", "After-sales resolution"),
]

INSPECTION_SECTIONS: list[tuple[str, str, str]] = [
    ("service_awareness", "服务意识", "Service awareness"),
    ("staff_quality", "人员素质", "Staff quality"),
    ("process_quality", "过程质量", "Process quality"),
    ("environment", "环境设施", "Environment and facilities"),
    ("service_result", "服务结果", "Service result"),
    ("proactive_marketing", "主动营销", "Proactive marketing"),
    ("promotion_consistency", "宣传一致性", "Consistency with promotions"),
    ("retention", "客户挽留", "Customer retention"),
]


def indicator_rows() -> list[dict[str, Any]]:
    """The nodes of the plan's indicator system, parents before children."""
    rows = [
        _n(
            "CUST",
            None,
            "dimension",
            "顾客感知",
            "Customer perception",
            definition_zh="顾客对门店服务的期望与感知(SERVQUAL、拦截调查、NPS)",
            definition_en="What customers expect and perceive (SERVQUAL, intercept survey, NPS)",
        ),
        _n("CUST.GAP", "CUST", "indicator", "服务质量差距", "Service-quality gap"),
        _n(
            "CUST.GAP.SQ",
            "CUST.GAP",
            "item",
            "SERVQUAL 差距 (P−E)",
            "SERVQUAL gap (P−E)",
            source="survey_item",
            source_ref="servqual.sq",
            scale_min=-6.0,
            scale_max=6.0,
            direction="higher",
            target=0.0,
            warning=-1.0,
            unit="分",
            definition_zh="SQ = Σ(Pᵢ − Eᵢ)/22,感知减期望",
            definition_en="SQ = Σ(Pᵢ − Eᵢ)/22, perception minus expectation",
        ),
        _n("CUST.PERC", "CUST", "indicator", "门店服务感知", "Perceived store service"),
    ]
    for code, zh, en in INTERCEPT_ITEMS:
        rows.append(
            _n(
                f"CUST.PERC.{code}",
                "CUST.PERC",
                "item",
                zh,
                en,
                source_ref=f"intercept.{code}",
                target=85.0,
                warning=70.0,
                **_SURVEY,
            )
        )
    rows += [
        _n("CUST.LOY", "CUST", "indicator", "满意与推荐", "Satisfaction and recommendation"),
        _n(
            "CUST.LOY.SAT",
            "CUST.LOY",
            "item",
            "总体满意度",
            "Overall satisfaction",
            source_ref="intercept.overall",
            target=85.0,
            warning=70.0,
            **_SURVEY,
        ),
        _n(
            "CUST.LOY.NPS",
            "CUST.LOY",
            "item",
            "净推荐值 NPS",
            "Net Promoter Score",
            source="survey_item",
            source_ref="intercept.nps",
            scale_min=-100.0,
            scale_max=100.0,
            unit="%",
            direction="higher",
            target=40.0,
            warning=10.0,
        ),
        _n(
            "INSP",
            None,
            "dimension",
            "暗访检查",
            "Mystery shopping",
            definition_zh="神秘顾客暗访与明访检查得分",
            definition_en="Mystery-shopper and announced visit scores",
        ),
    ]
    for code, zh, en in INSPECTION_SECTIONS:
        rows.append(_n(f"INSP.{code}", "INSP", "indicator", zh, en))
        rows.append(
            _n(
                f"INSP.{code}.score",
                f"INSP.{code}",
                "item",
                f"{zh}得分",
                f"{en} score",
                source_ref=f"section:{code}",
                target=90.0,
                warning=75.0,
                **_INSP,
            )
        )
    rows.append(
        _n(
            "INSP.service_awareness.norms",
            "INSP.service_awareness",
            "item",
            "基本服务规范(一票否决)",
            "Basic service norms (veto)",
            source="inspection_item",
            source_ref="veto:basic_norms",
            scale_min=0.0,
            scale_max=1.0,
            direction="higher",
            is_veto=True,
            definition_zh="违反任一基本服务规范即扣除该指标全部得分",
            definition_en="Any violation of a basic service norm removes the indicator's whole score",
        )
    )
    rows += [
        _n("COMP", None, "dimension", "投诉管理", "Complaint handling"),
        _n("COMP.RATE", "COMP", "indicator", "投诉率", "Complaint rate"),
        _n(
            "COMP.RATE.per10k",
            "COMP.RATE",
            "item",
            "万客户投诉率",
            "Complaints per 10,000 customers",
            source="complaint_metric",
            source_ref="complaint_rate_per_10k",
            direction="lower",
            unit="件/万户",
            scale_min=0.0,
            scale_max=50.0,
            target=5.0,
            warning=15.0,
        ),
        _n("COMP.HANDLE", "COMP", "indicator", "投诉处理", "Complaint resolution"),
        _n(
            "COMP.HANDLE.ontime",
            "COMP.HANDLE",
            "item",
            "按时处理率",
            "Resolved on time",
            source="complaint_metric",
            source_ref="on_time_rate",
            direction="higher",
            unit="%",
            scale_min=0.0,
            scale_max=100.0,
            target=95.0,
            warning=85.0,
        ),
        _n(
            "COMP.HANDLE.sat",
            "COMP.HANDLE",
            "item",
            "投诉处理满意度",
            "Satisfaction with resolution",
            source="complaint_metric",
            source_ref="resolution_satisfaction",
            direction="higher",
            unit="%",
            scale_min=0.0,
            scale_max=100.0,
            target=90.0,
            warning=75.0,
        ),
        _n(
            "NET",
            None,
            "dimension",
            "网络质量",
            "Network quality",
            definition_zh="门店周边小区的网络 KPI",
            definition_en="Network KPIs of the cells around the store",
        ),
        _n("NET.DATA", "NET", "indicator", "数据业务", "Data service"),
        _n(
            "NET.DATA.dl",
            "NET.DATA",
            "item",
            "下行用户速率",
            "Downlink user throughput",
            source="network_kpi",
            source_ref="dl_user_throughput",
            direction="higher",
            unit="Mbit/s",
            scale_min=0.0,
            scale_max=300.0,
            target=100.0,
            warning=30.0,
        ),
        _n("NET.VOICE", "NET", "indicator", "语音业务", "Voice service"),
        _n(
            "NET.VOICE.drop",
            "NET.VOICE",
            "item",
            "掉话率",
            "Call drop rate",
            source="network_kpi",
            source_ref="voice_drop_rate",
            direction="lower",
            unit="%",
            scale_min=0.0,
            scale_max=5.0,
            target=0.5,
            warning=1.5,
        ),
        _n(
            "NET.VOICE.mos",
            "NET.VOICE",
            "item",
            "语音 MOS",
            "Voice MOS (E-model)",
            source="network_kpi",
            source_ref="voice_mos",
            direction="higher",
            scale_min=1.0,
            scale_max=4.5,
            target=4.0,
            warning=3.6,
        ),
    ]
    return rows


def _local(
    rows: list[dict[str, Any]], dims: dict[str, float], ind: dict[str, float]
) -> dict[str, float]:
    """Local weights: the given dimension and indicator weights, equal weights elsewhere."""
    kids: dict[str | None, list[str]] = {}
    for r in rows:
        kids.setdefault(r["parent_code"], []).append(r["code"])
    w: dict[str, float] = dict(dims)
    for parent, codes in kids.items():
        if parent is None:
            continue
        given = {c: ind[c] for c in codes if c in ind}
        rest = [c for c in codes if c not in given]
        left = 1.0 - sum(given.values())
        for c in rest:
            given[c] = left / len(rest)
        w.update(given)
    return w


#: (tier, stage) → (dimension weights, section weights inside INSP)
_PROFILES: dict[tuple[str, str], tuple[dict[str, float], dict[str, float]]] = {
    ("flagship_core", "early"): (
        {"CUST": 0.35, "INSP": 0.40, "COMP": 0.15, "NET": 0.10},
        {
            "service_awareness": 0.15,
            "staff_quality": 0.10,
            "process_quality": 0.15,
            "environment": 0.25,
            "service_result": 0.15,
            "proactive_marketing": 0.05,
            "promotion_consistency": 0.10,
            "retention": 0.05,
        },
    ),
    ("flagship_core", "mature"): (
        {"CUST": 0.40, "INSP": 0.35, "COMP": 0.15, "NET": 0.10},
        {
            "service_awareness": 0.15,
            "staff_quality": 0.10,
            "process_quality": 0.25,
            "environment": 0.10,
            "service_result": 0.20,
            "proactive_marketing": 0.05,
            "promotion_consistency": 0.10,
            "retention": 0.05,
        },
    ),
    ("first_level", "early"): (
        {"CUST": 0.35, "INSP": 0.40, "COMP": 0.15, "NET": 0.10},
        {
            "service_awareness": 0.20,
            "staff_quality": 0.15,
            "process_quality": 0.10,
            "environment": 0.25,
            "service_result": 0.10,
            "proactive_marketing": 0.05,
            "promotion_consistency": 0.10,
            "retention": 0.05,
        },
    ),
    ("first_level", "mature"): (
        {"CUST": 0.40, "INSP": 0.35, "COMP": 0.15, "NET": 0.10},
        {
            "service_awareness": 0.25,
            "staff_quality": 0.20,
            "process_quality": 0.15,
            "environment": 0.10,
            "service_result": 0.15,
            "proactive_marketing": 0.05,
            "promotion_consistency": 0.05,
            "retention": 0.05,
        },
    ),
    ("supermarket", "early"): (
        {"CUST": 0.30, "INSP": 0.45, "COMP": 0.15, "NET": 0.10},
        {
            "service_awareness": 0.20,
            "staff_quality": 0.15,
            "process_quality": 0.10,
            "environment": 0.25,
            "service_result": 0.10,
            "proactive_marketing": 0.10,
            "promotion_consistency": 0.05,
            "retention": 0.05,
        },
    ),
    ("supermarket", "mature"): (
        {"CUST": 0.35, "INSP": 0.40, "COMP": 0.15, "NET": 0.10},
        {
            "service_awareness": 0.20,
            "staff_quality": 0.15,
            "process_quality": 0.10,
            "environment": 0.10,
            "service_result": 0.15,
            "proactive_marketing": 0.20,
            "promotion_consistency": 0.05,
            "retention": 0.05,
        },
    ),
    ("partner", "early"): (
        {"CUST": 0.30, "INSP": 0.45, "COMP": 0.15, "NET": 0.10},
        {
            "service_awareness": 0.15,
            "staff_quality": 0.10,
            "process_quality": 0.15,
            "environment": 0.25,
            "service_result": 0.10,
            "proactive_marketing": 0.10,
            "promotion_consistency": 0.10,
            "retention": 0.05,
        },
    ),
    ("partner", "mature"): (
        {"CUST": 0.35, "INSP": 0.40, "COMP": 0.15, "NET": 0.10},
        {
            "service_awareness": 0.15,
            "staff_quality": 0.10,
            "process_quality": 0.15,
            "environment": 0.10,
            "service_result": 0.15,
            "proactive_marketing": 0.20,
            "promotion_consistency": 0.10,
            "retention": 0.05,
        },
    ),
}

TIER_NAMES = {
    "flagship_core": ("旗舰核心店", "flagship core stores"),
    "first_level": ("一级店", "first-level stores"),
    "supermarket": ("超市店", "supermarket stores"),
    "partner": ("合作店", "partner stores"),
}
STAGE_NAMES = {"early": ("初期", "early stage"), "mature": ("深化期", "mature stage")}


def weight_profiles(
    first_period: str, stage_change: str, last_stage_early: str
) -> list[dict[str, Any]]:
    """The plan's weight profiles: every store tier × programme stage.

    The early stage runs from ``first_period`` to ``last_stage_early``; the mature stage
    starts at ``stage_change``.
    """
    rows = indicator_rows()
    out = []
    for (tier, stage), (dims, sections) in _PROFILES.items():
        ind = {f"INSP.{k}": v for k, v in sections.items()}
        ind.update(
            {
                "CUST.GAP": 0.30,
                "CUST.PERC": 0.40,
                "CUST.LOY": 0.30,
                "COMP.RATE": 0.50,
                "COMP.HANDLE": 0.50,
                "NET.DATA": 0.50,
                "NET.VOICE": 0.50,
                "INSP.service_awareness.score": 0.80,
                "INSP.service_awareness.norms": 0.20,
                "COMP.HANDLE.ontime": 0.60,
                "COMP.HANDLE.sat": 0.40,
                "NET.VOICE.drop": 0.50,
                "NET.VOICE.mos": 0.50,
                "CUST.LOY.SAT": 0.60,
                "CUST.LOY.NPS": 0.40,
            }
        )
        tz, te = TIER_NAMES[tier]
        sz, se = STAGE_NAMES[stage]
        out.append(
            {
                "code": f"WP.{tier}.{stage}",
                "name_zh": f"{tz}·{sz}权重",
                "name_en": f"Weights for {te}, {se}",
                "tier": tier,
                "stage": stage,
                "valid_from": first_period if stage == "early" else stage_change,
                "valid_to": last_stage_early if stage == "early" else None,
                "method": "manual",
                "inputs": {
                    "source": "plan: 中域电讯服务质量提升整体方案 §1.4 (weights by tier and stage)",
                    "dimension_weights": dims,
                    "section_weights": sections,
                },
                "weights": _local(rows, dims, ind),
            }
        )
    return out
