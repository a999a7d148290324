"""The case pages: scope (404 outside), the action view's refusals, the report page, the case
list's filters and cursor, and bounded query counts on the queue, the inbox and the case page."""

import html
import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases import services, views
from cases.labels import ACTION_LABELS, STATE_LABELS, action_label, state_label
from cases.models import Case, CaseAssignment, CaseEvent, CasePhoto, ReturnVisit
from cases.tests.conftest import jpeg
from cases.transitions import Action, State
from core.tests.factories import UserFactory
from grids.models import Role
from grids.tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

QUEUE_QUERIES = 14
INBOX_QUERIES = 11
DETAIL_QUERIES = 22
LIST_QUERIES = 11  # + the inbox badge COUNT in the header


# --- helpers -----------------------------------------------------------------------------------


def upload(name="site.jpg") -> SimpleUploadedFile:
    """A JPEG as the services receive it (the test client sends ``jpeg()`` itself)."""
    return SimpleUploadedFile(name, jpeg(name).getvalue(), content_type="image/jpeg")


def intake(crew, *, description="工地扬尘严重", lat=34.5, lng=117.25, channel="complaint"):
    case, _created = services.case_create(
        data=services.CaseInput(
            channel=channel,
            category="dust",
            description=description,
            lat=lat,
            lng=lng,
            photos=[upload("before.jpg")],
        ),
        actor=crew.platform,
    )
    return case


def walk(case, crew, *, to: str):
    """Move a case along the happy path with the services, up to the state ``to``."""
    steps = [
        (State.FILED, crew.dispatcher, Action.FILE, {}),
        (State.DISPATCHED, crew.dispatcher, Action.DISPATCH, {"department": crew.env.code}),
        (State.HANDLING, crew.env_handler, Action.ACCEPT, {}),
        (
            State.FED_BACK,
            crew.env_handler,
            Action.FEEDBACK,
            {"result": "已覆盖防尘网", "photos": [upload("after.jpg")]},
        ),
        (State.VERIFIED, crew.inspector, Action.VERIFY, {"photos": [upload("check.jpg")]}),
    ]
    for state, actor, action, data in steps:
        case = services.case_transition(
            case=case, action=action, actor=actor, data=services.ActionInput(**data)
        )
        if state == to:
            return case
    raise AssertionError(f"no step leads to {to}")


def action_url(case, action):
    return reverse("case-action", kwargs={"pk": case.pk, "action": action})


def detail_url(case):
    return reverse("case-detail", kwargs={"pk": case.pk})


@pytest.fixture
def outsider(small_city):
    """An inspector of a village in the other county."""
    return user_with_role(small_city.village_c, Role.INSPECTOR, username="far_inspector")


# --- labels ------------------------------------------------------------------------------------


def test_every_state_and_action_has_a_label():
    assert set(STATE_LABELS) == set(State)
    assert set(Action) <= set(ACTION_LABELS)
    assert state_label("handling") == str(STATE_LABELS[State.HANDLING])
    assert action_label("collect") == str(ACTION_LABELS["collect"])
    assert state_label("nonsense") == "nonsense"


# --- scope: every page renders in scope and 404s outside ------------------------------------------


def test_case_page_renders_in_scope_and_404s_outside(client, crew, outsider):
    case = intake(crew)
    client.force_login(crew.inspector)
    response = client.get(detail_url(case))
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html and "工地扬尘严重" in html
    assert str(STATE_LABELS[State.COLLECTED]) in html
    assert 'id="case-map-data"' in html  # the reported point on a map
    photo = case.photos.get()
    assert photo.sha256[:12] in html
    assert reverse("case-photo", kwargs={"pk": case.pk, "photo_pk": photo.pk}) in html

    client.force_login(outsider)
    assert client.get(detail_url(case)).status_code == 404
    assert client.get(reverse("case-detail", kwargs={"pk": 999999})).status_code == 404
    photo_url = reverse("case-photo", kwargs={"pk": case.pk, "photo_pk": photo.pk})
    assert client.get(photo_url).status_code == 404
    # a department sees the case only once it is dispatched to it
    client.force_login(crew.env_handler)
    assert client.get(detail_url(case)).status_code == 404
    walk(case, crew, to=State.DISPATCHED)
    assert client.get(detail_url(case)).status_code == 200


