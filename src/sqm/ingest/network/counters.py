"""15-minute cell counters: read and check a file, append it to the Parquet dataset.

The dataset is a directory partitioned by day (``day=YYYY-MM-DD/part-<hash>.parquet``);
appending writes only the new partition files and never re-reads the past. A part file
is named by the content hash of its source, so loading the same file again (a retry)
rewrites the same parts instead of counting the data twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sqm.ingest.network.errors import (
    NetworkIngestError,
    csv_line,
    numeric,
    read_table,
    require_columns,
    timestamps,
)

#: Canonical counters (see ``sqm/domain/kpi_catalogue.toml``) and whether they are counts.
COUNTERS: dict[str, bool] = {
    "rrc_att": True,
    "rrc_succ": True,
    "bearer_att": True,
    "bearer_succ": True,
    "bearer_rel_abnormal": True,
    "bearer_rel_normal": True,
    "ho_att": True,
    "ho_succ": True,
    "dl_thp_vol_kbit": False,
    "dl_thp_time_ms": False,
    "ul_thp_vol_kbit": False,
    "ul_thp_time_ms": False,
    "dl_delay_sum_ms": False,
    "dl_delay_n": True,
    "unavail_s": False,
    "prb_dl_used": False,
    "prb_dl_avail": False,
    "active_ue": False,
    "dl_volume_mb": False,
}

#: (part, whole) pairs: a part can never exceed its whole in one interval.
CONSISTENCY: tuple[tuple[str, str], ...] = (
    ("rrc_succ", "rrc_att"),
    ("bearer_succ", "bearer_att"),
    ("ho_succ", "ho_att"),
    ("unavail_s", "period_s"),
    ("prb_dl_used", "prb_dl_avail"),
)


def read_counter_file(
    path: str | Path,
    *,
    column_map: Mapping[str, str] | None = None,
    default_period_s: int = 900,
) -> pd.DataFrame:
    """Read one counter file (CSV or Parquet, one row per cell and interval) and check it.

    ``column_map`` renames vendor columns to canonical names (e.g.
    ``{"RRC.ConnEstabAtt": "rrc_att"}``); columns that are neither canonical nor mapped are
    ignored. Rules: ``cell_id`` and ``ts`` present; counters numeric, ≥ 0, counts whole;
    successes ≤ attempts; one row per (cell, interval). Empty cells mean "not reported".

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "pm.csv")
    >>> _ = open(p, "w").write("cell_id,ts,rrc_att,rrc_succ\\nC1,2026-01-05 10:00,10,9\\n")
    >>> read_counter_file(p)[["rrc_att", "rrc_succ"]].values.tolist()
    [[10.0, 9.0]]
    """
    file = str(path)
    raw = read_table(file)
    if column_map:
        raw = raw.rename(columns=dict(column_map))
    require_columns(raw, ("cell_id", "ts"), file)
    if not len(raw):
        raise NetworkIngestError(file, None, None, "no data rows")
    out = pd.DataFrame({"cell_id": raw["cell_id"].astype("string").str.strip()})
    empty = out["cell_id"].isna() | (out["cell_id"] == "")
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise NetworkIngestError(file, csv_line(i), "cell_id", "value is required")
    out["ts"] = timestamps(raw, "ts", file)
    if "period_s" in raw.columns:
        out["period_s"] = numeric(raw, "period_s", file, allow_missing=False, minimum=1)
    else:
        out["period_s"] = float(default_period_s)
    present = [c for c in COUNTERS if c in raw.columns]
    if not present:
        raise NetworkIngestError(file, 1, None, "no known counter columns")
    for c in present:
        out[c] = numeric(raw, c, file, minimum=0, integer=COUNTERS[c])
    for part, whole in CONSISTENCY:
        if part in out.columns and whole in out.columns:
            bad = out[part] > out[whole]
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise NetworkIngestError(
                    file,
                    csv_line(i),
                    part,
                    f"{out[part].iloc[i]:g} exceeds {whole} = {out[whole].iloc[i]:g}",
                )
    dup = out.duplicated(["cell_id", "ts"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise NetworkIngestError(
            file, csv_line(i), "ts", f"second row for cell {out['cell_id'].iloc[i]} at this time"
        )
    return out


@dataclass(frozen=True)
class AppendResult:
    """What one append wrote: rows, day partitions and whether it was a repeat."""

    rows: int
    days: tuple[str, ...]
    repeat: bool


class MeasurementDataset:
    """A day-partitioned Parquet dataset that grows by appending whole files."""

    LEDGER = "_ingested.json"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _ledger(self) -> dict[str, dict[str, object]]:
        p = self.root / self.LEDGER
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}

    def append(self, frame: pd.DataFrame, *, source_id: str | None = None) -> AppendResult:
        """Add ``frame`` (with a ``ts`` column) as new part files, one per day.

        All parts are first written under temporary names; only when every one is
        complete are they renamed into place, so a failure leaves the dataset unchanged.
        ``source_id`` (default: a hash of the content) names the parts: appending the same
        source again replaces its parts and never doubles the data.
        """
        if "ts" not in frame.columns:
            raise NetworkIngestError(source_id or "frame", None, "ts", "column missing")
        sid = (
            source_id
            or hashlib.sha256(
                pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
            ).hexdigest()[:16]
        )
        repeat = sid in self._ledger()
        day = frame["ts"].dt.normalize()
        staged: list[tuple[Path, Path]] = []
        try:
            for d, part in frame.groupby(day, sort=True):
                target = self.root / f"day={pd.Timestamp(d):%Y-%m-%d}" / f"part-{sid}.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
                pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp)
                staged.append((tmp, target))
        except Exception:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            raise
        for tmp, target in staged:
            os.replace(tmp, target)
        ledger = self._ledger()
        days = tuple(sorted({t.parent.name[4:] for _, t in staged}))
        ledger[sid] = {"rows": len(frame), "days": list(days)}
        tmp_ledger = self.root / f".{self.LEDGER}.{uuid.uuid4().hex}.tmp"
        tmp_ledger.write_text(json.dumps(ledger, indent=1), encoding="utf-8")
        os.replace(tmp_ledger, self.root / self.LEDGER)
        return AppendResult(rows=len(frame), days=days, repeat=repeat)

    def append_file(
        self, path: str | Path, *, column_map: Mapping[str, str] | None = None
    ) -> AppendResult:
        """Read, check and append one counter file; nothing is written if any row is bad."""
        frame = read_counter_file(path, column_map=column_map)
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
        return self.append(frame, source_id=digest)
