"""The public crowd-sourced speed tests from China (mobilebandwidth BTS-APP), as they are.

Quirks handled: ``;``-separated series of per-sample radio readings (summarised as the
median, the raw text kept); ``2147483647`` (Android ``CellInfo.UNAVAILABLE``) = not
reported; ``Added in API level N`` (the phone's Android is too old for the field) = not
reported; the ISP ``δ֪``, which is the GBK bytes of 未知 ("unknown") read as UTF-8.
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
)

UNAVAILABLE = 2147483647
NOT_SUPPORTED = r"Added in API level \w+"
CROWD_REQUIRED = (
    "network_type",
    "user_isp_id",
    "user_region_id",
    "user_city_id",
    "bandwidth_Mbps",
    "user_uid",
)
ISP_ZH = {"China Mobile": "中国移动", "China Telecom": "中国电信", "China Unicom": "中国联通"}
SERIES_COLUMNS = (
    "cell_dbm",
    "cell_rssi",
    "cell_rsrp",
    "cell_rsrq",
    "cell_rssnr",
    "cell_csiRsrp",
    "cell_csiRsrq",
    "cell_csiSinr",
    "cell_ssRsrp",
    "cell_ssRsrq",
    "cell_ssSinr",
)
SCALAR_COLUMNS = ("cell_asuLevel", "cell_level", "cell_timingAdvance", "cell_bandwidth")


def repair_gbk_mojibake(text: str) -> str:
    """Undo GBK text that was decoded as UTF-8, when that is what happened.

    >>> repair_gbk_mojibake("δ֪")
    '未知'
    >>> repair_gbk_mojibake("China Mobile")
    'China Mobile'
    """
    if text.isascii():
        return text
    try:
        fixed = text.encode("utf-8").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text
    return fixed if all("\u4e00" <= ch <= "\u9fff" for ch in fixed) else text


def series_median(text: pd.Series, file: str, column: str) -> tuple[pd.Series, pd.Series]:
    """Median and sample count of ``;``-separated readings, ``UNAVAILABLE`` dropped."""
    parts = text.fillna("").astype(str).str.split(";")
    exploded = parts.explode()
    stripped = exploded.str.strip()
    vals = pd.Series(pd.to_numeric(stripped.mask(stripped == ""), errors="coerce"), dtype=float)
    bad = vals.isna() & stripped.ne("") & stripped.notna()
    if bad.any():
        row = int(bad[bad].index[0])
        raise NetworkIngestError(
            file, csv_line(row), column, f"{stripped[bad].iloc[0]!r} is not a number"
        )
    vals = vals.mask(vals == UNAVAILABLE)
    g = vals.groupby(level=0)
    return g.median().reindex(text.index), g.count().reindex(text.index).fillna(0).astype(int)


def read_cn_crowd(path: str | Path) -> pd.DataFrame:
    """One crowd-test file (4G.csv or 5G.csv) → one row per test, tidy columns.

    Output: ``tech, isp, isp_zh, province, city, bandwidth_mbps, user_uid, brand, model``,
    per radio series column ``<col>`` = median and ``<col>_n`` = number of readings, and the
    scalar cell fields with UNAVAILABLE as missing.
    """
    file = str(path)
    raw = read_table(file)
    require_columns(raw, CROWD_REQUIRED, file)
    cell_cols = [c for c in raw.columns if c.startswith("cell_")]
    raw[cell_cols] = raw[cell_cols].replace(NOT_SUPPORTED, "", regex=True)
    isp = raw["user_isp_id"].astype(str).map(repair_gbk_mojibake)
    out = pd.DataFrame(
        {
            "tech": raw["network_type"].astype("string").str.strip(),
            "isp": isp,
            "isp_zh": isp.map(lambda s: ISP_ZH.get(s, s)),
            "province": raw["user_region_id"].astype("string").str.strip(),
            "city": raw["user_city_id"].astype("string").str.strip(),
            "user_uid": raw["user_uid"].astype("string"),
            "brand": raw.get("brand", pd.Series(pd.NA, index=raw.index)).astype("string"),
            "model": raw.get("model", pd.Series(pd.NA, index=raw.index)).astype("string"),
        }
    )
    empty = out["city"].isna() | (out["city"] == "")
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise NetworkIngestError(file, csv_line(i), "user_city_id", "value is required")
    out["bandwidth_mbps"] = numeric(raw, "bandwidth_Mbps", file, allow_missing=False, minimum=0)
    for col in SERIES_COLUMNS:
        if col in raw.columns:
            med, n = series_median(raw[col], file, col)
            out[col] = med
            out[f"{col}_n"] = n
    for col in SCALAR_COLUMNS:
        if col in raw.columns:
            v = numeric(raw, col, file)
            out[col] = v.mask(v == UNAVAILABLE)
    if "cell_bands" in raw.columns:
        bands = raw["cell_bands"].astype("string").str.replace(r"[\[\]' ]", "", regex=True)
        out["cell_bands"] = bands.mask(bands == "")
    return out
