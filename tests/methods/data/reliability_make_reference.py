"""Produce reliability_reference.json from pingouin and factor_analyzer.

Run from the repository root with the project venv (pingouin 0.7.0,
factor_analyzer 0.5.1, scikit-learn 1.9):

    SQM_SHARED_DATA=../shared/data .venv/bin/python tests/methods/data/reliability_make_reference.py

factor_analyzer 0.5.1 still calls sklearn's ``check_array(force_all_finite=...)``,
renamed ``ensure_all_finite`` in scikit-learn 1.8; the shim below only renames the
keyword, it does not change any computation.
"""

import json
import os
import warnings
from pathlib import Path

import factor_analyzer.factor_analyzer as ffa
import numpy as np
import pandas as pd
import pingouin as pg
import sklearn.utils.validation as skv
from factor_analyzer import FactorAnalyzer, calculate_bartlett_sphericity, calculate_kmo


def _check_array(x, force_all_finite=True, **kw):  # type: ignore[no-untyped-def]
    return skv.check_array(x, ensure_all_finite=force_all_finite, **kw)


ffa.check_array = _check_array
here = Path(__file__).resolve().parent
shared = Path(os.environ.get("SQM_SHARED_DATA", here.parents[2] / ".." / "shared" / "data"))
rel = shared / "reliability"

out: dict[str, object] = {
    "source": "pingouin 0.7.0 (cronbach_alpha, intraclass_corr), factor_analyzer 0.5.1 "
    "(calculate_bartlett_sphericity, calculate_kmo, FactorAnalyzer with default bounds, "
    "use_smc=True, svd_method='randomized')",
}

long = pd.read_csv(rel / "pingouin_cronbach_alpha.csv")
a, ci = pg.cronbach_alpha(data=long, items="Items", scores="Scores", subject="Subj")
missing = pd.read_csv(rel / "pingouin_cronbach_wide_missing.csv", encoding="utf-8-sig")
ap, cip = pg.cronbach_alpha(data=missing)
al, cil = pg.cronbach_alpha(data=missing, nan_policy="listwise")
ecsi = pd.read_csv(shared / "ecsi" / "satisfaction.csv", index_col=0)
blocks = {
    b: [c for c in ecsi.columns if c.startswith(b.lower())]
    for b in ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"]
}
out["cronbach"] = {
    "pingouin_cronbach_alpha": {"alpha": a, "ci95": ci.tolist()},
    "pingouin_wide_missing_pairwise": {"alpha": ap, "ci95": cip.tolist()},
    "pingouin_wide_missing_listwise": {"alpha": al, "ci95": cil.tolist()},
    "ecsi_blocks": {b: pg.cronbach_alpha(data=ecsi[c])[0] for b, c in blocks.items()},
}

t1 = pd.read_csv(rel / "factor_analyzer_test01.csv")
t2 = pd.read_csv(rel / "factor_analyzer_test02.csv")
chi2, p = calculate_bartlett_sphericity(t1)
per_item, overall = calculate_kmo(t2)
out["bartlett_test01"] = {"chi2": float(chi2), "p": float(p)}
out["kmo_test02"] = {"per_item": dict(zip(t2.columns, per_item.tolist())), "overall": overall}

efa = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for method in ["minres", "ml", "principal"]:
        for rotation in [None, "varimax", "promax"]:
            fa = FactorAnalyzer(n_factors=3, method=method, rotation=rotation)
            fa.fit(t2)
            var = fa.get_factor_variance()
            efa[f"{method}_{rotation}"] = {
                "loadings": fa.loadings_.tolist(),
                "communalities": fa.get_communalities().tolist(),
                "uniquenesses": fa.get_uniquenesses().tolist(),
                "variance": [v.tolist() for v in var],
                "phi": None if fa.phi_ is None else np.asarray(fa.phi_).tolist(),
            }
    omega = {}
    for b, cols in blocks.items():
        fa = FactorAnalyzer(n_factors=1, method="minres", rotation=None)
        fa.fit(ecsi[cols])
        lam = np.abs(fa.loadings_[:, 0])
        omega[b] = {
            "loadings": lam.tolist(),
            "omega": float(lam.sum() ** 2 / (lam.sum() ** 2 + fa.get_uniquenesses().sum())),
        }
out["efa_test02_3factors"] = efa
out["omega_ecsi_minres"] = omega
(here / "reliability_reference.json").write_text(json.dumps(out, indent=1))
