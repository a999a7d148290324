"""The deadline sweep on more than one case at a time: a backlog, retries, deadlines set again,
and cases someone is acting on."""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from cases import deadlines, services
from cases.models import Case, CaseBreach, CaseTimer
from core.models import Notification
from grids import services as grid_services
from grids.models import Role
from grids.tests.conftest import user_with_role

pytestmark = pytest.mark.usefixtures("english")
TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def intake(crew, reported_at, channel="complaint"):
    case, _ = services.case_create(
        data=services.CaseInput(
            channel=channel,
            category="dust",
            description="x",
            grid="371302001001",
            reported_at=reported_at,
        ),
        actor=crew.platform,
        now=reported_at + timedelta(minutes=1),
    )
    return case


def dispatched(crew, reported_at):
    """An inspector's report (no response deadline) filed and dispatched to the environment
    department at once: its handling deadline is three working days later."""
    case = intake(crew, reported_at, channel="inspector")
    services.case_transition(case=case, action="file", actor=crew.dispatcher, now=reported_at)
    services.case_transition(
        case=case,
        action="dispatch",
        actor=crew.dispatcher,
        now=reported_at,
        data=services.ActionInput(department="371302.environment"),
    )
    case.refresh_from_db()
    return case


def deadline_notes(user):
    return list(user.notifications.filter(kind="case_deadline").order_by("id"))


def test_a_backlog_is_recorded_in_full_but_each_person_gets_one_message_listing_the_cases(
    small_city, crew
):
    # given three cases due on site at 10:30 and nobody swept until 10:45
    officer = user_with_role(
        small_city.lanshan_street, Role.DIRECT_RESPONSIBLE, username="officer1"
    )
    cases = [intake(crew, at(2026, 11, 23, 10, 0)) for _ in range(3)]
    # when
    result = deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 45))
    # then every warning and breach is recorded and every deadline marked missed
    assert (result.fired, result.breaches, result.notified) == (6, 6, 1)
    assert CaseBreach.objects.filter(case__in=cases).count() == 6
    assert set(CaseBreach.objects.values_list("level", flat=True)) == {"warning", "breach"}
    assert not Case.objects.filter(pk__in=[c.pk for c in cases]).exclude(response_met=False)
    # the fired timers are gone; the principal's and the leader's wait
    assert set(CaseTimer.objects.values_list("level", flat=True)) == {"principal", "leader"}
    # and the officer hears once, of the breaches only, with the cases listed
    (note,) = deadline_notes(officer)
    assert note.title == "Deadlines passed: 3 cases"
    assert sorted(note.body.splitlines()) == sorted(f"{c.number} (On-site response)" for c in cases)
    assert note.url == "/cases/?overdue=on"
    assert note.dedupe_key.startswith("case_timers:breach:")


def test_one_case_gets_a_message_naming_it_and_linking_to_it(small_city, crew):
    officer = user_with_role(
        small_city.lanshan_street, Role.DIRECT_RESPONSIBLE, username="officer1"
    )
    case = intake(crew, at(2026, 11, 23, 10, 0))
    deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 25))
    (note,) = deadline_notes(officer)
    assert note.title == f"Deadline near (80 percent of the time used): {case.number}"
    assert note.url == f"/cases/{case.pk}/" and note.body == ""


def test_the_lead_department_hears_of_its_handling_deadlines(small_city, crew):
    # dust: three working days from Friday 16:00 → Wednesday 16:00
    first = dispatched(crew, at(2026, 11, 20, 16, 0))
    second = dispatched(crew, at(2026, 11, 20, 16, 0))
    result = deadlines.case_deadlines_sweep(now=at(2026, 11, 25, 16, 30))
    assert result.breaches == 4
    (note,) = deadline_notes(crew.env_handler)
    assert note.title == "Deadlines passed: 2 cases"
    assert sorted(note.body.splitlines()) == sorted(
        f"{c.number} (Handling)" for c in (first, second)
    )
    assert deadline_notes(crew.housing_handler) == []
    assert set(Case.objects.values_list("handling_met", flat=True)) == {False}


def test_a_person_who_is_both_the_grid_officer_and_in_the_department_hears_each_case_once(
    small_city, crew
):
    # given the lead department's handler is also the direct responsible of the cases' grid
    grid_services.grid_role_assign(
        grid=small_city.lanshan_street,
        user=crew.env_handler,
        role=Role.DIRECT_RESPONSIBLE,
        starts_on=date(2024, 1, 1),
    )
    first = dispatched(crew, at(2026, 11, 20, 16, 0))
    second = dispatched(crew, at(2026, 11, 20, 16, 0))
    # when both handling deadlines pass
    deadlines.case_deadlines_sweep(now=at(2026, 11, 25, 16, 30))
    # then one message lists each case once
    (note,) = deadline_notes(crew.env_handler)
    assert note.title == "Deadlines passed: 2 cases"
    assert sorted(note.body.splitlines()) == sorted(
        f"{c.number} (Handling)" for c in (first, second)
    )


