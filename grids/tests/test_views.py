"""The grid pages: scope, content, query count, search, language switch, login and lockout."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.tests.factories import PASSWORD, UserFactory
from grids import services, views
from grids.models import Role
from grids.tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

PAGE_QUERY_LIMIT = 15  # + the inbox badge COUNT in the header


def person(grid, role, full_name):
    user = UserFactory(full_name=full_name)
    services.grid_role_assign(grid=grid, user=user, role=role, starts_on=date(2024, 1, 1))
    return user


def detail_url(grid):
    return reverse("grid-detail", kwargs={"code": grid.code})


@pytest.fixture
def county_user(client, small_city):
    user = user_with_role(small_city.lanshan, Role.PRINCIPAL, username="lanshan_principal")
    client.force_login(user)
    return user


def test_grid_page_shows_the_grid_its_people_children_map_and_health(client, small_city):
    # given a county with a principal and an officer stationed from a department
    principal = person(small_city.lanshan, Role.PRINCIPAL, "马晨建")
    person(small_city.lanshan, Role.DIRECT_RESPONSIBLE, "王建国")
    client.force_login(principal)

    # when the principal opens the county's page
    response = client.get(detail_url(small_city.lanshan))

    # then it shows the grid, its people grouped by role, its children and a map
    assert response.status_code == 200
    html = response.content.decode()
    assert "兰山区" in html and "371302000000" in html
    assert "马晨建" in html and "王建国" in html
    assert "主要负责人" in html and "直接责任人" in html  # role names, in Chinese by default
    assert "尚未明确到人" in html  # the leader this level requires is missing
    assert detail_url(small_city.lanshan_street) in html
    assert detail_url(small_city.yinqueshan) in html
    assert 'id="grid-map"' in html and 'id="grid-map-data"' in html
    map_data = response.context["map_data"]
    assert {c["code"] for c in map_data["children"]} == {"371302001000", "371302002000"}
    assert map_data["grid"]["boundary"]["type"] == "Polygon"
    counts = response.context["counts"]
    assert counts["grids"] == 5  # the county, two townships, two villages
    assert counts["missing_roles"] >= 1


def test_grid_out_of_scope_is_404(client, small_city, county_user):
    assert client.get(detail_url(small_city.luozhuang)).status_code == 404
    assert client.get(detail_url(small_city.village_c)).status_code == 404
    assert client.get(detail_url(small_city.city)).status_code == 404
    assert client.get("/grids/999999999999/").status_code == 404


def test_grid_page_needs_login(client, small_city):
    response = client.get(detail_url(small_city.lanshan))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_ancestors_outside_scope_are_named_but_not_linked(client, small_city):
    inspector = user_with_role(small_city.village_a, Role.INSPECTOR)
    client.force_login(inspector)

    html = client.get(detail_url(small_city.village_a)).content.decode()

    assert "临沂市" in html and "兰山街道" in html
    assert detail_url(small_city.city) not in html
    assert detail_url(small_city.lanshan_street) not in html


def test_index_redirects_to_the_topmost_visible_grid(client, small_city, county_user):
    response = client.get(reverse("grid-index"))
    assert response.status_code == 302
    assert response["Location"] == detail_url(small_city.lanshan)


def test_index_without_any_role_says_so(client, small_city):
    client.force_login(UserFactory())
    response = client.get(reverse("grid-index"))
    assert response.status_code == 200
    assert "暂无网格" in response.content.decode()


def test_search_finds_visible_grids_only(client, small_city, county_user):
    response = client.get(reverse("grid-index"), {"q": "十里堡"})
    found = {g.code for g in response.context["page"].object_list}
    assert found == {"371302001001", "371302001002"}

    response = client.get(reverse("grid-index"), {"q": "沈庄"})
    assert response.context["page"].paginator.count == 0

    response = client.get(reverse("grid-index"), {"q": "3713020010"})
    found = {g.code for g in response.context["page"].object_list}
    assert found == {"371302001000", "371302001001", "371302001002"}


def test_problem_grids_are_paginated_and_filtered(client, small_city, county_user, monkeypatch):
    monkeypatch.setattr(views, "PROBLEM_PAGE_SIZE", 2)

    first = client.get(detail_url(small_city.lanshan))
    page = first.context["problem_page"]
    assert page.paginator.num_pages > 1 and len(page.object_list) == 2

    second = client.get(detail_url(small_city.lanshan), {"page": 2})
    assert second.context["problem_page"].number == 2

    only = client.get(detail_url(small_city.lanshan), {"problem": "too_few_officers"})
    rows = only.context["problem_page"].paginator.object_list
    assert rows and all(r.too_few_officers for r in rows)


def test_query_count_does_not_grow_with_the_subtree(client, small_city, county_user):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(detail_url(small_city.lanshan))
        assert response.status_code == 200
        return len(queries)

    before = page_queries()
    # given many more villages, people, changes and plans below the county
    for n in range(3, 23):
        village = services.grid_create(
            parent=small_city.yinqueshan,
            data=services.GridInput(name=f"村{n}", code=f"371302002{n:03d}"),
            actor=county_user,
        )
        user_with_role(village, Role.INSPECTOR)
        user_with_role(village, Role.OFFICER)
    user_with_role(small_city.lanshan, Role.LEADER)
    services.division_plan_record(
        grid=small_city.lanshan, title="兰山区网格划分方案", adopted_on=date(2025, 3, 1)
    )

    # then the page asks the database exactly as often as before
    assert page_queries() == before


def test_query_count_is_bounded(client, small_city, county_user, django_assert_max_num_queries):
    with django_assert_max_num_queries(PAGE_QUERY_LIMIT):
        response = client.get(detail_url(small_city.lanshan))
    assert response.status_code == 200


def test_language_switch_changes_the_page_language(client, small_city, county_user):
    # given the default language, Chinese
    html = client.get(detail_url(small_city.lanshan)).content.decode()
    assert 'lang="zh-Hans"' in html and "责任人" in html

    # when the user switches to English
    response = client.post(
        reverse("set_language"), {"language": "en", "next": detail_url(small_city.lanshan)}
    )
    assert response.status_code == 302

    # then the page is in English, and back again
    html = client.get(detail_url(small_city.lanshan)).content.decode()
    assert 'lang="en"' in html and "Responsible people" in html and "责任人" not in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "责任人" in client.get(detail_url(small_city.lanshan)).content.decode()


def test_pages_have_no_inline_script_or_style(client, small_city, county_user):
    for url in (detail_url(small_city.lanshan), reverse("grid-index") + "?q=兰山"):
        response = client.get(url)
        html = response.content.decode()
        assert "Content-Security-Policy" in response.headers
        assert " style=" not in html
        for tag in re.findall(r"<script[^>]*>", html):
            assert " src=" in tag or 'type="application/json"' in tag, tag


def test_logout_is_a_post_form(client, small_city, county_user):
    html = client.get(detail_url(small_city.lanshan)).content.decode()
    assert re.search(r'<form method="post" action="/logout/">', html)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(detail_url(small_city.lanshan)).status_code == 302


def test_login_form_logs_in(client, small_city):
    user = user_with_role(small_city.lanshan, Role.PRINCIPAL)
    page = client.get(reverse("login"))
    assert page.status_code == 200 and "登录" in page.content.decode()

    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).status_code == 200


def test_five_failed_logins_show_the_lockout_page(client, small_city):
    user = user_with_role(small_city.lanshan, Role.PRINCIPAL)
    for _ in range(5):
        response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 429
    html = response.content.decode()
    assert "账户已锁定" in html and "分钟" in html


def test_pages_keep_the_configured_policy_and_json_answers_get_the_strictest(
    client, small_city, county_user
):
    from django.conf import settings

    from core.middleware import API_JSON_POLICY

    # when
    page = client.get(detail_url(small_city.lanshan))
    answer = client.get("/api/v1/grids/")
    # then
    configured = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert f"default-src {configured['default-src'][0]}" in page.headers["Content-Security-Policy"]
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Content-Security-Policy"] == API_JSON_POLICY


def test_api_calls_make_no_message_store_and_pages_do(client, small_city, county_user):
    from django.contrib import messages

    page = client.get(detail_url(small_city.lanshan))
    answer = client.get("/api/v1/grids/")
    assert isinstance(page.wsgi_request._messages, messages.storage.base.BaseStorage)
    assert not hasattr(answer.wsgi_request, "_messages")
