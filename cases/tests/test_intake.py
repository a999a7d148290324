"""Intake plumbing: the Idempotency-Key in the case's transaction, the purge of old keys, the
platform's own throttle scope, and the per-process copies of the reference data."""

import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from cases import idempotency, selectors, services
from cases.models import CalendarDay, Case, CaseSettings, IdempotencyRecord, ProblemCategory

pytestmark = pytest.mark.usefixtures("english")
BODY = {"channel": "platform", "category": "dust", "description": "扬尘", "grid": "371302001001"}


def as_(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- Idempotency-Key -----------------------------------------------------------------------------


def test_the_answer_is_stored_with_the_case(small_city, crew):
    # when
    response = as_(crew.platform).post(
        "/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-stored"
    )
    # then
    record = IdempotencyRecord.objects.get(client=crew.platform, key="k-stored")
    assert response.status_code == 201
    assert (record.status_code, record.response) == (201, response.json())


def test_a_crash_after_the_case_is_made_leaves_neither_case_nor_key(small_city, crew):
    # given: the request dies after the case was written, before its answer
    def run():
        services.case_create(data=services.CaseInput(**BODY), actor=crew.platform)
        raise RuntimeError("worker killed")

    # when
    with pytest.raises(RuntimeError):
        idempotency.with_idempotency(client=crew.platform, key="k-crash", fingerprint="f", run=run)
    # then: nothing of it, so the platform's retry makes the case, once
    assert not Case.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    retry = as_(crew.platform).post(
        "/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-crash"
    )
    assert retry.status_code == 201
    assert Case.objects.count() == 1


def test_a_key_that_is_too_long_is_400_and_stores_nothing(small_city, crew):
    response = as_(crew.platform).post(
        "/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k" * 201
    )
    assert response.status_code == 400
    assert not Case.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_while_the_first_still_runs_is_409(small_city, crew, monkeypatch):
    # given: a first request holds the key in its open transaction
    monkeypatch.setattr(idempotency, "WAIT", timedelta(milliseconds=200))
    claimed, release = threading.Event(), threading.Event()

    def first():
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(client=crew.platform, key="busy", body_hash="x")
                claimed.set()
                release.wait(timeout=30)
                transaction.set_rollback(True)
        finally:
            connection.close()

    holder = threading.Thread(target=first)
    holder.start()
    assert claimed.wait(timeout=30)
    try:
        # when
        response = as_(crew.platform).post(
            "/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="busy"
        )
    finally:
        release.set()
        holder.join(timeout=30)
    # then
    assert response.status_code == 409
    assert not Case.objects.exists()
    # and once the first gave up, the key is free again
    again = as_(crew.platform).post(
        "/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert again.status_code == 201


def test_old_keys_are_purged_by_the_task_not_by_requests(small_city, crew):
    # given
    now = timezone.now()
    old = IdempotencyRecord.objects.create(
        client=crew.platform, key="old", body_hash="x", created_at=now - timedelta(hours=49)
    )
    kept = IdempotencyRecord.objects.create(
        client=crew.platform, key="recent", body_hash="x", created_at=now - timedelta(hours=25)
    )
    # when a request comes, the old key stays
    as_(crew.platform).post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-new")
    assert IdempotencyRecord.objects.filter(pk=old.pk).exists()
    # when the task runs
    from cases.tasks import idempotency_records_purge

    assert idempotency_records_purge() == 1
    # then
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert IdempotencyRecord.objects.filter(pk=kept.pk).exists()
    assert idempotency_records_purge() == 0


def test_the_purge_is_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "cases.tasks.idempotency_records_purge" in tasks


def test_an_intake_takes_a_bounded_number_of_queries(
    small_city, crew, kept, django_assert_max_num_queries
):
    # given: the first intake read the reference data (kept per process) and made the
    # settings row
    client = as_(crew.platform)
    client.post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="warm")
    # when / then: in one transaction, the key's claim, the grid, the number, the case, its
    # event and its timers (one statement on PostgreSQL, one each elsewhere; without reading
    # any first) and the answer; no savepoint of its own (the test's transaction turns BEGIN
    # and COMMIT into a savepoint and its release). (The test client hands every request the
    # same user, which keeps its scope from the first: a request of the platform's asks it.)
    writes = 1 if connection.vendor == "postgresql" else 4
    with django_assert_max_num_queries(5 + writes):
        response = client.post(
            "/api/v1/cases/", {**BODY, "description": "二"}, format="json", HTTP_IDEMPOTENCY_KEY="q"
        )
    assert response.status_code == 201


# --- throttle ------------------------------------------------------------------------------------


@pytest.fixture
def throttled(settings, monkeypatch):
    """The project's client throttle on the case list and intake (the test settings turn
    throttles off; views take the class list when they are defined), with tiny rates, in a
    window that does not move."""
    from cases.api.views import CaseListApi
    from core.api import throttles

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "2/minute", "machine": "1/minute", "intake": "3/minute"},
    }
    monkeypatch.setattr(CaseListApi, "throttle_classes", [throttles.ClientRateThrottle])
    monkeypatch.setattr(throttles.time, "time", lambda: 1_800_000_030.0)
    cache.clear()
    yield
    cache.clear()


