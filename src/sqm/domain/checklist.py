"""Inspection checklists (暗访/明访检查表): a versioned tree section → indicator → item.

The plan (中域电讯服务质量提升整体方案, §1.4) checks a store on 服务意识, 人员质量, 过程质量,
环境设施 and 服务结果, and — when the company asks — on the marketing points 主动营销情况,
业务宣传的一致性 and 客户挽留度. Each of these is a *section*; a section holds *indicators*
(指标), and an indicator holds the *items* an inspector answers.

The three levels matter for the veto rule. The plan says: "重要指标实行一票否决机制。对于一些
基本的服务规范,只要发现违反的行为,即扣除该指标的全部得分" — one violation of a veto item
takes away **all the points of the indicator it belongs to** (not the whole section, not the
whole visit). Critical items (关键项) do not change the score; a failed critical item caps the
visit's grade (see :attr:`Checklist.critical_cap_grade`).

Example:

>>> item = ChecklistItem(code="greet", text_zh="主动迎宾", text_en="Greets the customer",
...                      kind=ItemKind.YES_NO)
>>> ind = Indicator(code="initiative", name_zh="服务主动性", name_en="Service initiative",
...                 items=(item,))
>>> sec = Section(code="service_awareness", name_zh="服务意识", name_en="Service awareness",
...               indicators=(ind,))
>>> cl = Checklist(code="demo", version=1, name_zh="演示", name_en="Demo", sections=(sec,))
>>> [i.code for i in cl.items()]
['greet']
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, model_validator

_CODE = r"^[a-z][a-z0-9_]*$"


class ItemKind(StrEnum):
    """How an item is answered."""

    YES_NO = "yes_no"  # 是/否: compliant (1) or not (0)
    SCALE = "scale"  # 0–N points, N = ``scale_max``


class Evidence(StrEnum):
    """Evidence an inspector must attach when answering an item."""

    PHOTO = "photo"  # 照片
    NOTE = "note"  # 文字说明
    RECEIPT = "receipt"  # 购物小票/发票


class SectionKind(StrEnum):
    """Whether a section belongs to the service check or the marketing check."""

    SERVICE = "service"  # 服务质量检查
    MARKETING = "marketing"  # 现场营销活动检查


class Capability(StrEnum):
    """What an indicator mainly measures, in the plan's words (used by weight profiles).

    The plan shifts weight between these as stores mature and by tier/traffic (§1.4).
    """

    SERVICE_NORMS = "service_norms"  # 服务规范
    AFFINITY = "affinity"  # 服务亲和力
    ON_SITE_MANAGEMENT = "on_site_management"  # 现场管理
    ENVIRONMENT = "environment"  # 环境设施
    SERVICE_AWARENESS = "service_awareness"  # 服务意识
    SERVICE_CAPABILITY = "service_capability"  # 服务能力
    TRANSACTION = "transaction"  # 业务处理能力
    MARKETING = "marketing"  # 营销能力 / 销售服务能力
    RESULT = "result"  # 服务结果
    BRAND_IMAGE = "brand_image"  # 企业形象的宣传
    DEMO_EXPERIENCE = "demo_experience"  # 产品演示和服务体验
    PROCESS = "process"  # 服务过程质量
    AFTER_SALES = "after_sales"  # 解决售后问题能力


class ChecklistItem(BaseModel):
    """One question on the checklist.

    ``points`` is the item's share inside its indicator (relative; only ratios matter).
    A yes/no item scores 1 (yes = compliant) or 0; a scale item scores ``answer / scale_max``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE, max_length=64)
    text_zh: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    kind: ItemKind
    scale_max: int = Field(default=1, ge=1, le=100)
    points: float = Field(default=1.0, gt=0)
    na_allowed: bool = False
    evidence: frozenset[Evidence] = frozenset()
    veto: bool = False
    critical: bool = False
    guide_zh: str = ""
    guide_en: str = ""

    @model_validator(mode="after")
    def _check_kind(self) -> ChecklistItem:
        if self.kind is ItemKind.YES_NO and self.scale_max != 1:
            raise ValueError(
                f"item {self.code!r}: a yes/no item has scale_max 1, got {self.scale_max}"
            )
        if self.kind is ItemKind.SCALE and self.scale_max < 2:
            raise ValueError(f"item {self.code!r}: a scale item needs scale_max ≥ 2")
        if self.veto and self.kind is not ItemKind.YES_NO:
            # A veto is triggered by *a violation*; only a yes/no answer says that unambiguously.
            raise ValueError(f"item {self.code!r}: veto items must be yes/no items")
        return self


class Indicator(BaseModel):
    """An indicator (指标): the unit a veto item zeroes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE, max_length=64)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    capability: Capability = Capability.SERVICE_NORMS
    weight: float = Field(default=1.0, gt=0)
    items: tuple[ChecklistItem, ...] = Field(min_length=1)


class Section(BaseModel):
    """A section (检查维度) such as 服务意识 or 主动营销."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE, max_length=64)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    kind: SectionKind = SectionKind.SERVICE
    weight: float = Field(default=1.0, gt=0)
    indicators: tuple[Indicator, ...] = Field(min_length=1)


