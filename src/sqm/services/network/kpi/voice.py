"""Voice quality from call records: E-model R and MOS per call, summaries per cell."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqm.domain.errors import RuleError
from sqm.methods.emodel import mos_from_r, r_factor

POOR_MOS = 3.1  # G.107 Annex B: below R = 60 (MOS 3.1) "many users dissatisfied"


def call_quality(calls: pd.DataFrame) -> pd.DataFrame:
    """Add ``r`` and ``mos`` to call records (columns of :func:`read_voice_calls`).

    Each call is rated by the full ITU-T G.107 E-model with its codec's Ie/Bpl, its packet
    loss and burst ratio, and its mean one-way delay.

    >>> df = pd.DataFrame({"ie": [0.0], "bpl": [25.1], "packet_loss_pct": [0.0],
    ...                    "burst_ratio": [1.0], "one_way_delay_ms": [0.0]})
    >>> round(float(call_quality(df)["mos"][0]), 2)
    4.41
    """
    need = ["ie", "bpl", "packet_loss_pct", "burst_ratio", "one_way_delay_ms"]
    missing = [c for c in need if c not in calls.columns]
    if missing:
        raise RuleError(f"calls lack column(s) {', '.join(missing)}")
    r = np.asarray(
        r_factor(
            calls["ie"].to_numpy(float),
            calls["bpl"].to_numpy(float),
            calls["packet_loss_pct"].to_numpy(float),
            calls["burst_ratio"].to_numpy(float),
            calls["one_way_delay_ms"].to_numpy(float),
        ),
        dtype=float,
    )
    return calls.assign(r=r, mos=np.asarray(mos_from_r(r), dtype=float))


def voice_quality_by(calls: pd.DataFrame, by: str = "cell_id") -> pd.DataFrame:
    """Per group: number of calls, mean and 10th percentile of MOS, share of poor calls
    (MOS < 3.1), mean R. Means of per-call MOS are what operators report for voice quality
    (each call is one customer experience), unlike counter ratios.
    """
    rated = calls if "mos" in calls.columns else call_quality(calls)
    g = rated.groupby(by, observed=True)
    return pd.DataFrame(
        {
            "calls": g["mos"].size(),
            "mos_mean": g["mos"].mean(),
            "mos_p10": g["mos"].quantile(0.1),
            "poor_share": g["mos"].apply(lambda m: float((m < POOR_MOS).mean())),
            "r_mean": g["r"].mean(),
        }
    ).reset_index()
