"""Deadlines with real calendar dates, the enforcement sweep and the traffic lights."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases import deadlines, services
from cases.models import Case, CaseBreach, CaseTimer
from core.models import Notification
from grids.models import Role
from grids.tests.conftest import user_with_role

pytestmark = pytest.mark.usefixtures("english")
TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def intake(crew, reported_at, channel="complaint", category="dust"):
    case, _ = services.case_create(
        data=services.CaseInput(
            channel=channel,
            category=category,
            description="x",
            grid="371302001001",
            reported_at=reported_at,
        ),
        actor=crew.platform,
        now=reported_at + timedelta(minutes=1),
    )
    return case


@pytest.mark.parametrize(
    "reported, minutes",
    [
        (at(2026, 11, 23, 10, 0), 30),  # a working day at 10:00
        (at(2026, 11, 23, 23, 0), 120),  # the same day at 23:00
        (at(2026, 11, 21, 10, 0), 120),  # a Saturday
        (at(2026, 10, 10, 10, 0), 30),  # a make-up working Saturday
        (at(2026, 10, 6, 10, 0), 120),  # a weekday inside the National Day holiday
        (at(2027, 3, 3, 10, 0), 30),  # a 2027 Wednesday: no calendar data, Monday–Friday assumed
    ],
)
def test_response_deadline_on_real_dates(small_city, crew, reported, minutes):
    case = intake(crew, reported)
    assert case.response_deadline == reported + timedelta(minutes=minutes)


def test_a_year_without_calendar_data_warns_the_office_once(small_city, crew):
    office = user_with_role(small_city.city, Role.OFFICE, username="office1")
    intake(crew, at(2027, 3, 3, 10, 0))
    intake(crew, at(2027, 3, 4, 10, 0))
    notes = Notification.objects.filter(user=office, kind="calendar")
    assert notes.count() == 1
    assert "2027" in notes.get().title


def test_an_office_override_for_2027_is_used(small_city, crew):
    from cases.models import CalendarDay

    CalendarDay.objects.create(
        day=datetime(2027, 3, 3).date(), is_working_day=False, note="local holiday"
    )
    case = intake(crew, at(2027, 3, 3, 10, 0))
    assert case.response_deadline == at(2027, 3, 3, 12, 0)


def test_an_inspector_report_has_no_response_deadline_but_an_emergency_is_due_at_once(
    small_city, crew
):
    assert intake(crew, at(2026, 11, 23, 10), channel="inspector").response_deadline is None
    urgent = intake(crew, at(2026, 11, 22, 3), channel="inspector", category="emergency")
    assert urgent.emergency and urgent.response_deadline == at(2026, 11, 22, 3)


def test_handling_deadline_counts_working_days_and_suspension_does_not_count(small_city, crew):
    case = intake(crew, at(2026, 11, 20, 9))
    services.case_transition(
        case=case, action="file", actor=crew.dispatcher, now=at(2026, 11, 20, 9, 30)
    )
    services.case_transition(
        case=case,
        action="dispatch",
        actor=crew.dispatcher,
        now=at(2026, 11, 20, 16, 0),
        data=services.ActionInput(department="371302.environment"),
    )
    case.refresh_from_db()
    # dust: 3 working days from Friday 16:00 → Wednesday 16:00 (1.5 + 7.5 + 7.5 + 6 h)
    assert case.handling_deadline == at(2026, 11, 25, 16, 0)
    assert case.dispatch_met is False  # filed 09:30, 2 working hours to dispatch, dispatched 16:00
    services.case_transition(
        case=case, action="accept", actor=crew.env_handler, now=at(2026, 11, 23, 9)
    )
    services.case_transition(
        case=case,
        action="suspend",
        actor=crew.dispatcher,
        now=at(2026, 11, 23, 10),
        data=services.ActionInput(reason="等待监测结果"),
    )
    services.case_transition(
        case=case, action="resume", actor=crew.dispatcher, now=at(2026, 11, 24, 10)
    )
    case.refresh_from_db()
    # suspended one working day (7.5 h): the deadline moves to Thursday 16:00
    assert case.handling_deadline == at(2026, 11, 26, 16, 0)
    assert case.suspended_seconds == 24 * 3600


def test_extension_is_asked_for_and_granted(small_city, crew):
    case = intake(crew, at(2026, 11, 23, 9))
    services.case_transition(
        case=case, action="file", actor=crew.dispatcher, now=at(2026, 11, 23, 9, 5)
    )
    services.case_transition(
        case=case,
        action="dispatch",
        actor=crew.dispatcher,
        now=at(2026, 11, 23, 9, 10),
        data=services.ActionInput(department="371302.environment"),
    )
    until = at(2026, 12, 4, 17, 0)
    services.case_transition(
        case=case,
        action="extend",
        actor=crew.env_handler,
        now=at(2026, 11, 24, 9),
        data=services.ActionInput(reason="需第三方检测", until=until),
    )
    case.refresh_from_db()
    assert case.handling_deadline != until and case.extension_until == until
    services.case_transition(
        case=case, action="approve_extension", actor=crew.dispatcher, now=at(2026, 11, 24, 10)
    )
    case.refresh_from_db()
    assert case.handling_deadline == until and case.extension_count == 1


def test_the_sweep_warns_marks_and_escalates_once(small_city, crew):
    officer = user_with_role(
        small_city.lanshan_street, Role.DIRECT_RESPONSIBLE, username="officer1"
    )
    leader = user_with_role(small_city.lanshan, Role.LEADER, username="leader1")
    case = intake(crew, at(2026, 11, 23, 10, 0))  # due on site 10:30
    assert deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 20)).fired == 0
    warned = deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 25))  # 80 % = 10:24
    # the warning is sent, not recorded as a breach
    assert (warned.fired, warned.breaches, warned.notified) == (1, 0, 1)
    breached = deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 31))
    assert breached.breaches == 1
    # the passed deadline is marked on the case by its breach row
    assert case.breaches.filter(deadline="response", level="breach").exists()
    again = deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 32))
    assert again.fired == 0
    deadlines.case_deadlines_sweep(now=at(2026, 11, 24, 11, 0))  # +1 working day: principal
    deadlines.case_deadlines_sweep(now=at(2026, 11, 27, 11, 0))  # +3 working days: leader
    levels = list(
        CaseBreach.objects.filter(case=case).order_by("at").values_list("level", flat=True)
    )
    assert levels == ["breach", "principal", "leader"]
    assert officer.notifications.filter(kind="case_deadline").count() == 2  # warning and breach
    assert crew.principal.notifications.filter(kind="case_deadline").count() == 1
    assert leader.notifications.filter(kind="case_deadline").count() == 1
    # the workflow was never blocked, and a late arrival does not undo the missed deadline
    services.case_transition(
        case=case, action="file", actor=crew.dispatcher, now=at(2026, 11, 27, 11, 5)
    )
    services.case_transition(
        case=case,
        action="dispatch",
        actor=crew.dispatcher,
        now=at(2026, 11, 27, 11, 6),
        data=services.ActionInput(department="371302.environment"),
    )
    services.case_transition(
        case=case,
        action="arrive",
        actor=officer,
        now=at(2026, 11, 27, 12),
        data=services.ActionInput(arrived_at=at(2026, 11, 27, 11, 30), lat=34.5, lng=117.25),
    )
    case.refresh_from_db()
    assert case.response_met is False and case.arrived_at == at(2026, 11, 27, 11, 30)


def test_arrival_in_time_stops_the_response_timers(small_city, crew):
    officer = user_with_role(
        small_city.lanshan_street, Role.DIRECT_RESPONSIBLE, username="officer1"
    )
    case = intake(crew, at(2026, 11, 23, 10, 0))
    services.case_transition(
        case=case, action="file", actor=crew.dispatcher, now=at(2026, 11, 23, 10, 5)
    )
    services.case_transition(
        case=case,
        action="dispatch",
        actor=crew.dispatcher,
        now=at(2026, 11, 23, 10, 6),
        data=services.ActionInput(department="371302.environment"),
    )
    services.case_transition(
        case=case,
        action="arrive",
        actor=officer,
        now=at(2026, 11, 23, 10, 28),
        data=services.ActionInput(arrived_at=at(2026, 11, 23, 10, 27), lat=34.5, lng=117.25),
    )
    assert not CaseTimer.objects.filter(
        case=case, deadline="response", fired_at__isnull=True
    ).exists()
    deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 11, 0))
    assert not CaseBreach.objects.filter(case=case, deadline="response").exists()
    assert Case.objects.get(pk=case.pk).response_met is True


def test_api_and_pages_share_the_working_time_lights(db):
    # given a case filed on Friday 2026-11-20 at 17:00 with two working hours to dispatch
    # (Friday 17:00-17:30 and Monday 08:30-10:00)
    from cases.api.serializers import _lights
    from cases.selectors import calendar_get, case_deadline_states

    case = Case(
        status="filed",
        reported_at=at(2026, 11, 20, 16, 50),
        filed_at=at(2026, 11, 20, 17, 0),
        dispatch_deadline=at(2026, 11, 23, 10, 0),
    )
    # when it is Monday 08:35: 35 minutes of 2 working hours used, 98 % of the wall clock
    now = at(2026, 11, 23, 8, 35)
    # then both the API and the page show green (working time), not yellow (wall clock)
    assert _lights(case, now) == {"dispatch": "green"}
    (state,) = case_deadline_states(case, now=now, calendar=calendar_get())
    assert state.light == "green" and state.running
    # and the warning falls at 80 % of the working time: Monday 09:36
    assert state.warn_at == at(2026, 11, 23, 9, 36)
