"""Reminders of the half-yearly reports (due 10 July and 10 January) and the yearly task."""

from datetime import date, datetime

import pytest

from assessment import services, tasks
from assessment.models import ScoreSheet
from assessment.tests.conftest import TZ, at
from core.models import Notification
from grids.models import Role
from grids.tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def principals(small_city):
    return {
        "lanshan": user_with_role(small_city.lanshan, Role.PRINCIPAL, username="p_lanshan"),
        "luozhuang": user_with_role(small_city.luozhuang, Role.PRINCIPAL, username="p_luozhuang"),
    }


def _notes(user):
    return list(
        Notification.objects.filter(user=user, kind="assessment").values_list(
            "dedupe_key", flat=True
        )
    )


def test_reminded_once_before_the_due_date_and_once_when_overdue(small_city, principals):
    lanshan, luozhuang = principals["lanshan"], principals["luozhuang"]
    # given 兰山区 reports on 4 July, 罗庄区 does not
    services.half_year_report_submit(
        grid=small_city.lanshan,
        year=2026,
        half=1,
        summary="总结",
        actor=lanshan,
        now=at(date(2026, 7, 4)),
    )
    # when the task runs a week before the due date, twice, then after it
    assert services.half_year_reports_remind(now=datetime(2026, 7, 5, 8, tzinfo=TZ)) == 1
    assert services.half_year_reports_remind(now=datetime(2026, 7, 6, 8, tzinfo=TZ)) == 1
    services.half_year_reports_remind(now=datetime(2026, 7, 12, 8, tzinfo=TZ))
    # then each stage reached 罗庄区's principal once, and 兰山区's never
    assert sorted(_notes(luozhuang)) == [
        f"assessment:report:{small_city.luozhuang.pk}:2026H1:overdue",
        f"assessment:report:{small_city.luozhuang.pk}:2026H1:soon",
    ]
    assert _notes(lanshan) == []
    # nothing is due in the middle of a half
    assert services.half_year_reports_remind(now=datetime(2026, 9, 15, 8, tzinfo=TZ)) == 0


def test_the_second_half_is_due_on_10_january(small_city, principals):
    services.half_year_reports_remind(now=datetime(2027, 1, 8, 8, tzinfo=TZ))
    assert _notes(principals["lanshan"]) == [
        f"assessment:report:{small_city.lanshan.pk}:2026H2:soon"
    ]


def test_a_late_report_is_kept_and_marked_late(small_city, principals):
    report = services.half_year_report_submit(
        grid=small_city.lanshan,
        year=2026,
        half=1,
        summary="总结",
        actor=principals["lanshan"],
        now=at(date(2026, 7, 15)),
    )
    assert report.due_on == date(2026, 7, 10)
    assert report.late


def test_the_yearly_task_runs_the_previous_year_until_it_is_locked(small_city, office):
    # the previous year of "today" (2026-11-22 while these tests were written, or later)
    from django.utils import timezone

    year = timezone.localdate().year - 1
    services.ruleset_install_linyi(year=year)
    assert tasks.assessment_run_previous_year() == 2
    assert ScoreSheet.objects.filter(year=year).count() == 2
    services.assessment_lock(year=year, actor=office)
    assert tasks.assessment_run_previous_year() == 0
