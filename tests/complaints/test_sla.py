"""SLA clocks: hand-computed business-hours arithmetic across nights, weekends, holidays, DST.

Every expected value below was worked out by hand from the calendar and is explained in
the comment beside it.  The holiday data are checked against the State Council notice
(国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqm.domain.complaint_taxonomy import Channel, ComplaintClass
from sqm.domain.sla import (
    CN_2026_HOLIDAYS,
    CN_2026_WORKING_WEEKENDS,
    DEFAULT_POLICIES,
    BusinessCalendar,
    Clock,
    Escalation,
    LimitState,
    SlaInputError,
    SlaPolicy,
    china_calendar,
    deadlines,
    sla_status,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)
CN = china_calendar()  # 09:00–12:00, 13:30–18:00 = 7.5 h a day
US = BusinessCalendar("America/New_York", windows=((time(9), time(17)),))


def sh(*a: int) -> datetime:
    return datetime(*a, tzinfo=SH)  # type: ignore[misc]


def test_2026_holiday_data_matches_state_council_notice() -> None:
    # 元旦3 + 春节9 + 清明3 + 劳动节5 + 端午3 + 中秋3 + 国庆7 = 33 days off
    assert len(CN_2026_HOLIDAYS) == 33
    # Six adjusted working weekend days, each a Saturday or a Sunday.
    assert len(CN_2026_WORKING_WEEKENDS) == 6
    assert all(d.weekday() >= 5 for d in CN_2026_WORKING_WEEKENDS)
    assert not CN.is_working_day(date(2026, 2, 23))  # 正月初七, Monday, still off
    assert CN.is_working_day(date(2026, 2, 28))  # Saturday 调休上班
    assert CN.is_working_day(date(2026, 9, 20))  # Sunday 调休上班
    assert not CN.is_working_day(date(2026, 6, 19))  # 端午, Friday


@pytest.mark.parametrize(
    ("start", "hours", "expected", "why"),
    [
        (sh(2026, 11, 27, 17), 8, sh(2026, 11, 30, 17, 30), "Fri 1h, weekend, Mon 3h + 4h"),
        (sh(2026, 9, 30, 17), 2, sh(2026, 10, 8, 10), "Wed 1h, 国庆 1–7 Oct off, Thu 1h"),
        (sh(2026, 10, 9, 17), 4, sh(2026, 10, 10, 12), "Fri 1h, Sat 10 Oct is 调休 workday: 3h"),
        (
            sh(2026, 2, 13, 16),
            10,
            sh(2026, 2, 24, 9, 30),
            "Fri 2h, Sat 14 Feb 7.5h, 春节, Tue 0.5h",
        ),
        (sh(2026, 11, 30, 12, 30), 1, sh(2026, 11, 30, 14, 30), "lunch break does not count"),
        (sh(2026, 11, 30, 23), 1, sh(2026, 12, 1, 10), "night: clock starts 09:00 next day"),
        (sh(2026, 11, 30, 9), 7.5, sh(2026, 11, 30, 18), "a full day ends at the day's close"),
        (sh(2026, 12, 4, 18), 0.5, sh(2026, 12, 7, 9, 30), "Fri after close → Mon"),
    ],
)
def test_add_business_hours_china(
    start: datetime, hours: float, expected: datetime, why: str
) -> None:
    assert CN.add(start, timedelta(hours=hours)) == expected, why


def test_elapsed_business_hours_china() -> None:
    assert CN.elapsed(sh(2026, 11, 27, 17), sh(2026, 11, 30, 10)) == 2 * H  # Fri 1h + Mon 1h
    # Whole 国庆 week: only 30 Sep (7.5 h) counts between Wed 09:00 and Thu 8 Oct 09:00.
    assert CN.elapsed(sh(2026, 9, 30, 9), sh(2026, 10, 8, 9)) == 7.5 * H
    assert CN.elapsed(sh(2026, 11, 30, 12), sh(2026, 11, 30, 13, 30)) == timedelta(0)
    assert CN.elapsed(sh(2026, 11, 30, 15), sh(2026, 11, 30, 10)) == timedelta(0)


def test_us_zone_across_spring_forward() -> None:
    # DST starts Sun 8 Mar 2026 in New York (EST −5 → EDT −4).
    start = datetime(2026, 3, 6, 16, tzinfo=NY)  # Fri 16:00 EST = 21:00 UTC
    due = US.add(start, 2 * H)  # Fri 1h, Mon 09:00–10:00 EDT
    assert due == datetime(2026, 3, 9, 10, tzinfo=NY)
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 14, tzinfo=UTC)
    # Calendar hours are real time: 24 h after Sat 12:00 EST is Sun 13:00 EDT.
    policy = SlaPolicy("cal", first_response=24 * H, resolution=48 * H, clock=Clock.CALENDAR)
    s = sla_status(
        policy, US, datetime(2026, 3, 7, 12, tzinfo=NY), now=datetime(2026, 3, 7, 13, tzinfo=NY)
    )
    assert s.first_response.deadline == datetime(2026, 3, 8, 13, tzinfo=NY)


def test_round_the_clock_window_has_true_length_on_dst_days() -> None:
    allday = BusinessCalendar(
        "America/New_York", windows=((time(0), time(0)),), weekend=frozenset()
    )
    assert (
        allday.elapsed(datetime(2026, 3, 8, tzinfo=NY), datetime(2026, 3, 9, tzinfo=NY)) == 23 * H
    )
    assert (
        allday.elapsed(datetime(2026, 11, 1, tzinfo=NY), datetime(2026, 11, 2, tzinfo=NY)) == 25 * H
    )
    assert allday.add(datetime(2026, 3, 8, tzinfo=NY), 23 * H) == datetime(2026, 3, 9, tzinfo=NY)


def test_regulator_policy_is_stricter_and_selected_by_class() -> None:
    reg = DEFAULT_POLICIES.policy_for(Channel.REGULATOR, ComplaintClass.REGULATOR)
    ordinary = DEFAULT_POLICIES.policy_for(Channel.HOTLINE, ComplaintClass.ORDINARY)
    assert reg.first_response < ordinary.first_response
    assert reg.resolution < ordinary.resolution
    assert (
        DEFAULT_POLICIES.policy_for(Channel.SOCIAL, ComplaintClass.ORDINARY).clock is Clock.CALENDAR
    )


def test_sla_states_and_escalation_for_regulator_complaint() -> None:
    reg = DEFAULT_POLICIES.by_class[ComplaintClass.REGULATOR]  # 2 h / 24 h business, warn at 50 %
    received = sh(2026, 11, 30, 10)  # Monday
    s = sla_status(reg, CN, received, now=sh(2026, 11, 30, 11, 30))
    assert s.first_response.deadline == sh(2026, 11, 30, 12)
    assert s.first_response.warn_at == sh(2026, 11, 30, 11)
    assert s.first_response.state is LimitState.WARNING and s.escalation is Escalation.TEAM_LEAD
    assert s.first_response.remaining == 0.5 * H
    # 10–12 (2h) + 13:30–14:00 (0.5h) = 2.5h used > 2h
    s = sla_status(reg, CN, received, now=sh(2026, 11, 30, 14))
    assert s.first_response.state is LimitState.BREACHED and s.escalation is Escalation.MANAGER
    # 10–12 + 13:30–16:00 = 4.5h ≥ 2 × 2h
    s = sla_status(reg, CN, received, now=sh(2026, 11, 30, 16))
    assert s.escalation is Escalation.DIRECTOR
    # Resolution: Mon 6.5h, Tue 7.5h, Wed 7.5h = 21.5h, Thu 09:00 + 2.5h = 11:30
    assert s.resolution.deadline == sh(2026, 12, 3, 11, 30)
    s = sla_status(
        reg, CN, received, now=sh(2026, 11, 30, 16), first_response_at=sh(2026, 11, 30, 11)
    )
    assert s.first_response.state is LimitState.MET and s.escalation is Escalation.NONE
    s = sla_status(
        reg,
        CN,
        received,
        now=sh(2026, 12, 8, 9),
        first_response_at=sh(2026, 11, 30, 11),
        resolved_at=sh(2026, 12, 3, 12),
    )
    assert s.resolution.state is LimitState.MET_LATE


def test_pause_waiting_for_customer_moves_the_deadline() -> None:
    reg = DEFAULT_POLICIES.by_class[ComplaintClass.REGULATOR]
    s = sla_status(
        reg,
        CN,
        sh(2026, 11, 30, 10),
        now=sh(2026, 11, 30, 12),
        pauses=[(sh(2026, 11, 30, 10, 30), sh(2026, 11, 30, 11, 30))],
    )
    assert s.first_response.used == 1 * H
    assert s.first_response.deadline == sh(2026, 11, 30, 14, 30)  # 10–12 is 2h, then 13:30 + 1h


def test_bad_inputs_are_named() -> None:
    with pytest.raises(SlaInputError, match="timezone-aware"):
        CN.add(datetime(2026, 1, 5, 9), H)
    with pytest.raises(SlaInputError, match="first_response"):
        SlaPolicy("x", first_response=10 * H, resolution=2 * H)
    with pytest.raises(SlaInputError, match="windows"):
        BusinessCalendar(windows=((time(12), time(9)),))
    with pytest.raises(SlaInputError, match="before received"):
        sla_status(
            DEFAULT_POLICIES.default,
            CN,
            sh(2026, 11, 30, 10),
            now=sh(2026, 11, 30, 11),
            resolved_at=sh(2026, 11, 30, 9),
        )


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)).map(
    lambda d: d.replace(microsecond=0, tzinfo=SH)
)


@settings(max_examples=150, deadline=None)
@given(instants, st.integers(min_value=1, max_value=60 * 60 * 80))
def test_elapsed_inverts_add(start: datetime, seconds: int) -> None:
    d = timedelta(seconds=seconds)
    assert CN.elapsed(start, CN.add(start, d)) == d


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(instants, instants), min_size=1, max_size=20))
def test_vectorised_elapsed_matches_scalar(pairs: list[tuple[datetime, datetime]]) -> None:
    a = np.array([p[0].replace(tzinfo=None) for p in pairs], dtype="datetime64[s]")
    b = np.array([p[1].replace(tzinfo=None) for p in pairs], dtype="datetime64[s]")
    got = CN.elapsed_seconds_local(a, b)
    want = [CN.elapsed(x, y).total_seconds() for x, y in pairs]
    assert got.tolist() == want


def test_deadlines_shortcut_matches_sla_status() -> None:
    # 40 business hours from Fri 27 Nov 17:00: Fri 1h + Mon–Thu 30h + Fri 4 Dec 7.5h = 38.5h,
    # then Mon 7 Dec 09:00 + 1.5h = 10:30.
    received = sh(2026, 11, 27, 17)
    fr, res = deadlines(DEFAULT_POLICIES.default, CN, received)
    assert res == sh(2026, 12, 7, 10, 30)
    s = sla_status(DEFAULT_POLICIES.default, CN, received, now=received)
    assert (fr, res) == (s.first_response.deadline, s.resolution.deadline)
