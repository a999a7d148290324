"""The inspection ledger (检查台账): per department or grid and period, scoped, two queries,
and its Excel download with a title row (issue 3, item 6)."""

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from grids import services as grid_services
from grids.models import Role, Sector
from grids.tests.conftest import user_with_role
from inspections import excel, ledger, services
from inspections.models import Patrol
from inspections.tests.conftest import SHANGHAI, at

pytestmark = pytest.mark.usefixtures("english")

Q1 = (date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture
def bureau(small_city):
    env = Sector.objects.get(code="environment")
    return grid_services.department_create(
        code="371302.environment", name="兰山区生态环境局", sector=env, grid=small_city.lanshan
    )


@pytest.fixture
def other_bureau(small_city):
    env = Sector.objects.get(code="environment")
    return grid_services.department_create(
        code="371311.environment", name="罗庄区生态环境局", sector=env, grid=small_city.luozhuang
    )


@pytest.fixture
def member(officer, bureau):
    """The officer belongs to the bureau (stationed from it), so may ask for its ledger."""
    grid_services.department_member_add(
        department=bureau, user=officer, position="officer", starts_on=date(2024, 1, 1)
    )
    return officer


def record(source, officers, when: datetime, *, actor=None, **kw):
    kw.setdefault("kind", Patrol.Kind.INSPECTION)
    kw.setdefault("outcome", Patrol.Outcome.COMPLIANT)
    return services.patrol_record(
        source=source,
        data=services.PatrolInput(patrolled_at=when, officers=officers, lat=34.5, lng=117.2, **kw),
        actor=actor or officers[0],
        now=when.replace(hour=23),
    )


@pytest.fixture
def history(small_city, officer, officer2, make_source, bureau, other_bureau):
    """Patrols around the first quarter of 2026."""
    officer.full_name, officer.enforcement_certificate = "王执法", "37130200001"
    officer.save()
    works = make_source(tier="national", name="化工厂", credit_code="91350100M000100Y43")
    diner = make_source(tier="other", name="餐馆", kind="catering", grid=small_city.village_b)
    far_officer = user_with_role(small_city.luozhuang_street, Role.OFFICER)
    far_officer2 = user_with_role(small_city.luozhuang_street, Role.OFFICER)
    far = make_source(tier="national", name="罗庄厂", grid=small_city.village_c)
    pair = [officer, officer2]
    rows = {
        "jan": record(works, pair, at(date(2026, 1, 5)), department=bureau, findings="正常"),
        "feb": record(
            diner,
            pair,
            at(date(2026, 2, 10)),
            department=bureau,
            outcome=Patrol.Outcome.NOTICE_ISSUED,
            rectification_deadline=date(2026, 2, 20),
            findings="油烟净化器未开启",
        ),
        "patrol": record(works, [officer], at(date(2026, 3, 1)), kind=Patrol.Kind.PATROL),
        # the last minute of the period counts, the first minute after it does not
        "last": record(
            works, pair, datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI), department=bureau
        ),
        "after": record(
            works, pair, datetime(2026, 4, 1, 0, 1, tzinfo=SHANGHAI), department=bureau
        ),
        "before": record(works, pair, at(date(2025, 12, 31)), department=bureau),
        "elsewhere": record(
            far, [far_officer, far_officer2], at(date(2026, 2, 1)), department=other_bureau
        ),
    }
    return rows


def fresh(grid):
    """The grid as stored now (the fixture's objects of inner grids predate their children)."""
    grid.refresh_from_db()
    return grid


def ids(rows) -> list[int]:
    return [p.pk for p in rows]


def test_ledger_of_a_department_lists_its_inspections_of_the_period_in_order(
    officer, bureau, history
):
    rows = ledger.ledger_rows(user=officer, start=Q1[0], end=Q1[1], department=bureau)
    assert ids(rows) == [history["jan"].pk, history["feb"].pk, history["last"].pk]


