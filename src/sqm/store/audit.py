"""The audit log: every insert, update and delete of an audited model is recorded.

Who acted comes from :data:`current_actor`, set by the web request or the CLI command.
The entries are written in the same transaction as the change, so a rolled-back
change leaves no audit entry and a committed one always has one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, cast

from sqlalchemy import Table, event, insert, inspect
from sqlalchemy.orm import Session

from sqm.store.base import Base, utcnow
from sqm.store.models.user import AuditEntry


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str


SYSTEM = Actor(None, "system")
current_actor: ContextVar[Actor] = ContextVar("current_actor", default=SYSTEM)

_SKIP = {"created_at", "updated_at", "password_hash"}


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Attribute the changes made inside the block to ``actor``."""
    token = current_actor.set(actor)
    try:
        yield
    finally:
        current_actor.reset(token)


def _plain(v: Any) -> Any:
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, int | float | str | bool) or v is None:
        return v
    if isinstance(v, dict | list):
        return v
    return str(v)


def _snapshot(obj: Base) -> dict[str, Any]:
    state = inspect(obj)
    return {
        a.key: _plain(a.value)
        for a in state.attrs
        if a.key in state.mapper.columns and a.key not in _SKIP
    }


def _diff(obj: Base) -> dict[str, Any]:
    state = inspect(obj)
    out: dict[str, Any] = {}
    for a in state.attrs:
        if a.key not in state.mapper.columns or a.key in _SKIP:
            continue
        hist = a.history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if _plain(old) != _plain(new):
                out[a.key] = [_plain(old), _plain(new)]
    if (
        "password_hash" in state.mapper.columns
        and state.attrs["password_hash"].history.has_changes()
    ):
        out["password"] = ["***", "***"]
    return out


def _entity_id(obj: Base) -> str | None:
    ident = inspect(obj).identity
    if ident:
        return "/".join(str(i) for i in ident)
    code = getattr(obj, "code", None) or getattr(obj, "username", None)
    return str(code) if code is not None else None


@event.listens_for(Session, "before_flush")
def _record_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    actor = actor_of(session)
    pending: list[tuple[str, Base, dict[str, Any]]] = []
    for obj in session.new:
        if isinstance(obj, Base) and obj.__audited__:
            pending.append(("create", obj, _snapshot(obj)))
    for obj in session.dirty:
        if isinstance(obj, Base) and obj.__audited__ and session.is_modified(obj):
            changes = _diff(obj)
            if changes:
                pending.append(("update", obj, changes))
    for obj in session.deleted:
        if isinstance(obj, Base) and obj.__audited__:
            pending.append(("delete", obj, _snapshot(obj)))
    created: list[tuple[AuditEntry, Base]] = session.info.setdefault("sqm_audit_created", [])
    for action, obj, changes in pending:
        entry = AuditEntry(
            user_id=actor.user_id,
            username=actor.username,
            action=action,
            entity=type(obj).__tablename__,
            entity_id=_entity_id(obj),
            changes=changes,
        )
        session.add(entry)
        if action == "create":
            created.append((entry, obj))


@event.listens_for(Session, "after_flush_postexec")
def _fill_created_ids(session: Session, _ctx: Any) -> None:
    # A new row gets its id only in the flush; the entry takes it in the next flush
    # (commit flushes until the session is clean), so every entry names a row id.
    created: list[tuple[AuditEntry, Base]] = session.info.pop("sqm_audit_created", [])
    for entry, obj in created:
        ident = inspect(obj).identity
        if ident:
            entry.entity_id = "/".join(str(i) for i in ident)


def actor_of(session: Session) -> Actor:
    """Who acts in ``session``: the actor bound to it (web requests), else the context's.

    A web request binds its user to its session because FastAPI runs dependencies and
    handlers in different worker threads, where context variables do not carry over.
    """
    bound = session.info.get("sqm_actor")
    return bound if isinstance(bound, Actor) else current_actor.get()


def bind_actor(session: Session, actor: Actor) -> None:
    """Attribute every change made through ``session`` to ``actor``."""
    session.info["sqm_actor"] = actor


def record_inserts(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Audit rows inserted without the ORM (bulk intake): the same entries a flush writes —
    ``create``, the row's id, every column's value — in one ``executemany``."""
    if not rows:
        return
    actor = actor_of(session)
    table = cast(Table, model.__table__)
    columns = [c.name for c in table.columns if c.name not in _SKIP]
    now = utcnow()
    session.connection().execute(
        insert(AuditEntry),
        [
            {
                "at": now,
                "user_id": actor.user_id,
                "username": actor.username,
                "action": "create",
                "entity": table.name,
                "entity_id": str(row["id"]),
                "changes": {c: _plain(row.get(c)) for c in columns},
                "note": None,
            }
            for row in rows
        ],
    )


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: str | None,
    note: str = "",
    changes: dict[str, Any] | None = None,
) -> None:
    """Write an audit entry for an event that is not a row change (a login, an export…)."""
    actor = actor_of(session)
    session.add(
        AuditEntry(
            user_id=actor.user_id,
            username=actor.username,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes=changes or {},
            note=note or None,
        )
    )
