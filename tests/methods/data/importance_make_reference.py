"""Generate importance_dominance.json: Shapley/LMG (general dominance) by dominance-analysis.

Run in a throw-away venv (dominance-analysis 1.1.9 needs numpy < 2):

    python3 -m venv /tmp/ref-da
    /tmp/ref-da/bin/pip install "numpy<2" "pandas<2.2" "scipy<1.13" "statsmodels<0.15" \
        dominance-analysis==1.1.9
    /tmp/ref-da/bin/python tests/methods/data/importance_make_reference.py
"""

import json
from importlib.metadata import version
from pathlib import Path

import bokeh.io
import bokeh.plotting
import pandas as pd

# dominance-analysis opens a notebook display at import time; there is no notebook here.
bokeh.io.output_notebook = lambda *a, **k: None
bokeh.plotting.output_notebook = lambda *a, **k: None

from dominance_analysis import Dominance  # noqa: E402

HERE = Path(__file__).resolve().parent

data = pd.read_csv(HERE / "importance_ecsi_quality_satisfaction.csv")
dom = Dominance(data=data, target="sat1", objective=1, top_k=5)
general = dom.incremental_rsquare()
(HERE / "importance_dominance.json").write_text(
    json.dumps(
        {
            "source": f"dominance-analysis {version('dominance-analysis')}",
            "call": "Dominance(data, target='sat1', objective=1, top_k=5).incremental_rsquare()",
            "general_dominance": {k: float(v) for k, v in general.items()},
        },
        indent=1,
    )
)
print(general)
