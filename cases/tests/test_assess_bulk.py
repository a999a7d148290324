"""``cases_assess_bulk``: step 8 for many cases at once, with the same effects as the workflow
service's ``assess`` for each (status, event, callback), in a fixed number of statements."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import CallbackDelivery, CallbackEndpoint, Case, CaseEvent
from cases.transitions import Actor

pytestmark = pytest.mark.usefixtures("english")
NOW = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)


def _case(crew, n: int, *, status: str = "evaluated", creator=None) -> Case:
    case, _created = services.case_create(
        data=services.CaseInput(
            channel="platform",
            category="dust",
            description=f"扬尘 {n}",
            grid="371302001001",
            external_id=f"ext-{n}",
        ),
        actor=creator or crew.platform,
    )
    # the earlier steps are the workflow tests' concern: put the case where this test needs it
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    return case


@pytest.fixture
def endpoint(crew) -> CallbackEndpoint:
    return CallbackEndpoint.objects.create(
        client=crew.platform, url="https://platform.example/cb", secret="s3cret"
    )


def test_evaluated_cases_are_assessed_with_their_event(small_city, crew):
    # given
    first, second = _case(crew, 1), _case(crew, 2)
    # when
    assessed = services.cases_assess_bulk(case_ids=[first.pk, second.pk], actor=None, now=NOW)
    # then
    assert assessed == 2
    for case in (first, second):
        case.refresh_from_db()
        assert (case.status, case.updated_at) == ("assessed", NOW)
        event = case.events.order_by("-seq").first()
        assert (
            event.seq,
            event.action,
            event.from_status,
            event.to_status,
            event.actor,
            event.at,
            event.note,
            event.data,
        ) == (2, "assess", "evaluated", "assessed", None, NOW, "", {})


def test_a_case_not_evaluated_is_left_alone(small_city, crew):
    # given
    verified, handling, voided = (
        _case(crew, 1, status="verified"),
        _case(crew, 2, status="handling"),
        _case(crew, 3, status="voided"),
    )
    evaluated = _case(crew, 4)
    # when
    ids = [verified.pk, handling.pk, voided.pk, evaluated.pk]
    assessed = services.cases_assess_bulk(case_ids=ids, actor=None, now=NOW)
    # then
    assert assessed == 1
    statuses = dict(Case.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == {
        verified.pk: "verified",
        handling.pk: "handling",
        voided.pk: "voided",
        evaluated.pk: "assessed",
    }
    assert not CaseEvent.objects.filter(action="assess").exclude(case=evaluated).exists()


def test_a_second_run_changes_nothing_more(small_city, crew, endpoint):
    case = _case(crew, 1)
    assert services.cases_assess_bulk(case_ids=[case.pk], actor=None, now=NOW) == 1
    events, callbacks = CaseEvent.objects.count(), CallbackDelivery.objects.count()
    assert services.cases_assess_bulk(case_ids=[case.pk], actor=None, now=NOW) == 0
    assert (CaseEvent.objects.count(), CallbackDelivery.objects.count()) == (events, callbacks)


def test_no_ids_no_queries(small_city, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert services.cases_assess_bulk(case_ids=[], actor=None, now=NOW) == 0


def test_the_creators_callback_is_queued_after_its_earlier_ones(small_city, crew, endpoint):
    # given: one case already has a callback in the outbox; another case's creator registered
    # no endpoint
    with_earlier, fresh = _case(crew, 1), _case(crew, 2)
    people = _case(crew, 3, creator=crew.dispatcher)
    CallbackDelivery.objects.create(
        endpoint=endpoint, case=with_earlier, seq=1, body="{}", next_attempt_at=NOW
    )
    # when
    services.cases_assess_bulk(case_ids=[with_earlier.pk, fresh.pk, people.pk], actor=None, now=NOW)
    # then
    queued = {
        d.case_id: d
        for d in CallbackDelivery.objects.filter(next_attempt_at=NOW).exclude(body="{}")
    }
    assert set(queued) == {with_earlier.pk, fresh.pk}
    assert (queued[with_earlier.pk].seq, queued[fresh.pk].seq) == (2, 1)
    assert json.loads(queued[fresh.pk].body) == {
        "id": fresh.pk,
        "external_id": "ext-2",
        "number": fresh.number,
        "status": "assessed",
        "at": NOW.isoformat(),
    }
    assert not CallbackDelivery.objects.filter(case=people).exists()


def test_an_inactive_endpoint_gets_nothing(small_city, crew, endpoint):
    endpoint.active = False
    endpoint.save()
    case = _case(crew, 1)
    services.cases_assess_bulk(case_ids=[case.pk], actor=None, now=NOW)
    assert not CallbackDelivery.objects.exists()


def test_the_same_rows_as_the_workflow_service_writes(small_city, crew, endpoint):
    # given two like cases
    one_by_one, in_bulk = _case(crew, 1), _case(crew, 2)
    # when one is assessed through case_transition and the other in bulk
    services.case_transition(
        case=one_by_one, action="assess", actor=None, actor_kind=Actor.SYSTEM, now=NOW
    )
    services.cases_assess_bulk(case_ids=[in_bulk.pk], actor=None, now=NOW)

    # then the rows differ only in what names the case
    def rows(case):
        case.refresh_from_db()
        event = case.events.get(action="assess")
        delivery = CallbackDelivery.objects.get(case=case)
        body = json.loads(delivery.body)
        body.pop("id"), body.pop("external_id"), body.pop("number")
        return (
            case.status,
            case.updated_at,
            (event.seq, event.from_status, event.to_status, event.actor_id, event.at),
            (event.note, event.data),
            (delivery.endpoint_id, delivery.seq, delivery.next_attempt_at, body),
        )

    assert rows(one_by_one) == rows(in_bulk)


@pytest.mark.parametrize("with_endpoint", [False, True])
def test_statements_do_not_grow_with_the_number_of_cases(small_city, crew, with_endpoint):
    if with_endpoint:
        CallbackEndpoint.objects.create(client=crew.platform, url="https://p.example/", secret="s")
    few = [_case(crew, n).pk for n in range(2)]
    many = [_case(crew, n).pk for n in range(10, 22)]
    with CaptureQueriesContext(connection) as for_few:
        assert services.cases_assess_bulk(case_ids=few, actor=None, now=NOW) == 2
    with CaptureQueriesContext(connection) as for_many:
        assert services.cases_assess_bulk(case_ids=many, actor=None, now=NOW) == 12
    assert len(for_many.captured_queries) == len(for_few.captured_queries)
