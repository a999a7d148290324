"""The inspection pages: the register, a source, overdue and due lists, the patrol form, the
on-site record, photos, import, ledger, plans, the inbox and the public disclosure page.

Each page renders for a user in scope and is a 404 outside it; bad input shows the form again
(400) and stores nothing; list pages keep a bounded number of queries.
"""

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from PIL import Image

from core.models import Notification
from core.tests.factories import UserFactory
from grids import services as grid_services
from grids.models import Role, Sector
from grids.tests.conftest import user_with_role
from inspections import excel, plans, services
from inspections.models import (
    Patrol,
    PatrolAlarm,
    PatrolPhoto,
    PollutionSource,
    RandomDraw,
    RandomDrawTarget,
)

pytestmark = pytest.mark.usefixtures("english")

# Session, user, scope (2), count, page, grid hints — plus the header's unread COUNT.
REGISTER_QUERY_LIMIT = 8
# Session, user, scope (2), the due sources — plus the header's unread COUNT.
DUE_QUERY_LIMIT = 6


# --- helpers and fixtures --------------------------------------------------------------------


def jpeg(name="site.jpg", size=(40, 30)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, "green").save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def upload(size=(40, 30)) -> SimpleUploadedFile:
    return SimpleUploadedFile("site.jpg", jpeg(size=size).getvalue(), content_type="image/jpeg")


def html(response) -> str:
    return response.content.decode()


def local_minute(delta: timedelta = timedelta(0)) -> str:
    return (timezone.localtime() + delta).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def inspector(small_city):
    return user_with_role(small_city.village_a, Role.INSPECTOR, username="inspector_a")


@pytest.fixture
def bureau(small_city):
    env = Sector.objects.get(code="environment")
    return grid_services.department_create(
        code="371302.environment", name="兰山区生态环境局", sector=env, grid=small_city.lanshan
    )


@pytest.fixture
def far_source(small_city, make_source):
    """A source in 罗庄区, outside the 兰山 officers' and inspectors' area."""
    return make_source(name="罗庄铸造厂", grid=small_city.village_c)


