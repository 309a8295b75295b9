"""Request dependencies: the database session, the signed-in user, permission and CSRF checks."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from sqm.domain.roles import Permission
from sqm.services.clock import Clock, system_clock
from sqm.services.org_tree import visible_unit
from sqm.services.scope import Principal, load_principal, principal_for
from sqm.services.sign_in import session_user_id
from sqm.store.audit import Actor, bind_actor
from sqm.store.base import utcnow
from sqm.store.models import ApiToken, OrgUnit
from sqm.web.errors import Forbidden, LoginRequired, NotSaved, WebError

log = logging.getLogger(__name__)


def get_db(request: Request) -> Iterator[Session]:
    """One session per request, committed when the handler returns without error — before
    the reply is sent (it is a ``scope="function"`` dependency, see :data:`Db`). A commit
    the database refuses answers an error that says nothing was saved (:func:`not_saved`),
    never the handler's "saved" reply."""
    factory = request.app.state.sessionmaker
    with factory() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        try:
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            log.exception("commit of %s %s failed", request.method, request.url.path)
            raise not_saved(exc) from exc


def not_saved(exc: SQLAlchemyError) -> WebError:
    """The answer to a commit the database refused: busy (503, try again), a clash with
    what is stored (409), a value that does not fit (422), else 500 — nothing was saved.

    >>> from sqlalchemy.exc import OperationalError
    >>> not_saved(OperationalError("COMMIT", {}, Exception("database is locked"))).status_code
    503
    """
    if isinstance(exc, OperationalError):
        return NotSaved(
            "the database is busy; nothing was saved — please try again", status_code=503
        )
    if isinstance(exc, IntegrityError):
        return NotSaved("this clashes with what is stored; nothing was saved", status_code=409)
    if isinstance(exc, DataError):
        return NotSaved("a value does not fit its field; nothing was saved", status_code=422)
    return NotSaved("the change could not be stored; nothing was saved", status_code=500)


# ``scope="function"``: FastAPI ends a dependency with ``yield`` after the reply has been
# sent unless it is function-scoped; the commit (and its failure) must come before it.
# Every use of get_db names the same scope, so a request has one session.
_DB = Depends(get_db, scope="function")

Db = Annotated[Session, _DB]
"""The request's database session, committed when the handler returns without error and
before the reply is sent."""

Now = Annotated[Clock, Depends(system_clock)]
"""The clock date rules read (the system clock; tests override :func:`system_clock`)."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    tok = request.session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return str(tok)


TOKEN_CACHE_S = 5.0
"""How long a verified API token's principal is reused without reading the database: a
capturing system sends a complaint every millisecond, and reading the token, its user and
grants each time cost more than storing the complaint. A revoked token, a deactivated user
or a changed grant takes effect within this many seconds."""


def _token_digest(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return None
    return hashlib.sha256(auth[7:].strip().encode()).hexdigest()


def _token_cache(request: Request) -> dict[str, tuple[float, Principal]]:
    cache: dict[str, tuple[float, Principal]] | None = getattr(
        request.app.state, "token_principals", None
    )
    if cache is None:
        cache = request.app.state.token_principals = {}
    return cache


def cached_token_principal(request: Request) -> Principal | None:
    """The principal of the request's bearer token if it was verified moments ago."""
    digest = _token_digest(request)
    if digest is None:
        return None
    hit = _token_cache(request).get(digest)
    if hit is None or time.monotonic() - hit[0] > TOKEN_CACHE_S:
        return None
    request.state.via_token = True
    return hit[1]


def _bearer_principal(request: Request, db: Session) -> Principal | None:
    digest = _token_digest(request)
    if digest is None:
        return None
    cached = cached_token_principal(request)
    if cached is not None:
        return cached
    tok = db.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest))
    if tok is None or tok.revoked or not tok.user.active:
        return None
    request.state.via_token = True
    p = principal_for(db, tok.user)
    cache = _token_cache(request)
    if len(cache) > 10_000:
        cache.clear()
    cache[digest] = (time.monotonic(), p)
    return p


