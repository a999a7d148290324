"""The office in the browser: from the menu to the year's ranking, to a county's score sheet,
from a deduction to the records behind it, and on to a late case's own page. No console errors
(the pages run under the site's CSP) anywhere."""

from datetime import date

import pytest
from django.urls import reverse

from assessment import services
from assessment.tests.conftest import RUN_AT, YEAR, at, late_case
from core.tests.factories import PASSWORD
from grids.tests.conftest import reference_data_ensure, small_city_build

pytestmark = [pytest.mark.browser]


@pytest.fixture
def small_city(transactional_db):
    """The assessment tests' small city, on a database the live server's thread can read; a
    transactional test starts without the data the migrations installed, so they come back."""
    reference_data_ensure()
    services.ruleset_install_linyi(year=YEAR)
    return small_city_build()


def login(page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form.form-stack button[type=submit]")


def test_the_office_follows_a_deduction_to_the_late_case(
    live_server,
    browser_page,
    small_city,
    county,
    crew,
    office,  # noqa: F811 - the fixtures
):
    # given two cases of the county's own departments closed late, and the year run
    cases = [
        late_case(
            grid=small_city.village_a,
            department=county.env,
            creator=crew.inspector,
            due=at(date(YEAR, month, 10)),
            fed_back=at(date(YEAR, month, 15)),
        )
        for month in (4, 8)
    ]
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    page = browser_page.page

    # when the office logs in and opens the assessment from the menu
    login(page, live_server.url, office.username)
    with page.expect_navigation():
        page.click(f".site-nav a[href='{reverse('assessment-home')}']")

    # then the year's ranking lists both counties, with a bar each
    assert page.url == live_server.url + reverse("assessment-ranking", args=[YEAR])
    ranking = page.locator("#ranking tbody tr")
    assert ranking.count() == 2
    assert page.locator(".rank-chart__bar").count() == 2

    # when the office opens 兰山区's sheet from the ranking
    with page.expect_navigation():
        page.locator("#ranking a", has_text="兰山区").click()

    # then the sheet shows the 3.4 deduction of two points, with its evidence link
    assert page.url == live_server.url + reverse(
        "assessment-sheet", args=[YEAR, small_city.lanshan.code]
    )
    line = page.locator("[id='line-3.4.1']")
    assert line.locator(".sheet__points").inner_text() == "-2"
    assert page.locator("[id='item-3.4'] td.num strong").inner_text() == "8"

    # when the office follows the deduction to its evidence
    with page.expect_navigation():
        line.locator("a.sheet__evidence").click()

    # then each late case is a row, linking to the case's page
    rows = page.locator("#evidence tbody tr")
    assert rows.count() == 2
    first = rows.filter(has_text=cases[0].number)
    link = first.locator("a", has_text="查看")
    assert link.get_attribute("href") == reverse("case-detail", args=[cases[0].pk])

    # and the link opens the case
    with page.expect_navigation():
        link.click()
    assert page.url == live_server.url + reverse("case-detail", args=[cases[0].pk])
    assert cases[0].number in page.locator("h1").inner_text()
    assert browser_page.errors == []