def patrol_post(**overrides) -> dict:
    data = {
        "kind": "patrol",
        "patrolled_at": local_minute(-timedelta(minutes=10)),
        "outcome": "compliant",
        "findings": "治污设施运行正常",
        "checklist": ["治污设施正常运行", "排放口规范设置"],
        "person_present": "赵厂长",
        "lat": "34.512345",
        "lng": "117.234567",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def record_patrol(source, officers, **kw):
    kw.setdefault("kind", Patrol.Kind.PATROL)
    kw.setdefault("outcome", Patrol.Outcome.COMPLIANT)
    kw.setdefault("lat", 34.5)
    kw.setdefault("lng", 117.2)
    return services.patrol_record(
        source=source,
        data=services.PatrolInput(
            patrolled_at=kw.pop("patrolled_at", timezone.now() - timedelta(hours=1)),
            officers=officers,
            **kw,
        ),
        actor=officers[0],
    )


# --- login -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("source-list", []),
        ("sources-due", []),
        ("sources-overdue", []),
        ("source-import", []),
        ("source-detail", [1]),
        ("patrol-create", [1]),
        ("patrol-record", [1]),
        ("inspection-ledger", []),
        ("inspection-plans", []),
        ("inbox", []),
    ],
)
def test_pages_need_a_login(client, small_city, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- the register ----------------------------------------------------------------------------


def test_register_lists_the_sources_in_scope_and_filters_them(
    client, small_city, officer, make_source, far_source
):
    # given sources of two tiers in 兰山 and one in 罗庄
    make_source(name="兰山化工", tier="provincial", kind="enterprise")
    make_source(name="银雀山工地", tier="other", kind="construction_site")
    client.force_login(officer)

    # when the 兰山街道 officer opens the register
    response = client.get(reverse("source-list"))

    # then it lists the sources of the area only, each linked, with its traffic light
    assert response.status_code == 200
    page = html(response)
    assert "兰山化工" in page and "银雀山工地" in page
    assert "罗庄铸造厂" not in page
    assert "days overdue" in page  # confirmed on 2026-01-01, never patrolled
    assert 'class="light light--overdue"' in page

    # and the filters narrow it, and carry over to the Excel export
    response = client.get(reverse("source-list"), {"control_tier": "provincial"})
    assert "兰山化工" in html(response) and "银雀山工地" not in html(response)
    response = client.get(reverse("source-list"), {"kind": "construction_site", "q": "工地"})
    assert [s.name for s in response.context["page"].object_list] == ["银雀山工地"]
    assert response.context["export_query"] == "q=%E5%B7%A5%E5%9C%B0&kind=construction_site"
    response = client.get(reverse("source-list"), {"grid": small_city.lanshan_street.code})
    assert response.context["page"].paginator.count == 2
    response = client.get(reverse("source-list"), {"overdue": "false"})
    assert response.context["page"].paginator.count == 0


def test_register_refuses_a_grid_outside_the_area(client, small_city, officer, make_source):
    make_source(name="兰山化工")
    client.force_login(officer)
    response = client.get(reverse("source-list"), {"grid": small_city.village_c.code})
    assert response.status_code == 400
    assert "outside your area" in html(response)
    assert response.context["page"] is None
    response = client.get(reverse("source-list"), {"grid": "12ab", "control_tier": "bogus"})
    assert response.status_code == 400
    assert "A grid code has 12 to 15 digits." in html(response)


def test_register_query_count_does_not_grow_with_the_sources(
    client, small_city, officer, make_source, django_assert_max_num_queries
):
    for n in range(30):
        make_source(name=f"源{n}", tier=["national", "municipal", "other"][n % 3])
    client.force_login(officer)
    client.get(reverse("source-list"))  # warm the session
    with django_assert_max_num_queries(REGISTER_QUERY_LIMIT):
        response = client.get(reverse("source-list"), {"overdue": "true"})
    assert response.context["page"].paginator.count == 30


# --- a source's page --------------------------------------------------------------------------


def test_source_page_shows_facts_schedule_timeline_alarms_and_history(
    client, small_city, officer, officer2, make_source
):
    # given an overdue source with an alarm, then a patrol with a photo that clears it
    source = make_source(name="兰山化工", tier="provincial", credit_code="91350100M000100Y43")
    services.patrol_alarms_sweep()
    patrol = record_patrol(
        source,
        [officer, officer2],
        kind=Patrol.Kind.INSPECTION,
        outcome=Patrol.Outcome.NOTICE_ISSUED,
        rectification_deadline=timezone.localdate() + timedelta(days=10),
        findings="危废贮存不规范",
        checklist={"危险废物规范贮存": False, "台账记录完整": True},
        photos=[upload()],
    )
    client.force_login(officer)

    # when the officer opens the source
    response = client.get(reverse("source-detail", args=[source.pk]))

    # then the page shows its facts, its schedule, the patrol with its photo, the alarm, history
    assert response.status_code == 200
    page = html(response)
    assert "91350100M000100Y43" in page
    assert "Patrol schedule" in page and "schedule__light--" in page
    assert "危废贮存不规范" in page and "Written notice with a deadline" in page
    assert "Checklist: 1 of 2 in order" in page
    photo = PatrolPhoto.objects.get(patrol=patrol)
    assert reverse("patrol-photo", args=[patrol.pk, photo.pk]) + "?thumb=1" in page
    assert reverse("patrol-record", args=[patrol.pk]) in page
    assert "On-site patrol overdue" in page and "cleared" in page
    assert "Registered" in page and "Patrols tightened" in page
    assert response.context["alarms"][0].status == PatrolAlarm.Status.CLEARED


def test_pages_of_a_source_outside_the_area_are_404(
    client, small_city, officer, far_source, registrar
):
    patrol = record_patrol(far_source, [registrar], photos=[upload()])
    photo = patrol.photos.get()
    client.force_login(officer)
    for url in [
        reverse("source-detail", args=[far_source.pk]),
        reverse("patrol-create", args=[far_source.pk]),
        reverse("patrol-record", args=[patrol.pk]),
        reverse("patrol-photo", args=[patrol.pk, photo.pk]),
        "/sources/99999999/",
        "/sources/123456789012345678901234567890/",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("source-confirm", args=[far_source.pk])).status_code == 404
    assert (
        client.post(reverse("patrol-create", args=[far_source.pk]), patrol_post()).status_code
        == 404
    )
    assert Patrol.objects.count() == 1


def test_officers_confirm_reported_sources_and_inspectors_cannot(
    client, small_city, officer, inspector
):
    reported = services.source_create(
        grid=small_city.village_a,
        data=services.SourceInput(name="新工地", kind="construction_site", control_tier="other"),
        actor=inspector,
    )
    assert reported.status == PollutionSource.Status.REPORTED
    confirm_url = reverse("source-confirm", args=[reported.pk])

    client.force_login(inspector)
    assert confirm_url not in html(client.get(reverse("source-detail", args=[reported.pk])))
    assert client.post(confirm_url).status_code == 403
    assert client.get(confirm_url).status_code == 405

    client.force_login(officer)
    assert confirm_url in html(client.get(reverse("source-detail", args=[reported.pk])))
    response = client.post(confirm_url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("source-detail", args=[reported.pk])
    assert "is confirmed" in html(response)
    reported.refresh_from_db()
    assert reported.status == PollutionSource.Status.ACTIVE

    # a second confirmation is refused with a message, not an error page
    response = client.post(confirm_url, follow=True)
    assert "Only a reported source can be confirmed" in html(response)


# --- overdue and due --------------------------------------------------------------------------


def test_overdue_list_puts_the_most_overdue_first_with_days_and_alarm_level(
    client, small_city, officer, make_source
):
    today = timezone.localdate()
    late = make_source(name="晚十天", tier="other", confirmed_on=today - timedelta(days=70))
    later = make_source(name="晚三十天", tier="other", confirmed_on=today - timedelta(days=90))
    make_source(name="未到期", tier="other", confirmed_on=today - timedelta(days=5))
    services.patrol_alarms_sweep()
    PatrolAlarm.objects.filter(source=later).update(level=PatrolAlarm.Level.PRINCIPAL)
    client.force_login(officer)

    response = client.get(reverse("sources-overdue"))

    assert response.status_code == 200
    listed = list(response.context["page"].object_list)
    assert [s.name for s in listed] == ["晚三十天", "晚十天"]
    assert [s.patrol_due.days_overdue for s in listed] == [30, 10]
    page = html(response)
    assert "30 days overdue" in page and "10 days overdue" in page
    assert "escalated to Grid principal" in page
    assert "raised to Direct responsible officer" in page
    assert "未到期" not in page
    assert late.pk in [s.pk for s in listed]


def test_my_sources_due_lists_the_inspectors_sources_by_urgency(
    client, small_city, inspector, make_source, far_source, django_assert_max_num_queries
):
    today = timezone.localdate()
    make_source(name="晚五天", tier="other", confirmed_on=today - timedelta(days=65))
    make_source(name="晚二十天", tier="other", confirmed_on=today - timedelta(days=80))
    make_source(name="明天到期", tier="other", confirmed_on=today - timedelta(days=59))
    make_source(name="下月到期", tier="other", confirmed_on=today - timedelta(days=10))
    for n in range(15):
        make_source(name=f"批量{n}", tier="other", confirmed_on=today - timedelta(days=61))
    client.force_login(inspector)
    client.get(reverse("sources-due"))

    with django_assert_max_num_queries(DUE_QUERY_LIMIT):
        response = client.get(reverse("sources-due"))

    names = [s.name for s in response.context["sources"]]
    assert names[:2] == ["晚二十天", "晚五天"]
    assert names[-1] == "明天到期"
    assert "下月到期" not in names and "罗庄铸造厂" not in names
    page = html(response)
    assert page.count("button--touch") >= len(names)
    assert reverse("patrol-create", args=[response.context["sources"][0].pk]) in page


# --- the patrol form --------------------------------------------------------------------------


def test_patrol_form_offers_the_checklist_camera_and_gps(
    client, small_city, inspector, make_source
):
    source = make_source(name="兰山化工", kind="enterprise")
    client.force_login(inspector)

    response = client.get(reverse("patrol-create", args=[source.pk]))

    assert response.status_code == 200
    page = html(response)
    assert 'capture="environment"' in page and 'accept="image/*"' in page and "multiple" in page
    assert 'name="lat"' in page and 'name="lng"' in page and "patrol-form.js" in page
    assert "治污设施正常运行" in page and "台账记录完整" in page  # the enterprise checklist
    # an inspector patrols; only officers carry out enforcement inspections
    assert response.context["form"].fields["kind"].choices == [("patrol", "Inspector patrol")]
    assert 'value="inspection"' not in page


def test_patrol_form_stores_a_patrol_with_its_photo(client, small_city, inspector, make_source):
    # given an overdue source
    source = make_source(name="兰山化工", kind="enterprise")
    assert source.next_patrol_due < timezone.localdate()
    client.force_login(inspector)

    # when the inspector sends the form with a photo and a GPS fix
    response = client.post(
        reverse("patrol-create", args=[source.pk]),
        patrol_post(photos=[jpeg("a.jpg"), jpeg("b.jpg")]),
    )

    # then the patrol is stored with everything, and the inspector is back at the due list
    assert response.status_code == 302
    assert response["Location"] == reverse("sources-due")
    patrol = Patrol.objects.get()
    assert patrol.source == source and patrol.kind == "patrol"
    assert list(patrol.officers.all()) == [inspector]
    assert (patrol.lat, patrol.lng) == (34.512345, 117.234567)
    assert patrol.checklist["治污设施正常运行"] is True
    assert patrol.checklist["危险废物规范贮存"] is False
    assert len(patrol.checklist) == 6
    assert patrol.person_present == "赵厂长"
    assert patrol.photos.count() == 2
    source.refresh_from_db()
    assert source.next_patrol_due > timezone.localdate()
    follow = client.get(response["Location"])
    assert "is recorded" in html(follow)
    assert "兰山化工" not in [s.name for s in follow.context["sources"]]


def test_an_officer_records_an_enforcement_inspection_with_a_second_officer(
    client, small_city, officer, officer2, bureau, make_source
):
    grid_services.department_member_add(
        department=bureau, user=officer, position="officer", starts_on=date(2024, 1, 1)
    )
    source = make_source(name="兰山化工")
    client.force_login(officer)
    form = client.get(reverse("patrol-create", args=[source.pk])).context["form"]
    assert form.departments == [bureau]
    assert officer2 in form.officer_choices and officer not in form.officer_choices

    response = client.post(
        reverse("patrol-create", args=[source.pk]),
        patrol_post(
            kind="inspection",
            second_officer=str(officer2.pk),
            outcome="notice_issued",
            rectification_deadline=(timezone.localdate() + timedelta(days=15)).isoformat(),
        ),
    )

    assert response.status_code == 302
    patrol = Patrol.objects.get()
    assert set(patrol.officers.all()) == {officer, officer2}
    assert patrol.department == bureau
    assert patrol.rectification_deadline == timezone.localdate() + timedelta(days=15)


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"lat": None, "lng": None}, "lat", "An on-site patrol records where it took place"),
        (
            {"patrolled_at": local_minute(timedelta(days=1))},
            "patrolled_at",
            "A patrol cannot be dated in the future.",
        ),
        (
            {"kind": "inspection"},
            "second_officer",
            "An on-site enforcement inspection needs at least two officers.",
        ),
        (
            {"outcome": "notice_issued"},
            "rectification_deadline",
            "A written notice needs a rectification deadline.",
        ),
        ({"lat": "1.0", "lng": "2.0"}, "lat", "The coordinates lie outside the city."),
        ({"outcome": "bogus"}, "outcome", "Select a valid choice."),
        ({"patrolled_at": "yesterday"}, "patrolled_at", "Enter a valid date/time."),
        ({"photos": [io.BytesIO(b"not an image")]}, "photos", "Not an image."),
    ],
)
def test_bad_patrol_input_shows_the_form_again_and_stores_nothing(
    client, small_city, officer, make_source, overrides, field, message
):
    source = make_source(name="兰山化工")
    due = source.next_patrol_due
    client.force_login(officer)
    for value in overrides.values():
        if isinstance(value, io.BytesIO):
            value.name = "notes.jpg"

    response = client.post(reverse("patrol-create", args=[source.pk]), patrol_post(**overrides))

    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors.get(field, [])), form.errors
    assert message in html(response)
    assert Patrol.objects.count() == 0 and PatrolPhoto.objects.count() == 0
    source.refresh_from_db()
    assert source.next_patrol_due == due


