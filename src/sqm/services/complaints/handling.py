"""Complaint use cases: intake (idempotent), status changes, assignment, notes, rectification,
queue views, and masking of customer references.

Every write goes through audited models (:mod:`sqm.store.models.complaint`), so the audit
log records who changed what.  Time limits come from :mod:`sqm.domain.sla` and are stored on
the complaint at intake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from dataclasses import field as field_
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sqm.domain.complaint_taxonomy import (
    Channel,
    ComplaintClass,
    Status,
    check_transition,
    default_class,
    subcategory,
)
from sqm.domain.errors import RuleError
from sqm.domain.org import UnitKind
from sqm.domain.roles import Permission
from sqm.domain.sla import (
    DEFAULT_POLICIES,
    BusinessCalendar,
    SlaStatus,
    china_calendar,
    deadlines,
    sla_status,
)
from sqm.services.scope import Principal
from sqm.store.audit import record_inserts
from sqm.store.base import utcnow
from sqm.store.ids import insert_with_ids
from sqm.store.models import (
    Complaint,
    ComplaintNote,
    ComplaintRectification,
    ComplaintStatusChange,
    OrgUnit,
    User,
)

QueueView = Literal["mine", "team", "near_limit", "overdue", "all_open"]


class ComplaintError(RuleError):
    """A complaint operation broke a rule; the message names the field and the rule."""


@dataclass(frozen=True)
class ComplaintInput:
    """What a capturing system or a staff form sends for one complaint."""

    source_system: str
    source_id: str
    channel: str
    received_at: datetime
    unit_code: str
    text: str = ""
    customer_ref: str | None = None
    subcategory: str | None = None
    complaint_class: str | None = None
    repeat_of_source_id: str | None = None


@lru_cache(maxsize=1)
def default_calendar() -> BusinessCalendar:
    """The business calendar complaint limits are counted in (China, 2026 holidays)."""
    return china_calendar()


def mask_customer_ref(ref: str | None) -> str:
    """Mask a customer reference for roles that must not see it (手机号脱敏).

    Keeps the first 3 and last 4 characters of references of 8 or more characters,
    otherwise the first character only.

    >>> mask_customer_ref("13812345678")
    '138****5678'
    >>> mask_customer_ref("C42")
    'C**'
    """
    if not ref:
        return ""
    if len(ref) >= 8:
        return ref[:3] + "*" * (len(ref) - 7) + ref[-4:]
    return ref[0] + "*" * (len(ref) - 1)


def shown_customer_ref(principal: Principal, ref: str | None) -> str:
    """The customer reference as ``principal`` may see it: in full or masked."""
    if principal.can(Permission.VIEW_CUSTOMER_IDENTITY):
        return ref or ""
    return mask_customer_ref(ref)


_PHONE_OR_ID = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx])(?!\d)")


def mask_text(text: str) -> str:
    """Free text with mobile numbers and ID-card numbers masked (customers type them in).

    >>> mask_text("请回电13812345678，身份证11010519491231002X")
    '请回电138****5678，身份证110***********002X'
    """
    return _PHONE_OR_ID.sub(lambda m: mask_customer_ref(m.group(0)), text)


def shown_text(principal: Principal, text: str | None) -> str:
    """Complaint text or note as ``principal`` may see it (identities masked unless allowed)."""
    if principal.can(Permission.VIEW_CUSTOMER_IDENTITY):
        return text or ""
    return mask_text(text or "")


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=default_calendar().zone)


def as_utc(dt: datetime) -> datetime:
    """A stored datetime as aware UTC (SQLite returns naive values for aware columns)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


_SAFE = re.compile(r"^[\w.\-:/]{1,128}$")


def _build(session: Session, data: ComplaintInput, unit: OrgUnit | None) -> Complaint:
    """Validate one complaint and make its row (not yet added to the session)."""
    values = _values(session, data, unit)
    c = Complaint(**values)
    if unit is not None and unit.id == values["unit_id"]:
        c.unit = unit  # the caller's answer names the unit without loading it again
    return c


