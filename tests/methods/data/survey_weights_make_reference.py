"""Produce the raking / post-stratification / linearised-variance reference numbers.

Run once in a throw-away venv (not part of the test suite):

    python3 -m venv /tmp/ref-samplics && /tmp/ref-samplics/bin/pip install samplics==0.6.1
    /tmp/ref-samplics/bin/python tests/methods/data/survey_weights_make_reference.py

It writes survey_weights_sample.csv (a synthetic store-survey sample with the
samplics weights as columns) and survey_weights_reference.json (margins and the
samplics Taylor-linearisation estimates).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.simplefilter("ignore")
from samplics.estimation import TaylorEstimator  # noqa: E402
from samplics.utils.types import PopParam  # noqa: E402
from samplics.weighting import SampleWeight  # noqa: E402

here = Path(__file__).resolve().parent
rng = np.random.default_rng(20261125)
n = 240
segment = rng.choice(["business", "ordinary"], size=n, p=[0.45, 0.55])
area = rng.choice(["north", "centre", "south"], size=n, p=[0.5, 0.3, 0.2])
store_type = rng.choice(["flagship", "standard", "partner"], size=n, p=[0.2, 0.5, 0.3])
base = rng.uniform(0.5, 2.0, size=n).round(3)
satisfied = (rng.uniform(size=n) < np.where(segment == "business", 0.6, 0.8)).astype(int)
score = (rng.normal(70, 12, size=n) + np.where(area == "north", 5, 0)).round(1)

margins = {
    "segment": {"business": 3000.0, "ordinary": 7000.0},
    "area": {"north": 4000.0, "centre": 3500.0, "south": 2500.0},
    "store_type": {"flagship": 1500.0, "standard": 5000.0, "partner": 3500.0},
}
raked = SampleWeight().rake(
    samp_weight=base,
    margins={"segment": segment, "area": area, "store_type": store_type},
    control=margins,
    tol=1e-13,
    ctrl_tol=1e-13,
    max_iter=1000,
)
cells = {"business": 3000.0, "ordinary": 7000.0}
post = SampleWeight().poststratify(samp_weight=base, control=cells, domain=segment)

est = {}
for name, w in (("raked", raked), ("base", base)):
    for var, y in (("score", score), ("satisfied", satisfied)):
        t = TaylorEstimator(PopParam.mean)
        t.estimate(y=y, samp_weight=w, remove_nan=False)
        est[f"{name}_{var}"] = {"mean": float(t.point_est), "se": float(t.stderror)}

pd.DataFrame(
    {
        "segment": segment,
        "area": area,
        "store_type": store_type,
        "base_weight": base,
        "satisfied": satisfied,
        "score": score,
        "samplics_raked_weight": raked,
        "samplics_poststratified_weight": post,
    }
).to_csv(here / "survey_weights_sample.csv", index=False)
(here / "survey_weights_reference.json").write_text(
    json.dumps(
        {
            "source": "samplics 0.6.1 (pip; its __version__ says 0.6.0): SampleWeight().rake / poststratify, "
            "TaylorEstimator(PopParam.mean).estimate(y, samp_weight)",
            "margins": margins,
            "poststratification_cells": cells,
            "taylor_estimates": est,
        },
        indent=2,
    )
)
