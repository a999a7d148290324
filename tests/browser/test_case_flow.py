"""One case through the pages, each person in their own browser: the inspector reports a
problem on a phone (camera photo, GPS fix, grid located), the dispatcher files and dispatches it,
the department accepts, records its arrival and feeds back with a photo, the inspector verifies
it with a photo on the phone, and the timeline shows every step. No console errors anywhere."""

import io
from dataclasses import dataclass, field

import pytest
from django.urls import reverse
from django.utils import translation
from PIL import Image

from cases.labels import STATE_LABELS
from cases.models import Case
from cases.tests.conftest import crew  # noqa: F401 - the fixture, on the live server's city
from cases.transitions import State
from core.tests.factories import PASSWORD
from grids.tests.conftest import reference_data_ensure

pytestmark = [pytest.mark.browser]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
# 前十里堡社区 (371302001001) spans 117–117.5 E, 34–35 N in the test city.
SITE = {"latitude": 34.5, "longitude": 117.25, "accuracy": 8}


def photo(name: str, colour: str) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, "JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


@dataclass
class Person:
    page: object
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def people(browser, live_server):
    contexts = []

    def open_as(username: str, device: dict) -> Person:
        context = browser.new_context(
            locale="zh-CN",
            geolocation=SITE,
            permissions=["geolocation"],
            **device,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        person = Person(page=page)
        page.on(
            "console",
            lambda msg: person.errors.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: person.errors.append(str(exc)))
        page.goto(live_server.url + reverse("login"))
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form.form-stack button[type=submit]")
        return person

    yield open_as
    for context in contexts:
        context.close()


def submit(page, form) -> None:
    with page.expect_navigation():
        form.locator("button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")


def open_action(card, action: str):
    """Unfold an action's big button and return its form."""
    card.locator(f"details[data-action={action}] > summary").click()
    return card.locator(f"details[data-action={action}] form")


def test_a_case_runs_through_the_pages(live_server, small_city, crew, people):  # noqa: F811
    reference_data_ensure()
    url = live_server.url
    with translation.override("zh-hans"):
        labels = {state: str(label) for state, label in STATE_LABELS.items()}

    # 1 the inspector reports a problem on a phone
    inspector = people(crew.inspector.username, PHONE)
    page = inspector.page
    page.goto(url + reverse("case-report"))
    page.wait_for_selector("[data-geo-status][data-state=ok]")
    page.wait_for_selector("[data-geo-grid][data-state=ok]")  # located through the API
    assert page.locator("[data-geo-grid]").inner_text().endswith("前十里堡社区")
    assert page.locator("input[data-geo-lat]").input_value() == "34.500000"
    camera = page.locator("input[type=file][capture=environment]")
    assert camera.get_attribute("accept") == "image/*"
    page.locator("label.tile", has_text="扬尘").click()
    page.fill("textarea[name=description]", "工地裸土未覆盖，扬尘严重")
    camera.set_input_files(photo("site.jpg", "saddlebrown"))
    page.wait_for_selector("img[data-photo-preview]:not([hidden])")
    submit(page, page.locator("form.report"))
    case = Case.objects.get(description="工地裸土未覆盖，扬尘严重")
    assert page.url.endswith(reverse("case-detail", kwargs={"pk": case.pk}))
    assert case.channel == "inspector" and case.grid_id == small_city.village_a.pk
    assert case.photos.get().kind == "before"
    assert page.locator("#case-state").inner_text() == labels[State.COLLECTED]

    # 2 the dispatcher files it and dispatches it to the department the duty matrix proposes,
    # with the environment bureau assisting (joint enforcement)
    dispatcher = people(crew.dispatcher.username, DESKTOP)
    page = dispatcher.page
    page.goto(url + reverse("case-queue"))
    card = page.locator(f"#new article[data-case='{case.pk}']")
    submit(page, open_action(card, "file"))
    card = page.locator(f"#filed article[data-case='{case.pk}']")
    # its dispatch deadline counts down, second by second
    countdown = card.locator("[data-countdown] [data-countdown-text]").first
    before = countdown.inner_text()
    page.wait_for_function(
        "([el, text]) => el.textContent !== text", arg=[countdown.element_handle(), before]
    )
    form = open_action(card, "dispatch")
    assert form.locator("select[name=department]").input_value() == crew.housing.code
    form.locator(f"input[name=assist_departments][value='{crew.env.code}']").check()
    submit(page, form)
    case.refresh_from_db()
    assert case.status == State.DISPATCHED and case.department == crew.housing

    # 3 the housing bureau accepts, records its arrival with the GPS fix, feeds back with a photo
    handler = people(crew.housing_handler.username, DESKTOP)
    page = handler.page
    page.goto(url + reverse("case-inbox"))
    card = page.locator(f"#dispatched article[data-case='{case.pk}']")
    with page.expect_navigation():
        card.locator("form[data-action=accept] button").click()
    card = page.locator(f"#handling article[data-case='{case.pk}']")
    form = open_action(card, "arrive")
    form.locator("[data-geo-fix]").click()
    page.wait_for_function(
        "f => f.querySelector('input[name=lat]').value !== ''", arg=form.element_handle()
    )
    submit(page, form)
    card = page.locator(f"#handling article[data-case='{case.pk}']")
    form = open_action(card, "feedback")
    form.locator("textarea[name=result]").fill("已覆盖防尘网，洒水降尘")
    form.locator("input[type=file]").set_input_files(photo("after.jpg", "seagreen"))
    submit(page, form)
    case.refresh_from_db()
    assert case.status == State.FED_BACK and case.arrived_lat == SITE["latitude"]

    # 4 the inspector checks on site and verifies with a photo, on the phone
    page = inspector.page
    page.goto(url + reverse("case-verify"))
    card = page.locator(f"article[data-case='{case.pk}']")
    assert "已覆盖防尘网" in card.inner_text()
    form = open_action(card, "verify")
    page.wait_for_function(
        "f => f.querySelector('input[name=lat]').value !== ''", arg=form.element_handle()
    )
    form.locator("textarea[name=note]").fill("现场已整改")
    form.locator("input[type=file]").set_input_files(photo("check.jpg", "olivedrab"))
    submit(page, form)

    # then the case is verified and its timeline shows every step, states in Chinese
    case.refresh_from_db()
    assert case.status == State.VERIFIED
    page.goto(url + reverse("case-detail", kwargs={"pk": case.pk}))
    steps = page.locator("#timeline li").evaluate_all("items => items.map(i => i.dataset.action)")
    assert steps == ["collect", "file", "dispatch", "accept", "arrive", "feedback", "verify"]
    timeline = page.locator("#timeline").inner_text()
    for state in (State.COLLECTED, State.FILED, State.DISPATCHED, State.HANDLING):
        assert labels[state] in timeline
    assert labels[State.FED_BACK] in timeline and labels[State.VERIFIED] in timeline
    assert page.locator("#case-state").inner_text() == labels[State.VERIFIED]
    assert page.locator("#photos li").count() == 3
    page.wait_for_function(
        "() => [...document.querySelectorAll('#photos img')].every(i => i.naturalWidth > 0)"
    )
    for person in (inspector, dispatcher, handler):
        assert person.errors == [], person.errors
