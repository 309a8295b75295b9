"""Complaint time limits (SLA): business calendars, clocks, deadlines, warnings, breaches.

A time limit is either counted in *calendar hours* (real elapsed time, e.g. social-media
complaints that are visible to everyone) or in *business hours* (only the working windows
of working days count, in the local time of the unit that handles the complaint).

Working days follow the Chinese public-holiday arrangement (法定节假日与调休): a holiday
is a day off even on a weekday, and an adjusted working weekend (调休上班) is a working
day even on a Saturday or Sunday.  The 2026 arrangement ships as data below (国务院办公厅
关于2026年部分节假日安排的通知, 国办发明电〔2025〕, 4 Nov 2025); other years or countries are
passed in as plain lists.

All arithmetic runs on aware datetimes; wall-clock windows are turned into instants with
:mod:`zoneinfo`, so a window on a daylight-saving day has its true length (a 00:00–24:00
window on the spring-forward day in New York lasts 23 hours).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from sqm.domain.complaint_taxonomy import Channel, ComplaintClass
from sqm.domain.errors import RuleError

# 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04).
CN_2026_HOLIDAYS: tuple[date, ...] = tuple(
    date(2026, m, d)
    for m, days in (
        (1, (1, 2, 3)),  # 元旦
        (2, (15, 16, 17, 18, 19, 20, 21, 22, 23)),  # 春节
        (4, (4, 5, 6)),  # 清明节
        (5, (1, 2, 3, 4, 5)),  # 劳动节
        (6, (19, 20, 21)),  # 端午节
        (9, (25, 26, 27)),  # 中秋节
        (10, (1, 2, 3, 4, 5, 6, 7)),  # 国庆节
    )
    for d in days
)
# 调休上班: weekends that are working days in 2026.
CN_2026_WORKING_WEEKENDS: tuple[date, ...] = (
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
)

_MAX_DAYS = 3700  # about ten years: a clock that has not finished by then is a data error


class SlaInputError(RuleError):
    """An SLA computation got an input that breaks its rules (naive datetime, negative limit…)."""


def _aware(dt: datetime, name: str) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise SlaInputError(f"{name} must be timezone-aware, got naive {dt.isoformat()}")
    return dt


@dataclass(frozen=True)
class BusinessCalendar:
    """Working windows, weekend, holidays and adjusted working days of one time zone.

    ``windows`` are local wall-clock ``(start, end)`` pairs within a day; an ``end`` of
    ``time(0)`` means midnight at the end of the day.  ``weekend`` holds ISO weekday numbers
    minus one (Monday = 0 … Sunday = 6).

    >>> cal = BusinessCalendar("Asia/Shanghai", windows=((time(9), time(18)),))
    >>> cal.is_working_day(date(2026, 11, 28))  # a Saturday
    False
    """

    tz: str = "Asia/Shanghai"
    windows: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(18)))
    weekend: frozenset[int] = frozenset({5, 6})
    holidays: frozenset[date] = field(default_factory=frozenset)
    working_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # raises for an unknown zone
        prev_end = 0
        for i, (start, end) in enumerate(self.windows):
            if not prev_end <= _start_minutes(start) < _minutes(end):
                raise SlaInputError(
                    f"windows[{i}] = {start}–{end} must start before it ends and not overlap "
                    "the window before"
                )
            prev_end = _minutes(end)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "working_days", frozenset(self.working_days))

    @property
    def zone(self) -> ZoneInfo:
        """The :class:`zoneinfo.ZoneInfo` of the calendar."""
        return ZoneInfo(self.tz)

    def is_working_day(self, d: date) -> bool:
        """True when ``d`` is a working day: an adjusted working day, or a weekday that is no holiday.

        >>> china_calendar().is_working_day(date(2026, 2, 14))  # Saturday, 调休上班
        True
        """
        if d in self.working_days:
            return True
        return d.weekday() not in self.weekend and d not in self.holidays

    def _day_windows(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working windows of day ``d`` as UTC instants (empty on a day off)."""
        if not self.is_working_day(d):
            return []
        zone = self.zone
        out = []
        for start, end in self.windows:
            s = datetime.combine(d, start, tzinfo=zone)
            e = (
                datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone)
                if end == time(0)
                else datetime.combine(d, end, tzinfo=zone)
            )
            out.append((s.astimezone(UTC), e.astimezone(UTC)))
        return out

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of working time has passed after ``start``.

        Working time outside the windows, on weekends and on holidays does not count.
        The result is in the calendar's time zone.

        >>> cal = china_calendar()
        >>> cal.add(datetime(2026, 9, 30, 17, tzinfo=cal.zone), timedelta(hours=2)).isoformat()
        '2026-10-08T10:00:00+08:00'
        """
        _aware(start, "start")
        if duration < timedelta(0):
            raise SlaInputError(f"duration must be ≥ 0, got {duration}")
        t = start.astimezone(UTC)
        remaining = duration
        if remaining == timedelta(0):
            return t.astimezone(self.zone)
        d = start.astimezone(self.zone).date()
        for _ in range(_MAX_DAYS):
            for s, e in self._day_windows(d):
                if e <= t:
                    continue
                s = max(s, t)
                available = e - s
                if available >= remaining:
                    return (s + remaining).astimezone(self.zone)
                remaining -= available
            d += timedelta(days=1)
        raise SlaInputError(
            f"no working time found within {_MAX_DAYS} days after {start.isoformat()}"
        )

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between ``start`` and ``end`` (0 when ``end`` ≤ ``start``).

        >>> cal = china_calendar()
        >>> z = cal.zone
        >>> cal.elapsed(datetime(2026, 11, 27, 17, tzinfo=z), datetime(2026, 11, 30, 10, tzinfo=z))
        datetime.timedelta(seconds=7200)
        """
        a = _aware(start, "start").astimezone(UTC)
        b = _aware(end, "end").astimezone(UTC)
        if b <= a:
            return timedelta(0)
        d = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        if (last - d).days > _MAX_DAYS:
            raise SlaInputError(
                f"span {start.isoformat()} … {end.isoformat()} exceeds {_MAX_DAYS} days"
            )
        total = timedelta(0)
        while d <= last:
            for s, e in self._day_windows(d):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
        return total

    def elapsed_seconds_local(
        self, start: npt.ArrayLike, end: npt.ArrayLike
    ) -> npt.NDArray[np.float64]:
        """Vectorised working seconds between local wall-clock ``datetime64`` arrays.

        For millions of complaints at once (measures, benchmarks): ``start`` and ``end`` are
        naive local times of this calendar.  Working seconds are read off a cumulative
        per-day table, so the cost is two look-ups per complaint.  Wall-clock arithmetic
        differs from :meth:`elapsed` only for a window that crosses a daylight-saving switch.
        NaT in either array gives NaN.

        >>> cal = china_calendar()
        >>> a = np.array(["2026-11-27T17:00"], dtype="datetime64[s]")
        >>> b = np.array(["2026-11-30T10:00"], dtype="datetime64[s]")
        >>> cal.elapsed_seconds_local(a, b).tolist()
        [7200.0]
        """
        a = np.asarray(start, dtype="datetime64[s]")
        b = np.asarray(end, dtype="datetime64[s]")
        if a.shape != b.shape:
            raise SlaInputError(
                f"start and end must have the same shape, got {a.shape} and {b.shape}"
            )
        missing = np.isnat(a) | np.isnat(b)
        if missing.all():
            return np.full(a.shape, np.nan)
        lo = min(a[~missing].min(), b[~missing].min()).astype("datetime64[D]")
        hi = max(a[~missing].max(), b[~missing].max()).astype("datetime64[D]") + np.timedelta64(
            1, "D"
        )
        cum, working = self._cumulative_table(lo, hi)
        fa = self._working_seconds_since(a, lo, cum, working, missing)
        fb = self._working_seconds_since(b, lo, cum, working, missing)
        out = np.maximum(fb - fa, 0.0)
        out[missing] = np.nan
        return out

    def _window_seconds(self) -> list[tuple[int, int]]:
        return [(_start_minutes(s) * 60, _minutes(e) * 60) for s, e in self.windows]

    def _cumulative_table(
        self, lo: np.datetime64, hi: np.datetime64
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        days = np.arange(lo, hi + np.timedelta64(1, "D"), dtype="datetime64[D]")
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
        working = ~np.isin(weekday, list(self.weekend))
        if self.holidays:
            working &= ~np.isin(days, np.array(sorted(self.holidays), dtype="datetime64[D]"))
        if self.working_days:
            working |= np.isin(days, np.array(sorted(self.working_days), dtype="datetime64[D]"))
        per_day = sum(e - s for s, e in self._window_seconds())
        cum = np.zeros(days.shape[0] + 1)
        cum[1:] = np.cumsum(np.where(working, per_day, 0))
        return cum, working

    def _working_seconds_since(
        self,
        t: npt.NDArray[np.datetime64],
        lo: np.datetime64,
        cum: npt.NDArray[np.float64],
        working: npt.NDArray[np.bool_],
        missing: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.float64]:
        t = np.where(missing, lo.astype("datetime64[s]"), t)
        day_idx = (t.astype("datetime64[D]") - lo).astype(np.int64)
        tod = (t - t.astype("datetime64[D]")).astype(np.int64).astype(np.float64)
        within = np.zeros(t.shape)
        for s, e in self._window_seconds():
            within += np.clip(tod - s, 0, e - s)
        return cum[day_idx] + np.where(working[day_idx], within, 0.0)


def _minutes(t: time) -> int:
    """Minutes since midnight of a window *end* (``time(0)`` is the end of the day)."""
    return 24 * 60 if t == time(0) else t.hour * 60 + t.minute


def _start_minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def china_calendar(
    tz: str = "Asia/Shanghai",
    windows: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(18))),
    holidays: Iterable[date] = CN_2026_HOLIDAYS,
    working_weekends: Iterable[date] = CN_2026_WORKING_WEEKENDS,
) -> BusinessCalendar:
    """A mainland-China business calendar (default 09:00–12:00, 13:30–18:00; 2026 holidays).

    >>> china_calendar().is_working_day(date(2026, 10, 8))
    True
    """
    return BusinessCalendar(
        tz=tz,
        windows=windows,
        holidays=frozenset(holidays),
        working_days=frozenset(working_weekends),
    )