def test_ledger_of_a_grid_takes_its_subtree_and_every_on_site_kind(small_city, officer, history):
    rows = ledger.ledger_rows(user=officer, start=Q1[0], end=Q1[1], grid=small_city.village_a)
    assert ids(rows) == [history["jan"].pk, history["patrol"].pk, history["last"].pk]
    street = ledger.ledger_rows(
        user=officer, start=Q1[0], end=Q1[1], grid=fresh(small_city.lanshan_street)
    )
    assert len(street) == 4
    only = ledger.ledger_rows(
        user=officer, start=Q1[0], end=Q1[1], grid=small_city.village_a, kinds=["patrol"]
    )
    assert ids(only) == [history["patrol"].pk]


def test_online_checks_stay_out_of_the_ledger_unless_asked(small_city, officer, make_source):
    source = make_source(tier="municipal", online_monitoring=True)
    check = record(source, [officer], at(date(2026, 2, 2)), kind=Patrol.Kind.ONLINE_CHECK)
    city = fresh(small_city.city)
    assert ids(ledger.ledger_rows(user=officer, start=Q1[0], end=Q1[1], grid=city)) == []
    assert ids(
        ledger.ledger_rows(user=officer, start=Q1[0], end=Q1[1], grid=city, kinds=["online_check"])
    ) == [check.pk]


def test_ledger_is_scoped(small_city, officer, bureau, other_bureau, history):
    # the officer of 兰山街道 does not see 罗庄's inspections, even when asking for that bureau
    assert (
        ids(ledger.ledger_rows(user=officer, start=Q1[0], end=Q1[1], department=other_bureau)) == []
    )
    # an inspector of village B sees only village B's
    inspector = user_with_role(small_city.village_b, Role.INSPECTOR)
    assert ids(ledger.ledger_rows(user=inspector, start=Q1[0], end=Q1[1], department=bureau)) == [
        history["feb"].pk
    ]
    # a member of the bureau without a grid role sees the bureau's own inspections
    from core.tests.factories import UserFactory

    clerk = UserFactory()
    grid_services.department_member_add(
        department=bureau, user=clerk, position="staff", starts_on=date(2024, 1, 1)
    )
    assert len(ledger.ledger_rows(user=clerk, start=Q1[0], end=Q1[1], department=bureau)) == 3


def test_ledger_reads_in_constant_queries(
    small_city, officer, officer2, bureau, make_source, django_assert_num_queries
):
    source = make_source(tier="national")
    fresh = type(officer).objects.get(pk=officer.pk)

    def read():
        rows = ledger.ledger_rows(user=fresh, start=Q1[0], end=Q1[1], department=bureau)
        return [
            (
                p.source.name,
                p.source.grid.code,
                p.department.name,
                [u.username for u in p.officers.all()],
            )
            for p in rows
        ]

    record(source, [officer, officer2], at(date(2026, 1, 5)), department=bureau)
    with django_assert_num_queries(3):  # scope, patrols, officers
        assert len(read()) == 1
    for day in range(6, 12):
        record(source, [officer, officer2], at(date(2026, 1, day)), department=bureau)
    fresh = type(officer).objects.get(pk=officer.pk)
    with django_assert_num_queries(3):
        assert len(read()) == 7


def test_ledger_title():
    from grids.models import Department, Grid

    dept = Department(name="兰山区生态环境局", grid_id=1)
    street = Grid(pk=2, name="兰山街道")
    assert ledger.ledger_title(start=Q1[0], end=Q1[1], department=dept) == (
        "兰山区生态环境局 检查台账 2026-01-01 至 2026-03-31"
    )
    assert ledger.ledger_title(start=Q1[0], end=Q1[1], grid=street).startswith("兰山街道 检查台账")
    assert ledger.ledger_title(start=Q1[0], end=Q1[1], department=dept, grid=street).startswith(
        "兰山区生态环境局（兰山街道） 检查台账"
    )


