"""Engines and sessions: SQLite (WAL) by default, PostgreSQL in production."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``; SQLite files get WAL, foreign keys, a busy timeout and
    the same transactions as PostgreSQL (see :func:`_sqlite_transactions`).

    >>> make_engine("sqlite://").dialect.name
    'sqlite'
    """
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # The driver's own transaction handling is off: it opens a transaction only
            # before INSERT/UPDATE/DELETE/REPLACE, so a SAVEPOINT (``begin_nested()``) sent
            # first began a transaction of its own that its RELEASE committed — an import
            # written in savepoint chunks kept every chunk before a failure. SQLAlchemy's
            # transaction decides instead (below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # WAL lets readers (the web app) run while a writer (an import) holds the lock.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        event.listen(engine, "before_cursor_execute", _sqlite_transactions)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


_READ_ONLY = re.compile(
    r"\s*(SELECT|PRAGMA|EXPLAIN|VALUES|BEGIN|COMMIT|END|ROLLBACK|RELEASE|VACUUM|ATTACH|DETACH)\b",
    re.IGNORECASE,
)
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _writes(statement: str, context: Any) -> bool:
    """Whether ``statement`` changes the database (or is a SAVEPOINT): it then needs the
    transaction opened first. Compiled statements say so themselves; plain SQL by its verb."""
    compiled = getattr(context, "compiled", None)
    if compiled is not None and (
        context.isinsert or context.isupdate or context.isdelete or context.isddl
    ):
        return True
    if _READ_ONLY.match(statement):
        return False
    if statement.lstrip()[:4].upper() == "WITH":  # a CTE: a read unless it writes
        return bool(_WRITE_WORD.search(statement))
    return True


def _sqlite_transactions(
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    """Open the SQLite transaction of ``conn`` before its first write or savepoint.

    With the driver's transaction handling off, SQLAlchemy's transaction is the only one:
    everything written between its begin and its commit or rollback — savepoints included,
    released or not — is kept or undone as a whole, as on PostgreSQL.

    It is opened at the first write rather than at the first statement (SQLAlchemy's
    recipe emits ``BEGIN`` in its ``begin`` event): a SQLite transaction that has read
    holds a snapshot, and when another connection commits before it writes, its write
    fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT, which the busy timeout
    does not wait out) — every page that reads the signed-in user and then saves would fail
    while the intake's group commit writes. ``BEGIN IMMEDIATE`` takes the write lock (or
    waits for it, up to the busy timeout) before anything is read in the transaction;
    reads before it see the latest committed data, as PostgreSQL's READ COMMITTED does.
    """
    dbapi = conn.connection.driver_connection
    if dbapi is None or dbapi.in_transaction or not conn.in_transaction():
        return
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    if dbapi.isolation_level is not None:  # put back by a reset after an AUTOCOMMIT use
        dbapi.isolation_level = None
    if _writes(statement, context):
        dbapi.execute("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed together, or rolled back on any error.

    This is how "nothing half-written" is kept: an import opens one transaction.
    """
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
