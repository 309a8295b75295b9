"""Pydantic schemas at the edge of the JSON API."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sqm.domain.indicator import Direction, IndicatorSource, NodeLevel, ProgrammeStage, WeightMethod
from sqm.domain.org import StoreTier, UnitKind, UnitStatus


class OrgUnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    kind: UnitKind
    parent_code: str | None = None
    tier: StoreTier | None = None
    in_province: bool | None = None
    area_type: str | None = None
    traffic: int | None = None
    customers: int | None = None
    lat: float | None = None
    lon: float | None = None
    opened_on: date | None = None
    status: UnitStatus
    brand: str | None = None


class OrgUnitIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = ""
    kind: UnitKind
    parent_code: str | None = None
    tier: StoreTier | None = None
    in_province: bool | None = None
    area_type: str | None = Field(default=None, pattern="^(urban|county)$")
    traffic: int | None = Field(default=None, ge=0)
    customers: int | None = Field(default=None, ge=0)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    opened_on: date | None = None
    status: UnitStatus = UnitStatus.ACTIVE
    brand: str | None = None


class OrgUnitPatch(BaseModel):
    name_zh: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = None
    parent_code: str | None = None
    tier: StoreTier | None = None
    in_province: bool | None = None
    area_type: str | None = Field(default=None, pattern="^(urban|county)$")
    traffic: int | None = Field(default=None, ge=0)
    customers: int | None = Field(default=None, ge=0)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    status: UnitStatus | None = None
    brand: str | None = None


class Page(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[Any]


class IndicatorNodeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    parent_code: str | None = None
    level: NodeLevel
    name_zh: str
    name_en: str
    definition_zh: str = ""
    definition_en: str = ""
    source: IndicatorSource | None = None
    source_ref: str | None = None
    direction: Direction
    scale_min: float | None = None
    scale_max: float | None = None
    unit: str | None = None
    target: float | None = None
    warning: float | None = None
    is_veto: bool = False


class IndicatorSystemOut(BaseModel):
    code: str
    version: int
    name_zh: str
    name_en: str
    status: str
    nodes: list[IndicatorNodeOut] | None = None


class IndicatorNodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    parent_code: str | None = None
    level: NodeLevel
    name_zh: str = Field(min_length=1)
    name_en: str = ""
    definition_zh: str = ""
    definition_en: str = ""
    source: IndicatorSource | None = None
    source_ref: str | None = None
    direction: Direction = Direction.HIGHER_IS_BETTER
    scale_min: float | None = None
    scale_max: float | None = None
    unit: str | None = None
    target: float | None = None
    warning: float | None = None
    is_veto: bool = False


class IndicatorSystemIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name_zh: str = Field(min_length=1)
    name_en: str = ""
    nodes: list[IndicatorNodeIn] = Field(min_length=1)


class WeightProfileOut(BaseModel):
    code: str
    kind: Literal["indicator_system", "checklist"] = Field(
        "indicator_system",
        description="what it weighs: an indicator-system version (weights by node code) or an "
        "inspection checklist version (weights by checklist indicator code, summing to 1)",
    )
    name_zh: str
    name_en: str
    system_code: str | None = None
    system_version: int | None = None
    checklist_code: str | None = None
    checklist_version: int | None = None
    tier: StoreTier | None = None
    in_province: bool | None = None
    traffic_band: str | None = None
    stage: ProgrammeStage | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    method: WeightMethod
    inputs: dict[str, Any] = {}
    note: str = ""
    active: bool = Field(True, description="false: a later revision replaced it (checklists)")
    weights: dict[str, float] | None = None
    global_weights: dict[str, float] | None = None


class WeightProfileIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name_zh: str = Field(min_length=1)
    name_en: str = ""
    system_code: str
    system_version: int | None = None
    tier: StoreTier | None = None
    in_province: bool | None = None
    traffic_band: str | None = Field(default=None, pattern="^(high|low)$")
    stage: ProgrammeStage | None = None
    valid_from: str = Field(pattern=r"^\d{4}(-\d{2}|Q[1-4])?$")
    valid_to: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}|Q[1-4])?$")
    method: WeightMethod = WeightMethod.MANUAL
    inputs: dict[str, Any] = {}
    weights: dict[str, float] = Field(description="local weight per node code; siblings sum to 1")
