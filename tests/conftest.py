"""Shared fixtures: migrated databases (SQLite always, PostgreSQL when switched on),
the demo organisation, and HTTP clients of the real app signed in as a given user.

PostgreSQL tests run when ``SQM_TEST_POSTGRES=1`` (``.ci/run`` sets it); each pytest
worker gets its own schema, emptied between tests.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text

from sqm.config import Settings, get_settings
from sqm.store.engine import make_engine, make_sessionmaker
from sqm.store.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]

# CI replays the same examples every run (a red build is then reproducible); locally
# hypothesis explores new examples each run, which is how it finds bugs.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
PG_ON = os.environ.get("SQM_TEST_POSTGRES") == "1"
PG_URL = os.environ.get(
    "SQM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_SKIP = "PostgreSQL tests are off: set SQM_TEST_POSTGRES=1 (.ci/run does) to run them"
DEMO_PASSWORD = "sqm-demo-2026"


def shared_data_dir() -> Path:
    """The public reference data sets (not ours to copy: some carry no licence, some GPL):
    $SQM_SHARED_DATA, else ../shared/data beside this checkout, else beside the checkout it
    was cloned from (``git clone . /tmp/fresh`` still finds them)."""
    env = os.environ.get("SQM_SHARED_DATA")
    if env:
        return Path(env)
    beside = REPO.parent / "shared" / "data"
    if beside.is_dir():
        return beside
    try:
        origin = subprocess.run(
            ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        origin = ""
    if origin and "://" not in origin and Path(origin).is_dir():
        return Path(origin).resolve().parent / "shared" / "data"
    return beside


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test reads the settings of its own environment (SQM_* set by monkeypatch)."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    d = shared_data_dir()
    if not d.is_dir():
        pytest.skip(f"shared data sets not found at {d}")
    return d


# ---------------------------------------------------------------- SQLite


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "migrated.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    with eng.connect() as c:
        c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    eng.dispose()
    return path


@pytest.fixture
def sqlite_engine(_sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated SQLite database file for one test."""
    path = tmp_path / "sqm.db"
    shutil.copy(_sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def _pg_schema_url() -> Iterator[str]:
    if not PG_ON:
        pytest.skip(PG_SKIP)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # The process id too: two test runs on one database (two checkouts, or a run while
    # another is still going) must not empty each other's schema.
    schema = f"sqm_test_{re.sub(r'[^a-z0-9]', '', worker.lower()) or 'main'}_{os.getpid()}"
    admin = make_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    yield url
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def pg_engine(_pg_schema_url: str) -> Iterator[Engine]:
    """The worker's migrated PostgreSQL schema, emptied after the test."""
    eng = make_engine(_pg_schema_url, pool_size=20, max_overflow=20)
    yield eng
    import sqm.store.models  # noqa: F401
    from sqm.store.base import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with eng.begin() as c:
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """The same test on SQLite and on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    eng: Engine = request.getfixturevalue(name)
    return eng


# ---------------------------------------------------------------- demo


@pytest.fixture(scope="session")
def _demo_template(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sqm.services.demo import DEMO_STEPS, run_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(_sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    foundation = [s for s in DEMO_STEPS if s[1].startswith("sqm.services.demo:")]
    run_demo(eng, steps=foundation)
    with eng.connect() as c:
        c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    eng.dispose()
    return path


@pytest.fixture
def demo_engine(_demo_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A fresh copy of the foundation demo (org, indicator system, weights, users)."""
    path = tmp_path / "demo.db"
    shutil.copy(_demo_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(demo_engine: Engine):  # type: ignore[no-untyped-def]
    return make_sessionmaker(demo_engine)


# ---------------------------------------------------------------- HTTP clients


def make_client(engine: Engine) -> TestClient:
    from sqm.web.app import create_app

    settings = Settings(database_url=str(engine.url), secret_key="test-secret")
    return TestClient(create_app(settings, engine=engine), follow_redirects=False)


def csrf_of(client: TestClient, path: str = "/login") -> str:
    r = client.get(path)
    m = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> TestClient:
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(client),
            "next": "/",
        },
    )
    assert r.status_code == 303, f"login of {username} failed: {r.status_code}"
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


@pytest.fixture
def client_as(demo_engine: Engine) -> Callable[[str], TestClient]:
    """``client_as("analyst")``: a client of the real app on the demo, signed in."""

    def make(username: str) -> TestClient:
        return sign_in(make_client(demo_engine), username)

    return make


# ------------------------------------------------------------------ real-browser tests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL.

    The browser tests drive the real server this way (a real socket, real HTTP)."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
