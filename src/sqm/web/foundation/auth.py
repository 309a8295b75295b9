"""Sign in, sign out and the language switch."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from sqm.services.sign_in import attempt, end_session, start_session
from sqm.store.base import utcnow
from sqm.web.deps import Db, Now, csrf_protect, load_form
from sqm.web.i18n import SUPPORTED
from sqm.web.templating import render

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


class LoginForm(BaseModel):
    username: str
    password: str
    next: str = "/"


def _safe_next(nxt: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link bounce through SQM.
    if nxt and nxt.startswith("/") and not nxt.startswith("//"):
        return nxt
    return "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(request: Request, form: Annotated[LoginForm, Form()], db: Db, clock: Now) -> Response:
    address = request.client.host if request.client else "unknown"
    outcome = attempt(db, form.username, form.password, address, clock.now())
    user = outcome.user
    if user is None:
        locked = outcome.retry_after_s > 0
        response = render(
            request,
            "login.html",
            {
                "next": _safe_next(form.next),
                "error": (
                    "Too many failed sign-ins; wait a few minutes and try again."
                    if locked
                    else "Wrong user name or password."
                ),
            },
            status_code=429 if locked else 401,
        )
        if locked:
            response.headers["Retry-After"] = str(outcome.retry_after_s)
        return response
    # sessions live in real time (deps checks them against it), whatever clock the rules read
    sid = start_session(db, user, utcnow(), request.app.state.settings.session_max_age_s)
    request.session.clear()
    request.session["sid"] = sid
    request.session["csrf"] = secrets.token_urlsafe(32)
    request.session["locale"] = user.locale
    return RedirectResponse(_safe_next(form.next), status_code=303)


@router.post("/logout")
def logout(request: Request, db: Db) -> Response:
    end_session(db, str(request.session.get("sid") or ""), utcnow())
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
