"""Benchmark: start-up — ``sqm --help``, every command's ``--help``, and the time until a
freshly started ``sqm serve`` answers its first HTTP request.

Every run is a new process (cold-ish: the files are in the page cache, nothing is imported
yet). For each command line the median wall time and the median CPU time (user + system of
the child; the machine is shared, so wall time also measures the neighbours) of ``--runs``
runs are printed as a table and written to ``benchmarks/results/startup.json`` under
``--label`` (other labels already in the file are kept, so a "before" and an "after" run
sit side by side).

The server is started on loopback against a demo database (built once with ``sqm demo``
when the file does not exist yet); the figure is the time from starting the process to the
first answered ``GET /login`` (a rendered page), polling every 20 ms.

    .venv/bin/python benchmarks/bench_startup.py [--runs 5] [--label after]
        [--db var/bench_startup/sqm.db] [--only survey,db] [--no-serve]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "startup.json"
DEFAULT_DB = ROOT / "var" / "bench_startup" / "sqm.db"


def sqm_command() -> list[str]:
    """How a user starts ``sqm``: the console script next to this interpreter."""
    script = Path(sys.executable).with_name("sqm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sqm.cli"]


def command_paths() -> list[list[str]]:
    """Every command and command group of ``sqm`` (``[]`` is ``sqm`` itself)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, typer.main\n"
            "from sqm.cli.main import app\n"
            "def walk(cmd, path):\n"
            "    yield path\n"
            "    for name, sub in sorted(getattr(cmd, 'commands', {}).items()):\n"
            "        yield from walk(sub, [*path, name])\n"
            "print(json.dumps(list(walk(typer.main.get_command(app), []))))\n",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    paths: list[list[str]] = json.loads(out.stdout)
    return paths


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_help(path: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``sqm … --help`` in a new process."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    subprocess.run(
        [*sqm_command(), *path, "--help"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    return time.perf_counter() - t0, _children_cpu() - cpu0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def time_serve(env: dict[str, str], timeout_s: float = 120.0) -> tuple[float, float]:
    """Wall seconds from starting ``sqm serve`` until ``GET /login`` is answered, and the
    server's CPU seconds by then."""
    port = _free_port()
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*sqm_command(), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sqm serve exited with {proc.returncode}")
            if time.perf_counter() - t0 > timeout_s:
                raise RuntimeError(f"sqm serve did not answer within {timeout_s:.0f} s")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
            try:
                conn.request("GET", "/login")
                resp = conn.getresponse()
                resp.read()
            except OSError:
                time.sleep(0.02)
                continue
            finally:
                conn.close()
            if resp.status != 200:
                raise RuntimeError(f"GET /login answered {resp.status}")
            wall = time.perf_counter() - t0
            break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # the server's CPU is counted once it has been waited for
    return wall, _children_cpu() - cpu0


def ensure_demo(db: Path, env: dict[str, str]) -> None:
    if db.exists():
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    print(f"building the demo database {db} (once) …", flush=True)
    subprocess.run([*sqm_command(), "demo"], check=True, env=env, stdout=subprocess.DEVNULL)


def summarise(samples: list[tuple[float, float]]) -> dict[str, object]:
    walls = [w for w, _ in samples]
    cpus = [c for _, c in samples]
    return {
        "wall_s": walls,
        "cpu_s": cpus,
        "wall_median_s": statistics.median(walls),
        "cpu_median_s": statistics.median(cpus),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per command line (median)")
    ap.add_argument("--label", default="current", help="key of this run in the results file")
    ap.add_argument("--db", type=Path, default=DEFAULT_DB, help="demo SQLite database file")
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated words: only `sqm --help` and the command paths containing one",
    )
    ap.add_argument("--no-serve", action="store_true", help="skip the server figure")
    args = ap.parse_args()

    env = {**os.environ, "SQM_DATABASE_URL": f"sqlite:///{args.db.resolve()}"}
    paths = command_paths()
    if args.only:
        words = args.only.split(",")
        paths = [p for p in paths if not p or any(w in part for w in words for part in p)]
    rows: dict[str, dict[str, object]] = {}
    print(f"{'command':<44} {'wall median':>12} {'cpu median':>11}   ({args.runs} runs)")
    for path in paths:
        name = " ".join(["sqm", *path, "--help"])
        rows[name] = summarise([time_help(path, env) for _ in range(args.runs)])
        print(
            f"{name:<44} {rows[name]['wall_median_s']:>11.3f}s {rows[name]['cpu_median_s']:>10.3f}s",
            flush=True,
        )
    if not args.no_serve:
        ensure_demo(args.db, env)
        name = "sqm serve: first GET /login answered"
        rows[name] = summarise([time_serve(env) for _ in range(args.runs)])
        print(
            f"{name:<44} {rows[name]['wall_median_s']:>11.3f}s {rows[name]['cpu_median_s']:>10.3f}s",
            flush=True,
        )
    helps = [float(str(r["wall_median_s"])) for n, r in rows.items() if n.endswith("--help")]
    if helps:
        print(f"slowest --help median: {max(helps):.3f}s over {len(helps)} command lines")

    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_end": os.getloadavg(),
    }
    data.setdefault("runs", {})[args.label] = {
        "runs_per_command": args.runs,
        "slowest_help_median_s": max(helps) if helps else None,
        "commands": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
