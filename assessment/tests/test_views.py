"""The assessment pages: who sees which sheet, the deduction → evidence links, the office's
buttons on draft and locked years, the entry forms showing the services' refusals (nothing
stored), the public disclosure page, and a constant number of queries per page."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.models import AssessmentFact, HalfYearReport, JointMeeting, ScoreSheet
from assessment.tests.conftest import RUN_AT, YEAR, at, late_case, pdf
from grids import services as grid_services
from grids.models import Role
from grids.tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


def run(office) -> None:
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)


def ranking_url(year: int = YEAR) -> str:
    return reverse("assessment-ranking", args=[year])


def sheet_url(grid, year: int = YEAR) -> str:
    return reverse("assessment-sheet", args=[year, grid.code])


def evidence_url(grid, code: str, year: int = YEAR) -> str:
    return reverse("assessment-evidence", args=[year, grid.code, code])


@pytest.fixture
def three_late_cases(small_city, county, crew):
    return [
        late_case(
            grid=small_city.village_a,
            department=county.env,
            creator=crew.inspector,
            due=at(date(2025, month, 10)),
            fed_back=at(date(2025, month, 14)),
        )
        for month in (3, 6, 9)
    ]


# --- who may see what --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("assessment-home", []),
        ("assessment-ranking", [YEAR]),
        ("assessment-sheet", [YEAR, "371302000000"]),
        ("assessment-evidence", [YEAR, "371302000000", "3.4.1"]),
        ("assessment-facts", [YEAR]),
        ("assessment-meetings", []),
        ("assessment-reports", []),
        ("assessment-supervisions", []),
    ],
)
def test_anonymous_is_sent_to_the_login_page(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_county_officer_sees_his_county_sheet_and_no_other(client, small_city, county, office):
    # given both counties scored
    run(office)
    client.force_login(county.principal)

    # then his own county's sheet opens, the other county's is a 404 (sheet and evidence)
    assert client.get(sheet_url(small_city.lanshan)).status_code == 200
    assert client.get(sheet_url(small_city.luozhuang)).status_code == 404
    assert client.get(evidence_url(small_city.luozhuang, "3.5.2")).status_code == 404
    # and the ranking lists his county only
    response = client.get(ranking_url())
    assert [row.sheet.grid for row in response.context["rows"]] == [small_city.lanshan]


def test_a_township_principal_sees_no_county_sheet(client, small_city, county, office):
    run(office)
    principal = user_with_role(small_city.lanshan_street, Role.PRINCIPAL)
    client.force_login(principal)
    assert client.get(sheet_url(small_city.lanshan)).status_code == 404
    assert client.get(ranking_url()).context["rows"] == []


def test_the_office_sees_every_county_ranked_with_links(client, small_city, county, office):
    # given
    run(office)
    client.force_login(office)

    # when
    response = client.get(ranking_url())

    # then both counties, best first, each linking to its sheet, with the Excel download
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r.sheet.grid for r in rows] == [small_city.lanshan, small_city.luozhuang]
    assert rows[0].sheet.total > rows[1].sheet.total
    html = response.content.decode()
    for grid in (small_city.lanshan, small_city.luozhuang):
        assert f'href="{sheet_url(grid)}"' in html
    assert reverse("api-assessment-export", args=[YEAR]) in html
    assert html.count('class="rank-chart__bar') == 2


# --- the sheet and its evidence ----------------------------------------------------------------


def test_each_deduction_links_to_its_evidence_and_cases_to_their_pages(
    client, small_city, county, office, three_late_cases
):
    # given three cases of the county's own closed late, and a run
    run(office)
    client.force_login(office)

    # when the sheet opens
    response = client.get(sheet_url(small_city.lanshan))

    # then the 3.4 deduction is shown with a link to its evidence
    html = response.content.decode()
    link = evidence_url(small_city.lanshan, "3.4.1")
    assert f'href="{link}"' in html
    sheet = ScoreSheet.objects.get(grid=small_city.lanshan, year=YEAR)
    applied = [line.code for item in sheet.items.all() for line in item.lines.all()]
    for code in applied:
        assert f'href="{evidence_url(small_city.lanshan, code)}"' in html

    # and the evidence lists each late case, linked to the case's page
    evidence = client.get(link)
    assert evidence.status_code == 200
    page = evidence.content.decode()
    for case in three_late_cases:
        assert case.number in page
        assert f'href="{reverse("case-detail", args=[case.pk])}"' in page


def test_a_fact_deduction_links_to_the_entry_and_its_document(client, small_city, county, office):
    # given a −5 criticism entered by the office, and a run
    fact = services.fact_enter(
        year=YEAR,
        grid=county.grid,
        rule_code="D1.1",
        note="市级通报批评",
        document=pdf("criticism.pdf"),
        actor=office,
        occurred_on=date(2025, 8, 1),
    )
    run(office)
    client.force_login(office)

    # when the evidence of D1.1 opens
    page = client.get(evidence_url(county.grid, "D1.1")).content.decode()

    # then it links to the entry's page and its document, which open
    fact_url = reverse("assessment-fact", args=[fact.pk])
    document_url = reverse("assessment-fact-document", args=[fact.pk])
    assert f'href="{fact_url}"' in page
    assert f'href="{document_url}"' in page
    assert "市级通报批评" in client.get(fact_url).content.decode()
    document = client.get(document_url)
    assert document.status_code == 200
    assert b"".join(document.streaming_content).startswith(b"%PDF")


def test_a_missing_meeting_links_to_the_county_meetings(client, county, office):
    JointMeeting.objects.filter(grid=county.grid, held_on__month=10).delete()
    run(office)
    client.force_login(office)
    page = client.get(evidence_url(county.grid, "3.5.2")).content.decode()
    assert f'href="{reverse("assessment-meetings")}?grid={county.grid.code}"' in page
    assert "/api/" not in page.split('id="evidence"')[1]


# --- run, re-run and lock ----------------------------------------------------------------------


def _button(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index(">", start)]


def test_the_office_buttons_are_enabled_on_a_draft_and_disabled_once_locked(client, county, office):
    # given a draft sheet
    run(office)
    client.force_login(office)
    html = client.get(sheet_url(county.grid)).content.decode()
    assert "disabled" not in _button(html, "lock-button")
    assert "disabled" not in _button(html, "run-button")

    # when the office locks the year through the page
    response = client.post(reverse("assessment-lock", args=[YEAR]))
    assert response.status_code == 302
    assert ScoreSheet.objects.filter(year=YEAR, locked_at__isnull=True).count() == 0

    # then both buttons are disabled on the sheet and the ranking
    for url in (sheet_url(county.grid), ranking_url()):
        html = client.get(url).content.decode()
        assert "disabled" in _button(html, "lock-button")
        assert "disabled" in _button(html, "run-button")


def test_a_re_run_of_a_locked_year_changes_nothing(client, county, office, three_late_cases):
    # given a locked year
    run(office)
    services.assessment_lock(year=YEAR, actor=office)
    before = ScoreSheet.objects.get(grid=county.grid, year=YEAR)
    client.force_login(office)

    # when the run is posted anyway
    response = client.post(reverse("assessment-run", args=[YEAR]), follow=True)

    # then the page says why and the sheet is as it was
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    after = ScoreSheet.objects.get(grid=county.grid, year=YEAR)
    assert (after.total, after.computed_at) == (before.total, before.computed_at)


def test_others_may_not_run_or_lock(client, county, office):
    run(office)
    client.force_login(county.principal)
    assert client.post(reverse("assessment-run", args=[YEAR])).status_code == 403
    assert client.post(reverse("assessment-lock", args=[YEAR])).status_code == 403
    html = client.get(sheet_url(county.grid)).content.decode()
    assert 'id="lock-button"' not in html


def test_the_office_runs_the_year_from_the_page(client, small_city, county, office):
    client.force_login(office)
    response = client.post(reverse("assessment-run", args=[YEAR]))
    assert response.status_code == 302
    assert set(ScoreSheet.objects.filter(year=YEAR).values_list("grid__code", flat=True)) == {
        small_city.lanshan.code,
        small_city.luozhuang.code,
    }


# --- entry forms: the services' refusals as form errors, nothing stored ----------------------


def fact_post(client, **data):
    values = {
        "grid": "371302000000",
        "rule": "B1.1",
        "points": "",
        "occurred_on": "2025-05-01",
        "note": "三个一律追责一起",
    }
    values.update(data)
    values.setdefault("document", pdf())
    return client.post(reverse("assessment-facts", args=[YEAR]), values)


def test_a_fact_is_entered_through_the_form(client, county, office):
    client.force_login(office)
    response = fact_post(client)
    assert response.status_code == 302
    fact = AssessmentFact.objects.get()
    assert (fact.grid, fact.rule.code, fact.points) == (county.grid, "B1.1", 2)


def test_a_fact_with_points_outside_the_rule_range_is_refused(client, county, office):
    # given
    client.force_login(office)

    # when the office enters +50 for a +2 rule
    response = fact_post(client, points="50")

    # then the form shows the service's message at the points field; nothing stored
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "points" in errors
    assert errors["points"][0] in response.content.decode()
    assert not AssessmentFact.objects.exists()


def test_a_fact_for_a_locked_year_is_refused(client, county, office):
    run(office)
    services.assessment_lock(year=YEAR, actor=office)
    client.force_login(office)
    response = fact_post(client)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert str(YEAR) in response.context["form"].non_field_errors()[0]
    assert not AssessmentFact.objects.exists()


def test_a_fact_without_a_document_is_refused(client, county, office):
    client.force_login(office)
    response = fact_post(client, document="")
    assert response.status_code == 400
    assert "document" in response.context["form"].errors
    assert not AssessmentFact.objects.exists()


def test_only_the_office_enters_facts(client, county, office):
    client.force_login(county.principal)
    assert client.get(reverse("assessment-facts", args=[YEAR])).context["form"] is None
    assert fact_post(client).status_code == 403
    assert not AssessmentFact.objects.exists()


def meeting_post(client, grid, **data):
    values = {
        "grid": grid.code,
        "held_on": "2025-05-20",
        "kind": "regular",
        "title": "联席会议",
        "attendees": "生态环境局\n住建局",
        "minutes": "研究部署",
        "decision": "",
        "issued_as": "minutes",
    }
    values.update(data)
    return client.post(reverse("assessment-meetings"), values)


def test_a_meeting_is_recorded_through_the_form(client, county):
    client.force_login(county.principal)
    before = JointMeeting.objects.count()
    response = meeting_post(client, county.grid)
    assert response.status_code == 302
    assert JointMeeting.objects.count() == before + 1


def test_a_meeting_in_the_future_is_refused(client, county):
    # given
    client.force_login(county.principal)
    before = JointMeeting.objects.count()
    tomorrow = timezone.localdate() + timedelta(days=1)

    # when
    response = meeting_post(client, county.grid, held_on=tomorrow.isoformat())

    # then
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "held_on" in errors
    assert errors["held_on"][0] in response.content.decode()
    assert JointMeeting.objects.count() == before


def test_a_supervision_letter_without_a_department_is_refused(client, county):
    client.force_login(county.principal)
    before = JointMeeting.objects.count()
    response = meeting_post(
        client, county.grid, decision="整改扬尘", issued_as="supervision_letter"
    )
    assert response.status_code == 400
    assert "decision" in response.context["form"].errors
    assert JointMeeting.objects.count() == before


def test_a_report_from_a_grid_that_owes_none_is_refused(client, small_city, county):
    # given the county principal, who may record for the township below
    client.force_login(county.principal)
    before = HalfYearReport.objects.count()

    # when he submits a half-year report for the township
    response = client.post(
        reverse("assessment-reports"),
        {"grid": small_city.lanshan_street.code, "year": "2025", "half": "1", "summary": "总结"},
    )

    # then it is refused at the grid field; nothing stored
    assert response.status_code == 400
    assert "grid" in response.context["form"].errors
    assert HalfYearReport.objects.count() == before


def test_a_grid_outside_the_area_is_refused_by_the_form(client, small_city, county):
    client.force_login(county.principal)
    before = JointMeeting.objects.count()
    response = meeting_post(client, small_city.luozhuang)
    assert response.status_code == 400
    assert "grid" in response.context["form"].errors
    assert JointMeeting.objects.count() == before


# --- the public disclosure page ----------------------------------------------------------------


def test_the_disclosure_page_needs_no_login_and_shows_only_what_was_published(
    client, small_city, county
):
    # given the county's published comprehensive supervision and an unpublished one
    hidden = services.supervision_record(
        supervisor_grid=county.grid,
        target_grid=small_city.lanshan_street,
        held_on=date(2025, 11, 20),
        topic="未公开的督查",
        findings="内部发现",
        actor=county.principal,
        now=at(date(2025, 11, 21)),
    )

    # when anyone opens the page
    response = client.get(reverse("public-disclosure"))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "巡查频次不足" in html  # the published findings
    assert hidden.topic not in html


# --- queries -----------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_ranking_and_sheet_pages_take_a_constant_number_of_queries(
    client, small_city, county, office, crew, django_assert_max_num_queries
):
    # given the two counties scored, the county in order
    run(office)
    client.force_login(office)
    clean_sheet = _queries(client, sheet_url(county.grid))
    two_counties = _queries(client, ranking_url())

    # when a third county appears and the county gets many deductions, facts and evidence
    grid_services.grid_create(
        parent=small_city.city,
        data=grid_services.GridInput(name="河东区", code="371312000000"),
        actor=None,
    )
    for month in range(1, 13):
        late_case(
            grid=small_city.village_a,
            department=county.env,
            creator=crew.inspector,
            due=at(date(2025, month, 10)),
            fed_back=at(date(2025, month, 20)),
        )
    JointMeeting.objects.filter(grid=county.grid).delete()
    for n in range(3):
        services.fact_enter(
            year=YEAR,
            grid=county.grid,
            rule_code="D1.1",
            note=f"通报批评 {n}",
            document=pdf(),
            actor=office,
        )
    run(office)
    assert ScoreSheet.objects.filter(year=YEAR).count() == 3

    # then the counts do not grow with the counties, the lines, the evidence or the facts
    assert _queries(client, sheet_url(county.grid)) == clean_sheet
    assert _queries(client, ranking_url()) == two_counties
    assert _queries(client, evidence_url(county.grid, "3.4.1")) <= clean_sheet
    with django_assert_max_num_queries(12):
        client.get(sheet_url(county.grid))
    with django_assert_max_num_queries(12):
        client.get(ranking_url())
