"""The alert lifecycle: detections → de-duplicated site alerts → notifications → ack → resolve.

A rule (see :mod:`sqm.methods.alert_rules`) says *when* a KPI is bad; this service keeps
one alert per (rule, KPI, site) while it lasts — forty cells of one site make one alert —
honours maintenance windows (silenced alerts are kept but not sent), sends webhooks and
e-mails to the routes whose schedule is on duty, and records every step in the alert's
history. An alert that the rule no longer reports is resolved automatically; because the
rules clear on a recovery level separate from the firing level, alerts do not flap.
"""

from __future__ import annotations

import json
import os
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.lazy import lazy_import
from sqm.services import alerting
from sqm.services.alerting import AlertError
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit
from sqm.store.models.network import (
    NetworkAlert,
    NetworkAlertEvent,
    NetworkSilence,
)

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_import("httpx")

SEVERITIES = ("minor", "major", "critical")
OPEN_STATES = alerting.OPEN_STATES

NETWORK_ALERT = alerting.AlertKind(event=NetworkAlertEvent, subject="the alert")
"""The life cycle of a network alert: resolving by hand needs no note (the rule may have
recovered already)."""


@dataclass(frozen=True)
class Detection:
    """One cell found bad by one rule at one time (what a rule run produces)."""

    rule: str
    kpi: str
    cell_id: str
    site_id: str
    unit_id: int
    at: datetime
    value: float | None = None
    threshold: float | None = None
    severity: str = "major"


def dedup_key(rule: str, kpi: str, site_id: str) -> str:
    """The identity of an alert while it lasts: one per rule, KPI and site."""
    return f"{rule}|{kpi}|{site_id}"


def _silenced(silences: Sequence[NetworkSilence], d: Detection) -> bool:
    at = _aware(d.at)
    return any(
        s.scope in ("*", d.site_id, d.cell_id)
        and (s.kpi is None or s.kpi == d.kpi)
        and _aware(s.starts_at) <= at < _aware(s.ends_at)
        for s in silences
    )


