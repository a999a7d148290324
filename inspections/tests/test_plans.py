"""Yearly supervision plans and monthly patrol plans; completion computed from the patrols
(issue 3, item 4). The expected numbers are counted by hand in each test."""

from datetime import date, datetime

import pytest
from rest_framework.test import APIClient

from core.errors import DomainError, Forbidden
from grids import services as grid_services
from grids.models import Role, Sector
from grids.tests.conftest import user_with_role
from inspections import ledger, plans, services
from inspections.models import Patrol, PatrolPlan, PollutionSource, SupervisionPlan
from inspections.tests.conftest import SHANGHAI, at

pytestmark = pytest.mark.usefixtures("english")

MARCH = date(2026, 3, 1)


def fresh(grid):
    """The grid as stored now (the fixture's objects of inner grids predate their children)."""
    grid.refresh_from_db()
    return grid


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
def inspector(small_city):
    return user_with_role(small_city.village_a, Role.INSPECTOR, username="inspector_a")


@pytest.fixture
def inspector2(small_city):
    return user_with_role(small_city.village_a, Role.INSPECTOR, username="inspector_b")


def record(source, officers, when: datetime, **kw):
    kw.setdefault("kind", Patrol.Kind.PATROL)
    kw.setdefault("outcome", Patrol.Outcome.COMPLIANT)
    return services.patrol_record(
        source=source,
        data=services.PatrolInput(patrolled_at=when, officers=officers, lat=34.5, lng=117.2, **kw),
        actor=officers[0],
        now=when.replace(hour=23),
    )


def item(source, visits=1):
    return plans.PatrolPlanItemInput(source_id=source.pk, visits=visits)


# --- supervision plans -----------------------------------------------------------------------


def supervision_plan(actor, department, grid, **kw):
    kw.setdefault("year", 2026)
    kw.setdefault("title", "2026 年度环境监管计划")
    kw.setdefault("inspections_planned", 4)
    return plans.supervision_plan_create(department=department, grid=grid, actor=actor, **kw)


def test_a_supervision_plan_is_made_once_per_department_grid_and_year(small_city, officer, bureau):
    street = fresh(small_city.lanshan_street)
    plan = supervision_plan(officer, bureau, street, content="重点：化工园区")
    assert (plan.year, plan.inspections_planned, plan.created_by) == (2026, 4, officer)
    with pytest.raises(DomainError, match="already has a 2026 plan for 兰山街道"):
        supervision_plan(officer, bureau, street)
    # another year, or another grid, is another plan
    supervision_plan(officer, bureau, street, year=2027)
    supervision_plan(officer, bureau, small_city.village_a)
    assert SupervisionPlan.objects.count() == 3


def test_a_supervision_plan_needs_an_enforcement_role_over_the_grid(
    small_city, inspector, officer, bureau
):
    with pytest.raises(Forbidden, match="may not make plans"):
        supervision_plan(inspector, bureau, small_city.village_a)
    with pytest.raises(Forbidden):  # the officer of 兰山街道 has none over 罗庄
        supervision_plan(officer, bureau, small_city.village_c)


def test_a_supervision_plan_checks_its_fields(small_city, bureau, other_bureau):
    office = user_with_role(small_city.city, Role.OFFICE)
    with pytest.raises(DomainError) as caught:
        supervision_plan(
            office, other_bureau, small_city.village_a, title=" ", year=1999, inspections_planned=0
        )
    assert set(caught.value.extra) == {"title", "year", "inspections_planned", "grid"}
    assert caught.value.extra["grid"] == ["前十里堡社区 lies outside the area of 罗庄区生态环境局."]
    assert SupervisionPlan.objects.count() == 0