def _values(session: Session, data: ComplaintInput, unit: OrgUnit | None) -> dict[str, Any]:
    """Validate one complaint and give its row's column values (every column but ``id``)."""
    if not _SAFE.match(data.source_system) or not _SAFE.match(data.source_id):
        raise ComplaintError(
            "source_system and source_id must be 1–128 letters, digits or . - _ : /"
        )
    try:
        channel = Channel(data.channel)
    except ValueError:
        raise ComplaintError(
            f"channel {data.channel!r} is unknown; use one of {', '.join(c.value for c in Channel)}"
        ) from None
    klass = default_class(channel)
    if data.complaint_class:
        try:
            klass = ComplaintClass(data.complaint_class)
        except ValueError:
            raise ComplaintError(f"complaint_class {data.complaint_class!r} is unknown") from None
    category = None
    if data.subcategory:
        try:
            category = subcategory(data.subcategory).category
        except KeyError as exc:
            raise ComplaintError(str(exc.args[0])) from None
    if unit is None or unit.code != data.unit_code:
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == data.unit_code))
    if unit is None:
        raise ComplaintError(f"unit_code {data.unit_code!r} is not a known org unit")
    received = _aware(data.received_at)
    policy = DEFAULT_POLICIES.policy_for(channel, klass)
    fr_due, res_due = deadlines(policy, default_calendar(), received)
    suggested: tuple[str, float] | None = None
    if data.subcategory is None and data.text:
        from sqm.services.complaints.classifier import suggest_if_available

        suggested = suggest_if_available(data.text)
    repeat_of_id = None
    if data.repeat_of_source_id:
        repeat_of_id = session.scalar(
            select(Complaint.id).where(
                Complaint.source_system == data.source_system,
                Complaint.source_id == data.repeat_of_source_id,
            )
        )
    return {
        "source_system": data.source_system,
        "source_id": data.source_id,
        "channel": channel.value,
        "complaint_class": klass.value,
        "customer_ref": data.customer_ref,
        "unit_id": unit.id,
        "category": category,
        "subcategory": data.subcategory,
        "suggested_subcategory": suggested[0] if suggested else None,
        "suggestion_confidence": suggested[1] if suggested else None,
        "category_confirmed": data.subcategory is not None,
        "text": data.text,
        "received_at": received.astimezone(UTC),
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
        "first_response_due": fr_due.astimezone(UTC),
        "resolution_due": res_due.astimezone(UTC),
        "status": Status.NEW.value,
        "handler_id": None,
        "resolution": None,
        "satisfaction": None,
        "contacts": 1,
        "repeat_of_id": repeat_of_id,
    }


def _stored(session: Session, source_system: str, source_id: str) -> Complaint | None:
    return session.scalar(
        select(Complaint).where(
            Complaint.source_system == source_system, Complaint.source_id == source_id
        )
    )


def intake(
    session: Session, data: ComplaintInput, unit: OrgUnit | None = None
) -> tuple[Complaint, bool]:
    """Store a complaint once per (source system, source id); return it and whether it is new.

    A repeated delivery of the same complaint returns the stored one unchanged (idempotent).
    The SLA deadlines are computed from the channel and class policy on the business calendar.
    ``unit`` may be passed when the caller has already looked up ``data.unit_code``.
    """
    existing = _stored(session, data.source_system, data.source_id)
    if existing is not None:
        return existing, False
    c = _build(session, data, unit)
    try:
        # A savepoint: when another request stored the same complaint between our look-up
        # and our insert, the unique (source_system, source_id) key keeps it single and
        # only this insert is undone — not the rest of the caller's transaction (an import).
        with session.begin_nested():
            session.add(c)
    except IntegrityError:
        again = _stored(session, data.source_system, data.source_id)
        if again is None:
            raise
        return again, False
    session.add(ComplaintStatusChange(complaint_id=c.id, from_status=None, to_status=c.status))
    return c, True


@dataclass(frozen=True)
class BatchResult:
    """Outcome of one item of a batch: its stored id and whether it is new, or the error."""

    index: int
    id: int | None
    created: bool
    error: str | None = None
    field: str | None = None  # the input field the error is about, when it is one field
    complaint: Complaint | None = field_(default=None, compare=False, repr=False)  # when new


