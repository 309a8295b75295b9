"""The web application factory (FastAPI): pages, JSON API, static assets, /healthz."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from sqm import __version__
from sqm.config import Settings, get_settings
from sqm.domain.errors import RuleError
from sqm.store.engine import make_engine, make_sessionmaker
from sqm.web.errors import LoginRequired, WebError
from sqm.web.routes import ROUTER_MODULES
from sqm.web.security_headers import SecurityHeaders

STATIC_DIR = Path(__file__).parent / "static"


def _wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def _error_json(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the SQM web app for ``settings`` (from the environment by default).

    >>> app = create_app(Settings(database_url="sqlite://"))
    >>> app.title
    'SQM'
    """
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    app = FastAPI(
        title="SQM",
        version=__version__,
        description="Service-quality management for telecom operators — JSON API.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="sqm_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
    )
    app.add_middleware(SecurityHeaders)  # outermost: sees the session's Set-Cookie too
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def _error_response(
        request: Request, status: int, code: str, message: str, details: Any = None
    ) -> Response:
        """JSON under /api (or when JSON is asked for), the error page elsewhere."""
        if _wants_json(request):
            return _error_json(status, code, message, details)
        from sqm.web.templating import render

        return render(
            request,
            "error.html",
            {"status": status, "message": message, "details": details},
            status_code=status,
        )

    @app.exception_handler(WebError)
    async def _web_error(request: Request, exc: WebError) -> Response:
        if isinstance(exc, LoginRequired) and not _wants_json(request):
            nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={nxt}", status_code=303)
        return _error_response(request, exc.status_code, exc.code, exc.message, exc.details)

    @app.exception_handler(RuleError)
    async def _rule_error(request: Request, exc: RuleError) -> Response:
        # a service refused the input; get_db has already rolled the transaction back
        return _error_response(request, exc.status_code, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {
                "field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        return _error_response(
            request, 422, "invalid_input", "the request has invalid fields", details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_response(request, exc.status_code, "http_error", str(exc.detail))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "database": engine.dialect.name, "version": __version__}

    for mod in ROUTER_MODULES:
        app.include_router(importlib.import_module(mod).router)
    return app
