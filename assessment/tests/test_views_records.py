"""The entry forms of the mechanism record pages: supervisions (with their rectification and
publication), self-evaluations and requests for help. A good POST stores one record and
redirects to its row; a refusal of the service shows the form again (400) with its message and
stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.models import HelpRequest, SelfEvaluation, Supervision
from assessment.tests.conftest import RUN_AT, YEAR, pdf

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name,args",
    [
        ("assessment-supervisions", []),
        ("assessment-supervision-rectify", [1]),
        ("assessment-supervision-publish", [1]),
        ("assessment-self-evaluations", []),
        ("assessment-help-requests", []),
        ("assessment-help-request-answer", [1]),
    ],
)
def test_anonymous_is_sent_to_the_login_page(client, name, args):
    response = client.post(reverse(name, args=args), {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- supervisions ------------------------------------------------------------------------------


def supervision_post(client, small_city, **data):
    values = {
        "supervisor_grid": small_city.lanshan.code,
        "target_grid": small_city.lanshan_street.code,
        "department": "",
        "held_on": "2025-06-01",
        "topic": "扬尘治理督导",
        "findings": "工地未覆盖",
        "rectification_due": "2025-06-30",
    }
    values.update(data)
    values.setdefault("document", pdf())
    return client.post(reverse("assessment-supervisions"), values)


def supervision_of(county, small_city, department=None, topic="秸秆禁烧督导") -> Supervision:
    return services.supervision_record(
        supervisor_grid=county.grid,
        target_grid=small_city.lanshan_street,
        held_on=timezone.localdate() - timedelta(days=3),
        topic=topic,
        findings="巡查台账不全",
        actor=county.principal,
        department=department,
    )


def test_a_supervision_is_recorded_through_the_form(client, small_city, county):
    # given
    client.force_login(county.principal)
    before = Supervision.objects.count()

    # when
    response = supervision_post(client, small_city)

    # then one supervision is stored and the page opens at its row
    assert Supervision.objects.count() == before + 1
    supervision = Supervision.objects.latest("pk")
    assert (supervision.supervisor_grid, supervision.target_grid, supervision.topic) == (
        county.grid,
        small_city.lanshan_street,
        "扬尘治理督导",
    )
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("assessment-supervisions") + f"#supervision-{supervision.pk}"
    )
    page = client.get(reverse("assessment-supervisions")).content.decode()
    assert f'id="supervision-{supervision.pk}"' in page
    assert reverse("assessment-supervision-publish", args=[supervision.pk]) in page


def test_the_supervisions_page_asks_who_may_write_once_whatever_the_rows(
    client, small_city, county
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(county.principal)
    supervision_of(county, small_city)
    url = reverse("assessment-supervisions")
    client.get(url)
    with CaptureQueriesContext(connection) as one_row:
        client.get(url)
    # when supervisions of two more departments are added
    from grids import services as grid_services
    from grids.models import Sector

    for code, sector in (("371302.water", "water"), ("371302.agriculture", "agriculture")):
        department = grid_services.department_create(
            code=code, name=code, sector=Sector.objects.get(code=sector), grid=county.grid
        )
        supervision_of(county, small_city, department=department, topic="部门督导")
    with CaptureQueriesContext(connection) as three_rows:
        response = client.get(url)
    # then the page asks as often as before, and the principal may write every row
    assert len(three_rows.captured_queries) == len(one_row.captured_queries)
    rows = [
        row
        for row in response.context["page"].object_list
        if row.topic in ("部门督导", "秸秆禁烧督导")
    ]
    assert len(rows) == 3 and all(row.writable for row in rows)
    assert not any("boundary" in q["sql"] for q in three_rows.captured_queries)


def test_a_supervision_in_the_future_is_refused(client, small_city, county):
    # given
    client.force_login(county.principal)
    before = Supervision.objects.count()
    tomorrow = timezone.localdate() + timedelta(days=1)

    # when
    response = supervision_post(client, small_city, held_on=tomorrow.isoformat())

    # then
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "held_on" in errors
    assert errors["held_on"][0] in response.content.decode()
    assert Supervision.objects.count() == before


def test_a_supervision_of_a_grid_not_below_is_refused(client, small_city, county):
    client.force_login(county.principal)
    before = Supervision.objects.count()
    response = supervision_post(client, small_city, target_grid=small_city.lanshan.code)
    assert response.status_code == 400
    assert "target_grid" in response.context["form"].errors
    assert Supervision.objects.count() == before


def test_a_user_who_may_not_record_for_the_grid_gets_the_refusal(client, small_city, county):
    # given an officer of the county, who sees it but records nothing for it
    client.force_login(county.officer2)
    before = Supervision.objects.count()

    # when
    response = supervision_post(client, small_city)

    # then the service's refusal is on the form
    assert response.status_code == 400
    [message] = response.context["form"].non_field_errors()
    assert small_city.lanshan.name in message
    assert message in response.content.decode()
    assert Supervision.objects.count() == before


def test_the_rectification_is_recorded_from_the_row(client, small_city, county):
    supervision = supervision_of(county, small_city)
    client.force_login(county.principal)
    response = client.post(
        reverse("assessment-supervision-rectify", args=[supervision.pk]),
        {"rectification": "已补齐台账", "rectified_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#supervision-{supervision.pk}")
    supervision.refresh_from_db()
    assert supervision.rectification == "已补齐台账"


def test_a_rectification_in_the_future_is_refused_at_its_row(client, small_city, county):
    # given
    supervision = supervision_of(county, small_city)
    client.force_login(county.principal)
    tomorrow = timezone.localdate() + timedelta(days=1)

    # when
    response = client.post(
        reverse("assessment-supervision-rectify", args=[supervision.pk]),
        {"rectification": "已补齐台账", "rectified_on": tomorrow.isoformat()},
    )

    # then the row's form shows the message; nothing stored
    assert response.status_code == 400
    [row] = [s for s in response.context["page"].object_list if s.pk == supervision.pk]
    errors = row.rectify_form.errors
    assert "rectified_on" in errors
    assert errors["rectified_on"][0] in response.content.decode()
    supervision.refresh_from_db()
    assert supervision.rectification == ""


def test_a_supervision_is_published_once(client, small_city, county):
    # given
    supervision = supervision_of(county, small_city)
    client.force_login(county.principal)
    url = reverse("assessment-supervision-publish", args=[supervision.pk])

    # when published
    response = client.post(url)

    # then it is, and a second time is refused with the service's message
    assert response.status_code == 302
    supervision.refresh_from_db()
    published_at = supervision.published_at
    assert published_at is not None
    again = client.post(url)
    assert again.status_code == 400
    supervision.refresh_from_db()
    assert supervision.published_at == published_at
    [row] = [s for s in again.context["page"].object_list if s.pk == supervision.pk]
    assert row.row_errors[0] in again.content.decode()
    assert f'action="{url}"' not in again.content.decode()  # no button for a published one
    # the page shown at the button's address still filters and enters on the list's own
    assert f'action="{reverse("assessment-supervisions")}"' in again.content.decode()


def test_who_may_not_write_sees_no_buttons_and_is_refused(client, small_city, county):
    # given
    supervision = supervision_of(county, small_city)
    client.force_login(county.officer2)
    url = reverse("assessment-supervision-publish", args=[supervision.pk])

    # when
    page = client.get(reverse("assessment-supervisions")).content.decode()
    response = client.post(url)

    # then
    assert f'id="supervision-{supervision.pk}"' in page
    assert f'action="{url}"' not in page
    assert response.status_code == 400
    assert small_city.lanshan.name in response.content.decode()
    supervision.refresh_from_db()
    assert supervision.published_at is None


# --- self-evaluations --------------------------------------------------------------------------


def self_post(client, grid, **data):
    values = {"grid": grid.code, "year": str(YEAR), "score": "92.5", "summary": "全年运行良好"}
    values.update(data)
    return client.post(reverse("assessment-self-evaluations"), values)


def test_a_self_evaluation_is_submitted_through_the_form(client, small_city, county):
    client.force_login(county.principal)
    before = SelfEvaluation.objects.count()
    response = self_post(client, small_city.lanshan_street, problems="台账不全")
    assert SelfEvaluation.objects.count() == before + 1
    evaluation = SelfEvaluation.objects.latest("pk")
    assert (evaluation.grid, evaluation.year, evaluation.problems) == (
        small_city.lanshan_street,
        YEAR,
        "台账不全",
    )
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("assessment-self-evaluations") + f"#self-{evaluation.pk}"
    )


def test_a_self_evaluation_of_a_year_not_begun_is_refused(client, small_city, county):
    client.force_login(county.principal)
    before = SelfEvaluation.objects.count()
    response = self_post(client, county.grid, year=str(timezone.localdate().year + 1))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "year" in errors
    assert errors["year"][0] in response.content.decode()
    assert SelfEvaluation.objects.count() == before


def test_a_self_evaluation_for_a_locked_year_is_refused(client, county, office):
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    services.assessment_lock(year=YEAR, actor=office)
    client.force_login(county.principal)
    before = SelfEvaluation.objects.count()
    response = self_post(client, county.grid)
    assert response.status_code == 400
    assert str(YEAR) in response.context["form"].errors["year"][0]
    assert SelfEvaluation.objects.count() == before


def test_a_self_evaluation_by_who_may_not_record_is_refused(client, county):
    client.force_login(county.officer2)
    before = SelfEvaluation.objects.count()
    response = self_post(client, county.grid)
    assert response.status_code == 400
    assert county.grid.name in response.context["form"].errors["grid"][0]
    assert SelfEvaluation.objects.count() == before


# --- requests for help -------------------------------------------------------------------------


def help_post(client, from_grid, **data):
    values = {"from_grid": from_grid.code, "to_grid": "", "subject": "跨界污染", "body": "需协调"}
    values.update(data)
    return client.post(reverse("assessment-help-requests"), values)


def test_a_request_for_help_goes_to_the_grid_above(client, small_city, county):
    client.force_login(county.principal)
    before = HelpRequest.objects.count()
    response = help_post(client, small_city.lanshan_street)
    assert HelpRequest.objects.count() == before + 1
    found = HelpRequest.objects.latest("pk")
    assert (found.from_grid, found.to_grid) == (small_city.lanshan_street, county.grid)
    assert response.status_code == 302
    assert response["Location"] == reverse("assessment-help-requests") + f"#help-{found.pk}"


def test_help_asked_of_a_grid_below_is_refused(client, small_city, county):
    client.force_login(county.principal)
    before = HelpRequest.objects.count()
    response = help_post(client, county.grid, to_grid=small_city.lanshan_street.code)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "to_grid" in errors
    assert errors["to_grid"][0] in response.content.decode()
    assert HelpRequest.objects.count() == before


def test_a_request_by_who_may_not_record_is_refused(client, small_city, county):
    client.force_login(county.officer2)
    before = HelpRequest.objects.count()
    response = help_post(client, small_city.lanshan_street)
    assert response.status_code == 400
    assert "from_grid" in response.context["form"].errors
    assert HelpRequest.objects.count() == before


def test_the_asked_grid_answers_from_the_row(client, small_city, county):
    # given a request of the township to the county
    found = services.help_request_make(
        from_grid=small_city.lanshan_street, subject="跨界", body="需协调", actor=county.principal
    )
    url = reverse("assessment-help-request-answer", args=[found.pk])

    # when someone who may not record for the county answers, then the refusal
    client.force_login(county.officer2)
    page = client.get(reverse("assessment-help-requests")).content.decode()
    assert f'action="{url}"' not in page
    refused = client.post(url, {"answer": "已协调"})
    assert refused.status_code == 400
    found.refresh_from_db()
    assert found.answered_at is None

    # when the county principal answers, then it is answered
    client.force_login(county.principal)
    page = client.get(reverse("assessment-help-requests")).content.decode()
    assert f'action="{url}"' in page
    response = client.post(url, {"answer": "已协调生态环境局"})
    assert response.status_code == 302
    found.refresh_from_db()
    assert found.answer == "已协调生态环境局"
    assert found.status == HelpRequest.Status.ANSWERED
