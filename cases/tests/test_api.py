from rest_framework.test import APIClient

from grids import services
from grids.models import Role, Sector
from grids.tests.conftest import user_with_role


def test_categories_list_the_defaults_with_their_duty_matrix(small_city):
    client = APIClient()
    client.force_authenticate(user_with_role(small_city.city, Role.OFFICE))
    body = client.get("/api/v1/categories/").json()
    codes = [c["code"] for c in body["results"]]
    assert codes[:3] == ["dust", "open_burning", "coal_stove"]
    assert len(codes) == 10
    dust = body["results"][0]
    assert dust["name"] == "扬尘"
    assert dust["handling_limit"] == "3.0"
    assert dust["duty"] == [
        {"level": 1, "sector": "housing", "sector_name": "住房和城乡建设"},
        {"level": 2, "sector": "housing", "sector_name": "住房和城乡建设"},
    ]
    assert dust["proposed_department"] is None


def test_categories_propose_the_department_for_a_grid(small_city):
    housing = Sector.objects.get(code="housing")
    services.department_create(
        code="3713.housing", name="市住建局", sector=housing, grid=small_city.city
    )
    services.department_create(
        code="371302.housing", name="兰山区住建局", sector=housing, grid=small_city.lanshan
    )
    client = APIClient()
    client.force_authenticate(user_with_role(small_city.city, Role.OFFICE))
    by_code = {
        c["code"]: c
        for c in client.get("/api/v1/categories/", {"grid": "371302001001"}).json()["results"]
    }
    # a village problem goes to the county's department, the nearest level with a rule
    assert by_code["dust"]["proposed_department"] == {
        "code": "371302.housing",
        "name": "兰山区住建局",
        "level": 2,
    }
    # 罗庄区 has no housing department of its own: the city's is proposed
    by_code = {
        c["code"]: c
        for c in client.get("/api/v1/categories/", {"grid": "371311001001"}).json()["results"]
    }
    assert by_code["dust"]["proposed_department"]["code"] == "3713.housing"
    # no department of the sector anywhere → nothing proposed
    assert by_code["odour"]["proposed_department"] is None


def test_categories_for_a_grid_out_of_scope_is_404(small_city):
    client = APIClient()
    client.force_authenticate(user_with_role(small_city.village_a, Role.INSPECTOR))
    assert client.get("/api/v1/categories/", {"grid": "371311001001"}).status_code == 404


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def dust_report(**where) -> dict:
    """An inspector's report of dust, placed by ``where`` (a grid code or a point)."""
    return {"channel": "inspector", "category": "dust", "description": "工地扬尘", **where}


def test_case_photos_are_fetched_through_the_scoped_api(small_city, crew, settings, tmp_path):
    from cases.tests.conftest import jpeg

    settings.MEDIA_ROOT = tmp_path
    # given a case reported with a photo by the village's inspector
    inspector = api_client(crew.inspector)
    created = inspector.post(
        "/api/v1/cases/", dust_report(grid="371302001001", photos=[jpeg()]), format="multipart"
    )
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]
    # when the detail is read
    (photo,) = inspector.get(f"/api/v1/cases/{case_id}/").json()["photos"]
    # then the photo's address is the API's, not the media folder's, and it serves the image
    assert photo["url"].startswith(f"/api/v1/cases/{case_id}/photos/")
    response = inspector.get(photo["url"])
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    # and an inspector of another village gets 404 for it
    other = APIClient()
    other.force_authenticate(user_with_role(small_city.village_c, Role.INSPECTOR))
    assert other.get(photo["url"]).status_code == 404


def test_the_case_list_does_not_read_the_grids_outlines_and_the_case_page_does(small_city, crew):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    inspector = api_client(crew.inspector)
    created = inspector.post("/api/v1/cases/", dust_report(lat=34.5, lng=117.25), format="json")
    assert created.status_code == 201, created.content
    with CaptureQueriesContext(connection) as listed:
        assert inspector.get("/api/v1/cases/").json()["results"][0]["id"] == created.json()["id"]
    assert not any("boundary" in q["sql"] for q in listed.captured_queries)
    # the case page draws the grid's outline on its map
    page = Client()
    page.force_login(crew.inspector)
    response = page.get(f"/cases/{created.json()['id']}/")
    assert response.status_code == 200
    assert response.context["map_data"]["boundary"] == small_city.village_a.boundary