def test_supervision_plan_completion_counts_the_department_s_inspections_there_that_year(
    small_city, officer, officer2, make_source, bureau, other_bureau, django_assert_num_queries
):
    street = fresh(small_city.lanshan_street)
    plan = supervision_plan(officer, bureau, street, inspections_planned=4)
    works = make_source(tier="national", name="化工厂", confirmed_on=date(2025, 1, 1))
    diner = make_source(tier="other", name="餐馆", grid=small_city.village_b)
    outside = make_source(tier="national", name="银雀山厂", grid=small_city.yinqueshan)
    pair = [officer, officer2]
    yq_officers = [
        user_with_role(small_city.yinqueshan, Role.OFFICER),
        user_with_role(small_city.yinqueshan, Role.OFFICER),
    ]
    inspection = {"kind": Patrol.Kind.INSPECTION}
    # counted: two inspections in the street's villages, one in its first minutes of the year
    record(works, pair, at(date(2026, 2, 3)), department=bureau, **inspection)
    record(diner, pair, at(date(2026, 5, 6)), department=bureau, **inspection)
    record(
        works, pair, datetime(2026, 1, 1, 0, 30, tzinfo=SHANGHAI), department=bureau, **inspection
    )
    # not counted: the year before (its last minutes), an inspector's patrol, another
    # department, no department, and a source outside the street
    record(
        works,
        pair,
        datetime(2025, 12, 31, 23, 30, tzinfo=SHANGHAI),
        department=bureau,
        **inspection,
    )
    record(works, pair, at(date(2026, 3, 3)), department=bureau)
    record(works, pair, at(date(2026, 3, 4)), department=other_bureau, **inspection)
    record(works, pair, at(date(2026, 3, 5)), **inspection)
    record(outside, yq_officers, at(date(2026, 3, 6)), department=bureau, **inspection)
    village = supervision_plan(officer, bureau, small_city.village_b, inspections_planned=2)
    listed = list(ledger.supervision_plan_list(user=officer, year=2026))
    with django_assert_num_queries(1):
        completion = ledger.supervision_plan_completion(plans=listed)
    assert completion[plan.pk] == ledger.Completion(planned=4, done=3)
    assert completion[plan.pk].ratio == 0.75
    assert completion[village.pk] == ledger.Completion(planned=2, done=1)
    assert completion[village.pk].ratio == 0.5


def test_supervision_plans_are_listed_within_scope(small_city, officer, bureau, other_bureau):
    supervision_plan(officer, bureau, small_city.village_a)
    office = user_with_role(small_city.city, Role.OFFICE)
    supervision_plan(office, other_bureau, small_city.village_c)
    assert [p.grid.code for p in ledger.supervision_plan_list(user=officer)] == ["371302001001"]
    assert len(ledger.supervision_plan_list(user=office)) == 2
    assert len(ledger.supervision_plan_list(user=office, department=other_bureau)) == 1


# --- patrol plans ----------------------------------------------------------------------------


@pytest.fixture
def three(make_source):
    return [
        make_source(tier="national", name="甲厂"),
        make_source(tier="municipal", name="乙厂", online_monitoring=True),
        make_source(tier="other", name="丙厂"),
    ]


def test_patrol_plan_completion_counts_on_site_patrols_of_the_month_capped_per_item(
    small_city, officer, inspector, three, django_assert_num_queries
):
    a, b, c = three
    plan = plans.patrol_plan_create(
        grid=small_city.village_a,
        month=MARCH,
        items=[item(a, 2), item(b, 3), item(c, 1)],
        actor=officer,
    )
    # a: three patrols in March, only two planned → 2
    for day in (2, 9, 16):
        record(a, [inspector], at(date(2026, 3, day)))
    # b: one patrol and one enforcement inspection in March; an online check does not count,
    # nor does February → 2
    record(b, [inspector], at(date(2026, 3, 3)))
    record(b, [officer, inspector], at(date(2026, 3, 4)), kind=Patrol.Kind.INSPECTION)
    record(b, [officer], at(date(2026, 3, 5)), kind=Patrol.Kind.ONLINE_CHECK)
    record(b, [inspector], at(date(2026, 2, 27)))
    # c: the last minutes of March count, the first minutes of April do not → 1
    record(c, [inspector], datetime(2026, 3, 31, 23, 50, tzinfo=SHANGHAI))
    record(c, [inspector], datetime(2026, 4, 1, 0, 10, tzinfo=SHANGHAI))
    with django_assert_num_queries(1):
        progress = ledger.patrol_plan_progress(plans=[plan])[plan.pk]
    assert [(i.source_name, i.visits, i.done, i.counted) for i in progress.items] == [
        ("丙厂", 1, 1, 1),
        ("乙厂", 3, 2, 2),
        ("甲厂", 2, 3, 2),
    ]
    # (2 + 2 + 1) of (2 + 3 + 1) visits
    assert progress.completion == ledger.Completion(planned=6, done=5)
    assert progress.completion.ratio == 0.8333