class Clock(StrEnum):
    """How a limit is counted."""

    CALENDAR = "calendar"  # 自然小时
    BUSINESS = "business"  # 工作小时


@dataclass(frozen=True)
class SlaPolicy:
    """Time limits of one channel × class: first response and resolution.

    ``warn_fraction`` is the share of the limit after which the handler is warned
    (default 0.8: warn when 80 % of the time is used up).
    """

    name: str
    first_response: timedelta
    resolution: timedelta
    clock: Clock = Clock.BUSINESS
    warn_fraction: float = 0.8

    def __post_init__(self) -> None:
        for label, v in (("first_response", self.first_response), ("resolution", self.resolution)):
            if v <= timedelta(0):
                raise SlaInputError(f"policy {self.name!r}: {label} must be > 0, got {v}")
        if self.first_response > self.resolution:
            raise SlaInputError(
                f"policy {self.name!r}: first_response ({self.first_response}) must not exceed "
                f"resolution ({self.resolution})"
            )
        if not 0.0 < self.warn_fraction < 1.0:
            raise SlaInputError(
                f"policy {self.name!r}: warn_fraction must be in (0, 1), got {self.warn_fraction}"
            )


H = timedelta(hours=1)
_ORDINARY = SlaPolicy("ordinary", first_response=8 * H, resolution=40 * H)  # 1 and 5 working days
_SOCIAL = SlaPolicy("social media", first_response=2 * H, resolution=72 * H, clock=Clock.CALENDAR)
_ESCALATED = SlaPolicy("escalated", first_response=2 * H, resolution=16 * H)
_REGULATOR = SlaPolicy(
    "regulator-forwarded", first_response=2 * H, resolution=24 * H, warn_fraction=0.5
)


