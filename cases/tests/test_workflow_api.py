"""One case through all eight steps over the API, with a return, an escalation and a rework."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent
from cases.tests.conftest import jpeg

pytestmark = pytest.mark.usefixtures("english")


def as_(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def act(user, case_id, action, body=None, fmt="json", expect=200):
    response = as_(user).post(f"/api/v1/cases/{case_id}/actions/{action}/", body or {}, format=fmt)
    assert response.status_code == expect, (action, response.status_code, response.json())
    return response.json()


def test_a_case_runs_through_all_eight_steps(small_city, crew):
    # 1 collect: the platform pushes a complaint located by GPS
    intake = as_(crew.platform).post(
        "/api/v1/cases/",
        {
            "external_id": "CM-2026-0001",
            "channel": "complaint",
            "category": "dust",
            "description": "工地扬尘严重",
            "lat": 34.5,
            "lng": 117.25,
            "reporter_name": "市民",
            "reporter_phone": "13900000000",
        },
        format="json",
    )
    assert intake.status_code == 201, intake.json()
    body = intake.json()
    assert body["status"] == "collected" and body["grid"] == "371302001001"
    assert body["number"].startswith("DUST-") and body["response_deadline"]
    case_id = body["id"]

    # 2 file, 3 dispatch to the wrong department, which returns it
    act(crew.dispatcher, case_id, "file", {"note": "有效"})
    act(crew.dispatcher, case_id, "dispatch", {"department": "371302.housing"})
    act(crew.housing_handler, case_id, "return", {"reason": "非本部门职责"})
    # the village cannot handle it: the street's principal escalates it one level up
    act(crew.principal, case_id, "escalate", {"reason": "村级无法处置"})
    assert Case.objects.get(pk=case_id).grid_id == small_city.lanshan_street.pk
    act(crew.dispatcher, case_id, "dispatch", {"department": "371302.environment"})
    # 4 handle: accept, arrive on site
    act(crew.env_handler, case_id, "accept")
    arrived = act(
        crew.env_handler,
        case_id,
        "arrive",
        {"arrived_at": timezone.now().isoformat(), "lat": 34.5, "lng": 117.25},
    )
    assert arrived["response_met"] is True
    # 5 feed back (needs an "after" photo)
    act(crew.env_handler, case_id, "feedback", {"result": "已整改"}, expect=400)
    act(
        crew.env_handler,
        case_id,
        "feedback",
        {"result": "已覆盖防尘网", "photos": [jpeg()]},
        fmt="multipart",
    )
    # 6 verify: not rectified → rework, then fed back again and verified
    act(crew.supervisor, case_id, "rework", {"reason": "仍有裸土"})
    act(
        crew.env_handler,
        case_id,
        "feedback",
        {"result": "全部覆盖", "photos": [jpeg()]},
        fmt="multipart",
    )
    act(
        crew.supervisor,
        case_id,
        "verify",
        {"note": "已整改", "photos": [jpeg("after.jpg")]},
        fmt="multipart",
    )
    # 7 evaluate
    final = act(crew.dispatcher, case_id, "evaluate", {"comment": "处置及时"})

    assert final["status"] == "evaluated"
    assert (final["return_count"], final["escalation_count"], final["rework_count"]) == (1, 1, 1)
    assert final["evaluation_score"] == "83.0"  # 100 − 5 (return) − 2 (escalation) − 10 (rework)
    events = [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in final["events"]]
    assert events == [
        ("collect", "", "collected", "platform1"),
        ("file", "collected", "filed", "dispatcher1"),
        ("dispatch", "filed", "dispatched", "dispatcher1"),
        ("return", "dispatched", "filed", "housing_handler"),
        ("escalate", "filed", "filed", "principal1"),
        ("dispatch", "filed", "dispatched", "dispatcher1"),
        ("accept", "dispatched", "handling", "env_handler"),
        ("arrive", "handling", "handling", "env_handler"),
        ("feedback", "handling", "fed_back", "env_handler"),
        ("rework", "fed_back", "handling", "supervisor1"),
        ("feedback", "handling", "fed_back", "env_handler"),
        ("verify", "fed_back", "verified", "supervisor1"),
        ("evaluate", "verified", "evaluated", "dispatcher1"),
    ]
    assert final["events"][3]["note"] == "非本部门职责"
    assert {p["kind"] for p in final["photos"]} == {"after"}
    assert all(len(p["sha256"]) == 64 for p in final["photos"])
    assert final["handling_met"] is True and final["verify_met"] is True
    # 8 assess is the performance lock's; nobody may take it through the API
    act(crew.dispatcher, case_id, "assess", expect=404)
    assert CaseEvent.objects.filter(case_id=case_id).count() == 13


def test_an_action_not_allowed_names_the_state_and_the_allowed_actions(small_city, crew):
    case_id = (
        as_(crew.platform)
        .post(
            "/api/v1/cases/",
            {
                "channel": "platform",
                "category": "odour",
                "description": "异味",
                "grid": "371302001001",
            },
            format="json",
        )
        .json()["id"]
    )
    body = act(crew.dispatcher, case_id, "verify", expect=409)
    assert body["status"] == "collected"
    assert sorted(body["allowed_actions"]) == ["file", "reject", "void"]
    body = act(crew.dispatcher, case_id, "reject", {}, expect=400)
    assert "reason" in body
    act(crew.inspector, case_id, "file", expect=403)
    assert Case.objects.get(pk=case_id).status == "collected"


@pytest.mark.parametrize(
    "body, field",
    [
        (
            {
                "channel": "complaint",
                "category": "nope",
                "description": "x",
                "grid": "371302001001",
            },
            "category",
        ),
        (
            {
                "channel": "complaint",
                "category": "dust",
                "description": "x",
                "grid": "999999999999",
            },
            "grid",
        ),
        (
            {
                "channel": "complaint",
                "category": "dust",
                "description": "x",
                "lat": 30.0,
                "lng": 117.0,
            },
            "lat",
        ),
        (
            {
                "channel": "smoke-signal",
                "category": "dust",
                "description": "x",
                "grid": "371302001001",
            },
            "channel",
        ),
        (
            {"channel": "complaint", "category": "dust", "description": "", "grid": "371302001001"},
            "description",
        ),
        (
            {
                "channel": "complaint",
                "category": "dust",
                "description": "x",
                "grid": "371302001001",
                "reported_at": (timezone.now() + timedelta(days=2)).isoformat(),
            },
            "reported_at",
        ),
    ],
)
def test_bad_intake_is_400_and_stores_nothing(small_city, crew, body, field):
    response = as_(crew.platform).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Case.objects.count() == 0


def test_repeated_external_id_returns_the_same_case(small_city, crew):
    body = {
        "external_id": "X1",
        "channel": "platform",
        "category": "dust",
        "description": "x",
        "grid": "371302001001",
    }
    first = as_(crew.platform).post("/api/v1/cases/", body, format="json")
    second = as_(crew.platform).post("/api/v1/cases/", body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Case.objects.count() == 1


def test_a_repeated_external_id_gets_its_case_even_where_the_report_is_refused_now(
    small_city, crew
):
    # given: a case the platform sent, whose category the office has since switched off
    body = {
        "external_id": "X2",
        "channel": "platform",
        "category": "dust",
        "description": "x",
        "grid": "371302001001",
    }
    first = as_(crew.platform).post("/api/v1/cases/", body, format="json")
    from cases.models import ProblemCategory

    ProblemCategory.objects.filter(code="dust").update(active=False)
    # when: sent again, and a new report of that category
    again = as_(crew.platform).post("/api/v1/cases/", body, format="json")
    new = as_(crew.platform).post("/api/v1/cases/", {**body, "external_id": "X3"}, format="json")
    # then
    assert (first.status_code, again.status_code, new.status_code) == (201, 200, 400)
    assert again.json()["id"] == first.json()["id"]
    assert "category" in new.json()
    assert Case.objects.count() == 1


def test_inspector_gets_404_for_a_case_in_another_village(small_city, crew):
    mine = (
        as_(crew.platform)
        .post(
            "/api/v1/cases/",
            {"channel": "platform", "category": "dust", "description": "a", "grid": "371302001001"},
            format="json",
        )
        .json()
    )
    other = (
        as_(crew.platform)
        .post(
            "/api/v1/cases/",
            {"channel": "platform", "category": "dust", "description": "b", "grid": "371302001002"},
            format="json",
        )
        .json()
    )
    client = as_(crew.inspector)
    assert client.get(f"/api/v1/cases/{mine['id']}/").status_code == 200
    assert client.get(f"/api/v1/cases/{other['id']}/").status_code == 404
    assert (
        client.post(f"/api/v1/cases/{other['id']}/actions/file/", {}, format="json").status_code
        == 404
    )
    assert [c["id"] for c in client.get("/api/v1/cases/").json()["results"]] == [mine["id"]]


def test_department_members_see_the_cases_dispatched_to_them(small_city, crew):
    case = (
        as_(crew.platform)
        .post(
            "/api/v1/cases/",
            {"channel": "platform", "category": "dust", "description": "a", "grid": "371311001001"},
            format="json",
        )
        .json()
    )
    assert as_(crew.env_handler).get(f"/api/v1/cases/{case['id']}/").status_code == 404
    act(crew.dispatcher, case["id"], "file")
    act(crew.dispatcher, case["id"], "dispatch", {"department": "371302.environment"})
    assert as_(crew.env_handler).get(f"/api/v1/cases/{case['id']}/").status_code == 200
    assert as_(crew.housing_handler).get(f"/api/v1/cases/{case['id']}/").status_code == 404


def test_joint_enforcement_each_department_records_its_part(small_city, crew):
    case_id = (
        as_(crew.platform)
        .post(
            "/api/v1/cases/",
            {
                "channel": "platform",
                "category": "wastewater",
                "description": "排污",
                "grid": "371302001001",
            },
            format="json",
        )
        .json()["id"]
    )
    act(crew.dispatcher, case_id, "file")
    body = act(
        crew.dispatcher,
        case_id,
        "dispatch",
        {"department": "371302.environment", "assist_departments": ["371302.housing"]},
    )
    assert sorted((a["department"], a["role"]) for a in body["assignments"]) == [
        ("371302.environment", "lead"),
        ("371302.housing", "assist"),
    ]
    # the assisting department sees the case and records its part; a stranger may not
    assert as_(crew.housing_handler).get(f"/api/v1/cases/{case_id}/").status_code == 200
    part = as_(crew.housing_handler).post(
        f"/api/v1/cases/{case_id}/parts/",
        {"department": "371302.housing", "part": "停工整改"},
        format="json",
    )
    assert part.status_code == 200 and part.json()["role"] == "assist"
    refused = as_(crew.env_handler).post(
        f"/api/v1/cases/{case_id}/parts/",
        {"department": "371302.housing", "part": "x"},
        format="json",
    )
    assert refused.status_code == 403
