import pytest
from rest_framework.test import APIClient

from cases import services
from cases.models import Case

pytestmark = pytest.mark.usefixtures("english")


def as_(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_services_are_the_categories(small_city, crew):
    services_json = as_(crew.platform).get("/open311/v2/services.json").json()
    assert services_json[0]["service_code"] == "dust"
    assert {s["type"] for s in services_json} == {"realtime"}


def test_a_request_posted_in_georeport_form_is_a_case(small_city, crew):
    client = as_(crew.platform)
    response = client.post(
        "/open311/v2/requests.json",
        {
            "service_code": "odour",
            "lat": 34.5,
            "long": 117.25,
            "description": "刺鼻气味",
            "first_name": "明",
            "last_name": "王",
            "phone": "139",
        },
    )
    assert response.status_code == 201
    request_id = response.json()[0]["service_request_id"]
    case = Case.objects.get(pk=request_id)
    assert (case.channel, case.category.code, case.grid.code, case.reporter_name) == (
        "platform",
        "odour",
        "371302001001",
        "王明",
    )
    detail = client.get(f"/open311/v2/requests/{request_id}.json").json()[0]
    assert detail["status"] == "open" and detail["service_notice"] == case.number
    services.case_transition(
        case=case, action="reject", actor=crew.dispatcher, data=services.ActionInput(reason="重复")
    )
    assert client.get(f"/open311/v2/requests/{request_id}.json").json()[0]["status"] == "closed"
    assert [
        r["service_request_id"]
        for r in client.get("/open311/v2/requests.json", {"status": "closed"}).json()
    ] == [request_id]
    assert client.get("/open311/v2/requests.json", {"status": "open"}).json() == []


def test_georeport_errors(small_city, crew):
    client = as_(crew.platform)
    bad = client.post(
        "/open311/v2/requests.json",
        {"service_code": "nope", "lat": 34.5, "long": 117.25, "description": "x"},
    )
    assert bad.status_code == 400
    assert bad.json()[0]["code"] == 400 and "category" in bad.json()[0]["description"]
    outside = client.post(
        "/open311/v2/requests.json",
        {"service_code": "dust", "lat": 20, "long": 110, "description": "x"},
    )
    assert outside.status_code == 400
    assert client.get("/open311/v2/requests/999999.json").status_code == 404
    assert Case.objects.count() == 0
