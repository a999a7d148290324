"""The home dashboard: the user's area at a glance, set-based, scoped."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import Case
from grids.models import Role
from grids.tests.conftest import user_with_role
from inspections import services as source_services
from inspections.models import PollutionSource


def _case(crew, grid: str, *, days_ago: int = 0) -> Case:
    now = timezone.now() - timedelta(days=days_ago)
    case, _ = case_services.case_create(
        data=case_services.CaseInput(
            channel="platform", category="dust", description="扬尘", grid=grid, reported_at=now
        ),
        actor=crew.platform,
        now=now,
    )
    return case


def _source(small_city, registrar, grid, *, overdue: bool) -> PollutionSource:
    source = source_services.source_create(
        grid=grid,
        data=source_services.SourceInput(
            name=f"源{grid.code}{overdue}",
            kind="enterprise",
            control_tier="municipal",
            lat=34.5,
            lng=117.2,
        ),
        actor=registrar,
    )
    confirmed = date.today() - timedelta(days=90 if overdue else 1)
    PollutionSource.objects.filter(pk=source.pk).update(confirmed_on=confirmed)
    source_services.source_schedule_refresh(source_ids=[source.pk])
    return source


@pytest.fixture
def city(small_city, crew):
    registrar = user_with_role(small_city.city, Role.OFFICE, username="office1")
    # two cases in Lanshan (one of them five days old), one in Luozhuang
    _case(crew, "371302001001")
    _case(crew, "371302001002", days_ago=5)
    _case(crew, "371311001001")
    # Lanshan: an overdue source and one on time; Luozhuang: one overdue
    _source(small_city, registrar, small_city.village_a, overdue=True)
    _source(small_city, registrar, small_city.village_b, overdue=False)
    _source(small_city, registrar, small_city.village_c, overdue=True)
    return registrar


def test_office_sees_the_city_with_a_row_per_county(client, city, small_city, english):
    # given the city office
    client.force_login(city)
    # when it opens the home page
    response = client.get(reverse("home"))
    # then the tiles count the whole city
    assert response.status_code == 200
    ctx = response.context
    assert (ctx["cases"].open, ctx["sources"].active, ctx["sources"].overdue) == (3, 3, 2)
    # and each county has its row
    rows = {row.code: row for row in ctx["rows"]}
    assert (rows["371302000000"].cases_open, rows["371302000000"].sources_overdue) == (2, 1)
    assert (rows["371311000000"].cases_open, rows["371311000000"].sources_overdue) == (1, 1)
    # and the per-day chart has 30 days, the three reports on two of them
    received = ctx["received"]
    assert len(received) == 30
    assert sorted(bar.value for bar in received if bar.value) == [1, 2]
    assert received[-1].label == timezone.localdate().isoformat()
    html = response.content.decode()
    assert "Overview" in html and "Luozhuang" not in html  # names come from the data
    assert "罗庄区" in html


def test_county_officer_sees_only_his_county(client, city, small_city):
    # given a Lanshan officer
    officer = user_with_role(small_city.lanshan, Role.OFFICE, username="lanshan_office")
    client.force_login(officer)
    # when he opens the home page
    ctx = client.get(reverse("home")).context
    # then only Lanshan is counted, with a row per township
    assert (ctx["cases"].open, ctx["sources"].active, ctx["sources"].overdue) == (2, 2, 1)
    assert [row.code for row in ctx["rows"]] == ["371302001000", "371302002000"]
    assert "罗庄区" not in client.get(reverse("home")).content.decode()


def test_the_dashboard_is_chinese_by_default_and_needs_a_login(client, city):
    assert client.get(reverse("home")).status_code == 302
    client.force_login(city)
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="zh-Hans">' in html and "总览" in html and "在办案件" in html


def test_query_count_does_not_grow_with_the_records(
    client, city, small_city, crew, django_assert_max_num_queries
):
    client.force_login(city)
    with django_assert_max_num_queries(20) as before:
        client.get(reverse("home"))
    for _ in range(5):
        _case(crew, "371311001001", days_ago=2)
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(reverse("home"))
    assert response.context["cases"].open == 8