def intake_many(
    session: Session,
    items: list[ComplaintInput],
    allowed_units: dict[str, OrgUnit] | None = None,
    attempts: int = 3,
) -> list[BatchResult]:
    """Store many complaints in one transaction, each idempotent by its source id.

    Items are judged one by one: a bad item gets its error and the others are stored; an item
    already stored (or repeated inside the batch) answers with the stored id.  ``allowed_units``
    (code → unit) limits which units items may name (the caller's scope); None = any unit.
    When a concurrent request wins a race for one of the keys, the whole batch is rolled back
    and judged again (at most ``attempts`` times), so nothing is stored twice.
    """
    for attempt in range(attempts):
        ids = sorted({d.source_id for d in items})
        systems = {d.source_system for d in items}
        known: dict[tuple[str, str], int] = {}
        for i in range(0, len(ids), 500):
            for sys_, sid, cid in session.execute(
                select(Complaint.source_system, Complaint.source_id, Complaint.id).where(
                    Complaint.source_id.in_(ids[i : i + 500]), Complaint.source_system.in_(systems)
                )
            ):
                known[(sys_, sid)] = cid
        if allowed_units is not None:  # the caller has read them (its scope) already
            units = allowed_units
        else:
            codes = sorted({d.unit_code for d in items})
            units = {
                u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))
            }
        results: list[BatchResult | None] = [None] * len(items)
        fresh: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        for i, d in enumerate(items):
            key = (d.source_system, d.source_id)
            if key in known:
                results[i] = BatchResult(i, known[key], False)
                continue
            if key in fresh:
                continue  # resolved after the insert, when the first copy has its id
            unit = units.get(d.unit_code)
            if unit is None or (allowed_units is not None and d.unit_code not in allowed_units):
                results[i] = BatchResult(
                    i,
                    None,
                    False,
                    f"unit_code {d.unit_code!r} is not an org unit in your scope",
                    "unit_code",
                )
                continue
            try:
                fresh[key] = (i, _values(session, d, unit))
            except ComplaintError as exc:
                results[i] = BatchResult(i, None, False, str(exc))
        rows = [row for _, row in fresh.values()]
        try:
            _insert_new(session, rows)
        except IntegrityError:
            session.rollback()
            if attempt == attempts - 1:
                raise
            continue
        for i, d in enumerate(items):
            if results[i] is None:
                first, row = fresh[(d.source_system, d.source_id)]
                made = None
                if first == i:
                    made = Complaint(**row)
                    made.unit = units[d.unit_code]
                results[i] = BatchResult(i, row["id"], first == i, complaint=made)
        return [r for r in results if r is not None]
    raise AssertionError("unreachable")  # pragma: no cover


def units_in_scope(session: Session, principal: Principal, codes: set[str]) -> dict[str, OrgUnit]:
    """The org units among ``codes`` that the principal sees, by code."""
    return {
        u.code: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.code.in_(sorted(codes)), principal.unit_filter())
        )
    }


def intake_in_scope(
    session: Session,
    principal: Principal,
    items: list[ComplaintInput],
    *,
    read_back: bool = True,
) -> list[BatchResult]:
    """:func:`intake_many` for a caller: items may name only units in the principal's scope.

    With ``read_back`` each stored result carries its complaint, new or sent before (one
    read for those sent before)."""
    results = intake_many(
        session, items, units_in_scope(session, principal, {i.unit_code for i in items})
    )
    if not read_back:
        return results
    # New complaints are at hand; only those sent before are read back.
    stored = {r.id: r.complaint for r in results if r.complaint is not None}
    again = sorted({r.id for r in results if r.id is not None and r.id not in stored})
    if again:
        stored.update(
            (c.id, c) for c in session.scalars(select(Complaint).where(Complaint.id.in_(again)))
        )
    return [
        replace(r, complaint=stored[r.id]) if r.id is not None and r.complaint is None else r
        for r in results
    ]


