"""The assessment API: the sheet's shape as API.md gives it, scope, permissions, bad input (400,
nothing stored), the locked year, Excel, the public disclosure lists and performance periods."""

import io
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from assessment import services
from assessment.models import (
    AssessmentFact,
    HalfYearReport,
    JointMeeting,
    PenaltyDecision,
    ScoreSheet,
    Supervision,
)
from assessment.tests.conftest import RUN_AT, YEAR, at, late_case, pdf
from cases.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.urls("assessment.tests.urls")]

SHEET_KEYS = {
    "grid",
    "grid_name",
    "year",
    "base_score",
    "bonus",
    "deductions",
    "total",
    "grade",
    "computed_at",
    "locked_at",
    "items",
}


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def scored(small_city, county, office, crew):
    late_case(
        grid=small_city.village_a,
        department=county.env,
        creator=crew.inspector,
        due=at(date(2025, 5, 1)),
        fed_back=at(date(2025, 5, 9)),
    )
    services.fact_enter(
        year=YEAR,
        grid=county.grid,
        rule_code="B3.2",
        note="培训网格员",
        document=pdf(),
        actor=office,
    )
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    return county


# --- the sheet -----------------------------------------------------------------------------------


def test_sheet_shape_as_api_md(scored, office):
    response = client_for(office).get("/api/v1/assessments/2025/")
    assert response.status_code == 200
    sheets = response.json()["results"]
    assert [s["grid"] for s in sheets] == ["371302000000", "371311000000"]  # best first
    sheet = sheets[0]
    assert set(sheet) >= SHEET_KEYS
    assert sheet["year"] == 2025
    assert sheet["grade"] in {"excellent", "good", "pass", "fail"}
    assert (sheet["base_score"], sheet["bonus"], sheet["deductions"], sheet["total"]) == (
        99,
        1,
        0,
        100,
    )
    assert isinstance(sheet["total"], (int, float))
    assert [i["code"] for i in sheet["items"]][:3] == ["1.1", "1.2", "2.1"]
    item = next(i for i in sheet["items"] if i["code"] == "3.4")
    assert {"code", "title", "max", "score", "deductions"} <= set(item)
    assert (item["max"], item["score"]) == (10, 9)
    [line] = item["deductions"]
    assert {"rule", "points", "evidence"} <= set(line)
    assert (line["rule"], line["points"], line["instances"]) == ("3.4.1", -1, 1)
    [evidence] = line["evidence"]
    assert evidence["model"] == "cases.case"
    assert evidence["url"] == f"/cases/{evidence['pk']}/"
    bonus = next(i for i in sheet["items"] if i["code"] == "B3")
    assert bonus["max"] == 5 and bonus["deductions"][0]["points"] == 1
    assert bonus["deductions"][0]["evidence"][0]["url"].startswith("/api/v1/assessment-facts/")
    deduction = next(i for i in sheet["items"] if i["code"] == "D1")
    assert deduction["max"] is None


def test_a_county_officer_sees_only_the_own_county(scored, small_city, crew):
    response = client_for(scored.principal).get("/api/v1/assessments/2025/")
    assert [s["grid"] for s in response.json()["results"]] == ["371302000000"]
    detail = client_for(scored.principal).get("/api/v1/assessments/2025/371311000000/")
    assert detail.status_code == 404
    own = client_for(scored.principal).get("/api/v1/assessments/2025/371302000000/")
    assert own.status_code == 200 and own.json()["grid"] == "371302000000"
    # a township's people see no county sheet; nobody without a login does
    assert client_for(crew.principal).get("/api/v1/assessments/2025/").json()["results"] == []
    assert client_for(None).get("/api/v1/assessments/2025/").status_code in (401, 403)


def test_the_sheet_list_takes_constant_queries(scored, office, small_city):
    client = client_for(office)
    with CaptureQueriesContext(connection) as two:
        assert len(client.get("/api/v1/assessments/2025/").json()["results"]) == 2
    ScoreSheet.objects.filter(grid=small_city.luozhuang).delete()
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/assessments/2025/").json()["results"]) == 1
    assert len(one.captured_queries) == len(two.captured_queries)


def test_ranking_and_rules(scored, office):
    ranking = client_for(office).get("/api/v1/assessments/2025/ranking/").json()
    assert [(r["rank"], r["grid"]) for r in ranking] == [(1, "371302000000"), (2, "371311000000")]
    rules = client_for(office).get("/api/v1/assessments/2025/rules/").json()
    assert sum(i["max"] for i in rules["items"] if i["group"] == "base") == 100
    assert client_for(office).get("/api/v1/assessments/2031/rules/").status_code == 404


