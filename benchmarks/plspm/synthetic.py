"""Synthetic ECSI-like survey data from a known PLS path model (for benchmarks).

Latent variables follow the classic ECSI inner model with the structural coefficients in
``TRUE_PATHS``; each LV has 4-5 reflective items on a 1-10 scale (0.8 loading before
rounding and clipping), like the ECSI questionnaire.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LVS = ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"]
TRUE_PATHS = {
    ("IMAG", "EXPE"): 0.6,
    ("EXPE", "QUAL"): 0.8,
    ("EXPE", "VAL"): 0.2,
    ("QUAL", "VAL"): 0.6,
    ("IMAG", "SAT"): 0.2,
    ("EXPE", "SAT"): 0.1,
    ("QUAL", "SAT"): 0.2,
    ("VAL", "SAT"): 0.5,
    ("IMAG", "LOY"): 0.3,
    ("SAT", "LOY"): 0.5,
}
ITEMS = {"IMAG": 5, "EXPE": 5, "QUAL": 5, "VAL": 4, "SAT": 4, "LOY": 4}


def make_ecsi_like(
    n: int, seed: int = 20261125
) -> tuple[pd.DataFrame, dict[str, list[str]], list[tuple[str, str]]]:
    """Return (data, blocks, paths) for ``n`` synthetic respondents."""
    rng = np.random.default_rng(seed)
    scores: dict[str, np.ndarray] = {}
    for lv in LVS:  # LVS is in causal order
        preds = [(src, c) for (src, dst), c in TRUE_PATHS.items() if dst == lv]
        value = sum((c * scores[src] for src, c in preds), np.zeros(n))
        noise = rng.normal(size=n)
        scores[lv] = value + noise
        scores[lv] = (scores[lv] - scores[lv].mean()) / scores[lv].std()
    columns: dict[str, np.ndarray] = {}
    blocks: dict[str, list[str]] = {}
    for lv in LVS:
        blocks[lv] = []
        for i in range(1, ITEMS[lv] + 1):
            raw = 6.5 + 1.6 * (0.8 * scores[lv] + 0.6 * rng.normal(size=n))
            name = f"{lv.lower()}{i}"
            columns[name] = np.clip(np.round(raw), 1, 10)
            blocks[lv].append(name)
    return pd.DataFrame(columns), blocks, list(TRUE_PATHS)