def test_a_rolled_back_sweep_does_the_same_again_and_a_second_run_nothing(small_city, crew):
    user_with_role(small_city.lanshan_street, Role.DIRECT_RESPONSIBLE, username="officer1")
    for _ in range(2):
        intake(crew, at(2026, 11, 23, 10, 0))
    now = at(2026, 11, 23, 10, 45)

    def outcome():
        return (
            sorted(CaseBreach.objects.values_list("case_id", "deadline", "level")),
            sorted(
                Notification.objects.filter(kind="case_deadline").values_list(
                    "user_id", "title", "dedupe_key"
                )
            ),
        )

    # given a sweep that failed before its commit
    with transaction.atomic():
        first = deadlines.case_deadlines_sweep(now=now)
        seen = outcome()
        transaction.set_rollback(True)
    assert not CaseBreach.objects.exists() and CaseTimer.objects.count() == 8
    # when it runs again, then it does the same; and a third run finds nothing
    assert deadlines.case_deadlines_sweep(now=now) == first
    assert outcome() == seen
    assert deadlines.case_deadlines_sweep(now=now).fired == 0
    assert outcome() == seen


def test_a_deadline_set_again_keeps_the_levels_that_fired(small_city, crew):
    case = dispatched(crew, at(2026, 11, 20, 16, 0))
    deadlines.case_deadlines_sweep(now=at(2026, 11, 25, 16, 30))  # warning and breach
    until = at(2026, 12, 4, 17, 0)
    services.case_transition(
        case=case,
        action="extend",
        actor=crew.env_handler,
        now=at(2026, 11, 25, 16, 45),
        data=services.ActionInput(reason="需第三方检测", until=until),
    )
    services.case_transition(
        case=case, action="approve_extension", actor=crew.dispatcher, now=at(2026, 11, 25, 17)
    )
    timers = dict(
        CaseTimer.objects.filter(case=case, deadline="handling").values_list("level", "due_at")
    )
    assert set(timers) == {"principal", "leader"}
    assert timers["principal"] > until
    assert deadlines.case_deadlines_sweep(now=at(2026, 12, 4, 17, 30)).breaches == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sweep_leaves_a_case_someone_is_acting_on_for_the_next_run(small_city, crew):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks")
    held, free = intake(crew, at(2026, 11, 23, 10, 0)), intake(crew, at(2026, 11, 23, 10, 0))
    locked, release = threading.Event(), threading.Event()

    def act_on_held():
        # a transition holds the case's row lock (as case_transition does) for a while
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    worker = threading.Thread(target=act_on_held)
    worker.start()
    try:
        assert locked.wait(timeout=30)
        # the sweep does not wait for the lock: the held case's timers are still pending
        # when it returns, the other case's have fired
        first = deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 45))
        fired_first = set(CaseBreach.objects.values_list("case_id", flat=True))
    finally:
        release.set()
        worker.join(timeout=60)
    assert first.fired == 2 and fired_first == {free.pk}
    assert deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 46)).fired == 2
    assert set(CaseBreach.objects.values_list("case_id", flat=True)) == {free.pk, held.pk}


def test_a_timer_whose_breach_is_already_recorded_fires_once_and_the_rest_of_the_sweep_happens(
    small_city, crew
):
    # given a pending timer whose level was already recorded as a breach (a state the sweep
    # and timers_set never leave; an old row or a hand edit could), next to a clean case
    officer = user_with_role(
        small_city.lanshan_street, Role.DIRECT_RESPONSIBLE, username="officer1"
    )
    stale, clean = intake(crew, at(2026, 11, 23, 10, 0)), intake(crew, at(2026, 11, 23, 10, 0))
    timer = CaseTimer.objects.get(case=stale, deadline="response", level="breach")
    earlier = at(2026, 11, 23, 9, 0)
    CaseBreach.objects.create(
        case=stale, deadline="response", level="breach", due_at=timer.deadline_at, at=earlier
    )
    # when the sweep runs
    result = deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 45))
    # then the old record stays the only one for that level, everything else is done
    assert result.fired == 4 and result.breaches == 3
    breaches = CaseBreach.objects.filter(case=stale, deadline="response", level="breach")
    assert [b.at for b in breaches] == [earlier]
    assert CaseBreach.objects.filter(case=clean).count() == 2
    assert set(Case.objects.values_list("response_met", flat=True)) == {False}
    assert not CaseTimer.objects.filter(level__in=["warning", "breach"]).exists()
    (note,) = deadline_notes(officer)
    assert note.title == "Deadlines passed: 2 cases"
