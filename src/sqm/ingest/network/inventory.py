"""Cell inventory: cell → site → district → city → province, technology, band, location."""

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
)

INVENTORY_REQUIRED = ("cell_id", "site_id", "district", "city", "province", "tech", "lat", "lon")
TECHNOLOGIES = ("2G", "3G", "4G", "5G")


def read_cell_inventory(path: str | Path) -> pd.DataFrame:
    """Load and check a cell inventory CSV/Parquet.

    Rules: the columns of :data:`INVENTORY_REQUIRED` (``band`` optional), unique non-empty
    ``cell_id``, ``tech`` one of 2G/3G/4G/5G, latitude in [−90, 90], longitude in [−180, 180].
    Raises :class:`NetworkIngestError` naming the line and field of the first bad row.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "cells.csv")
    >>> _ = open(p, "w").write("cell_id,site_id,district,city,province,tech,lat,lon\\n"
    ...                        "C1,S1,Tianhe,Guangzhou,Guangdong,5G,23.1,113.3\\n")
    >>> read_cell_inventory(p)["tech"].tolist()
    ['5G']
    """
    file = str(path)
    df = read_table(file)
    require_columns(df, INVENTORY_REQUIRED, file)
    out = pd.DataFrame({c: df[c].astype("string").str.strip() for c in INVENTORY_REQUIRED[:6]})
    out["band"] = df["band"].astype("string").str.strip() if "band" in df.columns else pd.NA
    for col in ("cell_id", "site_id", "city", "province"):
        empty = out[col].isna() | (out[col] == "")
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise NetworkIngestError(file, csv_line(i), col, "value is required")
    dup = out["cell_id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise NetworkIngestError(
            file, csv_line(i), "cell_id", f"cell {out['cell_id'].iloc[i]!r} appears twice"
        )
    bad_tech = ~out["tech"].isin(TECHNOLOGIES)
    if bad_tech.any():
        i = int(np.flatnonzero(bad_tech.to_numpy())[0])
        raise NetworkIngestError(
            file,
            csv_line(i),
            "tech",
            f"{out['tech'].iloc[i]!r} is not one of {', '.join(TECHNOLOGIES)}",
        )
    out["lat"] = numeric(df, "lat", file, allow_missing=False, minimum=-90, maximum=90)
    out["lon"] = numeric(df, "lon", file, allow_missing=False, minimum=-180, maximum=180)
    return out