# --- running and locking -------------------------------------------------------------------------


def test_run_and_lock_are_the_office_s(scored, office):
    principal = client_for(scored.principal)
    assert principal.post("/api/v1/assessments/2025/run/").status_code == 403
    assert principal.post("/api/v1/assessments/2025/lock/").status_code == 403
    client = client_for(office)
    assert client.post("/api/v1/assessments/2025/run/").json() == {
        "year": 2025,
        "sheets": 2,
        "locked": False,
    }
    assert client.post("/api/v1/assessments/2025/lock/").status_code == 200
    again = client.post("/api/v1/assessments/2025/lock/")
    assert again.status_code == 409
    rerun = client.post("/api/v1/assessments/2025/run/")
    assert (
        rerun.status_code == 409
        and "locked" in rerun.json()["detail"].lower()
        or "锁定" in rerun.json()["detail"]
    )
    assert client.post("/api/v1/assessments/2099/run/").status_code == 400


# --- facts ---------------------------------------------------------------------------------------


def _fact(client, **data):
    body = {"grid": "371302000000", "rule": "B2.3", "note": "省级媒体报道", "document": pdf()}
    body.update(data)
    return client.post("/api/v1/assessments/2025/facts/", body, format="multipart")


def test_entering_a_fact(scored, office):
    response = _fact(client_for(office))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rule"], body["points"], body["grid"]) == ("B2.3", 0.5, "371302000000")
    assert body["document"]
    listed = client_for(office).get("/api/v1/assessments/2025/facts/").json()["results"]
    assert len(listed) == 2
    detail = client_for(office).get(f"/api/v1/assessment-facts/{body['id']}/")
    assert detail.status_code == 200
    withdrawn = client_for(office).post(
        f"/api/v1/assessment-facts/{body['id']}/withdraw/", {"reason": "重复录入"}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"points": "-5"}, "points"),  # outside the rule's range (+0.5)
        ({"points": "0.6"}, "points"),
        ({"rule": "3.4.1"}, "rule"),  # counted from the records, not entered
        ({"rule": "9.9"}, "rule"),
        ({"grid": "371302001000"}, "grid"),  # a township is not assessed
        ({"occurred_on": "2024-12-31"}, "occurred_on"),
        ({"note": ""}, "note"),
        ({"document": None}, "document"),
    ],
)
def test_bad_facts_are_refused_and_nothing_is_stored(scored, office, english, data, field):
    before = AssessmentFact.objects.count()
    body = {"grid": "371302000000", "rule": "B2.3", "note": "省级媒体报道", "document": pdf()}
    body.update(data)
    body = {k: v for k, v in body.items() if v is not None}
    response = client_for(office).post("/api/v1/assessments/2025/facts/", body, format="multipart")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert AssessmentFact.objects.count() == before


def test_a_fact_for_a_locked_year_is_a_400(scored, office, english):
    services.assessment_lock(year=YEAR, actor=office)
    response = _fact(client_for(office))
    assert response.status_code == 400
    assert "locked" in response.json()["detail"]
    assert AssessmentFact.objects.count() == 1


def test_only_the_office_enters_facts(scored):
    assert _fact(client_for(scored.principal)).status_code == 403


# --- the mechanisms' records ---------------------------------------------------------------------


def _meeting(client, **data):
    body = {
        "grid": "371302000000",
        "held_on": "2026-04-10",
        "title": "2026年上半年联席会议",
        "attendees": ["兰山区生态环境局", "兰山区住建局"],
        "minutes": "研究扬尘治理",
        "decisions": [
            {
                "text": "开展扬尘专项检查",
                "issued_as": "supervision_letter",
                "department": "371302.housing",
                "due_on": "2026-05-31",
            }
        ],
    }
    body.update(data)
    return client.post("/api/v1/joint-meetings/", body, format="json")


