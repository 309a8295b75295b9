"""Errors the web layer raises, rendered as JSON under /api and as pages elsewhere."""

from __future__ import annotations

from typing import Any


class WebError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str = "", details: Any = None) -> None:
        super().__init__(message)
        self.message = message or self.code
        self.details = details


class LoginRequired(WebError):
    status_code = 401
    code = "login_required"


class Forbidden(WebError):
    status_code = 403
    code = "forbidden"


class NotFound(WebError):
    status_code = 404
    code = "not_found"


class Conflict(WebError):
    status_code = 409
    code = "conflict"


class InvalidInput(WebError):
    status_code = 422
    code = "invalid_input"


class NotSaved(WebError):
    """The database refused the commit: nothing was saved (the status says why)."""

    code = "not_saved"

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code
