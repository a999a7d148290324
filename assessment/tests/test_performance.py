"""Step 8: the figures of a period counted by hand, the lock that freezes them and marks the
period's evaluated cases ``assessed`` through the workflow service."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import performance
from assessment.models import PerformanceFigure
from assessment.tests.conftest import at, late_case
from cases.models import Case, CaseAssignment, CaseBreach, CaseEvent
from core.errors import Conflict, DomainError, Forbidden

pytestmark = pytest.mark.django_db

JAN = date(2026, 1, 1)


def _cases(small_city, crew):
    """Five cases reported in January 2026 in 兰山区 (env leads four, housing one)."""

    def make(day, **kw):
        defaults = {
            "grid": small_city.village_a,
            "department": crew.env,
            "creator": crew.inspector,
            "due": at(date(2026, 1, day)) + timedelta(days=5),
            "fed_back": None,
            "handling_met": None,
            "status": Case.Status.HANDLING,
        }
        defaults.update(kw)
        return late_case(**defaults)

    evaluated_on_time = make(
        5,
        status=Case.Status.EVALUATED,
        handling_met=True,
        dispatch_met=True,
        verify_met=True,
        fed_back=at(date(2026, 1, 8)),
    )
    evaluated_late = make(
        6,
        status=Case.Status.EVALUATED,
        handling_met=False,
        dispatch_met=False,
        verify_met=True,
        rework_count=1,
        fed_back=at(date(2026, 1, 15)),
    )
    open_case = make(7, dispatch_met=True)
    housing = make(8, department=crew.housing, grid=small_city.yinqueshan, dispatch_met=True)
    returned = make(9, department=None, status=Case.Status.FILED, return_count=1)
    # the return: env was the lead when the case came back
    CaseAssignment.objects.create(
        case=returned,
        department=crew.env,
        role="lead",
        assigned_at=at(date(2026, 1, 9), 11),
        active=False,
    )
    CaseEvent.objects.create(
        case=returned,
        seq=2,
        action="return",
        from_status="dispatched",
        to_status="filed",
        actor=crew.env_handler,
        at=at(date(2026, 1, 9), 15),
    )
    for case in (evaluated_on_time, evaluated_late):
        CaseEvent.objects.create(
            case=case,
            seq=2,
            action="verify",
            from_status="fed_back",
            to_status="verified",
            actor=crew.supervisor,
            at=at(date(2026, 1, 16)),
        )
    # a case of February does not belong to the January period
    make(28, reported_at=at(date(2026, 2, 2)), status=Case.Status.EVALUATED)
    return evaluated_on_time, evaluated_late, open_case, housing, returned


def _figure(period, **kw):
    return PerformanceFigure.objects.get(period=period, **kw)


def test_a_month_counted_by_hand(small_city, crew, office):
    _cases(small_city, crew)
    period = performance.performance_period_compute(kind="month", starts_on=JAN, actor=office)
    assert period.ends_on == date(2026, 1, 31)

    env = _figure(period, subject="department", department=crew.env)
    # env leads three of the January cases (the returned one has no lead now)
    assert (env.cases, env.dispatched, env.dispatched_on_time) == (3, 3, 2)
    assert (env.handled, env.handled_on_time) == (2, 1)
    assert (env.closed, env.fed_back, env.reworked) == (2, 2, 1)
    assert env.returns == 1  # the return it made, though the case is no longer its own
    housing = _figure(period, subject="department", department=crew.housing)
    assert (housing.cases, housing.closed, housing.returns) == (1, 0, 0)

    county = _figure(period, subject="grid", grid=small_city.lanshan)
    assert (county.cases, county.closed, county.returns) == (5, 2, 1)
    street = _figure(period, subject="grid", grid=small_city.lanshan_street)
    assert street.cases == 4  # 银雀山街道's case is not 兰山街道's
    city = _figure(period, subject="grid", grid=small_city.city)
    assert city.cases == 5
    assert not PerformanceFigure.objects.filter(period=period, grid=small_city.luozhuang).exists()

    inspector = _figure(period, subject="inspector", user=crew.inspector)
    assert inspector.reported == 5
    supervisor = _figure(period, subject="inspector", user=crew.supervisor)
    assert (supervisor.verified, supervisor.verified_on_time) == (2, 2)


def test_a_deadline_the_sweep_recorded_as_passed_counts_as_a_known_late_outcome(
    small_city, crew, office
):
    # given the open case's handling deadline passed unmet: the sweep recorded its breach
    _evaluated_on_time, _evaluated_late, open_case, _housing, _returned = _cases(small_city, crew)
    CaseBreach.objects.create(
        case=open_case,
        deadline="handling",
        level="breach",
        due_at=open_case.handling_deadline,
        at=open_case.handling_deadline + timedelta(minutes=1),
    )
    # when
    period = performance.performance_period_compute(kind="month", starts_on=JAN, actor=office)
    # then its handling outcome is known, and late; its dispatch outcome is as before
    env = _figure(period, subject="department", department=crew.env)
    assert (env.handled, env.handled_on_time) == (3, 1)
    assert (env.dispatched, env.dispatched_on_time) == (3, 2)


def test_figures_take_constant_queries(small_city, crew, office):
    _cases(small_city, crew)
    performance.performance_period_compute(kind="month", starts_on=JAN, actor=office)
    with CaptureQueriesContext(connection) as few:
        performance.performance_period_compute(kind="month", starts_on=JAN, actor=office)
    for day in range(1, 29):
        late_case(
            grid=small_city.village_b,
            department=crew.housing,
            creator=crew.inspector,
            due=at(date(2026, 1, day)) + timedelta(days=3),
            fed_back=None,
            handling_met=None,
            status=Case.Status.HANDLING,
        )
    with CaptureQueriesContext(connection) as many:
        performance.performance_period_compute(kind="month", starts_on=JAN, actor=office)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_locking_freezes_the_figures_and_assesses_the_evaluated_cases(small_city, crew, office):
    on_time, late, open_case, _housing, _returned = _cases(small_city, crew)
    period = performance.performance_period_compute(kind="month", starts_on=JAN, actor=office)
    period = performance.performance_period_lock(period=period, actor=office)
    assert period.locked_at is not None

    assessed = performance.performance_cases_assess(period=period)
    assert assessed == 2
    for case in (on_time, late):
        case.refresh_from_db()
        assert case.status == "assessed"
        event = case.events.order_by("-seq").first()
        assert (event.action, event.from_status, event.to_status, event.actor) == (
            "assess",
            "evaluated",
            "assessed",
            None,
        )
    open_case.refresh_from_db()
    assert open_case.status == "handling"
    february = Case.objects.get(reported_at__month=2)
    assert february.status == "evaluated"  # not in the period
    # a second run changes nothing more
    assert performance.performance_cases_assess(period=period) == 0
    period.refresh_from_db()
    assert period.cases_assessed == 2
    # a locked period never changes
    frozen = list(PerformanceFigure.objects.filter(period=period).values_list("pk", "cases"))
    with pytest.raises(Conflict):
        performance.performance_period_compute(kind="month", starts_on=JAN, actor=office)
    with pytest.raises(Conflict):
        performance.performance_period_lock(period=period, actor=office)
    assert (
        list(PerformanceFigure.objects.filter(period=period).values_list("pk", "cases")) == frozen
    )


def test_periods_are_aligned_and_locked_only_when_over(office, small_city):
    with pytest.raises(DomainError):
        performance.performance_period_compute(
            kind="month", starts_on=date(2026, 1, 2), actor=office
        )
    with pytest.raises(DomainError):
        performance.performance_period_compute(
            kind="quarter", starts_on=date(2026, 2, 1), actor=office
        )
    with pytest.raises(DomainError):
        performance.performance_period_compute(kind="week", starts_on=JAN, actor=office)
    with pytest.raises(DomainError):
        performance.performance_period_compute(
            kind="year", starts_on=date(2099, 1, 1), actor=office
        )
    quarter = performance.performance_period_compute(
        kind="quarter", starts_on=date(2026, 4, 1), actor=office
    )
    assert quarter.ends_on == date(2026, 6, 30)
    year = performance.performance_period_compute(kind="year", starts_on=JAN, actor=office)
    with pytest.raises(DomainError):
        performance.performance_period_lock(
            period=year, actor=office, now=datetime(2026, 12, 31, 12, tzinfo=at(JAN).tzinfo)
        )


def test_only_the_office_computes_and_locks(small_city, crew):
    with pytest.raises(Forbidden):
        performance.performance_period_compute(kind="month", starts_on=JAN, actor=crew.principal)