def test_the_platforms_intake_counts_against_its_own_scope(small_city, crew, throttled):
    client = as_(crew.platform)
    codes = [
        client.post("/api/v1/cases/", {**BODY, "external_id": f"e{n}"}, format="json").status_code
        for n in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    # its other requests count against "machine", and people against "user"
    assert [client.get("/api/v1/cases/").status_code for _ in range(2)] == [200, 429]
    people = as_(crew.dispatcher)
    assert [people.get("/api/v1/cases/").status_code for _ in range(3)] == [200, 200, 429]


def test_a_429_says_when_to_come_back(small_city, crew, throttled):
    client = as_(crew.platform)
    client.get("/api/v1/cases/")
    refused = client.get("/api/v1/cases/")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"


# --- reference data kept per process -------------------------------------------------------------


@pytest.fixture
def kept(settings):
    settings.CASES_REFERENCE_CACHE_SECONDS = 60
    selectors.reference_cache_clear()
    yield
    selectors.reference_cache_clear()


def test_settings_and_calendar_are_read_once_per_process(
    small_city, kept, django_assert_num_queries
):
    selectors.calendar_get()
    selectors.category_for_intake(code="dust")
    with django_assert_num_queries(0):
        calendar = selectors.calendar_get()
        category = selectors.category_for_intake(code="dust")
    assert calendar.periods
    assert category.code == "dust"


def test_a_save_is_seen_at_once_in_the_saving_process(small_city, kept):
    from datetime import date

    # given
    assert selectors.case_settings_get().response_in_hours_minutes == 30
    day = date(2027, 3, 6)  # a Saturday
    assert not selectors.calendar_get().is_working_day(day)
    assert selectors.category_for_intake(code="dust") is not None
    # when
    row = CaseSettings.objects.get()
    row.response_in_hours_minutes = 20
    row.save()
    CalendarDay.objects.create(day=day, is_working_day=True, note="调休")
    category = ProblemCategory.objects.get(code="dust")
    category.active = False
    category.save()
    # then
    assert selectors.case_settings_get().response_in_hours_minutes == 20
    assert selectors.calendar_get().is_working_day(day)
    assert selectors.category_for_intake(code="dust") is None


def test_the_kept_settings_are_handed_out_as_copies(small_city, kept):
    first = selectors.case_settings_get()
    first.response_in_hours_minutes = 1
    assert selectors.case_settings_get().response_in_hours_minutes == 30


def test_each_calendar_collects_its_own_unknown_years(small_city, kept):
    from datetime import date

    selectors.calendar_get().is_working_day(date(2031, 5, 5))
    assert selectors.calendar_get().unknown_years == set()


# --- the bearer token every intake carries -------------------------------------------------------


def test_the_platforms_token_authenticates_and_records_its_use_once_a_minute(small_city, crew):
    from core.models import ApiToken
    from core.services import api_token_issue, api_token_revoke

    # given
    raw, token = api_token_issue(user=crew.platform)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    # when
    first = client.post("/api/v1/cases/", BODY, format="json")
    used = ApiToken.objects.get(pk=token.pk).last_used_at
    second = client.get("/api/v1/cases/")
    # then
    assert (first.status_code, second.status_code) == (201, 200)
    assert Case.objects.get().created_by == crew.platform
    assert used is not None
    assert ApiToken.objects.get(pk=token.pk).last_used_at == used  # not again within the minute
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=used - timedelta(minutes=2))
    client.get("/api/v1/cases/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > used
    # and a revoked token is refused at once
    api_token_revoke(token=token)
    assert client.get("/api/v1/cases/").status_code == 401


def test_a_token_of_a_deactivated_client_is_refused(small_city, crew):
    from core.services import api_token_issue

    raw, _token = api_token_issue(user=crew.platform)
    crew.platform.is_active = False
    crew.platform.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.post("/api/v1/cases/", BODY, format="json").status_code == 401
    assert not Case.objects.exists()


# --- who has no grid ------------------------------------------------------------------------------


def test_a_department_member_without_a_grid_locates_nothing_and_gets_400(small_city, crew):
    # given: a department's handler sees cases through the department, no grid of their own
    from django.http import Http404

    from grids import selectors as grid_selectors

    handler = crew.env_handler
    # when / then
    with pytest.raises(Http404):
        grid_selectors.grid_locate(user=handler, lat=34.5, lng=117.2)
    assert grid_selectors.grid_visible_by_code(user=handler, code="371302001001") is None
    by_point = as_(handler).post(
        "/api/v1/cases/",
        {
            "channel": "inspector",
            "category": "dust",
            "description": "扬尘",
            "lat": 34.5,
            "lng": 117.2,
        },
        format="json",
    )
    by_code = as_(handler).post("/api/v1/cases/", {**BODY, "channel": "inspector"}, format="json")
    assert (by_point.status_code, by_code.status_code) == (400, 400)
    assert by_point.json()["lat"] == ["Outside every grid."]
    assert not Case.objects.exists()


def test_the_intake_body_validates_the_same_with_its_fields_kept_per_thread():
    from cases.api.serializers import CaseIntakeSerializer

    good = {"channel": "platform", "category": "dust", "description": "扬尘", "lat": 35, "lng": 118}
    bad = {"channel": "fax", "description": "", "lat": 91}
    answers = []
    for body in (good, bad, good, bad):
        serializer = CaseIntakeSerializer(data=body)
        answers.append(serializer.is_valid())
        if answers[-1]:
            assert serializer.validated_data["lat"] == 35.0
        else:
            assert set(serializer.errors) == {"channel", "category", "description", "lat"}
    assert answers == [True, False, True, False]
