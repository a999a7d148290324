"""The working calendar and the response deadlines: pure rules, no database."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.calendar import WorkingCalendar, response_limit, traffic_light

TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture
def cal():
    return WorkingCalendar(tz=TZ)


def test_holidays_and_make_up_days_come_from_chinese_calendar(cal):
    assert not cal.is_working_day(date(2026, 10, 1))  # National Day
    assert cal.is_working_day(date(2026, 10, 10))  # a Saturday made a working day (调休)
    assert not cal.is_working_day(date(2026, 11, 22))  # an ordinary Sunday
    assert cal.unknown_years == set()


def test_office_overrides_win(cal):
    cal.overrides = {date(2026, 11, 23): False, date(2026, 11, 22): True}
    assert not cal.is_working_day(date(2026, 11, 23))
    assert cal.is_working_day(date(2026, 11, 22))


def test_a_year_nobody_knows_falls_back_to_monday_to_friday_and_says_so(cal):
    assert cal.is_working_day(date(2027, 1, 4))  # a Monday
    assert not cal.is_working_day(date(2027, 1, 2))  # a Saturday
    assert cal.unknown_years == {2027}
    cal.overrides = {date(2027, 1, 1): False}
    assert not cal.is_working_day(date(2027, 1, 1))


@pytest.mark.parametrize(
    "received, expected",
    [
        (at(2026, 11, 23, 9, 0), at(2026, 11, 23, 9, 30)),  # Monday morning: 30 minutes
        (at(2026, 11, 23, 12, 30), at(2026, 11, 23, 14, 30)),  # lunch break: 2 hours
        (at(2026, 11, 23, 17, 45), at(2026, 11, 23, 19, 45)),  # evening: 2 hours
        (at(2026, 11, 22, 10, 0), at(2026, 11, 22, 12, 0)),  # Sunday: 2 hours
        (at(2026, 10, 1, 10, 0), at(2026, 10, 1, 12, 0)),  # National Day: 2 hours
        (at(2026, 10, 10, 10, 0), at(2026, 10, 10, 10, 30)),  # make-up Saturday: 30 minutes
        (at(2026, 11, 23, 17, 29), at(2026, 11, 23, 17, 59)),  # a minute before closing
        (at(2026, 11, 23, 17, 30), at(2026, 11, 23, 19, 30)),  # at closing time
    ],
)
def test_response_deadline_is_fixed_at_intake(cal, received, expected):
    assert response_limit(received_at=received, calendar=cal, emergency=False) == expected


def test_an_emergency_is_due_at_once(cal):
    moment = at(2026, 11, 22, 3, 0)
    assert response_limit(received_at=moment, calendar=cal, emergency=True) == moment


def test_working_days_count_working_time_not_24_hours(cal):
    assert cal.day_length == timedelta(hours=7, minutes=30)
    # Friday 16:00 + 1 working day → Monday 16:00 (1.5 h Friday, 3.5 + 2.5 h Monday)
    assert cal.add_working_days(at(2026, 11, 20, 16, 0), 1) == at(2026, 11, 23, 16, 0)
    # received on a Sunday: the clock starts Monday 08:30
    assert cal.add_working_days(at(2026, 11, 22, 10, 0), 1) == at(2026, 11, 23, 17, 30)
    # across the National Day week: Sep 30 (Wed) + 2 working days ends on Oct 8
    assert cal.add_working_days(at(2026, 9, 30, 8, 30), 2) == at(2026, 10, 8, 17, 30)


def test_working_time_between(cal):
    assert cal.working_time_between(at(2026, 11, 20, 16, 0), at(2026, 11, 23, 9, 0)) == timedelta(
        hours=2
    )
    assert cal.working_time_between(at(2026, 11, 23, 9, 0), at(2026, 11, 23, 8, 0)) == timedelta(0)


def test_configured_periods_are_checked():
    with pytest.raises(ValueError, match="overlap"):
        WorkingCalendar(tz=TZ, periods=((time(8), time(12)), (time(11), time(17))))
    with pytest.raises(ValueError, match="end after"):
        WorkingCalendar(tz=TZ, periods=((time(12), time(8)),))
    with pytest.raises(ValueError, match="aware"):
        WorkingCalendar(tz=TZ).is_working_time(datetime(2026, 1, 5, 9))


@pytest.mark.parametrize(
    "minutes, light",
    [(0, "green"), (23, "green"), (24, "yellow"), (30, "yellow"), (31, "red")],
)
def test_traffic_light(minutes, light):
    start = at(2026, 11, 23, 9, 0)
    deadline = start + timedelta(minutes=30)
    assert (
        traffic_light(start=start, deadline=deadline, now=start + timedelta(minutes=minutes))
        == light
    )


def test_traffic_light_in_working_time(cal):
    start = at(2026, 11, 20, 16, 0)  # Friday
    deadline = cal.add_working_days(start, 1)  # Monday 16:00, 7.5 working hours
    # Saturday: only 1.5 h of 7.5 used → green, though most wall-clock time has passed
    assert (
        traffic_light(
            start=start, deadline=deadline, now=at(2026, 11, 22, 23, 0), calendar=cal, working=True
        )
        == "green"
    )
    assert (
        traffic_light(
            start=start, deadline=deadline, now=at(2026, 11, 23, 14, 30), calendar=cal, working=True
        )
        == "yellow"
    )
    assert (
        traffic_light(
            start=start, deadline=deadline, now=at(2026, 11, 23, 16, 1), calendar=cal, working=True
        )
        == "red"
    )
