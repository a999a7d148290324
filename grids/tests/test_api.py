import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from grids import services
from grids.models import Role, Sector
from grids.tests.conftest import user_with_role

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_anonymous_gets_401(small_city):
    response = APIClient().get("/api/v1/grids/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "holder, visible, hidden",
    [
        ("city", ["371311001001", "371302001002"], []),
        ("lanshan", ["371302001001", "371302002000"], ["371311000000", "371300000000"]),
        ("village_a", ["371302001001"], ["371302001002", "371302001000", "371311001001"]),
    ],
)
def test_permission_matrix(small_city, client_for, holder, visible, hidden):
    client = client_for(user_with_role(getattr(small_city, holder), Role.PRINCIPAL))
    for code in visible:
        assert client.get(f"/api/v1/grids/{code}/").status_code == 200, code
    for code in hidden:
        response = client.get(f"/api/v1/grids/{code}/")
        assert response.status_code == 404, code
        assert response.json() == {"detail": "Not found."} or "detail" in response.json()


def test_a_user_without_roles_sees_nothing(small_city, client_for):
    from core.tests.factories import UserFactory

    client = client_for(UserFactory())
    assert client.get("/api/v1/grids/").json()["count"] == 0
    assert client.get("/api/v1/grids/371300000000/").status_code == 404


def test_an_ended_role_no_longer_shows_the_grid(small_city, client_for):
    from datetime import date

    from grids.models import GridRole

    user = user_with_role(small_city.lanshan, Role.LEADER)
    services.grid_role_end(assignment=GridRole.objects.get(user=user), on=date(2024, 6, 1))
    assert client_for(user).get("/api/v1/grids/371302000000/").status_code == 404


def test_detail_shows_parent_people_children_and_boundary(small_city, client_for):
    leader = user_with_role(small_city.lanshan, Role.LEADER, username="leader1")
    body = client_for(leader).get("/api/v1/grids/371302000000/").json()
    assert body["code"] == "371302000000"
    assert body["parent"] == "371300000000"
    assert body["level"] == 2 and body["kind"] == "administrative"
    assert body["children_count"] == 2
    assert body["boundary"]["type"] == "Polygon"
    assert [(p["role"], p["username"]) for p in body["responsible_people"]] == [
        ("leader", "leader1")
    ]


def test_list_filters(small_city, client_for):
    client = client_for(user_with_role(small_city.city, Role.OFFICE))
    assert client.get("/api/v1/grids/", {"level": 4}).json()["count"] == 3
    by_parent = client.get("/api/v1/grids/", {"parent": "371302001000"}).json()["results"]
    assert [g["code"] for g in by_parent] == ["371302001001", "371302001002"]
    assert [g["name"] for g in client.get("/api/v1/grids/", {"q": "罗庄"}).json()["results"]] == [
        "罗庄区",
        "罗庄街道",
    ]


@pytest.mark.parametrize(
    "params",
    [{"level": "x"}, {"parent": "abc"}, {"level": 0}],
)
def test_bad_list_filters_are_400(small_city, client_for, params):
    client = client_for(user_with_role(small_city.city, Role.OFFICE))
    response = client.get("/api/v1/grids/", params)
    assert response.status_code == 400
    assert set(response.json()) <= {"level", "parent", "q"}


@pytest.mark.parametrize(
    "params",
    [{}, {"lat": "north", "lng": 117}, {"lat": 95, "lng": 117}, {"lat": 35, "lng": 181}],
)
def test_locate_with_bad_coordinates_is_400(small_city, client_for, params):
    client = client_for(user_with_role(small_city.city, Role.OFFICE))
    assert client.get("/api/v1/grids/locate/", params).status_code == 400


def test_locate_picks_the_deepest_grid(small_city, client_for):
    client = client_for(user_with_role(small_city.city, Role.OFFICE))
    assert (
        client.get("/api/v1/grids/locate/", {"lat": 34.5, "lng": 117.7}).json()["code"]
        == "371302001002"
    )
    # inside 银雀山街道, which has no villages: the township itself
    assert (
        client.get("/api/v1/grids/locate/", {"lat": 35.5, "lng": 117.5}).json()["code"]
        == "371302002000"
    )
    assert client.get("/api/v1/grids/locate/", {"lat": 30, "lng": 117.5}).status_code == 404


def test_list_query_count_does_not_grow_with_the_number_of_grids(small_city, client_for):
    office = user_with_role(small_city.city, Role.OFFICE)

    def queries():
        # a fresh user object per request, as in real requests (the scope is cached on it)
        client = client_for(type(office).objects.get(pk=office.pk))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/grids/").status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for n in range(3, 9):
        services.grid_create(
            parent=small_city.yinqueshan,
            data=services.GridInput(name=f"村{n}", code=f"37130200200{n}"),
            actor=None,
        )
    assert queries() == few
    assert few <= 4  # scope, count, page


def test_departments_are_scoped(small_city, client_for):
    env = Sector.objects.get(code="environment")
    services.department_create(
        code="3713.environment", name="市生态环境局", sector=env, grid=small_city.city
    )
    services.department_create(
        code="371302.environment", name="兰山区生态环境局", sector=env, grid=small_city.lanshan
    )
    services.department_create(
        code="371311.environment", name="罗庄区生态环境局", sector=env, grid=small_city.luozhuang
    )
    client = client_for(user_with_role(small_city.lanshan, Role.PRINCIPAL))
    codes = [d["code"] for d in client.get("/api/v1/departments/").json()["results"]]
    assert codes == ["371302.environment"]
    office = client_for(user_with_role(small_city.city, Role.OFFICE))
    assert office.get("/api/v1/departments/").json()["count"] == 3
    first = office.get("/api/v1/departments/").json()["results"][0]
    assert first == {
        "code": "3713.environment",
        "name": "市生态环境局",
        "level": 1,
        "grid": "371300000000",
        "sector": "environment",
    }


def test_schema_and_docs_are_served_locally(small_city, client_for):
    client = client_for(user_with_role(small_city.city, Role.OFFICE))
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/grids/",
        "/api/v1/grids/{code}/",
        "/api/v1/grids/locate/",
        "/api/v1/categories/",
        "/api/v1/departments/",
        "/api/v1/auth/token/",
    ):
        assert path in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html
