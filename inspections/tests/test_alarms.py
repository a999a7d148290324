"""The patrol-alarm sweep's set-based SQL: who is told, catch-up, and a constant statement count."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Notification
from grids import selectors as grid_selectors
from grids.models import Role
from grids.tests.conftest import user_with_role
from inspections import services
from inspections.models import PatrolAlarm, PatrolPolicy
from inspections.tests.conftest import at

pytestmark = pytest.mark.usefixtures("english")
CONFIRMED = date(2026, 1, 1)
LATE = date(2026, 2, 1)  # a national source confirmed on CONFIRMED is overdue (14 days)


def told(kind="patrol_alarm"):
    return sorted(
        Notification.objects.filter(kind=kind).values_list("user__username", "dedupe_key")
    )


def test_everyone_on_the_nearest_grid_is_told_and_no_one_above_it(make_source, small_city):
    # given two officers on the village, one on the street above it, one whose role ended
    user_with_role(small_city.village_a, Role.DIRECT_RESPONSIBLE, username="v1")
    user_with_role(small_city.village_a, Role.DIRECT_RESPONSIBLE, username="v2")
    user_with_role(small_city.lanshan_street, Role.DIRECT_RESPONSIBLE, username="street")
    user_with_role(
        small_city.village_b, Role.DIRECT_RESPONSIBLE, username="gone", ends_on=date(2026, 1, 15)
    )
    a = make_source(tier="national", name="甲", grid=small_city.village_a)
    b = make_source(tier="national", name="乙", grid=small_city.village_b)
    # when
    result = services.patrol_alarms_sweep(now=at(LATE))
    # then: village A's two officers for A; B's officer left, so the street's officer for B
    alarm_a = PatrolAlarm.objects.get(source=a)
    alarm_b = PatrolAlarm.objects.get(source=b)
    assert told() == sorted(
        [
            ("v1", f"patrol_alarm:{alarm_a.pk}:officer"),
            ("v2", f"patrol_alarm:{alarm_a.pk}:officer"),
            ("street", f"patrol_alarm:{alarm_b.pk}:officer"),
        ]
    )
    assert (result.raised, result.notified) == (2, 3)
    assert {alarm_a.notified_level, alarm_b.notified_level} == {"officer"}


def test_an_alarm_under_no_officer_is_raised_and_tells_no_one(make_source, small_city):
    source = make_source(tier="national", grid=small_city.village_c)
    result = services.patrol_alarms_sweep(now=at(LATE))
    assert (result.raised, result.notified) == (1, 0)
    assert PatrolAlarm.objects.get(source=source).status == "open"


def test_an_online_check_alarm_only_for_monitored_sources(make_source, officer):
    monitored = make_source(tier="national", name="在线", online_monitoring=True)
    make_source(tier="national", name="离线")
    services.patrol_alarms_sweep(now=at(LATE))
    kinds = sorted(PatrolAlarm.objects.values_list("source__name", "kind"))
    assert kinds == [("在线", "on_site"), ("在线", "online"), ("离线", "on_site")]
    assert Notification.objects.filter(url=f"/sources/{monitored.pk}/").count() == 2


def test_an_alarm_not_yet_told_is_told_by_the_next_sweep(make_source, officer, small_city):
    # given an open alarm whose people were never told (as older code could leave one)
    principal = user_with_role(small_city.lanshan, Role.PRINCIPAL, username="p1")
    source = make_source(tier="national")
    services.patrol_alarms_sweep(now=at(LATE))
    Notification.objects.all().delete()
    PatrolAlarm.objects.update(notified_level="")
    # when a later sweep runs (nothing new to raise or escalate)
    result = services.patrol_alarms_sweep(now=at(LATE + timedelta(days=1)))
    # then the officer hears of it once, and it is marked told
    assert (result.raised, result.escalated, result.notified) == (0, 0, 1)
    assert told() == [("officer1", f"patrol_alarm:{PatrolAlarm.objects.get().pk}:officer")]
    assert PatrolAlarm.objects.get(source=source).notified_level == "officer"
    assert principal.notifications.count() == 0
    assert services.patrol_alarms_sweep(now=at(LATE + timedelta(days=1), 11)).notified == 0


def test_escalated_the_day_it_is_raised_tells_the_principal_only(make_source, officer, small_city):
    principal = user_with_role(small_city.lanshan, Role.PRINCIPAL, username="p1")
    PatrolPolicy.objects.update(escalate_after_days=0)
    make_source(tier="national")
    result = services.patrol_alarms_sweep(now=at(LATE))
    assert (result.raised, result.escalated, result.notified) == (1, 1, 1)
    assert principal.notifications.count() == 1 and officer.notifications.count() == 0
    assert PatrolAlarm.objects.get().notified_level == "principal"


def _sweep_statements() -> tuple[int, int]:
    PatrolAlarm.objects.all().delete()
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        result = services.patrol_alarms_sweep(now=at(LATE))
    return result.raised, len(queries.captured_queries)


def test_the_sweep_sends_as_many_statements_for_many_sources_as_for_one(make_source, officer):
    make_source(tier="national", name="s0")
    raised_one, statements_one = _sweep_statements()
    for i in range(1, 6):
        make_source(tier="national", name=f"s{i}")
    raised_six, statements_six = _sweep_statements()
    assert (raised_one, raised_six) == (1, 6)
    assert statements_one == statements_six


def test_nearest_role_holders_rows_rejects_what_it_would_inline():
    for bad in ({"role": "nobody"}, {"key": "id; DROP"}, {"columns": ["a b"]}):
        kwargs = {
            "rows": "t",
            "key": "id",
            "grid_id": "grid_id",
            "columns": ["id"],
            "role": Role.PRINCIPAL,
            "on": date(2026, 1, 1),
        } | bad
        with pytest.raises(ValueError):
            grid_selectors.nearest_role_holders_rows(**kwargs)
