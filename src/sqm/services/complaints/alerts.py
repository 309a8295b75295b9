"""Complaint early warning: hotspot scans raise, update and clear complaint alerts.

A scan counts each unit × sub-category's complaints in the current window (default the
last 21 days) against its own baseline (the 84 days before) and tests the rise with
:func:`sqm.methods.complaint_measures.hotspots` (conditional Poisson test, Benjamini–
Hochberg over all cells tested).  :func:`watch` folds the hotspots into alerts:

* a hotspot without an alert that is not resolved → a new **open** alert;
* a hotspot whose alert is open or acknowledged → the alert's figures are updated (one
  alert per unit × category while the rise lasts, never a second one);
* an alert whose cell is no longer *rising* → **resolved** automatically.  "Rising" is
  looser than "hotspot" (unadjusted p ≤ fdr and rate ratio > 1), so an alert does not
  flap between open and resolved when its q-value hovers around the threshold;
* running the same scan again (same data, same ``as_of``) changes nothing, and an alert a
  person resolved is not raised again for a window it was already judged on.

Days are local (China time), as handlers and the network counters count them.  New
alerts can be sent to the webhook routes of the network alerts
(:class:`~sqm.store.models.network.NotificationRoute`) that opt in with
``settings = {"sources": ["complaints"]}``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sqm.lazy import lazy_import
from sqm.methods.complaint_measures import HotspotWindow, hotspots
from sqm.services import alerting
from sqm.services.alerting import AlertError
from sqm.services.complaints.handling import as_utc, default_calendar
from sqm.services.scope import Principal
from sqm.store.models import Complaint, OrgUnit
from sqm.store.models.complaint_alert import ComplaintAlert, ComplaintAlertEvent

if TYPE_CHECKING:
    import httpx
    import pandas as pd
else:
    httpx = lazy_import("httpx")
    pd = lazy_import("pandas")

if TYPE_CHECKING:
    from sqm.services.demo_context import DemoContext

SEVERITIES = ("minor", "major", "critical")
ACTIVE = alerting.OPEN_STATES
STATUS_FILTERS = ("active", "open", "acknowledged", "resolved", "all")
Progress = Callable[[str, int, int], None]


class ComplaintAlertError(AlertError):
    """An alert operation that breaks the lifecycle (e.g. acknowledging a resolved alert)."""


COMPLAINT_ALERT = alerting.AlertKind(
    event=ComplaintAlertEvent,
    subject="the rise",
    note_required=True,
    keeps_resolution=True,
    error=ComplaintAlertError,
)
"""The life cycle of a complaint alert: resolving it by hand needs a note saying why (the
cause was put right), which the alert itself keeps with who resolved it."""


@dataclass(frozen=True)
class WatchSettings:
    """How a scan tests for rises: window lengths, false discovery rate and action limits.

    ``by``: test unit × ``subcategory`` (a complaint without one counts under its category)
    or unit × ``category``.  A cell is a hotspot when q ≤ ``fdr``, at least ``min_count``
    complaints fell in the current window and the rate rose at least ``min_ratio``-fold.
    """

    current_days: int = 21
    baseline_days: int = 84
    fdr: float = 0.05
    min_count: int = 3
    min_ratio: float = 1.5
    by: Literal["subcategory", "category"] = "subcategory"


@dataclass
class WatchResult:
    """What one scan did: the window tested, cells tested, alerts raised/updated/resolved."""

    as_of: datetime
    window: HotspotWindow
    tested: int = 0
    hotspots: int = 0
    raised: list[ComplaintAlert] = field(default_factory=list)
    updated: list[ComplaintAlert] = field(default_factory=list)
    resolved: list[ComplaintAlert] = field(default_factory=list)
    notified: int = 0


def severity_of(rate_ratio: float | None, count: int) -> str:
    """Severity of a rise: ``critical`` from a 5-fold rate (or ≥ 10 complaints against an
    empty baseline), ``major`` from 2.5-fold (or ≥ 5 against none), else ``minor``.

    >>> severity_of(1.8, 6), severity_of(3.0, 6), severity_of(None, 12)
    ('minor', 'major', 'critical')
    """
    if rate_ratio is None:
        return "critical" if count >= 10 else ("major" if count >= 5 else "minor")
    return "critical" if rate_ratio >= 5 else ("major" if rate_ratio >= 2.5 else "minor")


def dedup_key(unit_id: int, code: str, by: str) -> str:
    """The identity of an alert while it lasts: unit, what was tested, and the code.

    >>> dedup_key(17, "network.slow_data", "subcategory")
    '17|subcategory|network.slow_data'
    """
    return f"{unit_id}|{by}|{code}"


def _local_midnight(t: datetime) -> datetime:
    zone = default_calendar().zone
    local = as_utc(t).astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def default_as_of(session: Session) -> datetime | None:
    """End of the scan window when none is given: local midnight after the latest complaint.

    None when there are no complaints.
    """
    latest = session.scalar(select(func.max(Complaint.received_at)))
    if latest is None:
        return None
    return _local_midnight(latest) + timedelta(days=1)


def _naive_local(t: datetime) -> pd.Timestamp:
    return pd.Timestamp(as_utc(t).astimezone(default_calendar().zone).replace(tzinfo=None))


def _aware_local(t: pd.Timestamp) -> datetime:
    return t.to_pydatetime().replace(tzinfo=default_calendar().zone).astimezone(UTC)


def window_for(as_of: datetime, settings: WatchSettings) -> HotspotWindow:
    """The current window ending at ``as_of`` and its baseline, as naive local timestamps.

    >>> from zoneinfo import ZoneInfo
    >>> w = window_for(datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai")), WatchSettings())
    >>> str(w.current_start), str(w.baseline_start)
    ('2026-11-10 00:00:00', '2026-08-18 00:00:00')
    """
    return HotspotWindow.trailing(
        _naive_local(as_of), settings.current_days, settings.baseline_days
    )


def scan(
    session: Session, as_of: datetime, settings: WatchSettings = WatchSettings()
) -> pd.DataFrame:
    """Every unit × code cell with complaints in the window, tested for a rise.

    Columns: ``unit_id, code`` and those of :func:`~sqm.methods.complaint_measures.hotspots`
    (``count_current, count_baseline, expected, rate_ratio, p_value, q_value, hotspot``)
    plus ``rising`` (p ≤ fdr and ratio > 1: the looser condition that keeps an alert open).
    Complaints without a category are not tested.
    """
    w = window_for(as_of, settings)
    code = (
        func.coalesce(Complaint.subcategory, Complaint.category)
        if settings.by == "subcategory"
        else Complaint.category
    )
    start = _aware_local(w.baseline_start)
    end = _aware_local(w.current_end)
    rows = session.execute(
        select(Complaint.unit_id, code, Complaint.received_at).where(
            Complaint.received_at >= start, Complaint.received_at < end, code.is_not(None)
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["unit_id", "code", "received_at"])
    cols = [
        "unit_id",
        "code",
        "count_current",
        "count_baseline",
        "expected",
        "rate_ratio",
        "p_value",
        "q_value",
        "hotspot",
        "rising",
    ]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    zone = default_calendar().zone
    frame["received_at"] = (
        pd.to_datetime(frame["received_at"], utc=True).dt.tz_convert(zone).dt.tz_localize(None)
    )
    out = hotspots(
        frame,
        w,
        keys=("unit_id", "code"),
        fdr=settings.fdr,
        min_count=settings.min_count,
        min_ratio=settings.min_ratio,
    ).reset_index()
    out["rising"] = (out["p_value"] <= settings.fdr) & (out["rate_ratio"] > 1)
    return out[cols]


def _figures(alert: ComplaintAlert, row: Mapping[Hashable, Any], w: HotspotWindow) -> None:
    ratio = float(row["rate_ratio"])
    alert.window_start = _aware_local(w.current_start)
    alert.window_end = _aware_local(w.current_end)
    alert.baseline_start = _aware_local(w.baseline_start)
    alert.count_current = int(row["count_current"])
    alert.count_baseline = int(row["count_baseline"])
    alert.expected = round(float(row["expected"]), 4)
    # An empty baseline gives an infinite ratio, which JSON (audit log) cannot carry.
    alert.rate_ratio = round(ratio, 4) if ratio != float("inf") else None
    alert.p_value = float(row["p_value"])
    alert.q_value = float(row["q_value"])


def _same_window(alert: ComplaintAlert, w: HotspotWindow) -> bool:
    return as_utc(alert.window_end) == _aware_local(w.current_end)


def watch(
    session: Session,
    as_of: datetime | None = None,
    settings: WatchSettings = WatchSettings(),
    *,
    now: datetime | None = None,
    notify: bool = False,
    progress: Progress | None = None,
) -> WatchResult:
    """Scan for complaint hotspots ending at ``as_of`` and fold them into alerts.

    ``as_of`` (aware) is the end of the current window, default :func:`default_as_of`;
    ``now`` the time recorded on events (default: the wall clock).  With ``notify``, new
    alerts go to the opted-in webhook routes on duty.  Idempotent: the same scan twice
    leaves the alerts as the first left them.

    >>> # watch(session, datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
    """
    now = now or datetime.now(UTC)
    step = progress or (lambda _stage, _done, _total: None)
    as_of = as_of or default_as_of(session) or _local_midnight(now)
    w = window_for(as_of, settings)
    result = WatchResult(as_of=as_of, window=w)
    step("scan", 0, 3)
    cells = scan(session, as_of, settings)
    result.tested = len(cells)
    hot = cells[cells["hotspot"]]
    result.hotspots = len(hot)
    step("fold", 1, 3)
    by = settings.by
    active = {
        a.dedup_key: a
        for a in session.scalars(
            select(ComplaintAlert).where(
                ComplaintAlert.status.in_(ACTIVE), ComplaintAlert.tested_by == by
            )
        )
    }
    keys = [dedup_key(int(u), str(c), by) for u, c in zip(hot["unit_id"], hot["code"], strict=True)]
    judged: dict[str, datetime] = {}
    for i in range(0, len(keys), 500):
        for k, last in session.execute(
            select(ComplaintAlert.dedup_key, func.max(ComplaintAlert.window_end))
            .where(
                ComplaintAlert.status == "resolved", ComplaintAlert.dedup_key.in_(keys[i : i + 500])
            )
            .group_by(ComplaintAlert.dedup_key)
        ):
            judged[str(k)] = as_utc(last)
    end_utc = _aware_local(w.current_end)
    for key, row in zip(keys, hot.to_dict("records"), strict=True):
        alert = active.get(key)
        if alert is None:
            if key in judged and judged[key] >= end_utc:
                continue  # resolved (by a person) after a scan of this window or a later one
            code = str(row["code"])
            alert = ComplaintAlert(
                dedup_key=key,
                unit_id=int(row["unit_id"]),
                category=code.split(".")[0],
                subcategory=code if "." in code else None,
                tested_by=by,
                status="open",
                first_detected_at=now,
                last_detected_at=now,
                detections=1,
            )
            _figures(alert, row, w)
            alert.severity = severity_of(alert.rate_ratio, alert.count_current)
            alert.events.append(
                ComplaintAlertEvent(
                    kind="detected",
                    at=now,
                    count_current=alert.count_current,
                    rate_ratio=alert.rate_ratio,
                )
            )
            session.add(alert)
            result.raised.append(alert)
            continue
        if as_utc(alert.window_end) > end_utc:
            continue  # a later scan already judged this alert
        if _same_window(alert, w) and alert.count_current == int(row["count_current"]):
            continue  # the same scan again: nothing new
        _figures(alert, row, w)
        alert.last_detected_at = now
        alert.detections += 1
        sev = severity_of(alert.rate_ratio, alert.count_current)
        escalated = SEVERITIES.index(sev) > SEVERITIES.index(alert.severity)
        if escalated:
            alert.severity = sev
        alert.events.append(
            ComplaintAlertEvent(
                kind="escalated" if escalated else "updated",
                at=now,
                count_current=alert.count_current,
                rate_ratio=alert.rate_ratio,
            )
        )
        result.updated.append(alert)
    hot_keys = set(keys)
    rising = {
        dedup_key(int(u), str(c), by)
        for u, c in zip(
            cells.loc[cells["rising"], "unit_id"], cells.loc[cells["rising"], "code"], strict=True
        )
    }
    for key, alert in active.items():
        if key in hot_keys or key in rising or as_utc(alert.window_end) > end_utc:
            continue
        alert.status = "resolved"
        alert.resolved_at = now
        alert.resolution_note = "the rise is gone"
        alert.events.append(ComplaintAlertEvent(kind="cleared", at=now, note="the rise is gone"))
        result.resolved.append(alert)
    session.flush()
    step("notify", 2, 3)
    if notify and result.raised:
        result.notified = notify_alerts(session, result.raised, now)
    step("done", 3, 3)
    return result


def acknowledge(
    session: Session, alert: ComplaintAlert, user_id: int | None, comment: str, at: datetime
) -> None:
    """Acknowledge an open alert with a comment saying who is on it and what is done."""
    alerting.acknowledge(session, alert, COMPLAINT_ALERT, user_id, comment, at)


def resolve(
    session: Session, alert: ComplaintAlert, user_id: int | None, note: str, at: datetime
) -> None:
    """Resolve an open or acknowledged alert by hand, saying why (the cause was put right)."""
    alerting.resolve(session, alert, COMPLAINT_ALERT, user_id, note, at)


def alert_payload(alert: ComplaintAlert) -> dict[str, object]:
    """The JSON body a webhook receives for a complaint alert."""
    return {
        "source": "complaints",
        "id": alert.id,
        "key": alert.dedup_key,
        "unit": alert.unit.code if alert.unit is not None else alert.unit_id,
        "category": alert.category,
        "subcategory": alert.subcategory,
        "severity": alert.severity,
        "status": alert.status,
        "window_start": as_utc(alert.window_start).isoformat(),
        "window_end": as_utc(alert.window_end).isoformat(),
        "count_current": alert.count_current,
        "expected": alert.expected,
        "rate_ratio": alert.rate_ratio,
        "q_value": alert.q_value,
    }


def notify_alerts(
    session: Session, alerts: list[ComplaintAlert], at: datetime, *, timeout_s: float = 5.0
) -> int:
    """Post each alert to every active webhook route that opted in to complaint alerts
    (``settings["sources"]`` contains ``complaints``), is on duty at ``at`` (local time)
    and whose minimum severity the alert meets; every attempt is recorded in the alert's
    history. Returns the number of successful sends."""
    local = as_utc(at).astimezone(default_calendar().zone)
    routes = alerting.routes_on_duty(session, local, channel="webhook", source="complaints")
    sent = 0
    for alert in alerts:
        for r in routes:
            if SEVERITIES.index(alert.severity) < SEVERITIES.index(r.min_severity):
                continue
            try:
                httpx.post(
                    r.target, json=alert_payload(alert), timeout=timeout_s
                ).raise_for_status()
            except httpx.HTTPError as exc:
                alert.events.append(
                    ComplaintAlertEvent(
                        kind="notify_failed", at=at, target=r.target, note=str(exc)[:500]
                    )
                )
                continue
            alert.events.append(ComplaintAlertEvent(kind="notified", at=at, target=r.target))
            sent += 1
    session.flush()
    return sent


def alerts_query(
    principal: Principal,
    status: str = "active",
    category: str | None = None,
    region: OrgUnit | None = None,
) -> Select[ComplaintAlert]:
    """Alerts about units in the principal's scope, newest first, filtered by status
    (``active`` = open or acknowledged), taxonomy category and region (an org unit whose
    subtree the alert's unit lies in)."""
    if status not in STATUS_FILTERS:
        raise ComplaintAlertError(f"status must be one of {', '.join(STATUS_FILTERS)}")
    q = (
        select(ComplaintAlert)
        .join(OrgUnit, OrgUnit.id == ComplaintAlert.unit_id)
        .where(principal.unit_filter())
    )
    if status == "active":
        q = q.where(ComplaintAlert.status.in_(ACTIVE))
    elif status != "all":
        q = q.where(ComplaintAlert.status == status)
    if category:
        q = q.where(ComplaintAlert.category == category)
    if region is not None:
        q = q.where(OrgUnit.path.startswith(region.path))
    return q.order_by(ComplaintAlert.last_detected_at.desc(), ComplaintAlert.id.desc())


def visible_alert(session: Session, principal: Principal, alert_id: int) -> ComplaintAlert | None:
    """The alert ``alert_id`` if the principal sees the unit it is about, else None."""
    alert = session.get(ComplaintAlert, alert_id)
    return alert if alert is not None and principal.sees(alert.unit) else None


def count_active(session: Session, principal: Principal) -> int:
    """Open or acknowledged complaint alerts about units in the principal's scope."""
    q = alerts_query(principal, "active").order_by(None).with_only_columns(func.count())
    return int(session.scalar(q) or 0)


def build_demo_alerts(ctx: DemoContext) -> None:
    """Demo step: weekly scans over the last five weeks of the demo year, so the alert list
    has a history (alerts raised, updated, cleared), and the handler acknowledges one."""
    assert ctx.periods, "the periods step must run first"
    zone = default_calendar().zone
    end = datetime.combine(ctx.periods[-1].end + timedelta(days=1), time(0), tzinfo=zone)
    last: WatchResult | None = None
    for weeks_back in (4, 3, 2, 1, 0):
        as_of = end - timedelta(days=7 * weeks_back)
        last = watch(ctx.session, as_of, now=as_of.astimezone(UTC))
    handler = ctx.users.get("handler")
    if last is not None and handler is not None:
        opened = ctx.session.scalars(
            select(ComplaintAlert)
            .where(ComplaintAlert.status == "open")
            .order_by(ComplaintAlert.q_value, ComplaintAlert.id)
        ).first()
        if opened is not None:
            acknowledge(
                ctx.session,
                opened,
                handler.id,
                "已联系门店核查，安排回访",
                end.astimezone(UTC) + timedelta(hours=9),
            )
    ctx.extra["complaint_alerts"] = ctx.session.scalar(
        select(func.count()).select_from(ComplaintAlert)
    )