@dataclass(frozen=True)
class SlaPolicyTable:
    """Which policy applies to a complaint: a class rule wins over a channel rule over the default.

    >>> DEFAULT_POLICIES.policy_for(Channel.HOTLINE, ComplaintClass.REGULATOR).name
    'regulator-forwarded'
    """

    default: SlaPolicy = _ORDINARY
    by_channel: dict[Channel, SlaPolicy] = field(default_factory=lambda: {Channel.SOCIAL: _SOCIAL})
    by_class: dict[ComplaintClass, SlaPolicy] = field(
        default_factory=lambda: {
            ComplaintClass.ESCALATED: _ESCALATED,
            ComplaintClass.REGULATOR: _REGULATOR,
        }
    )

    def policy_for(self, channel: Channel, klass: ComplaintClass) -> SlaPolicy:
        """The policy that governs a complaint of ``channel`` and ``klass``."""
        if klass in self.by_class:
            return self.by_class[klass]
        return self.by_channel.get(channel, self.default)


DEFAULT_POLICIES = SlaPolicyTable()


class LimitState(StrEnum):
    """Where one limit stands."""

    RUNNING = "running"
    WARNING = "warning"  # more than warn_fraction of the limit used, not yet passed
    BREACHED = "breached"  # passed and still not met
    MET = "met"
    MET_LATE = "met_late"


