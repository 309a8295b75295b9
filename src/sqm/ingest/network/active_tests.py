"""Active test results (dial tests, drive tests, crowd tests): one row per test."""

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

SERVICES = ("voice", "http_dl", "http_ul", "ftp_dl", "ftp_ul", "ping", "video", "drive_dl")
TEST_REQUIRED = ("test_id", "ts", "service", "access_ok")
_FLAGS = ("access_ok", "completed", "dropped")
_MEASURES: dict[str, tuple[float | None, float | None]] = {
    "setup_time_s": (0, None),
    "bits": (0, None),
    "transfer_time_s": (0, None),
    "rtt_ms": (0, None),
    "ping_sent": (0, None),
    "ping_ok": (0, None),
    "rsrp_dbm": (-160, -20),
    "rsrq_db": (-40, 0),
    "sinr_db": (-30, 60),
    "lat": (-90, 90),
    "lon": (-180, 180),
}


def read_active_tests(path: str | Path) -> pd.DataFrame:
    """Load active test results into the canonical test table the KPI catalogue reads.

    Required: ``test_id, ts, service, access_ok``; optional: ``cell_id, city, province,
    failure_cause, completed, dropped, setup_time_s, bits, transfer_time_s, rtt_ms,
    ping_sent, ping_ok, rsrp_dbm, rsrq_db, sinr_db, lat, lon``. Flags are 0/1; a setup time
    is only allowed on a successful access; ``ping_ok`` ≤ ``ping_sent``.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(p, "w").write("test_id,ts,service,access_ok,setup_time_s\\n1,2026-01-05 10:00,voice,1,2.5\\n")
    >>> read_active_tests(p)["attempt"].tolist()
    [1]
    """
    file = str(path)
    raw = read_table(file)
    require_columns(raw, TEST_REQUIRED, file)
    out = pd.DataFrame({"test_id": raw["test_id"].astype("string").str.strip()})
    out["ts"] = timestamps(raw, "ts", file)
    svc = raw["service"].astype("string").str.strip().str.lower()
    bad = ~svc.isin(SERVICES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise NetworkIngestError(
            file, csv_line(i), "service", f"{svc.iloc[i]!r} is not one of {', '.join(SERVICES)}"
        )
    out["service"] = svc
    for c in ("cell_id", "city", "province", "failure_cause"):
        if c in raw.columns:
            v = raw[c].astype("string").str.strip()
            out[c] = v.mask(v == "")
    out["attempt"] = 1
    for c in _FLAGS:
        if c in raw.columns:
            out[c] = numeric(
                raw, c, file, minimum=0, maximum=1, integer=True, allow_missing=c != "access_ok"
            )
    for c, (lo, hi) in _MEASURES.items():
        if c in raw.columns:
            out[c] = numeric(raw, c, file, minimum=lo, maximum=hi)
    if "setup_time_s" in out.columns:
        wrong = out["setup_time_s"].notna() & (out["access_ok"] == 0)
        if wrong.any():
            i = int(np.flatnonzero(wrong.to_numpy())[0])
            raise NetworkIngestError(
                file, csv_line(i), "setup_time_s", "a setup time needs access_ok = 1"
            )
    if "ping_ok" in out.columns and "ping_sent" in out.columns:
        over = out["ping_ok"] > out["ping_sent"]
        if over.any():
            i = int(np.flatnonzero(over.to_numpy())[0])
            raise NetworkIngestError(file, csv_line(i), "ping_ok", "exceeds ping_sent")
    return out
