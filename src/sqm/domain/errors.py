"""The one family of rule errors that every layer raises and every interface maps once.

A service, an importer or a statistical method that refuses its input raises a
:class:`RuleError` (or a subclass) with a message that names what was wrong. The web app
answers it with one exception handler (JSON under ``/api``, the error page elsewhere) and
the CLI with one ``except`` (the message, exit code 1). Nobody translates these errors by
hand.

- :class:`RuleError` — the input breaks a rule (HTTP 422).
- :class:`ConflictError` — the input is valid but clashes with the stored state: a
  duplicate code, a version that visits already use, a move the life cycle forbids now
  (HTTP 409).
- :class:`MissingError` — what the input names does not exist (HTTP 404).

>>> try:
...     raise ConflictError("a checklist version with visits is never changed")
... except RuleError as exc:
...     (exc.status_code, exc.code, str(exc))
(409, 'conflict', 'a checklist version with visits is never changed')
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["ConflictError", "MissingError", "RuleError"]


class RuleError(ValueError):
    """A rule of the domain refused the input; ``str(exc)`` says which and why.

    ``details`` carries structured facts for the JSON API (the field, the row, the rule).
    It is a :class:`ValueError`, so code that validates with ``except ValueError`` keeps
    working.
    """

    status_code: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_input"

    def __init__(self, message: str = "", details: Any = None) -> None:
        super().__init__(message)
        self.details = details

    @property
    def message(self) -> str:
        """The message the user reads."""
        return str(self.args[0]) if self.args else self.code


class ConflictError(RuleError):
    """The input is valid but clashes with what is stored (HTTP 409)."""

    status_code: ClassVar[int] = 409
    code: ClassVar[str] = "conflict"


class MissingError(RuleError):
    """The input names something that does not exist, or not in the caller's scope (404)."""

    status_code: ClassVar[int] = 404
    code: ClassVar[str] = "not_found"
