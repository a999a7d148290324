"""An inspector on a phone: opens "my sources due", logs a patrol of an overdue source with a
photo from the camera and the GPS fix, and the source leaves the overdue list (issue 3, "Done
when")."""

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core.tests.factories import PASSWORD, UserFactory
from grids import services as grid_services
from grids.models import Role
from grids.tests.conftest import reference_data_ensure
from inspections import services
from inspections.models import Patrol, PollutionSource

pytestmark = [pytest.mark.browser]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
POSITION = {"latitude": 34.512, "longitude": 117.234, "accuracy": 12}
MIN_TOUCH = 48


@pytest.fixture
def phone(browser):
    """A phone-sized page that may read the (simulated) GPS position, with its console errors."""
    context = browser.new_context(
        locale="zh-CN", geolocation=POSITION, permissions=["geolocation"], **PHONE
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, errors
    context.close()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 80)).save(buffer, "JPEG")
    return buffer.getvalue()


def overdue_source(grid, actor, name: str, days_late: int) -> PollutionSource:
    source = services.source_create(
        grid=grid,
        data=services.SourceInput(
            name=name,
            kind="construction_site",
            control_tier="other",
            address="兰山区沂河路 18 号",
            lat=34.5,
            lng=117.2,
        ),
        actor=actor,
    )
    # confirmed long enough ago to be ``days_late`` days past its 60-day interval
    confirmed = timezone.localdate() - timedelta(days=60 + days_late)
    PollutionSource.objects.filter(pk=source.pk).update(confirmed_on=confirmed)
    services.source_schedule_refresh(source_ids=[source.pk])
    source.refresh_from_db()
    return source


def test_inspector_logs_a_patrol_on_a_phone_and_the_source_leaves_the_overdue_list(
    live_server, phone, small_city
):
    # given an inspector of 前十里堡社区 and two overdue sources there
    reference_data_ensure()
    office = UserFactory(username="office")
    grid_services.grid_role_assign(
        grid=small_city.city, user=office, role=Role.OFFICE, starts_on=date(2024, 1, 1)
    )
    inspector = UserFactory(username="inspector", full_name="张巡查")
    grid_services.grid_role_assign(
        grid=small_city.village_a,
        user=inspector,
        role=Role.INSPECTOR,
        employment="full_time",
        starts_on=date(2024, 1, 1),
    )
    site = overdue_source(small_city.village_a, office, "沂河路建筑工地", days_late=12)
    other = overdue_source(small_city.village_a, office, "前十里堡餐馆", days_late=3)
    page, errors = phone

    # when the inspector logs in on the phone and opens "my sources due"
    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", "inspector")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form.form-stack button[type=submit]").tap()
    page.wait_for_url(lambda url: reverse("login") not in url)
    page.goto(live_server.url + reverse("sources-due"))

    # then the most overdue source comes first, with a big "log a patrol" button
    cards = page.locator("#sources-due > li")
    assert cards.count() == 2
    assert cards.nth(0).get_attribute("data-source") == str(site.pk)
    assert cards.nth(1).get_attribute("data-source") == str(other.pk)
    button = cards.nth(0).locator("a.button--touch")
    assert button.bounding_box()["height"] >= MIN_TOUCH

    # when the inspector opens the patrol form, the GPS fix fills the hidden inputs
    button.tap()
    page.wait_for_selector("#gps.gps--ok")
    assert page.input_value("input[name=lat]") == "34.512000"
    assert page.input_value("input[name=lng]") == "117.234000"
    assert "12" in page.locator("#gps-status").inner_text()  # the accuracy in metres
    for choice in page.locator("label.choice").all():
        assert choice.bounding_box()["height"] >= MIN_TOUCH

    # and ticks two checklist items, notes a finding, takes a photo and saves
    page.locator("label.choice", has_text="围挡封闭").tap()
    page.locator("label.choice", has_text="裸土覆盖").tap()
    page.fill("textarea[name=findings]", "围挡完好，裸土已覆盖")
    page.set_input_files(
        "input[name=photos]",
        files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}],
    )
    page.wait_for_selector("#photo-previews img")
    page.locator(".form-submit button[type=submit]").tap()
    page.wait_for_url(live_server.url + reverse("sources-due"))

    # then the patrol is stored with its photo and position, and the source is no longer due
    patrol = Patrol.objects.get(source=site)
    assert list(patrol.officers.all()) == [inspector]
    assert (patrol.lat, patrol.lng) == (34.512, 117.234)
    assert patrol.photos.count() == 1
    assert patrol.checklist["围挡封闭"] is True and patrol.checklist["车辆冲洗"] is False
    assert page.locator(".message--success").is_visible()
    assert page.locator(f"#sources-due > li[data-source='{site.pk}']").count() == 0
    assert page.locator(f"#sources-due > li[data-source='{other.pk}']").count() == 1

    # and the overdue list shows only the other source
    page.goto(live_server.url + reverse("sources-overdue"))
    overdue = page.locator("#overdue-list tbody")
    assert "沂河路建筑工地" not in overdue.inner_text()
    assert "前十里堡餐馆" in overdue.inner_text()
    assert errors == []