def test_an_inspector_s_plan_counts_only_that_inspector_s_patrols(
    small_city, officer, inspector, inspector2, three, django_assert_num_queries
):
    a, b, _c = three
    mine = plans.patrol_plan_create(
        grid=small_city.village_a,
        month=MARCH,
        inspector=inspector,
        items=[item(a, 2), item(b, 2)],
        actor=officer,
    )
    theirs = plans.patrol_plan_create(
        grid=small_city.village_a,
        month=MARCH,
        inspector=inspector2,
        items=[item(a, 1)],
        actor=officer,
    )
    whole = plans.patrol_plan_create(
        grid=small_city.village_a, month=MARCH, items=[item(a, 4)], actor=officer
    )
    record(a, [inspector], at(date(2026, 3, 2)))
    record(a, [inspector2], at(date(2026, 3, 3)))
    record(a, [inspector2], at(date(2026, 3, 4)))
    record(b, [officer, inspector2], at(date(2026, 3, 5)), kind=Patrol.Kind.INSPECTION)
    record(b, [officer, inspector], at(date(2026, 3, 6)), kind=Patrol.Kind.INSPECTION)
    listed = list(ledger.patrol_plan_list(user=officer, month=MARCH))
    assert len(listed) == 3
    with django_assert_num_queries(1):  # one query for the whole list
        progress = ledger.patrol_plan_progress(plans=listed)
    # mine: a once by me (of 2), b once with me (of 2) → 2 of 4
    assert progress[mine.pk].completion == ledger.Completion(planned=4, done=2)
    # theirs: a twice by inspector_b, capped at 1 → 1 of 1
    assert progress[theirs.pk].completion == ledger.Completion(planned=1, done=1)
    # the grid's: a three times by anyone → 3 of 4
    assert progress[whole.pk].completion == ledger.Completion(planned=4, done=3)
    assert progress[whole.pk].completion.ratio == 0.75


def test_patrol_plan_rules(small_city, officer, inspector, three, make_source):
    a, b, _c = three
    reported = PollutionSource.objects.create(
        name="待确认", grid=small_city.village_a, kind="enterprise", control_tier="other"
    )
    elsewhere = make_source(tier="other", name="邻村厂", grid=small_city.village_b)
    with pytest.raises(DomainError) as caught:
        plans.patrol_plan_create(
            grid=small_city.village_a,
            month=date(2026, 3, 15),
            inspector=user_with_role(small_city.village_b, Role.INSPECTOR, username="neighbour"),
            items=[item(a, 0), item(a), item(reported), item(elsewhere), item(b, 32)],
            actor=officer,
        )
    errors = caught.value.extra
    assert errors["month"] == ["A plan's month is given by its first day (e.g. 2026-03-01)."]
    assert errors["inspector"] == ["neighbour does not patrol this grid."]
    assert errors["items"] == [
        f"Source {a.pk}: plan 1 to 31 visits.",
        f"Source {a.pk} is named twice.",
        f"Source {b.pk}: plan 1 to 31 visits.",
        f"Source {reported.pk} is not active; confirm it before planning patrols.",
        f"Source {elsewhere.pk} is not a source in 前十里堡社区.",
    ]
    with pytest.raises(DomainError) as caught:
        plans.patrol_plan_create(grid=small_city.village_a, month=MARCH, items=[], actor=officer)
    assert caught.value.extra == {"items": ["Name at least one source to patrol."]}
    assert PatrolPlan.objects.count() == 0