class Escalation(StrEnum):
    """Who must hear about the complaint now."""

    NONE = "none"
    TEAM_LEAD = "team_lead"  # a limit is in warning
    MANAGER = "manager"  # a limit has passed
    DIRECTOR = "director"  # a limit is overrun by its own length again (elapsed ≥ 2 × limit)


@dataclass(frozen=True)
class LimitStatus:
    """One limit of one complaint at one moment."""

    limit: timedelta
    deadline: datetime
    warn_at: datetime
    used: timedelta  # time counted against the limit so far (or until met)
    state: LimitState

    @property
    def remaining(self) -> timedelta:
        """Time left before the deadline (negative when overrun)."""
        return self.limit - self.used


@dataclass(frozen=True)
class SlaStatus:
    """Both limits of one complaint at one moment, with the escalation it calls for."""

    policy: SlaPolicy
    first_response: LimitStatus
    resolution: LimitStatus
    escalation: Escalation


def _pause_time(
    pauses: Sequence[tuple[datetime, datetime]], until: datetime, counted: _Counter
) -> timedelta:
    total = timedelta(0)
    for i, (a, b) in enumerate(pauses):
        _aware(a, f"pauses[{i}][0]")
        _aware(b, f"pauses[{i}][1]")
        if b < a:
            raise SlaInputError(
                f"pauses[{i}] ends ({b.isoformat()}) before it starts ({a.isoformat()})"
            )
        total += counted(a, min(b, until))
    return total


class _Counter:
    def __init__(self, policy: SlaPolicy, calendar: BusinessCalendar) -> None:
        self.policy, self.calendar = policy, calendar

    def __call__(self, a: datetime, b: datetime) -> timedelta:
        if self.policy.clock is Clock.CALENDAR:
            return max(b.astimezone(UTC) - a.astimezone(UTC), timedelta(0))
        return self.calendar.elapsed(a, b)

    def add(self, a: datetime, d: timedelta) -> datetime:
        if self.policy.clock is Clock.CALENDAR:
            return (a.astimezone(UTC) + d).astimezone(self.calendar.zone)
        return self.calendar.add(a, d)


