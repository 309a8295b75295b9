"""Regenerate tests/methods/data/plspm_openpls_ipma.json from the PyPI `openpls-engine` package.

openpls-engine 1.13.0 (a fork of plspm-python with an IPMA module) needs pandas < 3; run in a
throw-away venv:
    python3 -m venv /tmp/ref-openpls
    /tmp/ref-openpls/bin/pip install "openpls-engine==1.13.0" "pandas<3"
    /tmp/ref-openpls/bin/python benchmarks/plspm/ipma_reference.py
Model: classic ECSI on `satisfaction`, centroid scheme, scaled=False (its outer weights are
then on the raw item scale), scale 1-10, targets SAT and LOY. openpls's LV importance is the
*standardised* total effect; its performances are the 0-100 index means.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
from pathlib import Path

import openpls.config as c
import pandas as pd
from openpls.mode import Mode
from openpls.plspm import Plspm
from openpls.scheme import Scheme

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SQM_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "tests" / "methods" / "data" / "plspm_openpls_ipma.json"
LVS = ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"]
PATHS = [("IMAG", "EXPE"), ("IMAG", "SAT"), ("IMAG", "LOY"), ("EXPE", "QUAL"), ("EXPE", "VAL"),
         ("EXPE", "SAT"), ("QUAL", "VAL"), ("QUAL", "SAT"), ("VAL", "SAT"), ("SAT", "LOY")]  # fmt: skip


def main() -> None:
    data = pd.read_csv(SHARED / "ecsi" / "satisfaction.csv", index_col=0)
    structure = c.Structure()
    for src, dst in PATHS:
        structure.add_path([src], [dst])
    config = c.Config(structure.path().loc[LVS, LVS], scaled=False)
    for lv in LVS:
        config.add_lv_with_columns_named(lv, Mode.A, data, lv.lower())
    model = Plspm(data, config, Scheme.CENTROID)
    out: dict[str, object] = {"package": "openpls-engine",
                              "version": importlib.metadata.version("openpls-engine")}  # fmt: skip
    for target in ("SAT", "LOY"):
        m = model.ipma(target, scale_min=1, scale_max=10)
        lv = m.latent_variables()
        ind = m.indicators().reset_index()
        out[target] = {
            "lv_importance_standardised": lv["importance"].to_dict(),
            "lv_performance": lv["performance"].to_dict(),
            "indicator_performance": dict(zip(ind["indicator"], ind["performance"], strict=True)),
            "indicator_normalized_weight": dict(
                zip(ind["indicator"], ind["normalized_weight"], strict=True)
            ),
        }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
