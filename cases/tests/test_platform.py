"""The platform's side: Idempotency-Key, status callbacks from the outbox, and concurrency."""

import hashlib
import hmac
import json
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from cases import services
from cases.models import CallbackDelivery, CallbackEndpoint, Case, IdempotencyRecord

pytestmark = pytest.mark.usefixtures("english")
BODY = {"channel": "platform", "category": "dust", "description": "扬尘", "grid": "371302001001"}


def as_(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_same_intake_twice_with_a_key_creates_one_case(small_city, crew):
    client = as_(crew.platform)
    first = client.post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert Case.objects.count() == 1


def test_the_same_key_with_another_body_is_422(small_city, crew):
    client = as_(crew.platform)
    client.post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post(
        "/api/v1/cases/", {**BODY, "description": "别的"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert other.status_code == 422
    assert Case.objects.count() == 1


def test_a_failed_request_releases_its_key(small_city, crew):
    client = as_(crew.platform)
    bad = client.post(
        "/api/v1/cases/", {**BODY, "category": "nope"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = client.post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert good.status_code == 201


def test_keys_are_per_client(small_city, crew):
    as_(crew.platform).post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    second = as_(crew.dispatcher).post(
        "/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert second.status_code == 201
    assert Case.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_at_once_with_the_same_key_make_one_case_and_identical_answers(small_city, crew):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions")
    barrier = threading.Barrier(10)
    answers = []

    def post():
        try:
            client = as_(crew.platform)
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="burst"
            )
            answers.append((response.status_code, json.dumps(response.json(), sort_keys=True)))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert Case.objects.count() == 1
    assert len(answers) == 10
    assert sorted(code for code, _ in answers) == [200] * 9 + [201]
    assert len({body for _, body in answers}) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_accept_the_same_case_at_once(small_city, crew):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks")
    from core.tests.factories import UserFactory
    from grids import services as grid_services

    second = UserFactory(username="env_handler2")
    grid_services.department_member_add(department=crew.env, user=second, position="handler")
    case, _ = services.case_create(data=services.CaseInput(**BODY), actor=crew.platform)
    services.case_transition(case=case, action="file", actor=crew.dispatcher)
    services.case_transition(
        case=case,
        action="dispatch",
        actor=crew.dispatcher,
        data=services.ActionInput(department="371302.environment"),
    )
    barrier = threading.Barrier(2)
    codes = []

    def accept(user):
        try:
            client = as_(user)
            barrier.wait(timeout=10)
            codes.append(
                client.post(
                    f"/api/v1/cases/{case.pk}/actions/accept/", {}, format="json"
                ).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(u,)) for u in (crew.env_handler, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [200, 409]
    assert case.events.filter(action="accept").count() == 1


def test_callbacks_survive_a_receiver_that_is_down_and_arrive_once_in_order_signed(
    small_city, crew
):
    CallbackEndpoint.objects.create(
        client=crew.platform, url="http://platform.test/hook", secret="s3cret-s3cret-s3cret"
    )
    case, _ = services.case_create(
        data=services.CaseInput(**BODY, external_id="EXT-9"), actor=crew.platform
    )
    services.case_transition(case=case, action="file", actor=crew.dispatcher)
    services.case_transition(
        case=case,
        action="dispatch",
        actor=crew.dispatcher,
        data=services.ActionInput(department="371302.environment"),
    )
    services.case_transition(case=case, action="accept", actor=crew.env_handler)
    assert CallbackDelivery.objects.filter(delivered_at__isnull=True).count() == 3

    received = []

    def down(url, body, signature):
        raise ConnectionRefusedError("platform down")

    def up(url, body, signature):
        received.append((url, body, signature))
        return 204

    from django.utils import timezone

    now = timezone.now()
    assert services.callbacks_deliver(now=now, post=down) == 0
    first = CallbackDelivery.objects.get(seq=1)
    assert first.attempts == 1 and "platform down" in first.last_error
    # later callbacks of the case wait behind the first: nothing is tried out of order
    assert CallbackDelivery.objects.filter(attempts=0).count() == 2
    # hours later the receiver is back
    later = now + services.CALLBACK_BACKOFF[-1] * 3
    assert services.callbacks_deliver(now=later, post=up) == 3
    assert services.callbacks_deliver(now=later, post=up) == 0
    statuses = [json.loads(body)["status"] for _, body, _ in received]
    assert statuses == ["filed", "dispatched", "handling"]
    for _url, body, signature in received:
        expected = "sha256=" + hmac.new(b"s3cret-s3cret-s3cret", body, hashlib.sha256).hexdigest()
        assert signature == expected
        assert json.loads(body)["external_id"] == "EXT-9"
