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
    # then every warning and breach fires and each breach is recorded: its row marks the
    # missed deadline; the case itself is not written (its outcome is settled by its arrival)
    assert (result.fired, result.breaches, result.notified) == (6, 3, 1)
    assert sorted(
        CaseBreach.objects.filter(level="breach").values_list("case_id", "deadline")
    ) == sorted((c.pk, "response") for c in cases)
    assert set(Case.objects.values_list("response_met", flat=True)) == {None}
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
    assert (result.fired, result.breaches) == (4, 2)  # two warnings sent, two breaches
    (note,) = deadline_notes(crew.env_handler)
    assert note.title == "Deadlines passed: 2 cases"
    assert sorted(note.body.splitlines()) == sorted(
        f"{c.number} (Handling)" for c in (first, second)
    )
    assert deadline_notes(crew.housing_handler) == []
    assert set(CaseBreach.objects.filter(level="breach").values_list("case_id", "deadline")) == {
        (first.pk, "handling"),
        (second.pk, "handling"),
    }


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


def test_a_deadline_set_again_keeps_the_levels_that_fired_and_warns_again_before_it(
    small_city, crew
):
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
    assert set(timers) == {"warning", "principal", "leader"}
    assert at(2026, 11, 25, 17) < timers["warning"] < until < timers["principal"]
    late = deadlines.case_deadlines_sweep(now=at(2026, 12, 4, 17, 30))
    assert (late.fired, late.breaches) == (1, 0)  # the new warning; the breach fired before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sweep_waits_for_no_transition_and_leaves_timers_being_rewritten_to_the_next_run(
    small_city, crew
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks")
    case_held, timers_held, free = (intake(crew, at(2026, 11, 23, 10, 0)) for _ in range(3))
    locked, release = threading.Event(), threading.Event()

    def act():
        # two transitions at work: one holds its case's row lock only (as every transition
        # does), the other also holds its case's timers (as ``timers_set`` does while it
        # rewrites them); then both roll back
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=case_held.pk)
                Case.objects.select_for_update().get(pk=timers_held.pk)
                list(CaseTimer.objects.select_for_update().filter(case=timers_held))
                locked.set()
                release.wait(timeout=30)
                transaction.set_rollback(True)
        finally:
            connection.close()

    worker = threading.Thread(target=act)
    worker.start()
    try:
        assert locked.wait(timeout=30)
        # the sweep returns without waiting: the case whose row is held has its timers
        # fired (the sweep takes no case lock), the timers being rewritten are left
        first = deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 45))
        fired_first = set(CaseBreach.objects.values_list("case_id", flat=True))
    finally:
        release.set()
        worker.join(timeout=60)
    assert first.fired == 4 and fired_first == {free.pk, case_held.pk}
    assert deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 46)).fired == 2
    assert set(CaseBreach.objects.values_list("case_id", flat=True)) == {
        free.pk,
        case_held.pk,
        timers_held.pk,
    }


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
    assert result.fired == 4 and result.breaches == 1
    breaches = CaseBreach.objects.filter(case=stale, deadline="response", level="breach")
    assert [b.at for b in breaches] == [earlier]
    assert CaseBreach.objects.filter(case=clean).count() == 1
    assert not CaseTimer.objects.filter(level__in=["warning", "breach"]).exists()
    (note,) = deadline_notes(officer)
    assert note.title == "Deadlines passed: 2 cases"


def test_a_deadline_the_sweep_recorded_as_passed_and_no_step_settled_counts_at_evaluation(
    small_city, crew
):
    # given a complaint nobody recorded an arrival for: the sweep recorded its response
    # deadline as passed; the case went on through the workflow all the same
    missed = intake(crew, at(2026, 11, 23, 10, 0))
    on_time = intake(crew, at(2026, 11, 23, 10, 0))
    CaseTimer.objects.filter(case=on_time).delete()  # as if it had been met
    deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 45))
    Case.objects.filter(pk__in=[missed.pk, on_time.pk]).update(status="verified")
    # when both are evaluated
    for case in (missed, on_time):
        case.refresh_from_db()
        services.case_transition(
            case=case, action="evaluate", actor=crew.dispatcher, now=at(2026, 11, 30, 9, 0)
        )
        case.refresh_from_db()
    # then the missed deadline is settled as missed and costs its ten points
    assert (missed.response_met, missed.evaluation_score) == (False, 90)
    assert (on_time.response_met, on_time.evaluation_score) == (None, 100)


def test_the_api_reads_a_deadline_the_sweep_recorded_as_passed_as_missed(small_city, crew):
    from rest_framework.test import APIClient

    case = intake(crew, at(2026, 11, 23, 10, 0))
    platform = APIClient()
    platform.force_authenticate(crew.platform)
    assert platform.get(f"/api/v1/cases/{case.pk}/").json()["response_met"] is None
    # when the response deadline passes with nobody on site
    deadlines.case_deadlines_sweep(now=at(2026, 11, 23, 10, 45))
    # then the platform reads it as missed, with the breach recorded
    detail = platform.get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["response_met"] is False and detail["handling_met"] is None
    assert [(b["deadline"], b["level"]) for b in detail["breaches"]] == [("response", "breach")]
