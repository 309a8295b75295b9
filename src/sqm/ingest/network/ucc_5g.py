"""The public UCC 5G drive-test traces (uccmisl/5Gdataset), loaded as they are.

Quirks handled: ``-`` for a missing value; timestamps ``YYYY.MM.DD_hh.mm.ss`` that are not
unique (2–3 rows can share a second: kept, numbered by ``seq``); ``State`` values ``D``/``I``
plus the undocumented ``V``/``VD`` in two files (kept as they are).
"""

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

UCC_NUMERIC = {
    "Longitude": "lon",
    "Latitude": "lat",
    "Speed": "speed_kmh",
    "RSRP": "rsrp_dbm",
    "RSRQ": "rsrq_db",
    "SNR": "snr_db",
    "CQI": "cqi",
    "RSSI": "rssi_dbm",
    "DL_bitrate": "dl_kbps",
    "UL_bitrate": "ul_kbps",
    "PINGAVG": "ping_avg_ms",
    "PINGMIN": "ping_min_ms",
    "PINGMAX": "ping_max_ms",
    "PINGSTDEV": "ping_stdev_ms",
    "PINGLOSS": "ping_loss_pct",
    "NRxRSRP": "nbr_rsrp_dbm",
    "NRxRSRQ": "nbr_rsrq_db",
}
UCC_STATES = ("D", "I", "V", "VD")
UCC_MODES = ("5G", "LTE", "HSPA+", "HSDPA", "HSUPA", "UMTS", "EDGE", "GPRS", "GSM")
PINGS_PER_TEST = 5  # PINGLOSS only takes multiples of 20 %: five echo requests per test


def read_ucc_5g_file(path: str | Path) -> pd.DataFrame:
    """One G-NetTrack trace → a frame with snake_case columns, ``ts`` and ``seq``.

    ``seq`` numbers the rows that share a timestamp (0, 1, 2) in file order; ``scenario``
    and ``mobility`` come from the folder names (Download|Netflix / Driving|Static).
    """
    file = str(path)
    raw = read_table(file)
    require_columns(raw, ["Timestamp", "CellID", "NetworkMode", "State", *UCC_NUMERIC], file)
    out = pd.DataFrame({"ts": timestamps(raw, "Timestamp", file, fmt="%Y.%m.%d_%H.%M.%S")})
    out["seq"] = out.groupby("ts").cumcount().astype("int16")
    cell = raw["CellID"].astype("string").str.strip()
    out["cell_id"] = cell.mask(cell == "-")
    out["operator"] = raw.get("Operatorname", pd.Series("", index=raw.index)).astype("string")
    for col in ("NetworkMode", "State"):
        allowed = UCC_MODES if col == "NetworkMode" else UCC_STATES
        v = raw[col].astype("string").str.strip()
        bad = ~v.isin(allowed)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise NetworkIngestError(
                file, csv_line(i), col, f"{v.iloc[i]!r} is not one of {', '.join(allowed)}"
            )
        out["tech" if col == "NetworkMode" else "state"] = v
    for src, dst in UCC_NUMERIC.items():
        out[dst] = numeric(raw, src, file, missing=("", "-"))
    p = Path(file)
    out["source_file"] = p.name
    parts = set(p.parts)
    out["scenario"] = "Netflix" if "Netflix" in parts else "Download"
    out["mobility"] = "Static" if "Static" in parts else "Driving"
    return out


def read_ucc_5g(root: str | Path) -> pd.DataFrame:
    """All traces under ``root`` (a file or the ``ucc_5g`` folder), in file-name order."""
    p = Path(root)
    files = [p] if p.is_file() else sorted(p.rglob("*.csv"))
    if not files:
        raise NetworkIngestError(str(p), None, None, "no CSV traces found")
    return pd.concat([read_ucc_5g_file(f) for f in files], ignore_index=True)


def ucc_to_active_tests(trace: pd.DataFrame) -> pd.DataFrame:
    """Drive-test rows as canonical active tests for the ETSI TS 102 250-2 KPIs.

    Each downloading row (``state`` = D) is one throughput sample (``service`` drive_dl,
    ``bits`` = kbit/s × 1000, ``transfer_time_s`` = 1), so the catalogue's mean data rate is
    the mean over samples. Each row with a ping result is one ping test of
    :data:`PINGS_PER_TEST` requests with ``ping_ok`` = requests × (1 − loss).
    """
    base = ["ts", "cell_id", "tech", "lat", "lon"]
    dl = trace[(trace["state"] == "D") & trace["dl_kbps"].notna()]
    drive = dl[base].assign(
        service="drive_dl",
        attempt=1,
        access_ok=1,
        completed=1,
        bits=dl["dl_kbps"] * 1000.0,
        transfer_time_s=1.0,
        rsrp_dbm=dl["rsrp_dbm"],
        sinr_db=dl["snr_db"],
    )
    pg = trace[trace["ping_avg_ms"].notna()]
    ok = np.round(PINGS_PER_TEST * (1 - pg["ping_loss_pct"].fillna(0) / 100.0))
    ping = pg[base].assign(
        service="ping",
        attempt=1,
        access_ok=1,
        completed=1,
        ping_sent=float(PINGS_PER_TEST),
        ping_ok=ok,
        rtt_ms=pg["ping_avg_ms"],
    )
    out = pd.concat([drive, ping], ignore_index=True)
    out.insert(0, "test_id", [f"ucc-{i}" for i in range(len(out))])
    return out
