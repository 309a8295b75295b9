"""Security headers on every response, and ``Secure`` cookies over HTTPS.

A pure ASGI middleware (no per-request task or body copy, unlike ``BaseHTTPMiddleware``):
it draws a nonce per request (``request.state.csp_nonce``, in every template's context as
``csp_nonce``) and adds to the response:

- ``Content-Security-Policy``: scripts only from SQM itself or with the request's nonce
  (no inline script, no ``on*=`` handler, no ``javascript:`` link), nothing from other
  origins, no plug-ins, forms post only to SQM, no other site may frame SQM
  (``frame-ancestors 'self'``: the survey designer previews in a frame of its own);
  styles may be inline (ECharts and HTMX set them);
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: SAMEORIGIN`` (older browsers),
  ``Referrer-Policy: same-origin`` (survey links carry tokens);
- over HTTPS (the request's scheme; behind a proxy, uvicorn's ``--proxy-headers``):
  ``Strict-Transport-Security`` and ``Secure`` on every cookie set.

The interactive API docs (``/api/v1/docs``, FastAPI's Swagger UI page) load their script
from a CDN with an inline start-up script; that one page gets a policy allowing them.
"""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = b"max-age=31536000; includeSubDomains"
DOCS_PATH = "/api/v1/docs"
_CDN = "https://cdn.jsdelivr.net"


def content_security_policy(nonce: str) -> str:
    """The policy of SQM's pages for a request whose nonce is ``nonce``.

    >>> "script-src 'self' 'nonce-abc'" in content_security_policy("abc")
    True
    """
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'self'"
    )


DOCS_POLICY = (
    "default-src 'self'; "
    f"script-src 'self' 'unsafe-inline' {_CDN}; "
    f"style-src 'self' 'unsafe-inline' {_CDN}; "
    "img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)


def _secure_cookie(value: bytes) -> bytes:
    if b"; secure" in value.lower():
        return value
    return value + b"; Secure"


class SecurityHeaders:
    """Adds the security headers (see the module) to every HTTP response of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        https = scope.get("scheme") == "https"
        policy = DOCS_POLICY if scope.get("path") == DOCS_PATH else content_security_policy(nonce)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, _secure_cookie(v) if https and k.lower() == b"set-cookie" else v)
                    for k, v in message.get("headers", [])
                ]
                headers += [
                    (b"content-security-policy", policy.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if https:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
