"""Voice-call quality records: codec, packet loss, burst ratio, one-way delay, jitter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sqm.ingest.network.errors import (
    NetworkIngestError,
    csv_line,
    numeric,
    read_table,
    require_columns,
    timestamps,
)
from sqm.methods.emodel import CODECS

CALL_REQUIRED = ("call_id", "ts", "codec", "packet_loss_pct", "one_way_delay_ms")


def read_voice_calls(path: str | Path) -> pd.DataFrame:
    """Load voice-call records; ``codec`` must be in the G.113 table of
    :data:`sqm.methods.emodel.CODECS` with a published Bpl (or give ``ie`` and ``bpl``).

    Columns: required ``call_id, ts, codec, packet_loss_pct, one_way_delay_ms``; optional
    ``cell_id, burst_ratio`` (default 1), ``jitter_ms``, ``ie``, ``bpl``.
    """
    file = str(path)
    raw = read_table(file)
    require_columns(raw, CALL_REQUIRED, file)
    out = pd.DataFrame({"call_id": raw["call_id"].astype("string").str.strip()})
    out["ts"] = timestamps(raw, "ts", file)
    if "cell_id" in raw.columns:
        out["cell_id"] = raw["cell_id"].astype("string").str.strip()
    out["codec"] = raw["codec"].astype("string").str.strip()
    out["packet_loss_pct"] = numeric(
        raw, "packet_loss_pct", file, allow_missing=False, minimum=0, maximum=100
    )
    out["one_way_delay_ms"] = numeric(
        raw, "one_way_delay_ms", file, allow_missing=False, minimum=0, maximum=10_000
    )
    out["burst_ratio"] = (
        numeric(raw, "burst_ratio", file, minimum=1).fillna(1.0)
        if "burst_ratio" in raw.columns
        else 1.0
    )
    if "jitter_ms" in raw.columns:
        out["jitter_ms"] = numeric(raw, "jitter_ms", file, minimum=0)
    given_ie = numeric(raw, "ie", file, minimum=0, maximum=95) if "ie" in raw.columns else None
    given_bpl = numeric(raw, "bpl", file, minimum=1, maximum=40) if "bpl" in raw.columns else None
    ie = np.full(len(out), np.nan)
    bpl = np.full(len(out), np.nan)
    for name, c in CODECS.items():
        m = (out["codec"] == name).to_numpy()
        ie[m] = c.ie
        bpl[m] = np.nan if c.bpl is None else c.bpl
    if given_ie is not None:
        ie = np.where(given_ie.notna(), given_ie, ie)
    if given_bpl is not None:
        bpl = np.where(given_bpl.notna(), given_bpl, bpl)
    unknown = np.isnan(ie) | np.isnan(bpl)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise NetworkIngestError(
            file,
            csv_line(i),
            "codec",
            f"{out['codec'].iloc[i]!r} has no G.113 Ie/Bpl pair; give ie and bpl columns",
        )
    out["ie"], out["bpl"] = ie, bpl
    return out