def test_a_reported_source_shows_no_patrol_form(client, small_city, officer, inspector):
    reported = services.source_create(
        grid=small_city.village_a,
        data=services.SourceInput(name="新工地", kind="construction_site", control_tier="other"),
        actor=inspector,
    )
    client.force_login(inspector)
    response = client.get(reverse("patrol-create", args=[reported.pk]))
    assert response.status_code == 200
    assert "confirm it first" in html(response)
    assert response.context["is_active"] is False
    response = client.post(reverse("patrol-create", args=[reported.pk]), patrol_post())
    assert response.status_code == 400
    assert Patrol.objects.count() == 0


def test_someone_without_a_patrol_role_gets_403(client, small_city, make_source):
    source = make_source(name="兰山化工")
    dispatcher = user_with_role(small_city.lanshan, Role.DISPATCHER)
    client.force_login(dispatcher)
    assert client.get(reverse("source-detail", args=[source.pk])).status_code == 200
    assert client.get(reverse("patrol-create", args=[source.pk])).status_code == 403


# --- the on-site record and photos ------------------------------------------------------------


def test_on_site_record_names_the_officers_with_certificates_and_has_signature_lines(
    client, small_city, officer, officer2, make_source
):
    officer.full_name, officer.enforcement_certificate = "王建国", "37130219001"
    officer.save()
    officer2.full_name, officer2.enforcement_certificate = "李明", "37130219002"
    officer2.save()
    source = make_source(name="兰山化工", address="兰山区化工路 8 号")
    patrol = record_patrol(
        source,
        [officer, officer2],
        kind=Patrol.Kind.INSPECTION,
        person_present="赵厂长",
        findings="雨污未分流",
        checklist={"雨污分流": False},
    )
    client.force_login(officer2)

    response = client.get(reverse("patrol-record", args=[patrol.pk]))

    assert response.status_code == 200
    page = html(response)
    assert "On-site inspection record" in page
    assert "王建国" in page and "37130219001" in page and "李明" in page and "37130219002" in page
    assert "赵厂长" in page and "雨污未分流" in page and "兰山区化工路 8 号" in page
    assert "34.500000, 117.200000" in page
    assert page.count('class="sign"') == 3  # two officers and the person present
    assert "inspections-print.js" in page and "onclick" not in page