class GradeBand(BaseModel):
    """A grade and the lowest total score (0–100) that earns it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1, max_length=8)
    name_zh: str
    name_en: str
    min_score: float = Field(ge=0, le=100)


DEFAULT_GRADE_BANDS: tuple[GradeBand, ...] = (
    GradeBand(code="A", name_zh="优秀", name_en="Excellent", min_score=90),
    GradeBand(code="B", name_zh="良好", name_en="Good", min_score=80),
    GradeBand(code="C", name_zh="合格", name_en="Pass", min_score=60),
    GradeBand(code="D", name_zh="不合格", name_en="Fail", min_score=0),
)


class Checklist(BaseModel):
    """A versioned checklist; a new version is a new object, old visits keep theirs.

    Rules checked here: codes unique across sections, indicators and items; grade bands
    strictly descending with the last one starting at 0; the pass mark within 0–100 and the
    critical cap naming one of the bands.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE, max_length=64)
    version: int = Field(ge=1)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    sections: tuple[Section, ...] = Field(min_length=1)
    pass_mark: float = Field(default=60.0, ge=0, le=100)
    grade_bands: tuple[GradeBand, ...] = DEFAULT_GRADE_BANDS
    critical_cap_grade: str = "C"

    @model_validator(mode="after")
    def _check_tree(self) -> Checklist:
        seen: dict[str, str] = {}
        for node_kind, code in self._codes():
            if code in seen:
                raise ValueError(
                    f"checklist {self.code!r} v{self.version}: code {code!r} is used by a "
                    f"{seen[code]} and a {node_kind}; codes must be unique"
                )
            seen[code] = node_kind
        mins = [b.min_score for b in self.grade_bands]
        if not mins or any(a <= b for a, b in pairwise(mins)):
            raise ValueError(f"grade_bands must be strictly descending by min_score, got {mins}")
        if mins[-1] != 0:
            raise ValueError(f"the last grade band must start at 0, got {mins[-1]}")
        if self.critical_cap_grade not in {b.code for b in self.grade_bands}:
            raise ValueError(
                f"critical_cap_grade {self.critical_cap_grade!r} is not one of the grade bands"
            )
        return self

    def _codes(self) -> Iterator[tuple[str, str]]:
        for s in self.sections:
            yield "section", s.code
            for ind in s.indicators:
                yield "indicator", ind.code
                for it in ind.items:
                    yield "item", it.code

    def items(self) -> list[ChecklistItem]:
        """All items in checklist order."""
        return [it for s in self.sections for ind in s.indicators for it in ind.items]

    def indicators(self) -> list[Indicator]:
        """All indicators in checklist order."""
        return [ind for s in self.sections for ind in s.indicators]

    def item_codes(self) -> list[str]:
        """Item codes in checklist order (the column order of answer matrices)."""
        return [it.code for it in self.items()]

    def indicator_of_item(self) -> dict[str, str]:
        """Map item code → indicator code."""
        return {it.code: ind.code for ind in self.indicators() for it in ind.items}

    def section_of_indicator(self) -> dict[str, str]:
        """Map indicator code → section code."""
        return {ind.code: s.code for s in self.sections for ind in s.indicators}

    def item(self, code: str) -> ChecklistItem:
        """The item with this code, or ``KeyError``."""
        for it in self.items():
            if it.code == code:
                return it
        raise KeyError(f"checklist {self.code!r} has no item {code!r}")

    def grade(self, score: float) -> GradeBand:
        """The grade band for a total score (0–100).

        >>> from sqm.domain.checklist_template import template_checklist
        >>> template_checklist().grade(85.0).name_zh
        '良好'
        """
        for band in self.grade_bands:
            if score >= band.min_score:
                return band
        return self.grade_bands[-1]


class Traffic(StrEnum):
    """Service pressure of a store (客流量): the plan's traffic rule keys on it."""

    HIGH = "high"  # 客流量大, 服务压力较大
    NORMAL = "normal"
    LOW = "low"  # 客流量小, 服务压力较小


class WeightProfile(BaseModel):
    """Indicator weights for one kind of store: tier × in/out of province × stage × traffic.

    ``indicator_weights`` maps every indicator code of the checklist to a positive weight;
    they are kept normalised to sum to 1 over the whole checklist, so a section's weight is
    the sum of its indicators' weights. ``method`` and ``note`` record how the weights were
    made (plan template, hand, AHP, customer importance), so they can be reproduced.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1, max_length=96)
    checklist_code: str
    checklist_version: int = Field(ge=1)
    tier: str
    in_province: bool | None = None
    stage: str
    traffic: Traffic = Traffic.NORMAL
    indicator_weights: dict[str, float]
    method: str = "manual"
    note: str = ""

    @model_validator(mode="after")
    def _check_weights(self) -> WeightProfile:
        bad = {k: v for k, v in self.indicator_weights.items() if not v > 0}
        if bad:
            raise ValueError(f"profile {self.code!r}: indicator weights must be > 0, got {bad}")
        total = sum(self.indicator_weights.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"profile {self.code!r}: indicator weights must sum to 1, got {total}")
        return self

    def check_against(self, checklist: Checklist) -> None:
        """Raise ``ValueError`` unless the profile weighs exactly the checklist's indicators."""
        want = {ind.code for ind in checklist.indicators()}
        have = set(self.indicator_weights)
        if want != have:
            raise ValueError(
                f"profile {self.code!r} does not fit checklist {checklist.code!r} "
                f"v{checklist.version}: missing {sorted(want - have)}, unknown {sorted(have - want)}"
            )

    def section_weights(self, checklist: Checklist) -> dict[str, float]:
        """Each section's weight: the sum of its indicators' weights."""
        self.check_against(checklist)
        return {
            s.code: sum(self.indicator_weights[i.code] for i in s.indicators)
            for s in checklist.sections
        }