def test_one_patrol_plan_per_grid_and_month_and_one_per_inspector(
    small_city, officer, inspector, three
):
    a = three[0]
    plans.patrol_plan_create(grid=small_city.village_a, month=MARCH, items=[item(a)], actor=officer)
    with pytest.raises(DomainError, match="already has a patrol plan for 2026-03"):
        plans.patrol_plan_create(
            grid=small_city.village_a, month=MARCH, items=[item(a)], actor=officer
        )
    plans.patrol_plan_create(
        grid=small_city.village_a, month=MARCH, inspector=inspector, items=[item(a)], actor=officer
    )
    with pytest.raises(DomainError, match="patrol plan of inspector_a for 2026-03"):
        plans.patrol_plan_create(
            grid=small_city.village_a,
            month=MARCH,
            inspector=inspector,
            items=[item(a)],
            actor=officer,
        )


def test_an_inspector_cannot_make_a_plan(small_city, inspector, three):
    with pytest.raises(Forbidden):
        plans.patrol_plan_create(
            grid=small_city.village_a, month=MARCH, items=[item(three[0])], actor=inspector
        )


def test_a_street_plan_may_name_the_sources_of_its_villages(
    small_city, officer, three, make_source
):
    b_source = make_source(tier="other", name="邻村厂", grid=small_city.village_b)
    street = fresh(small_city.lanshan_street)
    plan = plans.patrol_plan_create(
        grid=street, month=MARCH, items=[item(three[0]), item(b_source)], actor=officer
    )
    assert plan.items.count() == 2


# --- API -------------------------------------------------------------------------------------

api = pytest.mark.urls("inspections.tests.urls_for_excel")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def member(officer, bureau):
    grid_services.department_member_add(
        department=bureau, user=officer, position="officer", starts_on=date(2024, 1, 1)
    )
    return officer


@api
def test_api_supervision_plan_create_list_and_completion(
    small_city, member, officer2, bureau, make_source, django_assert_max_num_queries
):
    client = client_for(member)
    body = {
        "department": bureau.code,
        "grid": "371302001001",
        "year": 2026,
        "title": "前十里堡 2026 年度监管计划",
        "inspections_planned": 2,
    }
    response = client.post("/api/v1/supervision-plans/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["department_name"], created["grid_name"]) == (
        "兰山区生态环境局",
        "前十里堡社区",
    )
    assert created["completion"] == {"planned": 2, "done": 0, "ratio": 0.0}
    # the same plan again
    again = client.post("/api/v1/supervision-plans/", body, format="json")
    assert again.status_code == 400
    assert "year" in again.json()
    # an inspection of the bureau there counts
    source = make_source(tier="national")
    record(source, [member, officer2], at(date(2026, 4, 1)), department=bureau, kind="inspection")
    for year in (2027, 2028):
        client.post("/api/v1/supervision-plans/", {**body, "year": year}, format="json")
    fresh_client = client_for(type(member).objects.get(pk=member.pk))
    with django_assert_max_num_queries(4):  # scope, count, page, completion
        listed = fresh_client.get("/api/v1/supervision-plans/").json()
    assert listed["count"] == 3
    by_year = {p["year"]: p["completion"] for p in listed["results"]}
    assert by_year[2026] == {"planned": 2, "done": 1, "ratio": 0.5}
    assert by_year[2027]["done"] == 0
    assert client.get("/api/v1/supervision-plans/", {"year": 2027}).json()["count"] == 1


@api
@pytest.mark.parametrize(
    "changes, status, field",
    [
        ({"department": "nope"}, 400, "department"),
        ({"grid": "371311001001"}, 400, "grid"),
        ({"year": "twenty"}, 400, "year"),
        ({"inspections_planned": 0}, 400, "inspections_planned"),
        ({"title": ""}, 400, "title"),
    ],
)
def test_api_supervision_plan_bad_input(small_city, member, bureau, changes, status, field):
    body = {
        "department": bureau.code,
        "grid": "371302001001",
        "year": 2026,
        "title": "计划",
        "inspections_planned": 2,
    }
    response = client_for(member).post(
        "/api/v1/supervision-plans/", {**body, **changes}, format="json"
    )
    assert response.status_code == status
    assert field in response.json()


