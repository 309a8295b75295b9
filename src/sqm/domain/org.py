"""The organisation: units from the company down to the store, and their attributes.

The plan (``plans/``) distinguishes store tiers — 旗舰核心店, 一级店, 超市店, 合作店 —
and stores in and out of the province; weight profiles and visit frequencies follow them.
"""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    """Kind of an organisation unit (a node of the org tree)."""

    COMPANY = "company"
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    STORE = "store"
    CHANNEL = "channel"
    HOTLINE_TEAM = "hotline_team"
    NETWORK_REGION = "network_region"
    COMPETITOR_STORE = "competitor_store"


#: Which kinds may sit directly under which (the tree's grammar).
ALLOWED_PARENTS: dict[UnitKind, frozenset[UnitKind | None]] = {
    UnitKind.COMPANY: frozenset({None}),
    UnitKind.PROVINCE: frozenset({UnitKind.COMPANY}),
    UnitKind.CITY: frozenset({UnitKind.PROVINCE}),
    UnitKind.DISTRICT: frozenset({UnitKind.CITY}),
    UnitKind.STORE: frozenset({UnitKind.DISTRICT, UnitKind.CITY}),
    UnitKind.COMPETITOR_STORE: frozenset({UnitKind.DISTRICT, UnitKind.CITY}),
    UnitKind.CHANNEL: frozenset({UnitKind.COMPANY, UnitKind.PROVINCE, UnitKind.CITY}),
    UnitKind.HOTLINE_TEAM: frozenset({UnitKind.COMPANY, UnitKind.PROVINCE, UnitKind.CITY}),
    UnitKind.NETWORK_REGION: frozenset({UnitKind.COMPANY, UnitKind.PROVINCE, UnitKind.CITY}),
}


class StoreTier(StrEnum):
    """Store tier of the plan's store classification (门店分级)."""

    FLAGSHIP_CORE = "flagship_core"  # 旗舰核心店
    FIRST_LEVEL = "first_level"  # 一级店
    SUPERMARKET = "supermarket"  # 超市店
    PARTNER = "partner"  # 合作店


TIER_LABELS: dict[StoreTier, tuple[str, str]] = {
    StoreTier.FLAGSHIP_CORE: ("旗舰核心店", "Flagship core store"),
    StoreTier.FIRST_LEVEL: ("一级店", "First-level store"),
    StoreTier.SUPERMARKET: ("超市店", "Supermarket store"),
    StoreTier.PARTNER: ("合作店", "Partner store"),
}

KIND_LABELS: dict[UnitKind, tuple[str, str]] = {
    UnitKind.COMPANY: ("公司", "Company"),
    UnitKind.PROVINCE: ("省", "Province"),
    UnitKind.CITY: ("市", "City"),
    UnitKind.DISTRICT: ("区县", "District"),
    UnitKind.STORE: ("门店", "Store"),
    UnitKind.CHANNEL: ("渠道", "Channel"),
    UnitKind.HOTLINE_TEAM: ("热线班组", "Hotline team"),
    UnitKind.NETWORK_REGION: ("网络片区", "Network region"),
    UnitKind.COMPETITOR_STORE: ("竞品门店", "Competitor store"),
}


class UnitStatus(StrEnum):
    """Operating status of a unit."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


def is_store_kind(kind: UnitKind) -> bool:
    """Whether a unit of this kind is a store (own or competitor).

    >>> is_store_kind(UnitKind.COMPETITOR_STORE)
    True
    """
    return kind in (UnitKind.STORE, UnitKind.COMPETITOR_STORE)
