"""Sign in, sign out and the language switch."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.services.passwords import verify_password
from sqm.store.audit import Actor, acting_as, record
from sqm.store.models import User
from sqm.web.deps import csrf_protect, get_db, load_form
from sqm.web.i18n import SUPPORTED
from sqm.web.templating import render

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


def _safe_next(nxt: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link bounce through SQM.
    if nxt and nxt.startswith("/") and not nxt.startswith("//"):
        return nxt
    return "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
    db: Session = Depends(get_db),
) -> Response:
    user = db.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active or not verify_password(user.password_hash, password):
        with acting_as(Actor(None, username.strip()[:64])):
            record(db, "login_failed", "app_user", None)
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": "Wrong user name or password."},
            status_code=401,
        )
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    request.session["locale"] = user.locale
    with acting_as(Actor(user.id, user.username)):
        record(db, "login", "app_user", str(user.id))
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    locale = request.session.get("locale")
    request.session.clear()
    if locale:
        request.session["locale"] = locale
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    if code in SUPPORTED:
        request.session["locale"] = code
    return RedirectResponse(_safe_next(next), status_code=303)