def _aware(t: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def raise_alerts(session: Session, detections: Iterable[Detection]) -> list[NetworkAlert]:
    """Fold detections into alerts: new (rule, KPI, site) → a new open alert; an alert
    already open or acknowledged → updated (last seen, latest value, cells added).
    Returns the alerts that are new in this call (callers notify those).
    """
    silences = list(session.scalars(select(NetworkSilence)))
    groups: dict[str, list[Detection]] = {}
    for d in detections:
        if d.severity not in SEVERITIES:
            raise AlertError(
                f"severity must be one of {', '.join(SEVERITIES)}, found {d.severity!r}"
            )
        groups.setdefault(dedup_key(d.rule, d.kpi, d.site_id), []).append(d)
    if not groups:
        return []
    existing = {
        a.dedup_key: a
        for a in session.scalars(
            select(NetworkAlert).where(
                NetworkAlert.dedup_key.in_(list(groups)), NetworkAlert.status.in_(OPEN_STATES)
            )
        )
    }
    new: list[NetworkAlert] = []
    for key, ds in groups.items():
        ds.sort(key=lambda d: d.at)
        last = ds[-1]
        cells = sorted({d.cell_id for d in ds})
        worst = max(ds, key=lambda d: SEVERITIES.index(d.severity)).severity
        alert = existing.get(key)
        if alert is None:
            alert = NetworkAlert(
                dedup_key=key,
                rule=last.rule,
                kpi=last.kpi,
                site_id=last.site_id,
                unit_id=last.unit_id,
                cells=cells,
                severity=worst,
                status="open",
                silenced=_silenced(silences, ds[0]),
                first_fired_at=ds[0].at,
                last_seen_at=last.at,
                value=last.value,
                threshold=last.threshold,
                message=f"{last.kpi} {last.rule} on site {last.site_id}: {len(cells)} cell(s)",
            )
            session.add(alert)
            alert.events.append(
                NetworkAlertEvent(
                    kind="fired",
                    at=ds[0].at,
                    value=ds[0].value,
                    note="silenced by a maintenance window" if alert.silenced else None,
                )
            )
            new.append(alert)
        else:
            alert.cells = sorted(set(alert.cells) | set(cells))
            alert.last_seen_at = max(_aware(alert.last_seen_at), _aware(last.at))
            alert.value = last.value
            if SEVERITIES.index(worst) > SEVERITIES.index(alert.severity):
                alert.severity = worst
                alert.events.append(
                    NetworkAlertEvent(kind="escalated", at=last.at, value=last.value)
                )
    session.flush()
    return new


def resolve_cleared(
    session: Session,
    still_firing: Iterable[str],
    at: datetime,
    *,
    rules: Iterable[str] | None = None,
    kpis: Iterable[str] | None = None,
) -> list[NetworkAlert]:
    """Resolve every open/acknowledged alert whose key is not in ``still_firing`` (the
    rule's recovery condition held), among the alerts of ``rules`` and ``kpis`` (default:
    all) — so a run that evaluated one KPI does not close another KPI's alerts."""
    keep = set(still_firing)
    q = select(NetworkAlert).where(NetworkAlert.status.in_(OPEN_STATES))
    if rules is not None:
        q = q.where(NetworkAlert.rule.in_(list(rules)))
    if kpis is not None:
        q = q.where(NetworkAlert.kpi.in_(list(kpis)))
    done = []
    for a in session.scalars(q):
        if a.dedup_key not in keep:
            a.status, a.resolved_at = "resolved", at
            a.events.append(NetworkAlertEvent(kind="resolved", at=at, note="recovered"))
            done.append(a)
    session.flush()
    return done


def acknowledge(
    session: Session, alert: NetworkAlert, user_id: int | None, comment: str, at: datetime
) -> None:
    """Acknowledge an open alert with a comment (who is on it and why)."""
    alerting.acknowledge(session, alert, NETWORK_ALERT, user_id, comment, at)


def resolve(
    session: Session, alert: NetworkAlert, user_id: int | None, note: str, at: datetime
) -> None:
    """Resolve an alert by hand."""
    alerting.resolve(session, alert, NETWORK_ALERT, user_id, note, at)


def alert_payload(alert: NetworkAlert) -> dict[str, object]:
    """The JSON body a webhook receives."""
    return {
        "id": alert.id,
        "key": alert.dedup_key,
        "rule": alert.rule,
        "kpi": alert.kpi,
        "site": alert.site_id,
        "cells": alert.cells,
        "severity": alert.severity,
        "status": alert.status,
        "value": alert.value,
        "threshold": alert.threshold,
        "first_fired_at": _aware(alert.first_fired_at).isoformat(),
        "message": alert.message,
    }


@dataclass(frozen=True)
class SmtpSettings:
    """SMTP server for alert e-mail (env: SQM_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _TLS)."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "sqm-alerts@localhost"
    starttls: bool = False

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """The settings from the environment, or None when no host is configured."""
        host = os.environ.get("SQM_SMTP_HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=int(os.environ.get("SQM_SMTP_PORT", "25")),
            user=os.environ.get("SQM_SMTP_USER"),
            password=os.environ.get("SQM_SMTP_PASSWORD"),
            sender=os.environ.get("SQM_SMTP_FROM", "sqm-alerts@localhost"),
            starttls=os.environ.get("SQM_SMTP_TLS", "") in ("1", "true", "yes"),
        )


def _send_email(smtp: SmtpSettings, to: str, alert: NetworkAlert) -> None:
    msg = EmailMessage()
    msg["Subject"] = f"[SQM {alert.severity}] {alert.message}"
    msg["From"], msg["To"] = smtp.sender, to
    msg.set_content(json.dumps(alert_payload(alert), ensure_ascii=False, indent=1))
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as s:
        if smtp.starttls:
            s.starttls()
        if smtp.user:
            s.login(smtp.user, smtp.password or "")
        s.send_message(msg)


def notify(
    session: Session,
    alerts: Sequence[NetworkAlert],
    at: datetime,
    *,
    smtp: SmtpSettings | None = None,
    timeout_s: float = 5.0,
) -> int:
    """Send each non-silenced alert to every active route on duty at ``at`` whose minimum
    severity it meets; record each attempt (sent or failed, and why) in the alert's history.
    Returns the number of successful sends.
    """
    routes = alerting.routes_on_duty(session, at)
    sent = 0
    for alert in alerts:
        if alert.silenced:
            continue
        for r in routes:
            if SEVERITIES.index(alert.severity) < SEVERITIES.index(r.min_severity):
                continue
            try:
                if r.channel == "webhook":
                    resp = httpx.post(r.target, json=alert_payload(alert), timeout=timeout_s)
                    resp.raise_for_status()
                elif r.channel == "email":
                    if smtp is None:
                        raise AlertError("no SMTP server configured (SQM_SMTP_HOST)")
                    _send_email(smtp, r.target, alert)
                else:
                    raise AlertError(f"unknown channel {r.channel!r}")
                alert.events.append(
                    NetworkAlertEvent(kind="notified", at=at, channel=r.channel, target=r.target)
                )
                sent += 1
            except (httpx.HTTPError, OSError, smtplib.SMTPException, AlertError) as exc:
                alert.events.append(
                    NetworkAlertEvent(
                        kind="notify_failed",
                        at=at,
                        channel=r.channel,
                        target=r.target,
                        note=str(exc)[:500],
                    )
                )
    session.flush()
    return sent


def visible_alert(session: Session, principal: Principal, alert_id: int) -> NetworkAlert | None:
    """The alert ``alert_id`` if the principal sees the unit it is about, else None."""
    alert = session.get(NetworkAlert, alert_id)
    if alert is None:
        return None
    unit = session.get(OrgUnit, alert.unit_id)
    return alert if unit is not None and principal.sees(unit) else None
