"""Signing in and out: throttled sign-in and server-side sessions.

Sign-in (:func:`attempt`) counts failures per account and per address in the database
(:class:`~sqm.store.models.SignInThrottle`), so every worker process sees the same
counts: after :data:`ACCOUNT_FREE` failures for a user name, or :data:`ADDRESS_FREE`
from one address, the key is locked for :data:`BASE_LOCK_S` seconds, doubling with each
further failure up to :data:`MAX_LOCK_S`; while locked even the right password is
refused. Unknown user names are throttled and timed like known ones (a dummy Argon2
verification), and every failed sign-in is written to the audit log.

The session cookie is signed, but a signature proves only that someone who knew the key
wrote it. So the cookie carries nothing but a random session id, and the server keeps
the sessions (:class:`~sqm.store.models.UserSession`, by the id's SHA-256): signing out
revokes the caller's session, a password change or deactivation revokes all of a
user's sessions, and a session ends at its expiry whatever the cookie claims.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sqm.services.passwords import verify_nobody, verify_password
from sqm.store.audit import Actor, acting_as, record
from sqm.store.models import SignInThrottle, User, UserSession

ACCOUNT_FREE = 5
"""Failed sign-ins of one user name before it is locked."""
ADDRESS_FREE = 20
"""Failed sign-ins from one address (any user names) before it is locked."""
BASE_LOCK_S = 30
"""The first lock; each further failure doubles it."""
MAX_LOCK_S = 15 * 60
FORGET_AFTER_S = 60 * 60
"""Failures older than this (with none since) are forgotten."""


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, now: datetime, max_age_s: int) -> str:
    """A new session of ``user`` valid for ``max_age_s`` seconds; returns its id (the
    only copy: the database keeps its SHA-256)."""
    sid = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id,
            sid_sha256=_digest(sid),
            created_at=now,
            expires_at=now + timedelta(seconds=max_age_s),
        )
    )
    session.flush()
    return sid


def session_user_id(session: Session, sid: str, now: datetime) -> int | None:
    """The user of the live session ``sid`` (not revoked, not expired), else None."""
    if not sid or len(sid) > 128:
        return None
    row = session.execute(
        select(UserSession.user_id).where(
            UserSession.sid_sha256 == _digest(sid),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
        )
    ).first()
    return None if row is None else int(row[0])


def end_session(session: Session, sid: str, now: datetime) -> None:
    """Revoke the session ``sid`` (signing out); unknown ids are ignored."""
    if sid:
        session.execute(
            update(UserSession)
            .where(UserSession.sid_sha256 == _digest(sid), UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def revoke_sessions(session: Session, user_id: int, now: datetime) -> int:
    """Revoke every live session of the user (a password change, a deactivation);
    returns how many were revoked."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class SignInOutcome:
    """The signed-in user, or None; ``retry_after_s`` > 0 when the attempt was refused
    unchecked because its account or address is locked."""

    user: User | None
    retry_after_s: int = 0


def _aware(t: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def lock_seconds(failures: int, free: int) -> int:
    """How long a key with ``failures`` failures is locked (0 below ``free``).

    >>> [lock_seconds(n, 5) for n in (4, 5, 6, 7, 12)]
    [0, 30, 60, 120, 900]
    """
    if failures < free:
        return 0
    return min(BASE_LOCK_S * 2 ** min(failures - free, 20), MAX_LOCK_S)


def _throttle_keys(username: str, address: str) -> list[str]:
    return sorted({f"user:{username.lower()[:150]}", f"addr:{address[:150]}"})


def _locked_rows(session: Session, keys: list[str]) -> list[SignInThrottle]:
    """The throttle rows of ``keys``, created when missing and locked until the end of the
    transaction (PostgreSQL row locks; SQLite's write lock), always in key order."""
    dialect = session.get_bind().dialect.name
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    for key in keys:
        session.execute(
            ins(SignInThrottle)
            .values(key=key, failures=0)
            .on_conflict_do_nothing(index_elements=["key"])
        )
    stmt = (
        select(SignInThrottle)
        .where(SignInThrottle.key.in_(keys))
        .order_by(SignInThrottle.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def _count_failure(row: SignInThrottle, now: datetime) -> None:
    last = _aware(row.last_failure_at)
    if last is not None and (now - last).total_seconds() > FORGET_AFTER_S:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    free = ACCOUNT_FREE if row.key.startswith("user:") else ADDRESS_FREE
    wait = lock_seconds(row.failures, free)
    row.locked_until = now + timedelta(seconds=wait) if wait else None


def check_credentials(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None, in the same time either way
    (an unknown or deactivated name is verified against a dummy hash)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        verify_nobody(password)
        return None
    return user if verify_password(user.password_hash, password) else None


def attempt(
    session: Session, username: str, password: str, address: str, now: datetime
) -> SignInOutcome:
    """Sign ``username`` in from ``address`` at ``now``, throttled (see the module)."""
    name = username.strip()
    rows = _locked_rows(session, _throttle_keys(name, address))
    until = [u for r in rows if (u := _aware(r.locked_until)) is not None and u > now]
    if until:
        wait = max(math.ceil((max(until) - now).total_seconds()), 1)
        with acting_as(Actor(None, name[:64])):
            record(session, "login_failed", "app_user", None, f"locked ({wait} s) from {address}")
        return SignInOutcome(None, wait)
    user = check_credentials(session, name, password)
    if user is None:
        for row in rows:
            _count_failure(row, now)
        with acting_as(Actor(None, name[:64])):
            record(session, "login_failed", "app_user", None, f"wrong password from {address}")
        return SignInOutcome(None)
    for row in rows:
        if row.key.startswith("user:"):
            row.failures, row.locked_until, row.last_failure_at = 0, None, None
    with acting_as(Actor(user.id, user.username)):
        record(session, "login", "app_user", str(user.id), f"from {address}")
    return SignInOutcome(user)
