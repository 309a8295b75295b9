"""Where and over what time a network KPI is aggregated."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """Levels of the network tree, finest first; each is a column of the cell inventory."""

    CELL = "cell_id"
    SITE = "site_id"
    DISTRICT = "district"
    CITY = "city"
    PROVINCE = "province"
    NETWORK = "network"  # everything together


class Grain(StrEnum):
    """Reporting periods; weeks start on Monday (ISO 8601) in every engine."""

    QUARTER_HOUR = "15min"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


#: Columns of the cell inventory, in the order of the tree (cell → site → … → province).
INVENTORY_COLUMNS: tuple[str, ...] = (
    "cell_id",
    "site_id",
    "district",
    "city",
    "province",
    "tech",
    "band",
    "lat",
    "lon",
)
