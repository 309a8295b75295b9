"""The indicator system (指标体系): dimension → indicator → item, and its leaves' metadata."""

from __future__ import annotations

from enum import StrEnum


class NodeLevel(StrEnum):
    DIMENSION = "dimension"  # 维度 / 一级指标
    INDICATOR = "indicator"  # 指标 / 二级指标
    ITEM = "item"  # 考核项 / 三级指标


class IndicatorSource(StrEnum):
    """Where a leaf's measurements come from (the design's sources of evidence)."""

    SURVEY_ITEM = "survey_item"
    INSPECTION_ITEM = "inspection_item"
    NETWORK_KPI = "network_kpi"
    COMPLAINT_METRIC = "complaint_metric"
    MANUAL = "manual"


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


class WeightMethod(StrEnum):
    """How a weight profile was made; the inputs are kept beside it."""

    MANUAL = "manual"
    AHP = "ahp"
    GROUP_AHP = "group_ahp"
    DELPHI = "delphi"
    ENTROPY = "entropy"
    CRITIC = "critic"
    PCA = "pca"
    CUSTOMER_IMPORTANCE = "customer_importance"
    COMBINED = "combined"


class ProgrammeStage(StrEnum):
    """Stage of the quality programme; early stages weigh norms, mature ones results."""

    EARLY = "early"
    MATURE = "mature"


LEVEL_ORDER: dict[NodeLevel, int] = {
    NodeLevel.DIMENSION: 0,
    NodeLevel.INDICATOR: 1,
    NodeLevel.ITEM: 2,
}
