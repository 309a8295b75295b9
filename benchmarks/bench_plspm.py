"""Benchmark: sqm.methods.plspm against the PyPI `plspm` package (plspm-python), same run.

Classic ECSI inner model, centroid scheme, mode A:
  * ECSI `satisfaction` (250 respondents), 5,000 bootstrap resamples, scaled=False (R
    plspm's setting in Sanchez 2013, ch. 4, where plspm-python's metric route is R's
    algorithm) and scaled=True (plspm-python's `Scale.NUM` route, R's `scaled = TRUE`);
  * 100,000 synthetic respondents from a known ECSI-like model (benchmarks/plspm/synthetic.py),
    scaled=False, 5,000 resamples.
sqm always runs all 5,000 resamples. plspm-python needs 0.1-0.5 s per resample on ECSI and
about 2 s at 100,000 respondents (hours for 5,000), so it is timed on --ref-resamples /
--ref-large-resamples resamples and its time extrapolated linearly to 5,000 (reported as
such in the JSON).
plspm-python runs in its own virtualenv (benchmarks/.venv-plspm, made by
benchmarks/plspm/setup_venv.sh) through a subprocess, with its default 2 processes.

Checks: point estimates agree (1e-15 for scaled=False; the Scale.NUM route stops on
another criterion, ~1e-7); bootstrap standard errors agree in law when plspm-python runs
>= 1,000 resamples (tests/methods/test_plspm.py checks this on stored output).
Prints medians and the speed ratios; writes benchmarks/results/plspm.json.

    .venv/bin/python benchmarks/bench_plspm.py [--resamples 5000] [--ref-resamples 100]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "plspm"))
from synthetic import make_ecsi_like  # noqa: E402

from sqm.methods import plspm  # noqa: E402

SHARED = Path(os.environ.get("SQM_SHARED_DATA", ROOT.parent / "shared" / "data"))
VENV_PY = ROOT / "benchmarks" / ".venv-plspm" / "bin" / "python"
RUNNER = ROOT / "benchmarks" / "plspm" / "run_reference.py"
RESULTS = ROOT / "benchmarks" / "results" / "plspm.json"
LVS = ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"]


def timed(fn: Any, repeat: int) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def run_reference(job: dict[str, Any]) -> dict[str, Any]:
    if not VENV_PY.exists():
        subprocess.run(["bash", str(ROOT / "benchmarks" / "plspm" / "setup_venv.sh")], check=True)
    proc = subprocess.run(
        [str(VENV_PY), str(RUNNER)], input=json.dumps(job), capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def point_diff(res: plspm.PLSResult, ref: dict[str, Any]) -> float:
    lvs = list(res.model.lvs)
    mvs = list(res.model.mvs)
    paths = pd.DataFrame(ref["path_coefficients"]).T.loc[lvs, lvs].to_numpy()
    diffs = [
        np.abs(res.path_coefficients.to_numpy() - paths).max(),
        np.abs(
            res.outer_weights.to_numpy() - pd.Series(ref["outer_weights"])[mvs].to_numpy()
        ).max(),
        np.abs(res.loadings.to_numpy() - pd.Series(ref["loadings"])[mvs].to_numpy()).max(),
        np.abs(res.r2.to_numpy() - pd.Series(ref["r2"])[list(res.r2.index)].to_numpy()).max(),
        max(abs(res.total_effects.loc[a, b] - t) for a, b, t in ref["total_effects"]),
    ]
    return float(max(diffs))


def se_ratio(boot: plspm.PLSBootstrap, ref: dict[str, Any]) -> dict[str, float]:
    """Largest and median |SE_ours / SE_ref − 1| over every bootstrapped estimate."""
    rel = []
    for table in ("paths", "loadings", "outer_weights", "r2", "total_effects"):
        ours = getattr(boot, table)
        for key, row in ref[table].items():
            label = tuple(key.split(" -> ")) if " -> " in key else key
            if label in ours.index and row["std_error"] > 0:
                rel.append(abs(ours.loc[label, "std_error"] / row["std_error"] - 1))
    return {"max_rel_diff": float(max(rel)), "median_rel_diff": float(statistics.median(rel))}


def bench(
    name: str, data: pd.DataFrame, csv: Path, index_col: int | None, blocks: dict[str, list[str]],
    paths: list[tuple[str, str]], resamples: int, ref_resamples: int, repeat: int,
    scaled: bool = False,
) -> dict[str, Any]:  # fmt: skip
    print(f"== {name}: {len(data)} respondents, {resamples} resamples, scaled={scaled}",
          flush=True)  # fmt: skip
    fit_times, res = timed(lambda: plspm.fit(data, blocks, paths, scaled=scaled), repeat)
    boot_times, boot = timed(lambda: res.bootstrap(resamples, seed=1), repeat)
    print(f"sqm   fit median {statistics.median(fit_times):.4f} s; bootstrap median "
          f"{statistics.median(boot_times):.2f} s over {repeat} run(s)", flush=True)  # fmt: skip
    job = {"csv": str(csv), "index_col": index_col, "blocks": blocks, "paths": paths,
           "scheme": "centroid", "scaled": scaled, "bootstrap": ref_resamples, "processes": 2}  # fmt: skip
    ref = run_reference(job)
    ref_boot = ref["bootstrap_seconds"]
    ref_boot_full = ref_boot * resamples / ref_resamples
    out = {
        "respondents": len(data),
        "scaled": scaled,
        "resamples": resamples,
        "sqm_fit_seconds": fit_times,
        "sqm_fit_median": statistics.median(fit_times),
        "sqm_bootstrap_seconds": boot_times,
        "sqm_bootstrap_median": statistics.median(boot_times),
        "sqm_failed_resamples": boot.failed,
        "plspm_python_version": ref["version"],
        "plspm_python_fit_seconds": ref["fit_seconds"],
        "plspm_python_bootstrap_resamples_run": ref_resamples,
        "plspm_python_bootstrap_seconds_run": ref_boot,
        "plspm_python_bootstrap_seconds_for_resamples": ref_boot_full,
        "plspm_python_extrapolated": ref_resamples != resamples,
        "fit_speed_ratio": ref["fit_seconds"] / statistics.median(fit_times),
        "bootstrap_speed_ratio": ref_boot_full / statistics.median(boot_times),
        "max_abs_diff_point_estimates": point_diff(res, ref),
    }
    if ref_resamples >= 1000:
        out["bootstrap_se_agreement"] = se_ratio(boot, ref["bootstrap"])
    print(f"plspm fit {ref['fit_seconds']:.3f} s; bootstrap {ref_boot:.1f} s for {ref_resamples}"
          f" resamples -> {ref_boot_full:.1f} s for {resamples}"
          f"{' (extrapolated linearly)' if out['plspm_python_extrapolated'] else ''}", flush=True)  # fmt: skip
    print(f"point estimates max |diff| {out['max_abs_diff_point_estimates']:.1e}; "
          f"speed ratio fit {out['fit_speed_ratio']:.1f}x, bootstrap "
          f"{out['bootstrap_speed_ratio']:.1f}x", flush=True)  # fmt: skip
    if "bootstrap_se_agreement" in out:
        print(f"bootstrap SE agreement {out['bootstrap_se_agreement']}", flush=True)
    out["_ref_bootstrap"] = ref.get("bootstrap")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resamples", type=int, default=5000)
    parser.add_argument("--ref-resamples", type=int, default=100)
    parser.add_argument("--ref-large-resamples", type=int, default=10)
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    sat_csv = SHARED / "ecsi" / "satisfaction.csv"
    sat = pd.read_csv(sat_csv, index_col=0)
    blocks = {lv: [c for c in sat.columns if c.startswith(lv.lower())] for lv in LVS}
    paths = [("IMAG", "EXPE"), ("IMAG", "SAT"), ("IMAG", "LOY"), ("EXPE", "QUAL"),
             ("EXPE", "VAL"), ("EXPE", "SAT"), ("QUAL", "VAL"), ("QUAL", "SAT"),
             ("VAL", "SAT"), ("SAT", "LOY")]  # fmt: skip
    results: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__},
        "model": "classic ECSI inner model, centroid scheme, mode A",
    }  # fmt: skip
    for scaled in (False, True):
        ecsi = bench("ECSI satisfaction", sat, sat_csv, 0, blocks, paths, args.resamples,
                     args.ref_resamples, args.repeat, scaled)  # fmt: skip
        ecsi.pop("_ref_bootstrap")
        results[f"ecsi_{'scaled' if scaled else 'raw'}"] = ecsi

    data, syn_blocks, syn_paths = make_ecsi_like(args.respondents)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "synthetic.csv"
        data.to_csv(csv, index=False)
        large = bench(f"synthetic {args.respondents}", data, csv, None, syn_blocks, syn_paths,
                      args.resamples, args.ref_large_resamples, 1)  # fmt: skip
    large.pop("_ref_bootstrap")
    results["synthetic"] = large
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