def test_ledger_workbook_has_the_title_row_headers_and_one_row_per_inspection(
    officer, bureau, history
):
    buffer = io.BytesIO()
    count = excel.ledger_export_write(
        user=officer, out=buffer, start=Q1[0], end=Q1[1], department=bureau
    )
    assert count == 3
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "兰山区生态环境局 检查台账 2026-01-01 至 2026-03-31"
    assert list(rows[1]) == [c.header for c in excel.LEDGER_COLUMNS]
    first, second, last = (dict(zip(rows[1], row, strict=True)) for row in rows[2:])
    assert first["序号"] == 1
    assert first["检查时间"] == datetime(2026, 1, 5, 10, 0)  # the city's time
    assert first["检查类型"] == "现场执法检查"
    assert (first["污染源"], first["统一社会信用代码"]) == ("化工厂", "91350100M000100Y43")
    assert first["检查单位"] == "兰山区生态环境局"
    assert first["检查人员（执法证号）"].startswith("王执法（37130200001）、")
    assert (first["检查情况"], first["处理结果"]) == ("正常", "未发现问题")
    assert (second["处理结果"], second["整改期限"].date()) == ("下达整改通知", date(2026, 2, 20))
    assert second["网格"] == "后十里堡社区"
    assert last["检查时间"] == datetime(2026, 3, 31, 23, 59)


# --- API -------------------------------------------------------------------------------------

api = pytest.mark.urls("inspections.tests.urls_for_excel")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@api
def test_api_ledger_json_is_paginated_with_its_title(member, bureau, history):
    response = client_for(member).get(
        "/api/v1/ledger/",
        {"department": bureau.code, "start": "2026-01-01", "end": "2026-03-31"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["title"] == "兰山区生态环境局 检查台账 2026-01-01 至 2026-03-31"
    assert body["count"] == 3
    first = body["results"][0]
    assert (first["source_name"], first["department"], first["kind"]) == (
        "化工厂",
        "371302.environment",
        "inspection",
    )
    assert [o["username"] for o in first["officers"]] == ["officer1", "officer2"]


@api
def test_api_ledger_xlsx(officer, bureau, history):
    response = client_for(officer).get(
        "/api/v1/ledger/",
        {"grid": "371302001001", "start": "2026-01-01", "end": "2026-03-31", "format": "xlsx"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet["A1"].value == "前十里堡社区 检查台账 2026-01-01 至 2026-03-31"
    assert sheet.max_row == 2 + 3


@api
@pytest.mark.parametrize(
    "params, field",
    [
        ({"grid": "371302001001", "end": "2026-03-31"}, "start"),
        ({"grid": "371302001001", "start": "2026-13-01", "end": "2026-03-31"}, "start"),
        ({"grid": "371302001001", "start": "2026-04-01", "end": "2026-03-31"}, "end"),
        ({"start": "2026-01-01", "end": "2026-03-31"}, "detail"),
        ({"department": "nope", "start": "2026-01-01", "end": "2026-03-31"}, "department"),
        (
            {"department": "371311.environment", "start": "2026-01-01", "end": "2026-03-31"},
            "department",
        ),
        ({"grid": "371311001001", "start": "2026-01-01", "end": "2026-03-31"}, "grid"),
        (
            {"grid": "371302001001", "start": "2026-01-01", "end": "2026-03-31", "format": "pdf"},
            "format",
        ),
        ({"grid": "371302001001", "start": "2026-01-01", "end": "2026-03-31", "kind": "x"}, "kind"),
    ],
)
def test_api_ledger_bad_input_is_400_json(member, bureau, other_bureau, params, field):
    response = client_for(member).get("/api/v1/ledger/", params, HTTP_ACCEPT=XLSX_TYPE)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


@api
def test_api_ledger_queries_do_not_grow_with_rows(
    small_city, member, officer, officer2, bureau, make_source, django_assert_max_num_queries
):
    source = make_source(tier="national")
    for day in range(5, 15):
        record(source, [officer, officer2], at(date(2026, 1, day)), department=bureau)
    client = client_for(type(officer).objects.get(pk=officer.pk))
    params = {"department": bureau.code, "start": "2026-01-01", "end": "2026-03-31"}
    # scope (2), department, count, page, officers
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/ledger/", params).json()["count"] == 10
