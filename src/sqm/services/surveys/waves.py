"""Survey waves as a caller sees them: which waves and responses are in their scope, and the
read models that the wave pages and the JSON API share.

A wave targets stores (its quota cells), possibly in several subtrees. A user sees a wave
when at least one of its target stores lies in their scope, and then sees only those
stores' quota, answers and analysis: every read of a wave goes through a
:class:`ScopedWave`, which carries the wave and the org units of the caller's scope.
A wave or response outside the scope is answered exactly like one that does not exist
(:class:`~sqm.domain.errors.MissingError`, 404).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.errors import MissingError, RuleError
from sqm.domain.wave import WaveStatus
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, SurveyQuota, SurveyResponse, SurveyWave

__all__ = [
    "ScopedWave",
    "WaveSummary",
    "response_count",
    "scope_unit_ids",
    "set_status",
    "store_of_scope",
    "visible_response",
    "visible_wave",
    "wave_summaries",
]


@dataclass(frozen=True)
class ScopedWave:
    """A wave the caller may see, with the ids of the org units in the caller's scope:
    the stores whose quota, answers and analysis they may read (pass ``unit_ids`` to
    :func:`~sqm.services.surveys.fielding.quota_rows`,
    :func:`~sqm.services.surveys.reports.wave_report` …)."""

    wave: SurveyWave
    unit_ids: list[int]


def scope_unit_ids(session: Session, principal: Principal) -> list[int]:
    """Ids of every org unit in the principal's scope (none for a user without grants)."""
    return list(session.scalars(select(OrgUnit.id).where(principal.unit_filter())))


def visible_wave(session: Session, principal: Principal, wave_id: int) -> ScopedWave:
    """Wave ``wave_id`` if one of its target stores lies in the principal's scope.

    The test is :meth:`Principal.sees` over the wave's quota cells, run in SQL
    (:meth:`Principal.unit_filter`). Raises :class:`MissingError` (404) for a wave that
    does not exist and for one wholly outside the scope alike, so neither leaks.
    """
    wave = session.get(SurveyWave, wave_id)
    in_scope = wave is not None and session.scalar(
        select(SurveyQuota.id)
        .join(OrgUnit, OrgUnit.id == SurveyQuota.unit_id)
        .where(SurveyQuota.wave_id == wave.id, principal.unit_filter())
        .limit(1)
    )
    if wave is None or in_scope is None:
        raise MissingError("no such survey wave in your scope")
    return ScopedWave(wave, scope_unit_ids(session, principal))


def visible_response(session: Session, principal: Principal, response_id: int) -> SurveyResponse:
    """Stored response ``response_id`` if its store lies in the principal's scope, else
    :class:`MissingError` (404)."""
    response = session.get(SurveyResponse, response_id)
    unit = session.get(OrgUnit, response.unit_id) if response is not None else None
    if response is None or unit is None or not principal.sees(unit):
        raise MissingError("no such response in your scope")
    return response


@dataclass(frozen=True)
class WaveSummary:
    """One wave in a list: its instrument, status and quota fill over the caller's stores."""

    id: int
    code: str
    name: str
    period: str
    instrument: str
    version: int
    kind: str
    status: str
    target: int
    achieved: int
    over_quota: int
    fill_pct: float

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready fields."""
        return asdict(self)


def wave_summaries(session: Session, principal: Principal) -> list[WaveSummary]:
    """The waves with a target store in the principal's scope, newest first, each with the
    target, answers and over-quota answers summed over the stores in scope."""
    rows = session.execute(
        select(
            SurveyWave,
            func.sum(SurveyQuota.target),
            func.sum(SurveyQuota.achieved),
            func.sum(SurveyQuota.over_quota),
        )
        .join(SurveyQuota, SurveyQuota.wave_id == SurveyWave.id)
        .join(OrgUnit, OrgUnit.id == SurveyQuota.unit_id)
        .where(principal.unit_filter())
        .group_by(SurveyWave.id)
        .order_by(SurveyWave.id.desc())
    ).all()
    out = []
    for w, t, a, o in rows:
        target, achieved = int(t or 0), int(a or 0)
        out.append(
            WaveSummary(
                id=w.id,
                code=w.code,
                name=w.name,
                period=w.period.code,
                instrument=w.instrument.code,
                version=w.instrument.version,
                kind=w.instrument.kind,
                status=w.status,
                target=target,
                achieved=achieved,
                over_quota=int(o or 0),
                fill_pct=100.0 * min(achieved, target) / max(target, 1),
            )
        )
    return out


def response_count(session: Session, scoped: ScopedWave) -> int:
    """Number of stored responses of the wave from the stores in the caller's scope."""
    n = session.scalar(
        select(func.count(SurveyResponse.id)).where(
            SurveyResponse.wave_id == scoped.wave.id, SurveyResponse.unit_id.in_(scoped.unit_ids)
        )
    )
    return int(n or 0)


def store_of_scope(session: Session, scoped: ScopedWave, unit_code: str) -> OrgUnit:
    """The org unit with code ``unit_code`` in the caller's scope (for its QR code), else
    :class:`MissingError` (404)."""
    unit = session.scalar(
        select(OrgUnit).where(OrgUnit.code == unit_code, OrgUnit.id.in_(scoped.unit_ids))
    )
    if unit is None:
        raise MissingError("no such store in this wave and your scope")
    return unit


def set_status(wave: SurveyWave, status: str) -> None:
    """Open or close a wave (``status`` is ``open`` or ``closed``).

    >>> set_status(SurveyWave(status="open"), "paused")
    Traceback (most recent call last):
    ...
    sqm.domain.errors.RuleError: status must be 'open' or 'closed'
    """
    if status not in (WaveStatus.OPEN.value, WaveStatus.CLOSED.value):
        raise RuleError("status must be 'open' or 'closed'")
    wave.status = status
