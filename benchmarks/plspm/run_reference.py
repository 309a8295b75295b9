"""Run the PyPI `plspm` package (plspm-python) on one model; print its results as JSON.

Runs inside benchmarks/.venv-plspm (pandas < 3), never in the project's .venv. Reads a JSON
job on stdin:
  {"csv": path, "index_col": 0 | null, "blocks": {lv: [cols]}, "paths": [[from, to]],
   "modes": {lv: "A"|"B"}, "scheme": "centroid"|"factorial"|"path", "scaled": bool,
   "bootstrap": 0 | n, "processes": 2, "score_rows": 10}
scaled=True is run as plspm-python's `default_scale=Scale.NUM` (each MV standardised, the
same treatment as R plspm's `scaled = TRUE`): its metric `scaled=True` divides every column
by one pooled standard deviation instead.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import time

import numpy as np
import pandas as pd
import plspm.config as c
from plspm.mode import Mode
from plspm.plspm import Plspm
from plspm.scale import Scale
from plspm.scheme import Scheme


def main() -> None:
    job = json.load(sys.stdin)
    data = pd.read_csv(job["csv"], index_col=job.get("index_col"))
    lvs = list(job["blocks"])
    structure = c.Structure()
    for src, dst in job["paths"]:
        structure.add_path([src], [dst])
    order = _topological(lvs, job["paths"])  # plspm-python wants a lower-triangular matrix
    path = structure.path().loc[order, order]
    if job["scaled"]:
        config = c.Config(path, default_scale=Scale.NUM)
    else:
        config = c.Config(path, scaled=False)
    modes = job.get("modes") or {}
    for lv in lvs:
        mode = Mode.B if modes.get(lv, "A") == "B" else Mode.A
        config.add_lv(lv, mode, *[c.MV(col) for col in job["blocks"][lv]])
    scheme = {"centroid": Scheme.CENTROID, "factorial": Scheme.FACTORIAL, "path": Scheme.PATH}[
        job["scheme"]
    ]
    t0 = time.perf_counter()
    model = Plspm(data, config, scheme, job.get("max_iter", 100), job.get("tol", 1e-6))
    fit_seconds = time.perf_counter() - t0
    mvs = [col for lv in lvs for col in job["blocks"][lv]]
    outer = model.outer_model()
    paths = model.path_coefficients().loc[lvs, lvs].T  # rows = from, columns = to
    effects = model.effects()
    out = {
        "package": "plspm",
        "version": importlib.metadata.version("plspm"),
        "pandas": importlib.metadata.version("pandas"),
        "fit_seconds": fit_seconds,
        "path_coefficients": {a: {b: float(paths.loc[a, b]) for b in lvs} for a in lvs},
        "r2": {lv: float(v) for lv, v in model.inner_summary()["r_squared"].items()},
        "loadings": {mv: float(outer.loc[mv, "loading"]) for mv in mvs},
        "outer_weights": {mv: float(outer.loc[mv, "weight"]) for mv in mvs},
        "total_effects": [
            [str(r["from"]), str(r["to"]), float(r["total"])] for _, r in effects.iterrows()
        ],
        "scores_head": model.scores()
        .loc[:, lvs]
        .head(job.get("score_rows", 10))
        .to_numpy()
        .tolist(),
    }
    n_boot = int(job.get("bootstrap", 0))
    if n_boot:
        processes = int(job.get("processes", 2))
        t0 = time.perf_counter()
        boot = Plspm(
            data, config, scheme, job.get("max_iter", 100), job.get("tol", 1e-6),
            bootstrap=True, bootstrap_iterations=n_boot, processes=processes,
        )  # fmt: skip
        out["bootstrap_seconds"] = time.perf_counter() - t0 - fit_seconds
        b = boot.bootstrap()
        out["bootstrap"] = {
            "n": n_boot,
            "processes": processes,
            "paths": _table(b.paths()),
            "loadings": _table(b.loading()),
            "outer_weights": _table(b.weights()),
            "r2": _table(b.r_squared()),
            "total_effects": _table(b.total_effects()),
        }
    json.dump(out, sys.stdout)


def _topological(lvs: list[str], paths: list[list[str]]) -> list[str]:
    order: list[str] = []
    left = list(lvs)
    while left:
        ready = [lv for lv in left if all(src in order for src, dst in paths if dst == lv)]
        order.extend(ready)
        left = [lv for lv in left if lv not in ready]
    return order


def _table(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    cols = {"mean": "mean", "std.error": "std_error", "perc.025": "perc_lower",
            "perc.975": "perc_upper", "original": "original"}  # fmt: skip
    return {
        str(idx): {cols[k]: float(np.asarray(row[k])) for k in cols}
        for idx, row in frame.iterrows()
    }


if __name__ == "__main__":
    main()
