"""Run every benchmark script (``bench_*.py``) in this folder and summarise their results.

Each script writes its figures to ``benchmarks/results/<name>.json``; this runner only
starts them one after another (never in parallel: on a 2-core machine parallel runs
would measure each other) and prints which ones failed.

    python benchmarks/run_all.py            # all
    python benchmarks/run_all.py plspm      # those whose name contains "plspm"
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    failed = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"== {script.stem}: exit {rc} after {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(script.stem)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
