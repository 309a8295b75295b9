"""Load benchmark: survey submissions through HTTP on loopback (SQLite or PostgreSQL).

Starts the real app under uvicorn in a child process on a fresh database with one open
NPS + CSAT wave over 50 stores, then posts answers from an asyncio load generator
(``--concurrency`` connections) to the public survey page, every request from another
"device" (user agent) so the open-link guard does not throttle the generator. Prints
answers/s and latency percentiles, and checks that exactly the accepted number of
answers is stored.

    .venv/bin/python benchmarks/bench_survey_submit.py --db sqlite --requests 3000
    .venv/bin/python benchmarks/bench_survey_submit.py --db postgres --requests 3000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from load_generator import form_body, post, run
from sqlalchemy import func, select, text

from sqm.domain.instrument_templates import nps_csat
from sqm.services.surveys import fielding as sf
from sqm.services.surveys.links import LinkSigner
from sqm.store.engine import make_engine, make_sessionmaker
from sqm.store.migrate import upgrade
from sqm.store.models import OrgUnit, Period, SurveyResponse

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SECRET = "bench-survey-secret"
PG_URL = os.environ.get(
    "SQM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

SERVER = """
import sys, uvicorn
port, workers = int(sys.argv[1]), int(sys.argv[2])
uvicorn.run("sqm.web.asgi:app", host="127.0.0.1", port=port,
            workers=workers, log_level="warning", access_log=False)
"""


def prepare(url: str, stores: int) -> list[str]:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA IF EXISTS bench_survey CASCADE"))
            c.execute(text("CREATE SCHEMA bench_survey"))
        engine.dispose()
        url = url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dbench_survey"
        engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with factory() as s:
        root = OrgUnit(code="C", name_zh="公司", kind="company", path="/")
        s.add(root)
        s.flush()
        units = [
            OrgUnit(
                code=f"S{i:03d}",
                name_zh=f"门店{i}",
                kind="store",
                parent_id=root.id,
                path="/",
                traffic=1000,
            )
            for i in range(stores)
        ]
        s.add_all(units)
        period = Period(
            code="2026-11", kind="month", start=date(2026, 11, 1), end=date(2026, 11, 30)
        )
        s.add(period)
        s.flush()
        inst = sf.store_instrument(s, nps_csat())
        sf.create_wave(
            s, code="BENCH", period=period, instrument=inst, stores=units, total=5 * stores
        )
        s.commit()
    engine.dispose()
    signer = LinkSigner(SECRET.encode().ljust(16, b"."))
    return [signer.open_link("BENCH", f"S{i:03d}") for i in range(stores)], url  # type: ignore[return-value]


def submissions(tokens: list[str], n: int, offset: int = 0) -> list[bytes]:
    """``n`` pre-encoded answers, spread over the stores' links, each from another device."""
    return [
        post(
            f"/s/{tokens[i % len(tokens)]}",
            form_body(
                {
                    "nps": str(i % 11),
                    "csat": str(1 + i % 5),
                    "segment": str(1 + i % 2),
                    "lang": "zh",
                }
            ),
            {"user-agent": f"bench-{offset + i}"},
        )
        for i in range(n)
    ]


def thanked(status: int, body: bytes) -> bool:
    return status == 200 and "感谢".encode() in body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.db'}" if args.db == "sqlite" else PG_URL
    tokens, url = prepare(url, 50)
    env = dict(os.environ, SQM_DATABASE_URL=url, SQM_SECRET_KEY=SECRET)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.port), str(args.workers)], env=env
    )
    try:
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(600):  # worker processes import the app: give them time
            try:
                httpx.get(f"{base}/s/{tokens[0]}", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        warm = asyncio.run(run("127.0.0.1", args.port, submissions(tokens, 200), args.concurrency))
        result = asyncio.run(
            run(
                "127.0.0.1",
                args.port,
                submissions(tokens, args.requests, offset=10**6),
                args.concurrency,
                check=thanked,
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    engine = make_engine(url)
    with engine.connect() as c:
        stored = c.execute(select(func.count(SurveyResponse.id))).scalar_one()
    engine.dispose()
    ok = result.passed
    expected = ok + warm.passed
    print(
        f"{args.db}: {args.requests} submissions, concurrency {args.concurrency}, "
        f"{args.workers} server worker(s)"
    )
    print(f"  {result.summary()}")
    print(
        f"  accepted {ok} (plus {warm.passed} warm-up), stored {stored}: "
        f"{'OK' if stored == expected else 'MISMATCH'}"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"survey_submit_{args.db}_w{args.workers}.json").write_text(
        json.dumps(
            {
                "benchmark": "survey submissions over HTTP (loopback)",
                "database": args.db,
                "requests": args.requests,
                "concurrency": args.concurrency,
                "server_workers": args.workers,
                "throughput_per_s": round(result.throughput, 1),
                "latency_ms": {
                    q: round(1000 * result.quantile(v), 2)
                    for q, v in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
                },
                "stored_ok": stored == expected,
                "load_average_1min": os.getloadavg()[0],
                "machine": platform.platform(),
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
