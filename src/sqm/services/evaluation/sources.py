"""Where the values of the indicator system's leaves come from, per unit and period.

Each source of evidence registers a producer: a function ``(session, period) → DataFrame``
with columns ``unit_id, source_ref, value, n, se`` (``n`` observations behind the value,
``se`` its standard error in the value's own unit; either may be NaN). Values entered by
hand live in :class:`~sqm.store.models.IndicatorValue` and are read for every source.
A capability adds one line to :data:`SOURCE_PRODUCERS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.lazy import lazy_import
from sqm.store.models import IndicatorValue, Period

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")

Producer: TypeAlias = "Callable[[Session, Period], pd.DataFrame]"  # pandas loads on first use
COLUMNS = ["unit_id", "source", "source_ref", "value", "n", "se"]

#: source → "module:function" producing that source's values for a period.
SOURCE_PRODUCERS: dict[str, list[str]] = {
    "complaint_metric": ["sqm.services.complaints.indicators:complaint_values"],
    "inspection_item": ["sqm.services.inspections.visits:inspection_values"],
    "network_kpi": ["sqm.services.network.indicators:network_indicator_values"],
    "survey_item": ["sqm.services.surveys.indicators:survey_values"],
}


def _load(ref: str) -> Producer:
    mod, fn = ref.split(":")
    producer: Producer = getattr(importlib.import_module(mod), fn)
    return producer


def manual_values(session: Session, period: Period) -> pd.DataFrame:
    """Values entered or imported by hand for ``period``."""
    rows = session.execute(
        select(
            IndicatorValue.unit_id,
            IndicatorValue.source,
            IndicatorValue.source_ref,
            IndicatorValue.value,
            IndicatorValue.n,
            IndicatorValue.se,
        ).where(IndicatorValue.period_id == period.id)
    ).all()
    return pd.DataFrame(rows, columns=COLUMNS)


def collect_values(session: Session, period: Period) -> pd.DataFrame:
    """All leaf values of ``period``: every registered producer, then manual entries
    (a manual value overrides a computed one for the same unit and reference)."""
    frames = []
    for source, refs in SOURCE_PRODUCERS.items():
        for ref in refs:
            df = _load(ref)(session, period)
            if df is None or df.empty:
                continue
            df = df.assign(source=source)
            frames.append(df.reindex(columns=COLUMNS))
    frames.append(manual_values(session, period))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out = out.drop_duplicates(subset=["unit_id", "source", "source_ref"], keep="last")
    return out.reset_index(drop=True)
