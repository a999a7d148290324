"""The working calendar: which days are working days and which hours are working hours.

Public holidays and make-up working days (调休) come from the ``chinese-calendar`` package for
the years it knows, office overrides win over it, and a year nobody knows falls back to
Monday–Friday (``WorkingCalendar.unknown_years`` tells the office, nothing crashes). Pure
Python: the data is handed in, so the rules are tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

DEFAULT_PERIODS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))


@lru_cache(maxsize=4096)
def _package_workday(day: date) -> bool | None:
    """chinese-calendar's answer for ``day``, kept per process (every intake asks it for the
    days its deadlines span); ``None``: the package has no data for that year."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


@dataclass
class WorkingCalendar:
    tz: ZoneInfo
    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS
    overrides: Mapping[date, bool] = field(default_factory=dict)
    unknown_years: set[int] = field(default_factory=set)
    # the share of a deadline's time after which its officer is warned (the office's setting)
    warn_share: float = 0.8

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("a working calendar needs at least one working period")
        ordered = sorted(self.periods)
        for (_s1, e1), (s2, _e2) in zip(ordered, ordered[1:], strict=False):
            if s2 < e1:
                raise ValueError("working periods overlap")
        for start, end in ordered:
            if end <= start:
                raise ValueError("a working period must end after it starts")
        self.periods = tuple(ordered)

    # --- days ---------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        known = _package_workday(day)
        if known is None:
            self.unknown_years.add(day.year)
            return day.weekday() < 5
        return known

    @property
    def day_length(self) -> timedelta:
        return sum(
            (
                datetime.combine(date.min, e) - datetime.combine(date.min, s)
                for s, e in self.periods
            ),
            timedelta(),
        )

    # --- instants -----------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("aware datetimes only")
        return moment.astimezone(self.tz)

    def _periods_of(self, day: date) -> Iterable[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return ()
        return [
            (datetime.combine(day, s, tzinfo=self.tz), datetime.combine(day, e, tzinfo=self.tz))
            for s, e in self.periods
        ]

    def is_working_time(self, moment: datetime) -> bool:
        local = self._local(moment)
        return any(start <= local < end for start, end in self._periods_of(local.date()))

    def add_working_time(
        self, start: datetime, amount: timedelta, *, max_days: int = 3660
    ) -> datetime:
        """The instant when ``amount`` of working time has passed after ``start``."""
        if amount <= timedelta(0):
            return start
        local = self._local(start)
        remaining = amount
        day = local.date()
        for _ in range(max_days):
            for p_start, p_end in self._periods_of(day):
                begin = max(p_start, local)
                if begin >= p_end:
                    continue
                available = p_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("working time does not fit in the calendar horizon")

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """``days`` working days of working time (a working day is ``day_length``, not 24 h)."""
        return self.add_working_time(start, self.day_length * days)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta(0)
        a, b = self._local(start), self._local(end)
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            for p_start, p_end in self._periods_of(day):
                lo, hi = max(p_start, a), min(p_end, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total


def response_limit(
    *,
    received_at: datetime,
    calendar: WorkingCalendar,
    emergency: bool,
    in_hours: timedelta = timedelta(minutes=30),
    off_hours: timedelta = timedelta(hours=2),
) -> datetime:
    """Zhejiang notice §4(4)2: on site within 30 minutes of a report received inside working
    hours of a working day, within 2 hours otherwise (nights, weekends, holidays); an
    emergency at once. Fixed when the report is received; counted in wall-clock time."""
    if emergency:
        return received_at
    return received_at + (in_hours if calendar.is_working_time(received_at) else off_hours)


def traffic_light(
    *,
    start: datetime,
    deadline: datetime,
    now: datetime,
    calendar: WorkingCalendar | None = None,
    working: bool = False,
) -> str:
    """green up to 80 % of the time allowed, yellow to 100 %, red past it."""
    if working and calendar is not None:
        allowed = calendar.working_time_between(start, deadline)
        used = calendar.working_time_between(start, min(now, deadline))
    else:
        allowed = deadline - start
        used = now - start
    if now > deadline:
        return "red"
    if allowed <= timedelta(0):
        return "green" if now <= deadline else "red"
    share = used / allowed
    return "green" if share < 0.8 else "yellow"
