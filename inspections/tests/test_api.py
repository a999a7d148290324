import io
from datetime import date, timedelta

import pytest
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from grids.models import Role
from grids.tests.conftest import user_with_role
from inspections.models import Patrol, PatrolPhoto, PollutionSource

pytestmark = pytest.mark.usefixtures("english")

GOOD_CODE = "91350100M000100Y43"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def source_body(**overrides):
    body = {
        "name": "兰山化工有限公司",
        "grid": "371302001001",
        "kind": "enterprise",
        "control_tier": "provincial",
        "credit_code": GOOD_CODE,
        "lat": 34.5,
        "lng": 117.2,
        "online_monitoring": True,
    }
    body.update(overrides)
    return body


def jpeg(size=(32, 32)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, "green").save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = "site.jpg"
    return buffer


def test_officer_registers_an_active_source_with_its_schedule(small_city, officer):
    response = client_for(officer).post("/api/v1/sources/", source_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active"
    assert body["patrol_interval_days"] == 14
    assert body["last_patrol_at"] is None
    assert body["next_patrol_due"] == str(timezone.localdate() + timedelta(days=14))
    assert body["next_online_check_due"] == str(timezone.localdate() + timedelta(days=1))


def test_inspector_reports_and_officer_confirms(small_city, officer):
    inspector = user_with_role(small_city.village_a, Role.INSPECTOR)
    created = client_for(inspector).post("/api/v1/sources/", source_body(), format="json").json()
    assert created["status"] == "reported" and created["next_patrol_due"] is None
    # the inspector may not confirm
    assert (
        client_for(inspector).post(f"/api/v1/sources/{created['id']}/confirm/").status_code == 403
    )
    confirmed = client_for(officer).post(f"/api/v1/sources/{created['id']}/confirm/")
    assert confirmed.json()["status"] == "active"
    history = list(
        PollutionSource.objects.get(pk=created["id"]).changes.values_list("action", flat=True)
    )
    assert history == ["confirm", "create"]


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"credit_code": "91350100M000100Y44"}, "credit_code", "check character"),
        ({"credit_code": "9135010"}, "credit_code", "18 characters"),
        ({"lat": 40.0, "lng": 116.4}, "lat", "outside the city"),
        ({"control_tier": "galactic"}, "control_tier", "not a valid choice"),
        ({"kind": "volcano"}, "kind", "not a valid choice"),
        ({"grid": "371311001001"}, "detail", "Not found"),
        ({"lat": "north"}, "lat", "valid number"),
    ],
)
def test_bad_source_input_is_400_and_stores_nothing(small_city, officer, overrides, field, message):
    response = client_for(officer).post("/api/v1/sources/", source_body(**overrides), format="json")
    assert response.status_code in (400, 404)
    assert message in str(response.json()[field])
    assert PollutionSource.objects.count() == 0


