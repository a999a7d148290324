"""Patrol frequency by control tier (Zhejiang notice §4(4)1) and the alarms it raises."""

from datetime import date, timedelta

import pytest

from core.models import Notification
from grids.models import Role
from grids.tests.conftest import user_with_role
from inspections import services
from inspections.models import Patrol, PatrolAlarm, PatrolPolicy, PollutionSource
from inspections.tests.conftest import at

pytestmark = pytest.mark.usefixtures("english")
DAY0 = date(2026, 3, 2)


def patrol(source, officer, day, now=None, **kw):
    kw.setdefault("kind", Patrol.Kind.PATROL)
    kw.setdefault("outcome", Patrol.Outcome.COMPLIANT)
    return services.patrol_record(
        source=source,
        data=services.PatrolInput(
            patrolled_at=at(day), officers=[officer], lat=34.5, lng=117.2, **kw
        ),
        actor=officer,
        now=now or at(day, 18),
    )


def sweep(day, hour=9):
    return services.patrol_alarms_sweep(now=at(day, hour))


@pytest.mark.parametrize(
    "tier, extra, days",
    [
        ("national", {}, 14),
        ("provincial", {}, 14),
        ("other", {"safety_key": True}, 14),
        ("municipal", {}, 30),
        ("county", {}, 30),
        ("other", {}, 60),
    ],
)
def test_each_tier_is_due_on_its_last_day_and_overdue_the_day_after(
    make_source, officer, tier, extra, days
):
    # given a source patrolled on day 0
    source = make_source(tier=tier, **extra)
    patrol(source, officer, DAY0)
    source.refresh_from_db()
    assert source.patrol_interval_days == days
    assert source.next_patrol_due == DAY0 + timedelta(days=days)
    # when the sweep runs on the due day, nothing is raised
    assert sweep(DAY0 + timedelta(days=days)).raised == 0
    # and on the next day, one alarm for that period
    assert sweep(DAY0 + timedelta(days=days + 1)).raised == 1
    alarm = PatrolAlarm.objects.get(source=source)
    assert (alarm.kind, alarm.due_on, alarm.status) == (
        "on_site",
        DAY0 + timedelta(days=days),
        "open",
    )


def test_online_monitored_source_is_checked_online_every_day(make_source, officer):
    source = make_source(tier="municipal", online_monitoring=True)
    patrol(source, officer, DAY0, kind=Patrol.Kind.ONLINE_CHECK)
    source.refresh_from_db()
    assert source.next_online_check_due == DAY0 + timedelta(days=1)
    assert source.next_patrol_due == date(2026, 1, 31)  # the on-site schedule runs separately
    assert sweep(DAY0 + timedelta(days=1)).raised == 1  # the on-site one, already late
    assert sweep(DAY0 + timedelta(days=2)).raised == 1  # now the online check too
    assert set(PatrolAlarm.objects.values_list("kind", flat=True)) == {"on_site", "online"}


def test_a_new_source_is_due_one_interval_after_its_confirmation(make_source):
    source = make_source(tier="national", confirmed_on=DAY0)
    assert source.last_patrol_at is None
    assert source.next_patrol_due == DAY0 + timedelta(days=14)


def test_a_violation_halves_the_interval_for_ninety_days(make_source, officer):
    source = make_source(tier="national")
    patrol(source, officer, DAY0, outcome=Patrol.Outcome.CASE_OPENED, case_category="wastewater")
    source.refresh_from_db()
    assert source.tightened_until == DAY0 + timedelta(days=90)
    assert source.patrol_interval_days == 7
    assert source.next_patrol_due == DAY0 + timedelta(days=7)
    # a patrol inside the window keeps the tighter interval …
    patrol(source, officer, DAY0 + timedelta(days=85))
    source.refresh_from_db()
    assert source.patrol_interval_days == 7
    # … one after it returns to the tier's
    patrol(source, officer, DAY0 + timedelta(days=91))
    source.refresh_from_db()
    assert source.patrol_interval_days == 14


def test_a_complaint_tightens_too_and_the_numbers_are_the_office_s(make_source, officer):
    PatrolPolicy.objects.update(tighten_ratio="0.25", tighten_days=30)
    source = make_source(tier="other")
    patrol(source, officer, DAY0)
    services.source_tighten(source=source, on=DAY0, reason="complaint")
    source.refresh_from_db()
    assert source.patrol_interval_days == 15
    assert source.tightened_until == DAY0 + timedelta(days=30)