def test_photos_are_served_to_those_in_scope_only(
    client, small_city, officer, inspector, make_source
):
    source = make_source(name="兰山化工")
    patrol = record_patrol(source, [officer], photos=[upload(size=(800, 600))])
    photo = patrol.photos.get()
    url = reverse("patrol-photo", args=[patrol.pk, photo.pk])

    client.force_login(inspector)
    full = client.get(url)
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    thumb = client.get(url + "?thumb=1")
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)
    assert client.get(reverse("patrol-photo", args=[patrol.pk + 1, photo.pk])).status_code == 404

    outsider = user_with_role(small_city.village_c, Role.INSPECTOR)
    client.force_login(outsider)
    assert client.get(url).status_code == 404


# --- import -----------------------------------------------------------------------------------


def workbook(rows: list[list]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in excel.SOURCE_COLUMNS])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "sources.xlsx"
    return buffer


def import_row(name, tier="市控", code="371302001001"):
    return [name, "", "", code, 34.5, 117.2, "", "企业", tier, "否", "否", "", "", "", "", ""]


def test_import_page_registers_a_good_file_and_reports_bad_rows(client, small_city, officer):
    client.force_login(officer)
    assert client.get(reverse("source-import")).status_code == 200

    # a file with a bad row stores nothing and lists the row
    bad = workbook([import_row("甲厂"), import_row("乙厂", tier="特控")])
    response = client.post(reverse("source-import"), {"file": bad})
    assert response.status_code == 400
    assert PollutionSource.objects.count() == 0
    page = html(response)
    assert "Row 3" in page and "监管等级" in page and "Unknown value" in page
    assert response.context["rejected"]["total"] == 1

    # a good file registers its sources and says how many
    good = workbook([import_row("甲厂"), import_row("乙厂")])
    response = client.post(reverse("source-import"), {"file": good}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("source-list")
    assert "2 sources were registered from the file." in html(response)
    assert set(PollutionSource.objects.values_list("name", flat=True)) == {"甲厂", "乙厂"}


def test_import_of_a_non_workbook_names_the_problem(client, small_city, officer):
    client.force_login(officer)
    upload = io.BytesIO(b"name,grid\n")
    upload.name = "sources.csv"
    response = client.post(reverse("source-import"), {"file": upload})
    assert response.status_code == 400
    assert "not an Excel workbook" in html(response)
    assert PollutionSource.objects.count() == 0


# --- ledger and plans -------------------------------------------------------------------------


def test_ledger_page_lists_a_departments_inspections_with_an_excel_link(
    client, small_city, officer, officer2, bureau, make_source, far_source, registrar
):
    grid_services.department_member_add(
        department=bureau, user=officer, position="officer", starts_on=date(2024, 1, 1)
    )
    source = make_source(name="兰山化工")
    record_patrol(source, [officer, officer2], kind=Patrol.Kind.INSPECTION, department=bureau)
    record_patrol(source, [officer])  # booked to no department
    record_patrol(far_source, [registrar])
    client.force_login(officer)
    today = timezone.localdate()
    query = {
        "department": bureau.code,
        "start": today.replace(day=1).isoformat(),
        "end": today.isoformat(),
    }

    response = client.get(reverse("inspection-ledger"), query)

    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert [(p.source.name, p.kind) for p in rows] == [("兰山化工", "inspection")]
    assert "兰山区生态环境局 检查台账" in html(response)
    assert "format=xlsx" in response.context["xlsx_query"]
    assert f"department={bureau.code}" in response.context["xlsx_query"]

    # by grid: the officer's area only
    by_grid = client.get(
        reverse("inspection-ledger"),
        {**query, "department": "", "grid": small_city.lanshan_street.code},
    )
    assert len(by_grid.context["page"].object_list) == 2
    outside = client.get(reverse("inspection-ledger"), {**query, "grid": small_city.village_c.code})
    assert outside.status_code == 400 and "outside your area" in html(outside)

    bad = client.get(reverse("inspection-ledger"), {**query, "end": "2000-01-01"})
    assert bad.status_code == 400
    assert "The end comes before the start." in html(bad)
    # without any parameter the page opens on this month
    assert client.get(reverse("inspection-ledger")).status_code == 200


def test_plans_page_shows_completion_from_the_patrols(
    client, small_city, officer, bureau, make_source
):
    source = make_source(name="兰山化工")
    today = timezone.localdate()
    plans.patrol_plan_create(
        grid=small_city.village_a,
        month=today.replace(day=1),
        items=[plans.PatrolPlanItemInput(source_id=source.pk, visits=2)],
        actor=officer,
    )
    record_patrol(source, [officer])
    client.force_login(officer)

    response = client.get(reverse("inspection-plans"))

    assert response.status_code == 200
    (plan,) = response.context["monthly"]
    assert (plan.completion.done, plan.completion.planned) == (1, 2)
    page = html(response)
    assert 'class="bar bar--done" max="2" value="1"' in page and "50%" in page
    assert client.get(reverse("inspection-plans"), {"month": "2026-13"}).status_code == 400


# --- inbox ------------------------------------------------------------------------------------


def test_inbox_lists_newest_first_opens_and_marks_all_read(client, small_city, officer, settings):
    other = UserFactory()
    now = timezone.now()
    old = Notification.objects.create(
        user=officer, kind="x", title="旧通知", dedupe_key="a", url="/sources/", created_at=now
    )
    new = Notification.objects.create(
        user=officer,
        kind="x",
        title="新通知",
        dedupe_key="b",
        url="https://evil.example/",
        created_at=now + timedelta(minutes=1),
    )
    foreign = Notification.objects.create(user=other, kind="x", title="别人的", dedupe_key="c")
    client.force_login(officer)

    response = client.get(reverse("inbox"))
    page = html(response)
    assert page.index("新通知") < page.index("旧通知")
    assert "别人的" not in page
    assert page.count("is-unread") == 2

    # opening one marks it read and goes to its page (an outside address is not followed)
    assert client.get(reverse("inbox-open", args=[old.pk]))["Location"] == "/sources/"
    assert client.get(reverse("inbox-open", args=[new.pk]))["Location"] == reverse("inbox")
    assert client.get(reverse("inbox-open", args=[foreign.pk])).status_code == 404
    old.refresh_from_db()
    assert old.read_at is not None

    Notification.objects.filter(pk=old.pk).update(read_at=None)
    response = client.post(reverse("inbox-read-all"), follow=True)
    assert "All notifications are marked as read." in html(response)
    assert not Notification.objects.filter(user=officer, read_at__isnull=True).exists()
    foreign.refresh_from_db()
    assert foreign.read_at is None


def test_header_badge_counts_unread_notifications(client, small_city, officer, settings):
    templates = settings.TEMPLATES
    processors = templates[0]["OPTIONS"]["context_processors"]
    if "core.context_processors.inbox" not in processors:
        settings.TEMPLATES = [
            {
                **templates[0],
                "OPTIONS": {
                    **templates[0]["OPTIONS"],
                    "context_processors": [*processors, "core.context_processors.inbox"],
                },
            }
        ]
    for n in range(3):
        Notification.objects.create(user=officer, kind="x", title=f"n{n}", dedupe_key=str(n))
    client.force_login(officer)
    page = html(client.get(reverse("inbox")))
    assert 'id="inbox-unread"' in page and "unread: </span>3</span>" in page
    client.post(reverse("inbox-read-all"))
    assert 'id="inbox-unread"' not in html(client.get(reverse("inbox")))


# --- public disclosure ------------------------------------------------------------------------


def test_public_page_shows_published_draws_without_officers(
    client, small_city, officer, officer2, bureau, make_source
):
    source = make_source(name="兰山化工", credit_code="91350100M000100Y43")
    officer.full_name = "王建国"
    officer.save()
    today = timezone.localdate()

    def draw(title, published):
        made = RandomDraw.objects.create(
            title=title,
            department=bureau,
            grid=small_city.lanshan,
            period_start=today - timedelta(days=60),
            period_end=today - timedelta(days=30),
            inspection_date=today - timedelta(days=40),
            quotas={"key": 0.25, "other": 0.05},
            seed="seed-1",
            inputs_hash="0" * 64,
            published_at=timezone.now() if published else None,
        )
        target = RandomDrawTarget.objects.create(
            draw=made,
            source=source,
            source_class="other",
            result="未发现问题",
            result_outcome="compliant",
        )
        target.officers.set([officer, officer2])
        return made

    draw("2026 年第三季度双随机抽查", published=True)
    draw("尚未公开的抽查", published=False)

    response = client.get(reverse("public-random-draws"))  # nobody logged in

    assert response.status_code == 200
    page = html(response)
    assert "2026 年第三季度双随机抽查" in page and "尚未公开的抽查" not in page
    assert "兰山化工" in page and "未发现问题" in page and "Compliant" in page
    assert "王建国" not in page and officer.username not in page