def take_in_by_hand(session: Session, principal: Principal, data: ComplaintInput) -> Complaint:
    """A complaint a handler types in (the web form): its unit must be in their scope."""
    unit = units_in_scope(session, principal, {data.unit_code}).get(data.unit_code)
    if unit is None:
        raise ComplaintError(
            f"unit_code {data.unit_code!r} is not an org unit in your scope", {"field": "unit_code"}
        )
    complaint, _ = intake(session, data, unit)
    return complaint


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new complaints, the first step of each life-cycle and their audit entries
    with set-based statements (a batch of any size costs a handful of round trips).

    The ORM's per-object work — attribute events, a unit of work, snapshots for the audit
    log — cost three quarters of a batch's time; the rows written here are the same the
    ORM writes for :func:`intake` (its audit entries included)."""
    if not rows:
        return
    insert_with_ids(session, Complaint, rows)
    now = utcnow()
    steps: list[dict[str, Any]] = [
        {
            "complaint_id": row["id"],
            "from_status": None,
            "to_status": row["status"],
            "actor_id": None,
            "at": now,
            "note": None,
        }
        for row in rows
    ]
    insert_with_ids(session, ComplaintStatusChange, steps)
    record_inserts(session, Complaint, rows)
    record_inserts(session, ComplaintStatusChange, steps)


def change_status(
    session: Session,
    complaint: Complaint,
    new: str,
    actor_id: int | None,
    note: str | None = None,
    now: datetime | None = None,
    resolution: str | None = None,
    satisfaction: int | None = None,
) -> None:
    """Move a complaint along its life-cycle (checked against the allowed transitions).

    Sets first_response_at on the first step out of ``new``, resolved_at on ``resolved``,
    closed_at on ``closed``; a reopened complaint loses its resolved time.
    """
    try:
        target = Status(new)
    except ValueError:
        raise ComplaintError(f"status {new!r} is unknown", {"field": "status"}) from None
    current = Status(complaint.status)
    check_transition(current, target)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    if complaint.first_response_at is None and target is not Status.CANCELLED:
        complaint.first_response_at = at
    if target is Status.RESOLVED:
        complaint.resolved_at = at
        if resolution:
            complaint.resolution = resolution
    if target is Status.CLOSED:
        complaint.closed_at = at
        if satisfaction is not None:
            if not 1 <= satisfaction <= 5:
                raise ComplaintError(
                    f"satisfaction must be 1–5, got {satisfaction}", {"field": "satisfaction"}
                )
            complaint.satisfaction = satisfaction
    if target is Status.REOPENED:
        complaint.resolved_at = None
        complaint.closed_at = None
        complaint.contacts = (complaint.contacts or 1) + 1
    complaint.status = target.value
    session.add(
        ComplaintStatusChange(
            complaint_id=complaint.id,
            from_status=current.value,
            to_status=target.value,
            actor_id=actor_id,
            at=at,
            note=note,
        )
    )


def assign(session: Session, complaint: Complaint, handler_id: int | None) -> None:
    """Give the complaint to a handler (None = back to the team queue); audited."""
    complaint.handler_id = handler_id


def assign_by_username(session: Session, complaint: Complaint, username: str | None) -> None:
    """Give the complaint to the user ``username`` (empty or None: back to the team queue).

    An unknown user name is refused (a rule error naming the field)."""
    uid = None
    if username:
        uid = session.scalar(select(User.id).where(User.username == username))
        if uid is None:
            raise ComplaintError(f"no user {username!r}", {"field": "username"})
    assign(session, complaint, uid)


def add_note(
    session: Session, complaint: Complaint, author_id: int | None, body: str
) -> ComplaintNote:
    """Add a working note; empty notes are refused."""
    if not body.strip():
        raise ComplaintError("note body is empty", {"field": "body"})
    n = ComplaintNote(complaint_id=complaint.id, author_id=author_id, body=body.strip())
    session.add(n)
    return n


def confirm_category(session: Session, complaint: Complaint, code: str) -> None:
    """A person confirms or corrects the category (the correction trains the next model)."""
    try:
        sub = subcategory(code)
    except KeyError as exc:
        raise ComplaintError(str(exc.args[0])) from None
    complaint.subcategory = sub.code
    complaint.category = sub.category
    complaint.category_confirmed = True


def open_rectification(
    session: Session, complaint: Complaint, description: str, due_on: date, actor_id: int | None
) -> ComplaintRectification:
    """Open a rectification task (整改) for the store the complaint is about."""
    if complaint.unit.kind != UnitKind.STORE:
        raise ComplaintError(f"unit {complaint.unit.code} is a {complaint.unit.kind}, not a store")
    if not description.strip():
        raise ComplaintError("description is empty")
    r = ComplaintRectification(
        complaint_id=complaint.id,
        unit_id=complaint.unit_id,
        description=description.strip(),
        due_on=due_on,
        opened_by_id=actor_id,
    )
    session.add(r)
    return r


def sla_of(complaint: Complaint, now: datetime | None = None) -> SlaStatus:
    """The live SLA state of a complaint (warning, breach, escalation) at ``now``."""
    channel = Channel(complaint.channel)
    policy = DEFAULT_POLICIES.policy_for(channel, ComplaintClass(complaint.complaint_class))
    received = as_utc(complaint.received_at)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    fr = as_utc(complaint.first_response_at) if complaint.first_response_at else None
    res = as_utc(complaint.resolved_at) if complaint.resolved_at else None
    return sla_status(policy, default_calendar(), received, max(at, received), fr, res)


OPEN = [s.value for s in Status if s.is_open]


def queue_query(
    principal: Principal, view: QueueView, now: datetime | None = None
) -> Select[Complaint]:
    """Complaints of a queue view inside the principal's scope, most urgent first.

    mine: open and assigned to me; team: open in my scope; near_limit: open, resolution due
    within the next 8 hours; overdue: open and past the resolution deadline.
    """
    at = (now or datetime.now(UTC)).astimezone(UTC)
    cond: list[ColumnElement[bool]] = [Complaint.status.in_(OPEN), principal.unit_filter()]
    if view == "mine":
        cond.append(Complaint.handler_id == principal.user_id)
    elif view == "near_limit":
        cond += [Complaint.resolution_due >= at, Complaint.resolution_due < at + timedelta(hours=8)]
    elif view == "overdue":
        cond.append(Complaint.resolution_due < at)
    return (
        select(Complaint)
        .join(OrgUnit, Complaint.unit_id == OrgUnit.id)
        .where(and_(*cond))
        .order_by(Complaint.resolution_due, Complaint.id)
    )


def complaint_in_scope(
    session: Session, principal: Principal, complaint_id: int
) -> Complaint | None:
    """The complaint if it exists and its unit is inside the principal's scope, else None."""
    c = session.get(Complaint, complaint_id)
    if c is None or not principal.sees(c.unit):
        return None
    return c