def test_photo_is_served_to_people_in_scope(client, crew):
    case = intake(crew)
    photo = case.photos.get()
    client.force_login(crew.inspector)
    response = client.get(reverse("case-photo", kwargs={"pk": case.pk, "photo_pk": photo.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    "page, allowed, refused",
    [
        ("case-queue", "dispatcher", ["inspector", "env_handler"]),
        ("case-inbox", "env_handler", ["inspector", "dispatcher"]),
        ("case-verify", "inspector", ["env_handler", "platform"]),
        ("case-report", "inspector", ["env_handler"]),
        ("case-list", "inspector", ["nobody"]),
    ],
)
def test_desk_pages_render_for_their_people_and_404_for_others(
    client, crew, page, allowed, refused
):
    intake(crew)
    people = {**vars(crew), "nobody": UserFactory(username="nobody")}
    client.force_login(people[allowed])
    assert client.get(reverse(page)).status_code == 200
    for name in refused:
        client.force_login(people[name])
        assert client.get(reverse(page)).status_code == 404, name


def test_pages_need_login(client, crew):
    case = intake(crew)
    for url in (reverse("case-queue"), reverse("case-list"), detail_url(case)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_queue_shows_new_and_filed_cases_with_the_duty_matrix_proposal(client, crew, outsider):
    new = intake(crew, description="新报告")
    filed = walk(intake(crew, description="待派遣"), crew, to=State.FILED)
    far = intake(crew, description="罗庄的报告", lat=35.0, lng=118.5)
    client.force_login(crew.dispatcher)
    response = client.get(reverse("case-queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert new.number in html and filed.number in html and far.number in html
    # dust is the housing sector's duty: its county department is proposed and pre-selected
    row = next(c for c in response.context["sections"][1]["cases"] if c.pk == filed.pk)
    assert row.proposed == crew.housing
    assert row.forms[Action.DISPATCH]["department"].initial == crew.housing.code
    assert f'<option value="{crew.housing.code}" selected>' in html
    # each row shows its running deadline with the time left
    assert 'data-countdown data-deadline="' in html
    # a dispatcher of one county sees only that county's queue
    county = user_with_role(crew.env.grid, Role.DISPATCHER, username="county_dispatcher")
    client.force_login(county)
    html = client.get(reverse("case-queue")).content.decode()
    assert new.number in html and far.number not in html


def test_inbox_lists_cases_of_my_department_only(client, crew):
    mine = walk(intake(crew), crew, to=State.DISPATCHED)
    handling = walk(intake(crew), crew, to=State.HANDLING)
    theirs = walk(intake(crew), crew, to=State.FILED)
    services.case_transition(
        case=theirs,
        action=Action.DISPATCH,
        actor=crew.dispatcher,
        data=services.ActionInput(department=crew.housing.code, assist_departments=[crew.env.code]),
    )
    client.force_login(crew.env_handler)
    response = client.get(reverse("case-inbox"))
    sections = {s["key"]: [c.pk for c in s["cases"]] for s in response.context["sections"]}
    assert sections == {
        "dispatched": [mine.pk],
        "handling": [handling.pk],
        "assisting": [theirs.pk],
    }
    html = response.content.decode()
    assert action_url(mine, "accept") in html and action_url(mine, "return") in html
    assert action_url(handling, "feedback") in html and action_url(handling, "arrive") in html


def test_verify_page_lists_fed_back_cases_with_camera_inputs(client, crew):
    case = walk(intake(crew), crew, to=State.FED_BACK)
    client.force_login(crew.inspector)
    response = client.get(reverse("case-verify"))
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html and "已覆盖防尘网" in html
    assert action_url(case, "verify") in html and action_url(case, "rework") in html
    assert 'capture="environment"' in html


# --- the action view ---------------------------------------------------------------------------


def error_message(response) -> str:
    """The page's error message (the messages list of base.html)."""
    found = re.search(r'<li class="message message--error">(.*?)</li>', response.content.decode())
    assert found, "no error message on the page"
    return html.unescape(found.group(1))


def test_an_action_not_allowed_in_the_state_is_refused_naming_state_and_allowed(client, crew):
    case = intake(crew)
    client.force_login(crew.dispatcher)
    events = CaseEvent.objects.filter(case=case).count()

    response = client.post(action_url(case, "accept"))

    assert response.status_code == 409
    message = error_message(response)
    assert action_label("accept") in message
    assert str(STATE_LABELS[State.COLLECTED]) in message
    for allowed in ("file", "reject", "void"):
        assert action_label(allowed) in message
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.objects.get(pk=case.pk).status == State.COLLECTED


def test_approving_an_extension_nobody_asked_for_is_refused(client, crew):
    case = walk(intake(crew), crew, to=State.HANDLING)
    client.force_login(crew.dispatcher)
    response = client.post(action_url(case, "approve_extension"))
    assert response.status_code == 409
    message = error_message(response)
    assert str(STATE_LABELS[State.HANDLING]) in message
    assert Case.objects.get(pk=case.pk).extension_count == 0


def test_an_action_this_user_may_not_take_is_refused_and_nothing_stored(client, crew):
    case = intake(crew)
    client.force_login(crew.inspector)
    response = client.post(action_url(case, "file"), {"note": "x"})
    assert response.status_code == 403
    assert action_label("file") in error_message(response)
    assert Case.objects.get(pk=case.pk).status == State.COLLECTED
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_missing_reason_shows_the_form_again_with_its_error(client, crew):
    case = intake(crew)
    client.force_login(crew.dispatcher)
    response = client.post(action_url(case, "reject"), {"reason": "  "})
    assert response.status_code == 400
    form = next(f for f in response.context["forms"] if f.action == "reject")
    assert form.errors["reason"] and form.is_open
    assert '<details class="action action--danger" data-action="reject" open>' in (
        response.content.decode()
    )
    assert Case.objects.get(pk=case.pk).status == State.COLLECTED


def test_unknown_action_is_404_and_get_is_not_allowed(client, crew):
    case = intake(crew)
    client.force_login(crew.dispatcher)
    assert client.post(action_url(case, "fly")).status_code == 404
    assert client.post(action_url(case, "assess")).status_code == 404
    assert client.get(action_url(case, "file")).status_code == 405


def test_feedback_without_an_after_photo_or_with_a_bad_one_stores_nothing(client, crew):
    case = walk(intake(crew), crew, to=State.HANDLING)
    client.force_login(crew.env_handler)
    response = client.post(action_url(case, "feedback"), {"result": "已整改"})
    assert response.status_code == 400
    not_image = io.BytesIO(b"not an image")
    not_image.name = "x.jpg"
    response = client.post(
        action_url(case, "feedback"), {"result": "已整改", "photos": [not_image]}
    )
    assert response.status_code == 400
    form = next(f for f in response.context["forms"] if f.action == "feedback")
    assert form.errors["photos"]
    assert Case.objects.get(pk=case.pk).status == State.HANDLING
    assert not CasePhoto.objects.filter(case=case, kind="after").exists()


def test_the_whole_run_through_the_action_view(client, crew):
    case = intake(crew)
    queue = reverse("case-queue")

    # the dispatcher files and dispatches (joint enforcement with the housing bureau)
    client.force_login(crew.dispatcher)
    response = client.post(action_url(case, "file"), {"note": "有效", "next": queue})
    assert response.status_code == 302 and response["Location"] == queue
    response = client.post(
        action_url(case, "dispatch"),
        {"department": crew.env.code, "assist_departments": [crew.housing.code]},
    )
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    # the handler accepts, arrives and feeds back with an "after" photo
    client.force_login(crew.env_handler)
    assert client.post(action_url(case, "accept")).status_code == 302
    # typed to the second, a second after now (the report may lie in this very second)
    arrived = (timezone.localtime() + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    response = client.post(
        action_url(case, "arrive"), {"arrived_at": arrived, "lat": "34.5", "lng": "117.25"}
    )
    assert response.status_code == 302, response.context["forms"][0].errors
    response = client.post(
        action_url(case, "feedback"),
        {"result": "已覆盖防尘网", "photos": [jpeg("after.jpg")], "lat": "34.5", "lng": "117.25"},
    )
    assert response.status_code == 302
    # the housing bureau records its part
    client.force_login(crew.housing_handler)
    response = client.post(
        reverse("case-part", kwargs={"pk": case.pk}),
        {"department": crew.housing.code, "part": "配合停工整改"},
    )
    assert response.status_code == 302
    # the inspector verifies with a photo
    client.force_login(crew.inspector)
    response = client.post(action_url(case, "verify"), {"note": "已整改", "photos": [jpeg()]})
    assert response.status_code == 302
    # the dispatcher records the return visit and evaluates
    client.force_login(crew.dispatcher)
    response = client.post(
        reverse("case-return-visit", kwargs={"pk": case.pk}), {"satisfaction": "satisfied"}
    )
    assert response.status_code == 302
    assert client.post(action_url(case, "evaluate"), {"comment": "好"}).status_code == 302

    case.refresh_from_db()
    assert case.status == State.EVALUATED and case.response_met is True
    assert list(case.events.values_list("action", flat=True)) == [
        "collect",
        "file",
        "dispatch",
        "accept",
        "arrive",
        "feedback",
        "verify",
        "evaluate",
    ]
    assert CaseAssignment.objects.get(case=case, department=crew.housing).part == "配合停工整改"
    assert ReturnVisit.objects.get(case=case).satisfaction == "satisfied"
    kinds = sorted(case.photos.values_list("kind", flat=True))
    assert kinds == ["after", "after", "before"]
    html = client.get(detail_url(case)).content.decode()
    for action in ("file", "dispatch", "accept", "arrive", "feedback", "verify", "evaluate"):
        assert f'data-action="{action}" data-to=' in html
    assert str(STATE_LABELS[State.EVALUATED]) in html


def test_case_page_offers_only_the_actions_of_this_user(client, crew):
    case = walk(intake(crew), crew, to=State.HANDLING)
    client.force_login(crew.env_handler)
    actions = [f.action for f in client.get(detail_url(case)).context["forms"]]
    assert actions == ["arrive", "escalate", "feedback", "extend"]
    client.force_login(crew.dispatcher)
    actions = [f.action for f in client.get(detail_url(case)).context["forms"]]
    assert actions == ["suspend"]  # no extension asked for, so none to approve
    client.force_login(crew.inspector)
    response = client.get(detail_url(case))
    assert response.context["forms"] == []


def test_extension_asked_in_the_inbox_is_granted_in_the_queue(client, crew):
    case = walk(intake(crew), crew, to=State.HANDLING)
    until = (timezone.localtime(case.handling_deadline) + timedelta(days=3)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    client.force_login(crew.env_handler)
    response = client.post(action_url(case, "extend"), {"reason": "需要停工整改", "until": until})
    assert response.status_code == 302
    client.force_login(crew.dispatcher)
    queue = client.get(reverse("case-queue"))
    assert [c.pk for c in queue.context["sections"][2]["cases"]] == [case.pk]
    response = client.post(action_url(case, "approve_extension"))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.extension_count == 1 and case.extension_until is None


# --- the report page -----------------------------------------------------------------------------


def test_report_page_stores_a_case_with_its_photo(client, crew, small_city):
    client.force_login(crew.inspector)
    response = client.post(
        reverse("case-report"),
        {
            "category": "open_burning",
            "description": "田间焚烧秸秆",
            "lat": "34.5",
            "lng": "117.25",
            "accuracy": "12",
            "photos": jpeg("burning.jpg"),
        },
    )
    case = Case.objects.get(description="田间焚烧秸秆")
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    assert case.channel == "inspector" and case.grid == small_city.village_a
    assert case.created_by == crew.inspector and case.status == State.COLLECTED
    photo = case.photos.get()
    assert photo.kind == "before" and len(photo.sha256) == 64
    page = client.get(response["Location"]).content.decode()
    assert case.number in page and 'class="message message--success"' in page


def test_report_page_takes_a_chosen_grid_when_there_is_no_position(client, crew, small_city):
    client.force_login(crew.inspector)
    response = client.post(
        reverse("case-report"),
        {
            "category": "dust",
            "description": "无定位",
            "grid": small_city.village_a.code,
            "photos": jpeg(),
        },
    )
    assert response.status_code == 302
    assert Case.objects.get(description="无定位").grid == small_city.village_a


@pytest.mark.parametrize(
    "change, field",
    [
        ({"photos": None}, "photos"),
        ({"category": "no_such"}, "category"),
        ({"description": ""}, "description"),
        ({"lat": None, "lng": None}, None),
        ({"lat": "95"}, "lat"),
        ({"lat": "35.5", "lng": "118.5"}, "lat"),  # a point outside the inspector's grids
        ({"photos": "text"}, "photos"),
    ],
)
def test_report_page_rejects_bad_input_and_stores_nothing(client, crew, change, field):
    client.force_login(crew.inspector)
    body = {
        "category": "dust",
        "description": "扬尘",
        "lat": "34.5",
        "lng": "117.25",
        "photos": jpeg(),
    }
    for key, value in change.items():
        if value is None:
            body.pop(key)
        elif key == "photos":
            fake = io.BytesIO(b"plain text, not a photo")
            fake.name = "photo.jpg"
            body[key] = fake
        else:
            body[key] = value
    response = client.post(reverse("case-report"), body)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors.get(field or "__all__"), form.errors
    assert not Case.objects.exists()


# --- the case list -----------------------------------------------------------------------------


def test_case_list_filters_and_labels_states(client, crew, small_city):
    collected = intake(crew, description="甲")
    filed = walk(intake(crew, description="乙"), crew, to=State.FILED)
    client.force_login(crew.dispatcher)
    response = client.get(reverse("case-list"), {"status": "filed"})
    assert [c.pk for c in response.context["cases"]] == [filed.pk]
    assert str(STATE_LABELS[State.FILED]) in response.content.decode()
    response = client.get(reverse("case-list"), {"grid": small_city.village_a.code})
    assert {c.pk for c in response.context["cases"]} == {collected.pk, filed.pk}
    response = client.get(reverse("case-list"), {"grid": small_city.village_c.code})
    assert response.context["cases"] == []
    response = client.get(reverse("case-list"), {"channel": "hotline", "category": "dust"})
    assert response.context["cases"] == []
    # a grid outside the scope, or not a grid code at all, is a form error, not a crash
    client.force_login(crew.inspector)
    response = client.get(reverse("case-list"), {"grid": small_city.village_c.code})
    assert response.status_code == 400 and response.context["form"].errors["grid"]
    response = client.get(reverse("case-list"), {"grid": "abc", "status": "nonsense"})
    assert response.status_code == 400


def test_case_list_overdue_filter(client, crew):
    late = intake(crew, description="超时")
    Case.objects.filter(pk=late.pk).update(response_deadline=timezone.now() - timedelta(minutes=1))
    intake(crew, description="未超时")
    client.force_login(crew.dispatcher)
    response = client.get(reverse("case-list"), {"overdue": "on"})
    assert [c.pk for c in response.context["cases"]] == [late.pk]
    assert "light--red" in response.content.decode()


def test_case_list_pages_by_cursor(client, crew, monkeypatch):
    monkeypatch.setattr(views, "LIST_PAGE", 2)
    cases = [intake(crew, description=f"第{i}") for i in range(3)]
    client.force_login(crew.dispatcher)
    first = client.get(reverse("case-list"))
    assert [c.pk for c in first.context["cases"]] == [cases[2].pk, cases[1].pk]
    assert first.context["next_url"]
    second = client.get(reverse("case-list") + first.context["next_url"])
    assert [c.pk for c in second.context["cases"]] == [cases[0].pk]
    assert second.context["next_url"] is None and second.context["first_url"]
    # a forged cursor is ignored, never a crash
    assert client.get(reverse("case-list"), {"after": "!!!"}).status_code == 200


# --- query counts --------------------------------------------------------------------------------


def test_queue_query_count_is_bounded(client, crew, django_assert_max_num_queries):
    for _ in range(4):
        intake(crew)
        walk(intake(crew), crew, to=State.FILED)
    client.force_login(crew.dispatcher)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        response = client.get(reverse("case-queue"))
    assert len(response.context["sections"][1]["cases"]) == 4


def test_inbox_query_count_is_bounded(client, crew, django_assert_max_num_queries):
    for _ in range(3):
        walk(intake(crew), crew, to=State.DISPATCHED)
        walk(intake(crew), crew, to=State.HANDLING)
    client.force_login(crew.env_handler)
    with django_assert_max_num_queries(INBOX_QUERIES):
        response = client.get(reverse("case-inbox"))
    assert len(response.context["sections"][0]["cases"]) == 3


def test_case_page_query_count_is_bounded(client, crew, django_assert_max_num_queries):
    case = walk(intake(crew), crew, to=State.VERIFIED)
    for _ in range(3):
        services.case_photo_add(case=case, upload=upload(), kind="on_site", actor=crew.dispatcher)
    client.force_login(crew.dispatcher)
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(detail_url(case))
    assert len(response.context["events"]) == 6
    case = walk(intake(crew), crew, to=State.FILED)  # the dispatch form and its proposal
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(detail_url(case))
    assert response.context["proposed"] == crew.housing


def test_case_list_query_count_is_bounded(client, crew, django_assert_max_num_queries):
    for _ in range(5):
        walk(intake(crew), crew, to=State.DISPATCHED)
    client.force_login(crew.inspector)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(reverse("case-list"))
    assert len(response.context["cases"]) == 5