@api
def test_api_supervision_plan_by_an_inspector_is_403(small_city, bureau, inspector):
    grid_services.department_member_add(
        department=bureau, user=inspector, position="staff", starts_on=date(2024, 1, 1)
    )
    response = client_for(inspector).post(
        "/api/v1/supervision-plans/",
        {
            "department": bureau.code,
            "grid": "371302001001",
            "year": 2026,
            "title": "计划",
            "inspections_planned": 2,
        },
        format="json",
    )
    assert response.status_code == 403


@api
def test_api_patrol_plan_create_and_list_with_completion(
    small_city, officer, inspector, three, django_assert_max_num_queries
):
    a, b, _c = three
    client = client_for(officer)
    response = client.post(
        "/api/v1/patrol-plans/",
        {
            "grid": "371302001001",
            "month": "2026-03",
            "inspector": "inspector_a",
            "items": [{"source": a.pk, "visits": 2}, {"source": b.pk}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["month"], created["inspector"]) == ("2026-03-01", "inspector_a")
    assert created["completion"] == {"planned": 3, "done": 0, "ratio": 0.0}
    record(a, [inspector], at(date(2026, 3, 2)))
    record(b, [inspector], at(date(2026, 3, 3)))
    record(b, [inspector], at(date(2026, 3, 4)))
    client.post(
        "/api/v1/patrol-plans/",
        {"grid": "371302001001", "month": "2026-03-01", "items": [{"source": a.pk, "visits": 4}]},
        format="json",
    )
    fresh_client = client_for(type(officer).objects.get(pk=officer.pk))
    with django_assert_max_num_queries(4):  # scope, count, page, progress
        listed = fresh_client.get("/api/v1/patrol-plans/", {"month": "2026-03"}).json()
    assert listed["count"] == 2
    by_inspector = {p["inspector"]: p for p in listed["results"]}
    assert by_inspector["inspector_a"]["completion"] == {"planned": 3, "done": 2, "ratio": 0.6667}
    assert [
        (i["source_name"], i["done"], i["counted"]) for i in by_inspector["inspector_a"]["items"]
    ] == [
        ("乙厂", 2, 1),
        ("甲厂", 1, 1),
    ]
    assert by_inspector[None]["completion"] == {"planned": 4, "done": 1, "ratio": 0.25}
    assert client.get("/api/v1/patrol-plans/", {"inspector": "inspector_a"}).json()["count"] == 1
    # an inspector of village A sees the plans of his village
    assert client_for(inspector).get("/api/v1/patrol-plans/").json()["count"] == 2


@api
@pytest.mark.parametrize(
    "changes, status, field",
    [
        ({"month": "2026-3"}, 400, "month"),
        ({"month": "2026-03-15"}, 400, "month"),
        ({"inspector": "ghost"}, 400, "inspector"),
        ({"items": []}, 400, "items"),
        ({"items": [{"source": 999999}]}, 400, "items"),
        ({"items": [{"source": "x"}]}, 400, "items"),
        ({"items": "nope"}, 400, "items"),
        ({"grid": "371311001001"}, 400, "grid"),
    ],
)
def test_api_patrol_plan_bad_input(small_city, officer, three, changes, status, field):
    body = {"grid": "371302001001", "month": "2026-03", "items": [{"source": three[0].pk}]}
    response = client_for(officer).post("/api/v1/patrol-plans/", {**body, **changes}, format="json")
    assert response.status_code == status
    assert field in response.json()


@api
def test_api_plan_filters_reject_bad_values(small_city, officer):
    client = client_for(officer)
    assert client.get("/api/v1/patrol-plans/", {"month": "March"}).status_code == 400
    assert client.get("/api/v1/patrol-plans/", {"grid": "371311001001"}).status_code == 400
    assert client.get("/api/v1/supervision-plans/", {"year": "x"}).status_code == 400