def _session_principal(request: Request, db: Session) -> Principal | None:
    """The user of the cookie's server-side session (signed out, revoked or expired
    sessions, and cookies without one, are anonymous)."""
    sid = request.session.get("sid")
    if not isinstance(sid, str):
        return None
    uid = session_user_id(db, sid, utcnow())
    return load_principal(db, uid) if uid is not None else None


def _caller(request: Request, db: Session) -> Principal | None:
    """The API token's principal when the request sends a bearer token (a wrong one makes
    the request anonymous: a cookie is never accepted beside a token, which skips the CSRF
    check), else the signed-in session's user, else None."""
    if _token_digest(request) is not None:
        return _bearer_principal(request, db)
    return _session_principal(request, db)


def _principal_from_db(request: Request) -> Principal | None:
    with request.app.state.sessionmaker() as db:
        return _caller(request, db)


def _token_principal_from_db(request: Request) -> Principal | None:
    with request.app.state.sessionmaker() as db:
        return _bearer_principal(request, db)


async def fast_principal(request: Request) -> Principal:
    """The caller (API token or signed-in user) for endpoints that must not wait on a
    worker thread: a recently verified token costs no database read at all; anything else
    is read in the thread pool. Anonymous callers get 401 / a login redirect."""
    p = cached_token_principal(request)
    if p is None:
        p = await run_in_threadpool(_principal_from_db, request)
    if p is None:
        raise LoginRequired()
    request.state.principal = p
    return p


def optional_principal(request: Request, db: Session = _DB) -> Principal | None:
    """The signed-in user (session cookie or API bearer token), or None."""
    p = _caller(request, db)
    if p is not None:
        request.state.principal = p
        bind_actor(db, Actor(p.user_id, p.username))
    return p


def current_principal(
    request: Request, p: Principal | None = Depends(optional_principal)
) -> Principal:
    """The signed-in user; anonymous requests get a login redirect (pages) or 401 (API)."""
    if p is None:
        raise LoginRequired()
    return p


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets only users with ``permission`` through (403 otherwise)."""

    def check(p: Principal = Depends(current_principal)) -> Principal:
        if not p.can(permission):
            raise Forbidden(f"this needs the permission '{permission.value}'")
        return p

    return check


def require_any(*permissions: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets through users with at least one of ``permissions``.

    >>> check = require_any(Permission.DO_INSPECTIONS, Permission.VIEW_SCORES)
    >>> callable(check)
    True
    """
    names = " or ".join(f"'{p.value}'" for p in permissions)

    def check(p: Principal = Depends(current_principal)) -> Principal:
        if not any(p.can(x) for x in permissions):
            raise Forbidden(f"this needs the permission {names}")
        return p

    return check


async def csrf_protect(request: Request) -> None:
    """Reject unsafe requests without the session's CSRF token (form field or header).

    A request that sends an API bearer token needs no CSRF token only when the token is
    valid (it is then authenticated by the token alone, never by a cookie); a wrong,
    revoked or deactivated user's token is refused here (401).
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if _token_digest(request) is not None:
        p = cached_token_principal(request)
        if p is None:
            p = await run_in_threadpool(_token_principal_from_db, request)
        if p is None:
            raise LoginRequired("unknown or revoked API token")
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = request.scope.get("sqm.form")
        sent = form.get("csrf_token") if form is not None else None
    expected = request.session.get("csrf")
    if not expected or not sent or not secrets.compare_digest(str(sent), str(expected)):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")


async def load_form(request: Request) -> None:
    """Parse a form body once so :func:`csrf_protect` can read its token."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            request.scope["sqm.form"] = await request.form()


def unit_in_scope(db: Session, principal: Principal, unit_id: int) -> OrgUnit:
    """The org unit ``unit_id`` if the principal may see it; 404 otherwise (no leak).
    The rule is :func:`sqm.services.org_tree.visible_unit`."""
    return visible_unit(db, principal, unit_id)


def _unit_in_scope_dep(
    unit_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    db: Db,
    p: Principal = Depends(current_principal),
) -> OrgUnit:
    return unit_in_scope(db, p, unit_id)


UnitInScope = Annotated[OrgUnit, Depends(_unit_in_scope_dep)]
"""The org unit of the path's ``{unit_id}``, 404 outside the caller's scope. Put the
permission alias before it in a handler's signature, so that 403 comes before 404."""
