"""Produce agreement_reference.json and the agreement_*.csv data sets.

Run from the repository root with the project venv (pingouin 0.7.0, statsmodels 0.15,
scikit-learn 1.9):  .venv/bin/python tests/methods/data/agreement_make_reference.py

Data:
- agreement_shrout_fleiss_1979.csv: Shrout & Fleiss (1979), Psychol. Bull. 86, Table 2
  (6 targets x 4 judges).
- agreement_fleiss_1971_diagnoses.csv: Fleiss (1971), Psychol. Bull. 76, Table 1 as raw
  diagnoses (30 patients x 6 psychiatrists, categories 1-5), copied from statsmodels'
  test suite (statsmodels/stats/tests/test_inter_rater.py, ``diagnoses``).
- agreement_two_raters.csv: synthetic ordinal ratings (1-5) of 80 store visits by two
  inspectors (seeded).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

here = Path(__file__).resolve().parent
sf = pd.DataFrame(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    columns=["judge1", "judge2", "judge3", "judge4"],
)
sf.index.name = "target"
sf.to_csv(here / "agreement_shrout_fleiss_1979.csv")

from statsmodels.stats.tests.test_inter_rater import diagnoses  # noqa: E402

pd.DataFrame(diagnoses, columns=[f"rater{i + 1}" for i in range(6)]).to_csv(
    here / "agreement_fleiss_1971_diagnoses.csv", index_label="patient"
)

rng = np.random.default_rng(7)
r1 = rng.integers(1, 6, size=80)
r2 = np.clip(r1 + rng.choice([-2, -1, 0, 0, 0, 1, 1], size=80), 1, 5)
pd.DataFrame({"inspector_a": r1, "inspector_b": r2}).to_csv(
    here / "agreement_two_raters.csv", index_label="visit"
)

long = sf.reset_index().melt(id_vars="target", var_name="judge", value_name="score")
icc = pg.intraclass_corr(long, targets="target", raters="judge", ratings="score")
table = pd.crosstab(r1, r2).reindex(index=range(1, 6), columns=range(1, 6), fill_value=0)
kappas = {}
for w in (None, "linear", "quadratic"):
    sm = cohens_kappa(table.to_numpy(), wt=w)
    kappas[str(w)] = {
        "sklearn_kappa": float(cohen_kappa_score(r1, r2, weights=w)),
        "statsmodels_kappa": float(sm.kappa),
        "statsmodels_se": float(sm.std_kappa),
        "statsmodels_se0": float(sm.std_kappa0),
    }
counts, _ = aggregate_raters(diagnoses)
out = {
    "source": "pingouin 0.7.0 intraclass_corr; statsmodels 0.15 cohens_kappa / fleiss_kappa; "
    "scikit-learn 1.9 cohen_kappa_score",
    "icc_shrout_fleiss": {
        row.Type: {
            "icc": row.ICC,
            "F": row.F,
            "df1": int(row.df1),
            "df2": int(row.df2),
            "p": row.pval,
            "ci95": [float(v) for v in row.CI95],
        }
        for row in icc.itertuples()
    },
    "cohen_two_raters": kappas,
    "fleiss_1971": {"statsmodels_kappa": float(fleiss_kappa(counts)), "published_kappa": 0.430},
}
(here / "agreement_reference.json").write_text(json.dumps(out, indent=1))
