"""Jinja2 rendering with the request's locale, user, CSRF token and navigation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from sqm.web.deps import csrf_token
from sqm.web.i18n import gettext_for, negotiate
from sqm.web.nav import NAV

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.add_extension("jinja2.ext.do")
# Templates ship inside the package: checking every file's mtime on every render cost ≈ 5 %
# of a survey submission's CPU. Set SQM_TEMPLATE_RELOAD=1 while editing templates.
templates.env.auto_reload = os.environ.get("SQM_TEMPLATE_RELOAD", "") == "1"


def request_locale(request: Request) -> str:
    """The locale of this request: the user's switch, else the browser's, else Chinese."""
    return negotiate(request.session.get("locale"), request.headers.get("accept-language"))


def fmt_num(value: Any, digits: int = 1) -> str:
    """Format a number for a table cell; missing values show as a dash."""
    if value is None:
        return "–"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if f != f:  # NaN
        return "–"
    return f"{f:,.{digits}f}"


templates.env.filters["num"] = fmt_num


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render template ``name`` with the common context every page needs."""
    locale = request_locale(request)
    tr = gettext_for(locale)
    principal = getattr(request.state, "principal", None)
    nav = [
        n
        for n in NAV
        if principal is not None and (n.permission is None or principal.can(n.permission))
    ]
    ctx: dict[str, Any] = {
        "request": request,
        "_": tr.gettext,
        "ngettext": tr.ngettext,
        "locale": locale,
        "principal": principal,
        "csrf_token": csrf_token(request),
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
        "nav": nav,
        "path": request.url.path,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
