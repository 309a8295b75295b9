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
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

from sqm.domain.instrument_templates import nps_csat
from sqm.services import survey_fielding as sf
from sqm.services.survey_links import LinkSigner
from sqm.store.engine import make_engine, make_sessionmaker
from sqm.store.migrate import upgrade
from sqm.store.models import OrgUnit, Period, SurveyResponse

SECRET = "bench-survey-secret"
PG_URL = os.environ.get(
    "SQM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

SERVER = """
import sys, uvicorn
port, workers = int(sys.argv[1]), int(sys.argv[2])
uvicorn.run("sqm.web.app:create_app", factory=True, host="127.0.0.1", port=port,
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


async def load(
    base: str, tokens: list[str], n: int, concurrency: int, offset: int = 0
) -> tuple[list[float], int]:
    latencies: list[float] = []
    ok = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal ok
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                data = {
                    "nps": str(i % 11),
                    "csat": str(1 + i % 5),
                    "segment": str(1 + i % 2),
                    "lang": "zh",
                }
                t = time.perf_counter()
                r = await client.post(
                    f"/s/{tokens[i % len(tokens)]}",
                    data=data,
                    headers={"user-agent": f"bench-{offset + i}"},
                )
                latencies.append(time.perf_counter() - t)
                ok += r.status_code == 200 and "感谢" in r.text

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, ok


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
        asyncio.run(load(base, tokens, 200, args.concurrency))  # warm-up
        t0 = time.perf_counter()
        latencies, ok = asyncio.run(
            load(base, tokens, args.requests, args.concurrency, offset=10**6)
        )
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=10)
    engine = make_engine(url)
    with engine.connect() as c:
        stored = c.execute(select(func.count(SurveyResponse.id))).scalar_one()
    engine.dispose()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{args.db}: {args.requests} submissions, concurrency {args.concurrency}, "
        f"{args.workers} server worker(s)"
    )
    print(f"  throughput {args.requests / wall:,.0f} answers/s  (wall {wall:.1f} s)")
    print(
        f"  latency p50 {1000 * q[49]:.1f} ms  p95 {1000 * q[94]:.1f} ms  p99 {1000 * q[98]:.1f} ms"
    )
    print(
        f"  accepted {ok} (plus 200 warm-up), stored {stored}: {'OK' if stored == ok + 200 else 'MISMATCH'}"
    )


if __name__ == "__main__":
    main()