def test_meetings_with_decisions_and_follow_up(county, crew):
    client = client_for(county.principal)
    response = _meeting(client)
    assert response.status_code == 201, response.json()
    meeting = response.json()
    [decision] = meeting["decisions"]
    assert decision["department"] == "371302.housing"
    # the supervision letter reached the housing bureau's handler
    assert crew.housing_handler.notifications.filter(kind="assessment").count() == 1
    follow = client_for(crew.housing_handler).post(
        f"/api/v1/meeting-decisions/{decision['id']}/follow-up/",
        {"follow_up": "已检查工地12处", "done_on": "2026-05-20"},
    )
    assert follow.status_code == 200, follow.json()
    assert follow.json()["done_on"] == "2026-05-20"
    listed = client.get("/api/v1/joint-meetings/?year=2026").json()["results"]
    assert [m["id"] for m in listed] == [meeting["id"]]


def test_a_meeting_dated_in_the_future_is_a_400(county, english):
    before = JointMeeting.objects.count()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = _meeting(client_for(county.principal), held_on=tomorrow)
    assert response.status_code == 400
    assert response.json()["held_on"] == ["A meeting cannot be dated in the future."]
    assert JointMeeting.objects.count() == before
    missing = _meeting(client_for(county.principal), attendees=[])
    assert missing.status_code == 400
    assert JointMeeting.objects.count() == before


def test_half_year_reports_and_the_grid_that_does_not_owe_one(county, small_city, crew, english):
    client = client_for(county.principal)
    before = HalfYearReport.objects.count()
    township = client.post(
        "/api/v1/half-year-reports/",
        {"grid": "371302001000", "year": 2026, "half": 1, "summary": "总结"},
    )
    assert township.status_code == 400
    assert "does not owe" in township.json()["grid"][0]
    assert HalfYearReport.objects.count() == before
    ok = client.post(
        "/api/v1/half-year-reports/",
        {"grid": "371302000000", "year": 2026, "half": 1, "summary": "总结"},
    )
    assert ok.status_code == 201, ok.json()
    body = ok.json()
    assert body["due_on"] == "2026-07-10"
    assert body["late"] is (timezone.localdate() > date(2026, 7, 10))
    twice = client.post(
        "/api/v1/half-year-reports/",
        {"grid": "371302000000", "year": 2026, "half": 1, "summary": "x"},
    )
    assert twice.status_code == 400
    future = client.post(
        "/api/v1/half-year-reports/",
        {"grid": "371302000000", "year": 2031, "half": 1, "summary": "x"},
    )
    assert future.status_code == 400
    outsider = client_for(crew.inspector).post(
        "/api/v1/half-year-reports/",
        {"grid": "371302000000", "year": 2026, "half": 2, "summary": "x"},
    )
    assert outsider.status_code in (400, 403)


