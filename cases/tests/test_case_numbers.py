"""Case numbers (category + day + sequence) from the per-prefix counter: gapless, in turn under
concurrency, past numbers the counter did not give, and given back when nothing was written."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cases import services
from cases.models import Case, CaseNumberCounter

pytestmark = pytest.mark.usefixtures("english")
BODY = {"channel": "platform", "category": "dust", "description": "扬尘", "grid": "371302001001"}


def report(actor, **changes) -> tuple[Case, bool]:
    return services.case_create(data=services.CaseInput(**{**BODY, **changes}), actor=actor)


def today() -> str:
    return f"{timezone.localdate():%Y%m%d}"


def test_numbers_count_up_per_category_and_day(small_city, crew):
    # given
    yesterday = timezone.now() - timedelta(days=1)
    # when
    numbers = [
        report(crew.platform)[0].number,
        report(crew.platform)[0].number,
        report(crew.platform, category="odour")[0].number,
        report(crew.platform, reported_at=yesterday)[0].number,
        report(crew.platform)[0].number,
    ]
    # then
    day_before = f"{timezone.localdate(yesterday):%Y%m%d}"
    assert numbers == [
        f"DUST-{today()}-0001",
        f"DUST-{today()}-0002",
        f"ODOUR-{today()}-0001",
        f"DUST-{day_before}-0001",
        f"DUST-{today()}-0003",
    ]


def test_numbers_taken_without_the_counter_are_skipped(small_city, crew):
    # given: two cases numbered outside the counter (imported), and a counter that lost count
    first, _ = report(crew.platform)
    for seq in (2, 3):
        imported = Case.objects.get(pk=first.pk)
        imported.pk, imported.number = None, f"DUST-{today()}-{seq:04d}"
        imported.save()
    # when
    second, created = report(crew.platform)
    CaseNumberCounter.objects.all().delete()
    third, _ = report(crew.platform)
    # then
    assert created
    assert (second.number, third.number) == (f"DUST-{today()}-0004", f"DUST-{today()}-0005")


def test_an_intake_rolled_back_gives_its_number_back(small_city, crew):
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        report(crew.platform)
        raise RuntimeError("the caller's transaction fails")
    case, _ = report(crew.platform)
    # then
    assert case.number == f"DUST-{today()}-0001"


def test_a_refused_report_leaves_the_callers_transaction_usable(small_city, crew):
    # given: a caller that goes on after a refused report, in its own transaction
    with transaction.atomic():
        with pytest.raises(services.DomainError):
            report(crew.platform, category="no_such_category")
        # when
        case, created = report(crew.platform)
    # then
    assert created
    assert Case.objects.filter(pk=case.pk).exists()


def test_a_repeated_external_id_answers_its_case_and_keeps_numbers_gapless(small_city, crew):
    # given: the first request's case (the second does not ask for it first: its write finds
    # the id taken)
    first, _ = report(crew.platform, external_id="P-1")
    # when
    again, created = report(crew.platform, external_id="P-1", description="重复")
    other, _ = report(crew.platform, external_id="P-2")
    # then: the number the second took was given back
    assert (again.pk, created) == (first.pk, False)
    assert Case.objects.filter(external_id="P-1").count() == 1
    assert other.number == f"DUST-{today()}-0002"


def test_numbers_past_9999_keep_counting(small_city, crew):
    # given: a day with 9,998 dust reports numbered
    report(crew.platform)
    CaseNumberCounter.objects.filter(prefix=f"DUST-{today()}-").update(last=9998)
    # when
    numbers = [report(crew.platform)[0].number for _ in range(2)]
    # then: four digits, then as many as it takes (the same on every database)
    assert numbers == [f"DUST-{today()}-9999", f"DUST-{today()}-10000"]


@pytest.mark.postgres
def test_on_postgresql_the_case_event_and_timers_are_one_statement(small_city, crew):
    from django.test.utils import CaptureQueriesContext

    from cases.models import CaseEvent, CaseTimer

    # when: a complaint-type report (a response deadline, so four timers)
    with CaptureQueriesContext(connection) as queries:
        case, created = report(crew.platform)
    # then
    writes = [q["sql"] for q in queries if "INSERT" in q["sql"] or "intake" in q["sql"]]
    assert [w.split()[1] for w in writes if w.startswith("EXECUTE")] == ["gridsup_case_intake_4"]
    stored = Case.objects.get(pk=case.pk)
    assert (created, stored.number) == (True, case.number)
    event = CaseEvent.objects.get(case=stored)
    assert (event.seq, event.action, event.to_status) == (1, "collect", "collected")
    timers = CaseTimer.objects.filter(case=stored)
    assert sorted(t.level for t in timers) == ["breach", "leader", "principal", "warning"]
    assert {t.deadline_at for t in timers} == {stored.response_deadline}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_intakes_at_once_take_distinct_numbers_in_turn(small_city, crew):
    # given
    results, start = [], threading.Barrier(5)

    def intake(n):
        try:
            start.wait(timeout=10)
            case, _ = report(crew.platform, external_id=f"C-{n}")
            results.append(case.number)
        finally:
            connection.close()

    threads = [threading.Thread(target=intake, args=(n,)) for n in range(5)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert sorted(results) == [f"DUST-{today()}-{seq:04d}" for seq in range(1, 6)]
    assert CaseNumberCounter.objects.get(prefix=f"DUST-{today()}-").last == 5
