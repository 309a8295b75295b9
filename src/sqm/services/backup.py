"""Backups that are consistent while the server writes, and restores that check the schema.

* SQLite: SQLite's online backup API copies the database as one snapshot — every
  transaction committed before the copy began is in it, none half — while the server goes
  on writing (WAL). A plain file copy of a live database is not a backup: it can catch
  the file between two pages of a write, and it misses what is still in the ``-wal`` file.
* PostgreSQL: ``pg_dump`` (custom format), itself one snapshot, of the schema SQM uses.

A restore refuses a backup whose schema version this SQM does not know (it was written by
a newer version) or that fails SQLite's integrity check, and brings an older backup's
schema up to date after restoring it.

>>> # info = backup(engine, Path("var/backups/sqm-2026-12-03.db"))
>>> # restore(Path("var/backups/sqm-2026-12-03.db"), "sqlite:///var/sqm.db")
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url

from sqm.domain.errors import RuleError
from sqm.store.engine import make_engine
from sqm.store.migrate import alembic_config, current_heads, upgrade


class BackupError(RuleError):
    """A backup cannot be taken or restored; the message says why."""


@dataclass(frozen=True)
class BackupInfo:
    """A backup file: its database kind and the schema revisions it holds."""

    path: Path
    dialect: str
    schema: tuple[str, ...]


def known_revisions() -> set[str]:
    """Every schema revision this version of SQM can migrate from.

    >>> "0001_foundation" in known_revisions()
    True
    """
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {rev.revision for rev in scripts.walk_revisions()}


def backup(engine: Engine, dest: Path) -> BackupInfo:
    """Write a consistent backup of ``engine``'s database to ``dest`` (a new file) while
    other connections keep writing; returns what it holds."""
    if dest.exists():
        raise BackupError(f"{dest} exists already; a backup does not overwrite a file")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    schema = tuple(sorted(current_heads(engine)))
    dialect = engine.dialect.name
    if dialect == "sqlite":
        raw = engine.raw_connection()
        try:
            src = raw.driver_connection
            assert isinstance(src, sqlite3.Connection)
            dst = sqlite3.connect(part)
            try:
                src.backup(dst)  # all pages in one step: one snapshot
            finally:
                dst.close()
        finally:
            raw.close()
        schema = _sqlite_schema(part)
    elif dialect == "postgresql":
        url, pg_schema = _libpq(engine.url)
        cmd = ["pg_dump", "--format=custom", "--no-owner", f"--file={part}"]
        cmd += [f"--schema={pg_schema}"] if pg_schema else []
        _run([*cmd, url])
    else:
        raise BackupError(f"no backup for {dialect} databases")
    os.replace(part, dest)
    info = BackupInfo(dest, dialect, schema)
    _sidecar(dest).write_text(
        json.dumps(
            {"dialect": dialect, "schema": list(schema), "taken_at": datetime.now(UTC).isoformat()}
        ),
        encoding="utf-8",
    )
    return info


def read_backup(path: Path) -> BackupInfo:
    """What the backup at ``path`` holds (its kind and schema revisions)."""
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(b"SQLite format 3"):
        return BackupInfo(path, "sqlite", _sqlite_schema(path))
    meta = _sidecar(path)
    if head.startswith(b"PGDMP") and meta.is_file():
        data = json.loads(meta.read_text(encoding="utf-8"))
        return BackupInfo(path, "postgresql", tuple(data["schema"]))
    raise BackupError(f"{path} is not an SQM backup (SQLite file, or pg_dump file with its .json)")


def restore(source: Path, url: str) -> BackupInfo:
    """Restore the backup ``source`` into the database at ``url`` (replacing what is there;
    stop the server first) and bring its schema up to date. A backup written by a newer SQM
    (a schema revision this one does not know) or a damaged one is refused."""
    info = read_backup(source)
    unknown = sorted(set(info.schema) - known_revisions())
    if not info.schema or unknown:
        raise BackupError(
            f"the backup's schema version {', '.join(unknown) or '(none)'} is not known to "
            "this SQM: restore it with the version that wrote it"
        )
    target = make_url(url)
    if target.get_backend_name() != info.dialect:
        raise BackupError(f"a {info.dialect} backup cannot be restored into {target.drivername}")
    if info.dialect == "sqlite":
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            check = src.execute("PRAGMA integrity_check").fetchone()
            if not check or check[0] != "ok":
                raise BackupError(f"{source} is damaged: {check[0] if check else '?'}")
            if not target.database or target.database == ":memory:":
                raise BackupError("restore needs a database file")
            Path(target.database).parent.mkdir(parents=True, exist_ok=True)
            dst = sqlite3.connect(target.database)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    else:
        libpq, _ = _libpq(target)
        _run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={libpq}", str(source)]
        )
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return info


def _sqlite_schema(path: Path) -> tuple[str, ...]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} holds no SQM schema version ({exc})") from exc
    finally:
        conn.close()
    return tuple(sorted(str(r[0]) for r in rows))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _libpq(url: URL) -> tuple[str, str | None]:
    """The libpq form of a SQLAlchemy PostgreSQL URL, and the schema of its search_path."""
    options = str(url.query.get("options", ""))
    schema = (
        options.split("search_path=", 1)[1].split(",")[0].strip()
        if "search_path=" in options
        else None
    )
    plain = url.set(drivername="postgresql")
    return plain.render_as_string(hide_password=False), schema


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed (it comes with the PostgreSQL client)")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {done.stderr.strip()[:500]}")
