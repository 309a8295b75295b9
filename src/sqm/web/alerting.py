"""The acknowledge and resolve pages of every kind of alert, declared once.

The network and complaint routers each call :func:`add_alert_actions` with what differs:
their path, who may act, the alert-in-scope dependency, the alert's life-cycle kind
(:class:`sqm.services.alerting.AlertKind`) and where to go afterwards. The handler itself
(permission → alert in scope → form → :mod:`sqm.services.alerting`) is the same for both.
"""

# No ``from __future__ import annotations`` here: the handler's parameter types are the
# factory's arguments, which FastAPI must see as objects, not as names to look up.

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from sqm.services import alerting
from sqm.web.deps import Db, Now


class AlertActionForm(BaseModel):
    """The acknowledgement's comment or the resolution's note (the network pages name the
    comment ``comment``, the complaint pages send both as ``note``)."""

    note: str = ""
    comment: str = ""

    @property
    def text(self) -> str:
        """What the person wrote."""
        return self.comment or self.note


Action = Literal["ack", "resolve"]


def add_alert_actions(
    router: APIRouter,
    prefix: str,
    *,
    manager: Any,
    alert: Any,
    kind: alerting.AlertKind,
    then: Callable[[Any, Action], str],
) -> None:
    """Add ``POST {prefix}/{alert_id}/ack`` and ``…/resolve`` to ``router``.

    ``manager``: the permission alias (checked first: 403 before 404); ``alert``: the
    alert-in-scope dependency (an ``Annotated`` alias); ``then(alert, action)``: the page
    to redirect to.
    """

    def alert_action(
        action: Action,
        p: manager,
        a: alert,
        form: Annotated[AlertActionForm, Form()],
        db: Db,
        clock: Now,
    ) -> RedirectResponse:
        """Acknowledge (``ack``, with a comment) or resolve (with a note) an alert."""
        step = alerting.acknowledge if action == "ack" else alerting.resolve
        step(db, a, kind, p.user_id, form.text, clock.now())
        return RedirectResponse(then(a, action), status_code=303)

    router.add_api_route(
        prefix + "/{alert_id}/{action}", alert_action, methods=["POST"], response_model=None
    )
