"""What people do in the browser: log in, read a grid page, switch language, drag in the tree."""

from datetime import date

import pytest
from django.urls import reverse

from core.tests.factories import PASSWORD, UserFactory
from grids import services
from grids.models import Grid, Role

pytestmark = [pytest.mark.browser]


def login(page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_grid_page_shows_people_and_map_without_console_errors(
    live_server, browser_page, small_city
):
    # given a county principal and a direct responsible officer
    principal = UserFactory(username="principal", full_name="马晨建")
    officer = UserFactory(username="officer", full_name="王建国")
    services.grid_role_assign(
        grid=small_city.lanshan, user=principal, role=Role.PRINCIPAL, starts_on=date(2024, 1, 1)
    )
    services.grid_role_assign(
        grid=small_city.lanshan,
        user=officer,
        role=Role.DIRECT_RESPONSIBLE,
        starts_on=date(2024, 1, 1),
    )
    page = browser_page.page

    # when the principal logs in through the form
    login(page, live_server.url, "principal")

    # then the home page is the county's dashboard, with a row per township
    assert page.url == live_server.url + reverse("home")
    assert page.locator("#areas a", has_text="兰山街道").is_visible()
    assert browser_page.errors == []

    # and the menu's grids lead to the county's page, with its people and its map
    page.click(f".site-nav a[href='{reverse('grid-index')}']")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(reverse("grid-detail", kwargs={"code": small_city.lanshan.code}))
    assert page.locator("h1").inner_text() == "兰山区"
    people = page.locator("#people")
    assert people.get_by_text("马晨建").is_visible()
    assert people.get_by_text("王建国").is_visible()
    assert people.get_by_text("主要负责人").is_visible()
    page.wait_for_selector("#grid-map.leaflet-container path.map-child")
    assert page.locator("#grid-map").is_visible()
    assert page.locator("#grid-map path.map-child").count() == 2
    assert browser_page.errors == []

    # and a click on a sub-grid's polygon opens its page
    page.locator("#grid-map path.map-child").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() in {"兰山街道", "银雀山街道"}
    assert browser_page.errors == []


def test_language_switch_and_logout(live_server, browser_page, small_city):
    user = UserFactory(username="inspector")
    services.grid_role_assign(
        grid=small_city.village_a,
        user=user,
        role=Role.INSPECTOR,
        employment="full_time",
        starts_on=date(2024, 1, 1),
    )
    page = browser_page.page
    login(page, live_server.url, "inspector")
    page.goto(live_server.url + reverse("grid-index"))
    assert page.locator("#people-title").inner_text() == "责任人"

    page.click("form.lang-switch button[value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#people-title").inner_text() == "Responsible people"
    assert page.locator("html").get_attribute("lang") == "en"

    page.click("details.user-menu summary")
    page.click("details.user-menu button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(reverse("login"))
    assert browser_page.errors == []


def test_admin_tree_drag_moves_a_grid_without_csp_errors(live_server, browser_page, small_city):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    page = browser_page.page
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(live_server.url + reverse("admin:grids_grid_changelist"))
    page.wait_for_load_state("networkidle")
    assert browser_page.errors == []

    # drag 后十里堡社区 onto the lower third of 银雀山街道 (a row without children: "child")
    def row(code):
        return page.locator("#result_list tr", has=page.locator("td.field-code", has_text=code))

    handle = row(small_city.village_b.code).locator(".drag-handle")
    box = handle.bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    target = row(small_city.yinqueshan.code).bounding_box()
    page.mouse.move(target["x"] + 300, target["y"] + target["height"] / 2, steps=8)
    page.mouse.move(target["x"] + 301, target["y"] + target["height"] / 2)
    with page.expect_navigation():
        page.mouse.up()
    page.wait_for_load_state("networkidle")

    moved = Grid.objects.get(pk=small_city.village_b.pk)
    assert moved.parent_id == small_city.yinqueshan.pk
    assert "银雀山街道" in page.locator("ul.messagelist").inner_text()
    assert browser_page.errors == []
