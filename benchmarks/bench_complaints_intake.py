"""Benchmark: complaint intake through the JSON API on loopback (PostgreSQL by default).

Starts the real app under uvicorn on 127.0.0.1 against a fresh PostgreSQL schema
(``sqm_bench_complaints``, dropped afterwards), creates a handler with an API token, and posts
complaints from concurrent HTTP clients.  Then re-sends a share of them to check that
intake stays idempotent under load.  Reports throughput and latency percentiles to
benchmarks/results/complaints_intake.json.

    .venv/bin/python benchmarks/bench_complaints_intake.py [--n 5000] [--clients 32]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from load_generator import json_body, post, run
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.domain.roles import Role
from sqm.store.engine import make_engine
from sqm.store.migrate import upgrade
from sqm.store.models import ApiToken, Complaint, OrgUnit, RoleGrant, User

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCHEMA = "sqm_bench_complaints"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str) -> tuple[str, str, list[str]]:
    admin = make_engine(url)
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    schema_url = f"{url}{sep}options=-csearch_path%3D{SCHEMA}"
    eng = make_engine(schema_url)
    upgrade(eng)
    token = secrets.token_urlsafe(32)
    with Session(eng) as s:
        company = OrgUnit(code="CO", name_zh="公司", kind=UnitKind.COMPANY, path="/", depth=0)
        s.add(company)
        s.flush()
        company.path = f"/{company.id}/"
        stores = []
        for i in range(50):
            u = OrgUnit(
                code=f"S{i:03d}",
                name_zh=f"门店{i}",
                kind=UnitKind.STORE,
                parent_id=company.id,
                depth=1,
                customers=10_000,
            )
            s.add(u)
            s.flush()
            u.path = f"{company.path}{u.id}/"
            stores.append(u.code)
        user = User(username="intake-bot", password_hash="!", display_name="intake")
        s.add(user)
        s.flush()
        s.add(RoleGrant(user_id=user.id, role=Role.COMPLAINT_HANDLER, scope_unit_id=company.id))
        s.add(
            ApiToken(
                user_id=user.id,
                name="bench",
                token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            )
        )
        s.commit()
    eng.dispose()
    return schema_url, token, stores


def serve(schema_url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, SQM_DATABASE_URL=schema_url, SQM_SECRET_KEY="bench-secret")
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "sqm.web.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(cmd, env=env)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1.0)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("server did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument(
        "--batch", type=int, default=0, help="items per POST /batch call (0 = one per call)"
    )
    ap.add_argument(
        "--url",
        default=os.environ.get(
            "SQM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = ap.parse_args()
    schema_url, token, stores = prepare(args.url)
    port = free_port()
    proc = serve(schema_url, port, args.workers)
    rng = np.random.default_rng(0)
    t0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
    bodies = [
        {
            "source_system": "crm",
            "source_id": f"CRM-{i:08d}",
            "channel": [
                "hotline",
                "app",
                "web",
                "social_media",
                "store_counter",
                "email",
                "regulator",
            ][i % 7],
            "received_at": (t0 + timedelta(seconds=int(rng.integers(0, 86_400 * 20)))).isoformat(),
            "unit_code": stores[i % len(stores)],
            "text": "上网速度慢，晚上高峰时段视频一直卡顿，请尽快处理。",
            "customer_ref": f"138{i:08d}",
            "subcategory": "network.slow_data",
        }
        for i in range(args.n)
    ]
    auth = {"authorization": f"Bearer {token}"}

    def calls(items: list[dict[str, object]]) -> list[bytes]:
        if args.batch:
            chunks = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
            return [post("/api/v1/complaints/batch", json_body({"items": c}), auth) for c in chunks]
        return [post("/api/v1/complaints", json_body(b), auth) for b in items]

    def accepted(status: int, body: bytes) -> bool:
        if args.batch:
            return status == 200 and json.loads(body)["errors"] == 0
        return status in (200, 201)

    warm_bodies = [dict(b, source_id="WARM-" + str(b["source_id"])) for b in bodies[:200]]
    try:
        asyncio.run(run("127.0.0.1", port, calls(warm_bodies), args.clients))
        load = asyncio.run(run("127.0.0.1", port, calls(bodies), args.clients, check=accepted))
        resend = asyncio.run(
            run("127.0.0.1", port, calls(bodies[: args.n // 10]), args.clients, check=accepted)
        )
    finally:
        proc.terminate()
        proc.wait(10)
    eng = make_engine(schema_url)
    with Session(eng) as s:
        stored = s.scalar(
            select(func.count()).select_from(Complaint).where(Complaint.source_id.like("CRM-%"))
        )
    eng.dispose()
    admin = make_engine(args.url)
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()
    lat = np.array(load.latencies) * 1000
    result = {
        "benchmark": "complaint intake via POST /api/v1/complaints on loopback",
        "database": "postgresql" if args.url.startswith("postgresql") else args.url.split(":")[0],
        "n": args.n,
        "clients": args.clients,
        "uvicorn_workers": args.workers,
        "batch": args.batch or None,
        "latency_is_per": f"call of {args.batch} complaints" if args.batch else "complaint",
        "throughput_per_s": round(args.n / load.wall_s, 1),
        "latency_ms": {
            "p50": round(float(np.percentile(lat, 50)), 2),
            "p90": round(float(np.percentile(lat, 90)), 2),
            "p99": round(float(np.percentile(lat, 99)), 2),
            "max": round(float(lat.max()), 2),
            "mean": round(statistics.fmean(lat.tolist()), 2),
        },
        "status_codes": {str(k): v for k, v in sorted(load.statuses.items())},
        "accepted": load.passed,
        "resent": len(resend.latencies),
        "resent_status_codes": {str(k): v for k, v in sorted(resend.statuses.items())},
        "stored_after_resend": stored,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    name = f"complaints_intake_w{args.workers}"
    name += f"_batch{args.batch}.json" if args.batch else ".json"
    (RESULTS_DIR / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
