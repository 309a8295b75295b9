"""Backups taken while the server writes restore to consistent databases that hold every
transaction committed before the backup began; a restore checks the schema version."""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from sqm.config import get_settings
from sqm.services import backup as svc
from sqm.store.engine import make_engine, make_sessionmaker, transaction
from sqm.store.migrate import current_heads
from sqm.store.models import Period


def _writer(engine: Engine, stop: threading.Event, committed: list[int]) -> None:
    """Each transaction writes two periods (n-a, n-b); ``committed`` lists n after commit."""
    f = make_sessionmaker(engine)
    n = 0
    while not stop.is_set():
        n += 1
        day = date(2000, 1, 1) + timedelta(days=n)
        with transaction(f) as s:
            for part in ("a", "b"):
                s.add(Period(code=f"{n}-{part}", kind="month", start=day, end=day))
        committed.append(n)


def _written(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return list(c.scalars(select(Period.code)))
    finally:
        engine.dispose()


def _backups_while_writing(engine: Engine, tmp_path: Path, count: int) -> list[tuple[Path, int]]:
    stop = threading.Event()
    committed: list[int] = []
    writer = threading.Thread(target=_writer, args=(engine, stop, committed))
    writer.start()
    taken: list[tuple[Path, int]] = []
    try:
        while len(committed) < 5:
            stop.wait(0.01)
        for k in range(count):
            before = committed[-1]  # committed before this backup began
            path = tmp_path / f"b{k}.backup"
            svc.backup(engine, path)
            taken.append((path, before))
            stop.wait(0.05)
    finally:
        stop.set()
        writer.join()
    return taken


def _check_restored(url: str, before: int) -> None:
    codes = _written(url)
    numbers = {int(c.split("-")[0]) for c in codes}
    assert set(range(1, before + 1)) <= numbers  # nothing committed before it is missing
    for n in numbers:  # each transaction whole, never half
        assert {f"{n}-a", f"{n}-b"} <= set(codes)


def test_sqlite_backups_during_writes_restore_consistent_and_complete(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    taken = _backups_while_writing(sqlite_engine, tmp_path, 4)
    for k, (path, before) in enumerate(taken):
        info = svc.read_backup(path)
        assert info.dialect == "sqlite" and set(info.schema) == current_heads(sqlite_engine)
        target = tmp_path / f"restored{k}.db"
        svc.restore(path, f"sqlite:///{target}")
        with sqlite3.connect(target) as c:
            assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        _check_restored(f"sqlite:///{target}", before)


@pytest.mark.postgres
def test_postgres_backups_during_writes_restore_consistent_and_complete(
    pg_engine: Engine, tmp_path: Path
) -> None:
    taken = _backups_while_writing(pg_engine, tmp_path, 2)
    base = pg_engine.url
    admin = make_engine(base.set(query={}).render_as_string(hide_password=False))
    db = f"sqm_restore_{os.getpid()}"
    try:
        for path, before in taken:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {db}"))
                c.execute(text(f"CREATE DATABASE {db}"))
            url = base.set(database=db).render_as_string(hide_password=False)
            svc.restore(path, url)
            _check_restored(url, before)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        admin.dispose()


def test_restore_refuses_a_backup_of_an_unknown_schema_version(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "b.db"
    svc.backup(sqlite_engine, path)
    with sqlite3.connect(path) as c:
        c.execute(
            "UPDATE alembic_version SET version_num = '9999_from_the_future' "
            "WHERE rowid = (SELECT min(rowid) FROM alembic_version)"
        )
    target = tmp_path / "t.db"
    with pytest.raises(svc.BackupError, match=r"9999_from_the_future.*not known"):
        svc.restore(path, f"sqlite:///{target}")
    assert not target.exists()
    with pytest.raises(svc.BackupError, match="exists already"):
        svc.backup(sqlite_engine, path)


def test_cli_backup_and_restore(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqm.cli.main import app

    with transaction(make_sessionmaker(sqlite_engine)) as s:
        s.add(Period(code="2026-11", kind="month", start=date(2026, 11, 1), end=date(2026, 11, 30)))
    monkeypatch.setenv("SQM_DATABASE_URL", str(sqlite_engine.url))
    runner = CliRunner()
    r = runner.invoke(app, ["backup", str(tmp_path / "b.db")])
    assert r.exit_code == 0, r.output
    target = tmp_path / "new" / "sqm.db"
    monkeypatch.setenv("SQM_DATABASE_URL", f"sqlite:///{target}")
    get_settings.cache_clear()
    r = runner.invoke(app, ["restore", str(tmp_path / "b.db")])
    assert r.exit_code == 1 and "--yes" in r.output and not target.exists()
    r = runner.invoke(app, ["restore", str(tmp_path / "b.db"), "--yes"])
    assert r.exit_code == 0, r.output
    assert _written(f"sqlite:///{target}") == ["2026-11"]