def test_supervision_rectification_and_public_disclosure(county, small_city, crew):
    client = client_for(county.principal)
    response = client.post(
        "/api/v1/supervisions/",
        {
            "supervisor_grid": "371302000000",
            "target_grid": "371302001000",
            "held_on": "2026-03-05",
            "topic": "综合督查",
            "findings": "部分工地未覆盖",
            "rectification_due": "2026-04-05",
        },
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    public = client_for(None)
    published_before = {
        s["id"] for s in public.get("/api/v1/disclosure/supervisions/").json()["results"]
    }
    assert pk not in published_before
    assert (
        client.post(
            f"/api/v1/supervisions/{pk}/rectification/",
            {"rectification": "已覆盖", "rectified_on": "2026-04-01"},
        ).status_code
        == 200
    )
    assert client.post(f"/api/v1/supervisions/{pk}/publish/").status_code == 200
    assert client.post(f"/api/v1/supervisions/{pk}/publish/").status_code == 409
    listed = public.get("/api/v1/disclosure/supervisions/").json()["results"]
    shown = next(s for s in listed if s["id"] == pk)
    assert shown["rectification"] == "已覆盖"
    assert "recorded_by" not in shown
    # a grid that is not below the supervising one
    wrong = client.post(
        "/api/v1/supervisions/",
        {
            "supervisor_grid": "371302000000",
            "target_grid": "371302000000",
            "held_on": "2026-03-05",
            "topic": "x",
            "findings": "y",
        },
    )
    assert wrong.status_code == 400
    assert Supervision.objects.filter(topic="x").count() == 0


def test_penalty_decisions_are_public_once_published(county, crew):
    client = client_for(crew.env_handler)
    response = client.post(
        "/api/v1/penalty-decisions/",
        {
            "department": "371302.environment",
            "grid": "371302001001",
            "number": "临兰环罚〔2026〕12号",
            "party": "临沂某化工有限公司",
            "violation": "超标排放",
            "penalty": "罚款",
            "amount": "50000",
            "decided_on": "2026-03-01",
        },
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    public = client_for(None).get("/api/v1/disclosure/penalties/")
    assert public.status_code == 200 and public.json()["results"] == []
    assert client.post(f"/api/v1/penalty-decisions/{pk}/publish/").status_code == 200
    [row] = client_for(None).get("/api/v1/disclosure/penalties/").json()["results"]
    assert (row["number"], row["amount"]) == ("临兰环罚〔2026〕12号", 50000)
    assert PenaltyDecision.objects.get(pk=pk).published_at is not None


def test_self_evaluation_and_help_request(county, small_city, crew):
    client = client_for(county.principal)
    own = client.post(
        "/api/v1/self-evaluations/",
        {"grid": "371302000000", "year": 2026, "score": "92", "summary": "运行良好"},
    )
    assert own.status_code == 201, own.json()
    assert (
        client.post(
            "/api/v1/self-evaluations/", {"grid": "371302000000", "year": 2026, "summary": "again"}
        ).status_code
        == 400
    )
    ask = client_for(crew.principal).post(
        "/api/v1/help-requests/",
        {"from_grid": "371302001000", "subject": "跨界污染", "body": "需要区里协调"},
    )
    assert ask.status_code == 201, ask.json()
    assert ask.json()["to_grid"] == "371302000000"
    answer = client.post(f"/api/v1/help-requests/{ask.json()['id']}/answer/", {"answer": "已协调"})
    assert answer.status_code == 200 and answer.json()["status"] == "answered"


# --- Excel ---------------------------------------------------------------------------------------


def test_excel_laid_out_like_the_notice(scored, office):
    response = client_for(office).get("/api/v1/assessments/2025/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["排名", "兰山区", "罗庄区"]
    ws = book["兰山区"]
    assert [c.value for c in ws[2]][:5] == ["序号", "指标类型", "分值", "考核内容", "评分细则"]
    rows = {str(r[3]).split(" ")[0]: r for r in ws.iter_rows(min_row=3, values_only=True) if r[3]}
    assert rows["3.4"][7] == 9
    assert "3.4.1: -1" in rows["3.4"][5]
    totals = {
        r[1]: r[7] for r in ws.iter_rows(min_row=3, values_only=True) if r[1] in ("总分", "等级")
    }
    assert totals == {"总分": 100, "等级": "优秀"}
    own = client_for(scored.principal).get("/api/v1/assessments/2025/export/?grid=371311000000")
    assert own.status_code == 404


# --- performance periods -------------------------------------------------------------------------


def test_performance_period_api(small_city, crew, office, django_capture_on_commit_callbacks):
    case = late_case(
        grid=small_city.village_a,
        department=crew.env,
        creator=crew.inspector,
        due=at(date(2026, 1, 12)),
        fed_back=at(date(2026, 1, 10)),
        handling_met=True,
        status=Case.Status.EVALUATED,
    )
    client = client_for(office)
    made = client.post("/api/v1/performance-periods/", {"kind": "month", "starts_on": "2026-01-01"})
    assert made.status_code == 200, made.json()
    pk = made.json()["id"]
    figures = client.get(f"/api/v1/performance-periods/{pk}/figures/?subject=department").json()[
        "results"
    ]
    [env] = figures
    assert (env["department"], env["cases"], env["on_time_closure_rate"], env["closure_rate"]) == (
        "371302.environment",
        1,
        1.0,
        1.0,
    )
    assert (
        client_for(crew.principal).post(f"/api/v1/performance-periods/{pk}/lock/").status_code
        == 403
    )
    with django_capture_on_commit_callbacks(execute=True):
        locked = client.post(f"/api/v1/performance-periods/{pk}/lock/")
    assert locked.status_code == 200 and locked.json()["locked_at"]
    case.refresh_from_db()
    assert case.status == "assessed"
    assert client.post(f"/api/v1/performance-periods/{pk}/lock/").status_code == 409
    bad = client.post("/api/v1/performance-periods/", {"kind": "month", "starts_on": "2026-01-15"})
    assert bad.status_code == 400
    # a handler sees the own department's figures only
    own = (
        client_for(crew.env_handler)
        .get(f"/api/v1/performance-periods/{pk}/figures/")
        .json()["results"]
    )
    assert {(f["subject"], f["department"]) for f in own} == {("department", "371302.environment")}


def test_scoresheet_numbers_are_decimals_in_the_database(scored):
    sheet = ScoreSheet.objects.get(grid=scored.grid, year=YEAR)
    assert sheet.total == D("100.00")
