"""Signing in and out: server-side sessions.

The session cookie is signed, but a signature proves only that someone who knew the key
wrote it. So the cookie carries nothing but a random session id, and the server keeps
the sessions (:class:`~sqm.store.models.UserSession`, by the id's SHA-256): signing out
revokes the caller's session, a password change or deactivation revokes all of a
user's sessions, and a session ends at its expiry whatever the cookie claims.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sqm.store.models import User, UserSession


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