def _limit_status(
    counter: _Counter,
    received: datetime,
    limit: timedelta,
    warn_fraction: float,
    met_at: datetime | None,
    now: datetime,
    paused: timedelta,
) -> LimitStatus:
    deadline = counter.add(received, limit + paused)
    warn_at = counter.add(received, limit * warn_fraction + paused)
    until = met_at if met_at is not None and met_at <= now else now
    used = counter(received, until) - paused
    if met_at is not None and met_at <= now:
        state = LimitState.MET if used <= limit else LimitState.MET_LATE
    elif used > limit:
        state = LimitState.BREACHED
    elif used >= limit * warn_fraction:
        state = LimitState.WARNING
    else:
        state = LimitState.RUNNING
    return LimitStatus(limit=limit, deadline=deadline, warn_at=warn_at, used=used, state=state)


def sla_status(
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    received: datetime,
    now: datetime,
    first_response_at: datetime | None = None,
    resolved_at: datetime | None = None,
    pauses: Sequence[tuple[datetime, datetime]] = (),
) -> SlaStatus:
    """Deadlines, time used, state and escalation of a complaint's two limits at ``now``.

    Time used = counted time from ``received`` to the moment the limit was met (or ``now``)
    minus the counted time of ``pauses`` (periods waiting for the customer, 待客户反馈);
    deadlines move later by the paused time.  Escalation: team lead when a limit is in
    warning, manager when one has passed, director when one has used twice its length.

    >>> cal = china_calendar()
    >>> z = cal.zone
    >>> s = sla_status(DEFAULT_POLICIES.default, cal, datetime(2026, 11, 27, 17, tzinfo=z),
    ...                now=datetime(2026, 11, 30, 10, tzinfo=z))
    >>> s.first_response.deadline.isoformat(), s.first_response.state.value
    ('2026-11-30T17:30:00+08:00', 'running')
    """
    _aware(received, "received")
    _aware(now, "now")
    for name, v in (("first_response_at", first_response_at), ("resolved_at", resolved_at)):
        if v is not None and _aware(v, name) < received:
            raise SlaInputError(
                f"{name} ({v.isoformat()}) is before received ({received.isoformat()})"
            )
    counter = _Counter(policy, calendar)
    fr_paused = _pause_time(pauses, first_response_at or now, counter)
    res_paused = _pause_time(pauses, resolved_at or now, counter)
    # A resolution is also a response: a complaint solved at once needs no separate reply.
    fr_met = first_response_at or resolved_at
    fr = _limit_status(
        counter, received, policy.first_response, policy.warn_fraction, fr_met, now, fr_paused
    )
    res = _limit_status(
        counter, received, policy.resolution, policy.warn_fraction, resolved_at, now, res_paused
    )
    escalation = Escalation.NONE
    for ls in (fr, res):
        if ls.state is LimitState.BREACHED and ls.used >= 2 * ls.limit:
            escalation = Escalation.DIRECTOR
        elif ls.state is LimitState.BREACHED and escalation is not Escalation.DIRECTOR:
            escalation = Escalation.MANAGER
        elif ls.state is LimitState.WARNING and escalation is Escalation.NONE:
            escalation = Escalation.TEAM_LEAD
    return SlaStatus(policy=policy, first_response=fr, resolution=res, escalation=escalation)


def deadlines(
    policy: SlaPolicy, calendar: BusinessCalendar, received: datetime
) -> tuple[datetime, datetime]:
    """First-response and resolution deadlines of a complaint received at ``received``.

    The same instants as :func:`sla_status` gives with no pauses, computed with two clock
    additions only (for intake and bulk loads).

    >>> cal = china_calendar()
    >>> fr, res = deadlines(DEFAULT_POLICIES.default, cal, datetime(2026, 11, 27, 17, tzinfo=cal.zone))
    >>> fr.isoformat(), res.isoformat()
    ('2026-11-30T17:30:00+08:00', '2026-12-07T10:30:00+08:00')
    """
    _aware(received, "received")
    counter = _Counter(policy, calendar)
    return counter.add(received, policy.first_response), counter.add(received, policy.resolution)