def test_patch_changes_the_tier_and_reschedules(small_city, officer, make_source):
    source = make_source(tier="other")
    response = client_for(officer).patch(
        f"/api/v1/sources/{source.pk}/", {"control_tier": "national"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["patrol_interval_days"] == 14
    assert (
        client_for(officer)
        .patch(f"/api/v1/sources/{source.pk}/", {"credit_code": "X"}, format="json")
        .status_code
        == 400
    )


def patrol_form(source, officers, /, **overrides):
    form = {
        "source": source.pk,
        "kind": "patrol",
        "patrolled_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "lat": 34.5,
        "lng": 117.2,
        "officers": [o.username for o in officers],
        "findings": "设施正常",
        "outcome": "compliant",
    }
    form.update(overrides)
    return form


def test_patrol_with_a_photo_is_recorded_and_hashed(small_city, officer, make_source):
    source = make_source(tier="national")
    photo = jpeg()
    response = client_for(officer).post(
        "/api/v1/patrols/",
        {**patrol_form(source, [officer]), "photos": [photo]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["officers"] == ["officer1"]
    assert len(body["photos"]) == 1 and len(body["photos"][0]["sha256"]) == 64
    source.refresh_from_db()
    assert source.last_patrol_at is not None
    # (due counted from the patrol's day in China, which is not today from 16:00 to 17:00 UTC)
    patrolled_on = timezone.localdate(Patrol.objects.get().patrolled_at)
    assert source.next_patrol_due == patrolled_on + timedelta(days=14)
    assert PatrolPhoto.objects.get().lat == 34.5


@pytest.mark.parametrize(
    "overrides, field, message, code",
    [
        (
            {"patrolled_at": (timezone.now() + timedelta(days=1)).isoformat()},
            "patrolled_at",
            "future",
            400,
        ),
        ({"kind": "inspection"}, "officers", "at least two officers", 400),
        ({"lat": 39.9, "lng": 116.4}, "lat", "outside the city", 400),
        ({"outcome": "notice_issued"}, "rectification_deadline", "deadline", 400),
        ({"officers": ["nobody"]}, "officers", "Unknown officers", 400),
        ({"outcome": "exploded"}, "outcome", "not a valid choice", 400),
        ({"source": 999999}, "detail", "Not found", 404),
    ],
)
def test_bad_patrol_input_stores_nothing(
    small_city, officer, make_source, overrides, field, message, code
):
    source = make_source(tier="national")
    response = client_for(officer).post(
        "/api/v1/patrols/", patrol_form(source, [officer], **overrides), format="multipart"
    )
    assert response.status_code == code
    assert message in str(response.json()[field])
    assert Patrol.objects.count() == 0
    source.refresh_from_db()
    assert source.last_patrol_at is None


def test_a_file_that_is_not_an_image_is_refused(small_city, officer, make_source):
    source = make_source(tier="national")
    fake = io.BytesIO(b"%PDF-1.4 not a picture")
    fake.name = "photo.jpg"
    response = client_for(officer).post(
        "/api/v1/patrols/", {**patrol_form(source, [officer]), "photos": [fake]}, format="multipart"
    )
    assert response.status_code == 400
    assert "not an image" in response.json()["detail"]
    assert Patrol.objects.count() == PatrolPhoto.objects.count() == 0


def test_a_photo_over_the_limit_is_413(small_city, officer, make_source, settings):
    settings.PHOTO_MAX_BYTES = 500
    source = make_source(tier="national")
    response = client_for(officer).post(
        "/api/v1/patrols/",
        {**patrol_form(source, [officer]), "photos": [jpeg((400, 400))]},
        format="multipart",
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert Patrol.objects.count() == 0


def test_enforcement_inspection_with_two_officers(small_city, officer, officer2, make_source):
    source = make_source(tier="national")
    response = client_for(officer).post(
        "/api/v1/patrols/",
        patrol_form(source, [officer, officer2], kind="inspection", person_present="王经理"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert sorted(response.json()["officers"]) == ["officer1", "officer2"]


def test_inspector_cannot_record_an_enforcement_inspection(
    small_city, officer, officer2, make_source
):
    inspector = user_with_role(small_city.village_a, Role.INSPECTOR)
    source = make_source(tier="national")
    response = client_for(inspector).post(
        "/api/v1/patrols/",
        patrol_form(source, [officer, officer2], kind="inspection"),
        format="json",
    )
    assert response.status_code == 403


def test_inspector_sees_only_the_own_village_sources(small_city, officer, make_source):
    mine = make_source(tier="national", name="本村")
    other = make_source(tier="national", name="邻村", grid=small_city.village_b)
    far = make_source(tier="national", name="罗庄", grid=small_city.village_c)
    inspector = user_with_role(small_city.village_a, Role.INSPECTOR)
    client = client_for(inspector)
    assert [s["name"] for s in client.get("/api/v1/sources/").json()["results"]] == ["本村"]
    assert client.get(f"/api/v1/sources/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/sources/{far.pk}/").status_code == 404
    assert client.get(f"/api/v1/sources/{mine.pk}/").status_code == 200
    county = client_for(user_with_role(small_city.lanshan, Role.LEADER))
    assert {s["name"] for s in county.get("/api/v1/sources/").json()["results"]} == {"本村", "邻村"}
    assert county.get("/api/v1/sources/", {"grid": "371302001002"}).json()["count"] == 1


def test_source_list_filters_and_constant_queries(
    small_city, officer, make_source, django_assert_max_num_queries
):
    for i in range(3):
        make_source(tier="national", name=f"国控{i}", confirmed_on=date(2026, 1, 1))
    make_source(tier="other", name="其他", confirmed_on=timezone.localdate())
    client = client_for(officer)
    assert client.get("/api/v1/sources/", {"control_tier": "national"}).json()["count"] == 3
    assert client.get("/api/v1/sources/", {"overdue": "true"}).json()["count"] == 3
    assert client.get("/api/v1/sources/", {"overdue": "false"}).json()["count"] == 1
    assert client.get("/api/v1/sources/", {"control_tier": "x"}).status_code == 400
    fresh = client_for(type(officer).objects.get(pk=officer.pk))
    with django_assert_max_num_queries(3) as queries:  # scope, count, page
        fresh.get("/api/v1/sources/")
    # the grids' outlines are not read for a list
    assert not any("boundary" in q["sql"] for q in queries.captured_queries)


def test_patrol_alarm_list_is_scoped_and_filtered(small_city, officer, make_source):
    from inspections import services

    make_source(tier="national", confirmed_on=date(2026, 1, 1))
    make_source(
        tier="national", confirmed_on=date(2026, 1, 1), grid=small_city.village_c, name="罗庄"
    )
    services.patrol_alarms_sweep()
    assert (
        client_for(officer).get("/api/v1/patrol-alarms/", {"status": "open"}).json()["count"] == 1
    )
    office = client_for(user_with_role(small_city.city, Role.OFFICE))
    assert office.get("/api/v1/patrol-alarms/", {"status": "open"}).json()["count"] == 2
    assert office.get("/api/v1/patrol-alarms/", {"status": "cleared"}).json()["count"] == 0
    assert office.get("/api/v1/patrol-alarms/", {"status": "nope"}).status_code == 400


def test_a_patrol_that_opens_a_case_hands_it_to_the_workflow(small_city, officer, make_source):
    from cases.models import Case

    source = make_source(tier="national")
    client = client_for(officer)
    missing = client.post(
        "/api/v1/patrols/", patrol_form(source, [officer], outcome="case_opened"), format="json"
    )
    assert missing.status_code == 400 and "case_category" in missing.json()
    response = client.post(
        "/api/v1/patrols/",
        patrol_form(
            source,
            [officer],
            outcome="case_opened",
            case_category="wastewater",
            findings="暗管直排",
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get()
    assert response.json()["case_reference"] == case.number
    assert (case.channel, case.category.code, case.source_id, case.status) == (
        "patrol",
        "wastewater",
        source.pk,
        "collected",
    )
    source.refresh_from_db()
    assert source.tightened_until is not None


def test_an_abnormal_online_reading_opens_an_online_monitoring_case(
    small_city, officer, make_source
):
    from cases.models import Case

    source = make_source(tier="municipal", online_monitoring=True)
    response = client_for(officer).post(
        "/api/v1/patrols/",
        patrol_form(
            source, [officer], kind="online_check", outcome="abnormal_reading", lat=None, lng=None
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get()
    assert (case.channel, case.category.code) == ("online_monitoring", "online_anomaly")
