"""One alert life cycle for every kind of alert: open → acknowledged → resolved.

Network alerts (a rule firing on a site's cells) and complaint alerts (a rise of complaints
about a unit) are raised differently, but a person handles both the same way: acknowledges
an open alert with a comment saying who is on it, resolves it by hand, and reads its
history. The routes that receive alerts are on duty by the same schedule. What differs
between the kinds is declared once per kind in an :class:`AlertKind`: the alert's event
class, what the comment is about, and whether resolving needs a note.

>>> from types import SimpleNamespace
>>> class Event(SimpleNamespace): ...
>>> kind = AlertKind(event=Event, subject="the rise", note_required=True, keeps_resolution=True)
>>> a = SimpleNamespace(id=7, status="open", events=[])
>>> acknowledge(None, a, kind, 3, " store called ", datetime(2026, 12, 1))
>>> a.status, a.ack_comment, [e.kind for e in a.events]
('acknowledged', 'store called', ['acknowledged'])
>>> resolve(None, a, kind, 3, "", datetime(2026, 12, 2))
Traceback (most recent call last):
...
sqm.services.alerting.AlertError: note: say why the alert is resolved
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.store.models import User
from sqm.store.models.network import NotificationRoute

__all__ = [
    "AlertError",
    "AlertKind",
    "History",
    "LifecycleAlert",
    "RouteSchedule",
    "acknowledge",
    "history",
    "on_duty",
    "resolve",
    "routes_on_duty",
]

OPEN_STATES = ("open", "acknowledged")


class AlertError(RuleError):
    """An alert operation that breaks the life cycle (e.g. acknowledging a resolved alert)."""


class LifecycleAlert(Protocol):
    """What the life cycle reads and writes on an alert row (both alert models have it)."""

    id: int
    status: str
    acknowledged_by: int | None
    acknowledged_at: datetime | None
    ack_comment: str | None
    resolved_at: datetime | None

    @property
    def events(self) -> list[Any]: ...


@dataclass(frozen=True)
class AlertKind:
    """How one kind of alert differs in its life cycle.

    ``event``: the alert's event class (built with ``kind, at, actor_id, note``);
    ``subject``: what the acknowledgement's comment is about ("say what is being done about
    …"); ``note_required``: resolving needs a note saying why; ``keeps_resolution``: the
    alert row itself keeps who resolved it and the note (``resolved_by``,
    ``resolution_note``), not only its history; ``error``: the error class raised.
    """

    event: type[Any]
    subject: str = "the alert"
    note_required: bool = False
    keeps_resolution: bool = False
    error: type[AlertError] = AlertError


def acknowledge(
    session: Session | None,
    alert: LifecycleAlert,
    kind: AlertKind,
    user_id: int | None,
    comment: str,
    at: datetime,
) -> None:
    """Acknowledge an open alert with a comment (who is on it and what is being done)."""
    if alert.status != "open":
        raise kind.error(
            f"alert {alert.id} is {alert.status}; only an open alert can be acknowledged"
        )
    if not comment.strip():
        raise kind.error(f"comment: say what is being done about {kind.subject}")
    alert.status, alert.acknowledged_by, alert.acknowledged_at = "acknowledged", user_id, at
    alert.ack_comment = comment.strip()[:500]
    alert.events.append(
        kind.event(kind="acknowledged", at=at, actor_id=user_id, note=alert.ack_comment)
    )
    if session is not None:
        session.flush()


def resolve(
    session: Session | None,
    alert: LifecycleAlert,
    kind: AlertKind,
    user_id: int | None,
    note: str,
    at: datetime,
) -> None:
    """Resolve an open or acknowledged alert by hand (with a note when the kind needs one)."""
    if alert.status == "resolved":
        raise kind.error(f"alert {alert.id} is already resolved")
    text = note.strip()[:500] or None
    if kind.note_required and text is None:
        raise kind.error("note: say why the alert is resolved")
    alert.status, alert.resolved_at = "resolved", at
    if kind.keeps_resolution:
        alert.resolved_by = user_id  # type: ignore[attr-defined]
        alert.resolution_note = text  # type: ignore[attr-defined]
    alert.events.append(kind.event(kind="resolved", at=at, actor_id=user_id, note=text))
    if session is not None:
        session.flush()


@dataclass(frozen=True)
class History:
    """An alert's events, oldest first, and the user names of the people who acted."""

    events: list[Any]
    actors: dict[int, str]


def history(session: Session, alert: LifecycleAlert) -> History:
    """The alert's history with the names of the users who acknowledged or resolved it."""
    ids = {e.actor_id for e in alert.events if e.actor_id is not None}
    actors = (
        {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(ids)))}
        if ids
        else {}
    )
    return History(list(alert.events), actors)


class RouteSchedule(Protocol):
    """What :func:`on_duty` reads of a notification route."""

    active: bool
    schedule: str
    hours: list[int]


def on_duty(route: RouteSchedule, at: datetime) -> bool:
    """Whether ``route`` receives alerts at local time ``at`` by its schedule.

    ``business_hours``: Monday–Friday, ``hours[0]`` ≤ hour < ``hours[1]``; ``on_call``: the
    rest of the week; ``always``: any time.

    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(active=True, schedule="on_call", hours=[9, 18])
    >>> on_duty(r, datetime(2026, 12, 1, 10)), on_duty(r, datetime(2026, 12, 1, 20))
    (False, True)
    """
    if not route.active:
        return False
    start, end = (route.hours or [9, 18])[:2]
    business = at.weekday() < 5 and start <= at.hour < end
    if route.schedule == "business_hours":
        return business
    if route.schedule == "on_call":
        return not business
    return True


def routes_on_duty(
    session: Session, at: datetime, *, channel: str | None = None, source: str | None = None
) -> list[NotificationRoute]:
    """The notification routes on duty at ``at`` (the routes' local time), of ``channel``
    (default: any) and, with ``source``, only those that opted in to that kind of alert
    (``settings = {"sources": [source, …]}``)."""
    q = select(NotificationRoute)
    if channel is not None:
        q = q.where(NotificationRoute.channel == channel)
    return [
        r
        for r in session.scalars(q)
        if (source is None or source in (r.settings or {}).get("sources", [])) and on_duty(r, at)
    ]