def test_a_written_notice_makes_a_follow_up_due_by_its_deadline(make_source, officer):
    source = make_source(tier="other")
    patrol(
        source,
        officer,
        DAY0,
        outcome=Patrol.Outcome.NOTICE_ISSUED,
        rectification_deadline=DAY0 + timedelta(days=5),
    )
    source.refresh_from_db()
    assert source.follow_up_due == DAY0 + timedelta(days=5)
    assert source.next_patrol_due == DAY0 + timedelta(days=5)
    patrol(source, officer, DAY0 + timedelta(days=5))
    source.refresh_from_db()
    assert source.follow_up_due is None
    assert source.next_patrol_due == DAY0 + timedelta(days=5 + 30)  # tightened: 60 → 30


def test_the_sweep_twice_raises_once_and_notifies_once(make_source, officer):
    source = make_source(tier="national")
    patrol(source, officer, DAY0)
    late = DAY0 + timedelta(days=20)
    first = sweep(late, 9)
    second = sweep(late, 10)
    third = sweep(late + timedelta(days=1), 9)
    assert (first.raised, second.raised, third.raised) == (1, 0, 0)
    assert PatrolAlarm.objects.count() == 1
    # the direct responsible officer of the nearest grid above the source is told, once
    notes = Notification.objects.filter(kind="patrol_alarm")
    assert [(n.user.username, n.title) for n in notes] == [
        ("officer1", f"Patrol overdue: {source.name}")
    ]
    assert first.notified == 1 and second.notified == 0


def test_the_nearest_direct_responsible_officer_is_told(make_source, officer, small_city):
    source = make_source(tier="national")
    county_officer = user_with_role(small_city.lanshan, Role.DIRECT_RESPONSIBLE, username="county1")
    village_officer = user_with_role(
        small_city.village_a, Role.DIRECT_RESPONSIBLE, username="village1"
    )
    patrol(source, officer, DAY0)
    sweep(DAY0 + timedelta(days=20))
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {"village1"}
    assert county_officer.notifications.count() == 0 and village_officer.notifications.count() == 1


def test_an_alarm_escalates_to_the_principal_after_the_configured_days(
    make_source, officer, small_city
):
    principal = user_with_role(small_city.lanshan_street, Role.PRINCIPAL, username="principal1")
    source = make_source(tier="national")
    patrol(source, officer, DAY0)
    late = DAY0 + timedelta(days=15)
    sweep(late)
    assert sweep(late + timedelta(days=2)).escalated == 0
    result = sweep(late + timedelta(days=3))
    assert result.escalated == 1
    alarm = PatrolAlarm.objects.get()
    assert alarm.level == "principal"
    assert principal.notifications.filter(kind="patrol_alarm").count() == 1
    sweep(late + timedelta(days=4))
    assert principal.notifications.count() == 1
    assert PatrolAlarm.objects.count() == 1


def test_a_patrol_clears_the_alarm_and_closing_a_source_clears_it_too(make_source, officer):
    source = make_source(tier="national")
    patrol(source, officer, DAY0)
    late = DAY0 + timedelta(days=20)
    sweep(late)
    answer = patrol(source, officer, late)
    alarm = PatrolAlarm.objects.get()
    assert (alarm.status, alarm.cleared_by) == ("cleared", answer)
    assert sweep(late + timedelta(days=1)).raised == 0

    other = make_source(tier="national", name="另一家")
    sweep(late)
    assert PatrolAlarm.objects.filter(source=other, status="open").count() == 1
    services.source_close(source=other, actor=officer, on=late, reason="停产")
    assert PatrolAlarm.objects.filter(source=other, status="open").count() == 0
    other.refresh_from_db()
    assert other.status == "closed" and other.next_patrol_due is None


def test_a_backdated_patrol_that_leaves_the_source_late_keeps_the_alarm(make_source, officer):
    source = make_source(tier="national")
    late = DAY0 + timedelta(days=40)
    sweep(late)
    patrol(source, officer, DAY0, now=at(late, 12))  # logged late, still more than 14 days ago
    assert PatrolAlarm.objects.filter(status="open").count() == 1


def test_policy_change_reschedules_every_source_in_one_update(
    make_source, officer, django_assert_num_queries
):
    sources = [make_source(tier="municipal", name=f"s{i}") for i in range(5)]
    PatrolPolicy.objects.update(municipal_days=20)
    with django_assert_num_queries(3):  # policy, inactive reset, active update
        services.source_schedule_refresh()
    assert set(PollutionSource.objects.values_list("patrol_interval_days", flat=True)) == {20}
    assert len(sources) == 5