@dataclass(frozen=True)
class EscalationNotice:
    """A complaint whose time limits call for someone above the handler, once per level."""

    complaint_id: int
    unit_code: str
    level: str
    first_response_state: str
    resolution_state: str


def escalate_due(session: Session, now: datetime | None = None) -> list[EscalationNotice]:
    """Find open complaints whose SLA now calls for a (higher) escalation and record each once.

    The level (team lead on warning, manager on breach, director at twice the limit) comes
    from :func:`sla_of`; each new level is written to the audit log as an ``escalate`` event,
    so running this every few minutes notifies each level once.  Returns the new notices.
    """
    from sqm.domain.sla import Escalation
    from sqm.store.audit import record
    from sqm.store.models import AuditEntry

    at = (now or datetime.now(UTC)).astimezone(UTC)
    order = [e.value for e in Escalation]
    done: dict[str, int] = {}
    for entity_id, note in session.execute(
        select(AuditEntry.entity_id, AuditEntry.note).where(
            AuditEntry.entity == "complaint", AuditEntry.action == "escalate"
        )
    ):
        if entity_id is not None and note in order:
            done[entity_id] = max(done.get(entity_id, 0), order.index(note))
    notices = []
    for c in session.scalars(select(Complaint).where(Complaint.status.in_(OPEN))):
        st = sla_of(c, at)
        level = order.index(st.escalation.value)
        if level > done.get(str(c.id), 0):
            record(session, "escalate", "complaint", str(c.id), st.escalation.value)
            notices.append(
                EscalationNotice(
                    c.id,
                    c.unit.code,
                    st.escalation.value,
                    st.first_response.state.value,
                    st.resolution.state.value,
                )
            )
    return notices
