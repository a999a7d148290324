"""The acceptance checks of the foundation on the Linyi demo city, seeded once for the module."""

import pytest
from django.http import Http404
from rest_framework.test import APIClient
from shapely.geometry import shape
from shapely.ops import unary_union

from core.models import User
from grids import selectors
from grids.demo import DEMO_COUNTY, DEMO_VILLAGE, demo_city_seed
from grids.models import Department, DivisionPlan, Grid, GridChange, GridKind, GridRole

pytestmark = pytest.mark.usefixtures("demo_city")

LUOZHUANG = "371311000000"
OTHER_VILLAGE = "371302001002"


def api(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


def test_sixteen_county_level_grids_with_the_three_zones(db):
    counties = Grid.objects.filter(level=2)
    assert counties.count() == 16
    zones = counties.filter(kind=GridKind.DEVELOPMENT_ZONE).values_list("name", flat=True)
    assert set(zones) == {"临沂经济技术开发区", "临沂临港经济开发区", "蒙山旅游度假区"}
    assert not counties.filter(name="市辖区").exists()
    assert all(
        len(c) == 15
        for c in counties.filter(kind="development_zone").values_list("code", flat=True)
    )


def test_second_seed_changes_nothing(db):
    def snapshot():
        return (
            Grid.objects.count(),
            GridChange.objects.count(),
            GridRole.objects.count(),
            Department.objects.count(),
            DivisionPlan.objects.count(),
            User.objects.count(),
            sorted(User.objects.values_list("username", "password")),
            sorted(Grid.objects.values_list("code", "updated_at")),
        )

    before = snapshot()
    demo_city_seed()
    assert snapshot() == before


def test_children_lie_inside_their_parent_without_overlap(db):
    grids = list(Grid.objects.exclude(boundary=None).only("pk", "parent_id", "boundary"))
    assert len(grids) == Grid.objects.count()
    shapes = {g.pk: shape(g.boundary) for g in grids}
    children: dict[int, list[int]] = {}
    for g in grids:
        if g.parent_id:
            children.setdefault(g.parent_id, []).append(g.pk)
    for parent, kids in children.items():
        union = unary_union([shapes[k] for k in kids])
        assert shapes[parent].buffer(1e-9).covers(union)
        # no overlap: the children's areas add up to the area of their union
        assert sum(shapes[k].area for k in kids) == pytest.approx(union.area, rel=1e-9)


def test_inspector_sees_only_the_own_village(db):
    client = api("inspector")
    assert client.get(f"/api/v1/grids/{DEMO_VILLAGE}/").status_code == 200
    assert client.get(f"/api/v1/grids/{OTHER_VILLAGE}/").status_code == 404
    assert client.get("/api/v1/grids/371302001000/").status_code == 404
    assert [g["code"] for g in client.get("/api/v1/grids/").json()["results"]] == [DEMO_VILLAGE]


def test_county_officer_sees_all_of_lanshan_and_nothing_of_luozhuang(db):
    user = User.objects.get(username="county_officer")
    visible = selectors.grids_visible(user=user)
    lanshan = Grid.objects.get(code=DEMO_COUNTY)
    assert visible.count() == lanshan.get_descendant_count() + 1
    assert not visible.filter(code__startswith="371311").exists()
    client = api("county_officer")
    assert client.get(f"/api/v1/grids/{OTHER_VILLAGE}/").status_code == 200
    assert client.get(f"/api/v1/grids/{LUOZHUANG}/").status_code == 404
    assert client.get("/api/v1/grids/371311001000/").status_code == 404
    listed = client.get("/api/v1/grids/", {"level": 2}).json()
    assert [g["code"] for g in listed["results"]] == [DEMO_COUNTY]


def test_office_and_dispatcher_see_everything(db):
    for username in ("office", "dispatcher", "platform"):
        user = User.objects.get(username=username)
        assert selectors.grids_visible(user=user).count() == Grid.objects.count()
    assert api("office").get("/api/v1/grids/", {"level": 2}).json()["count"] == 16


def test_handler_sees_the_own_department(db):
    codes = [d["code"] for d in api("handler").get("/api/v1/departments/").json()["results"]]
    assert codes == ["3713.environment"]


def test_locate_finds_the_village_holding_a_point_and_404_outside(db):
    village = Grid.objects.get(code=DEMO_VILLAGE)
    centre = shape(village.boundary).centroid
    client = api("office")
    found = client.get("/api/v1/grids/locate/", {"lat": centre.y, "lng": centre.x})
    assert found.status_code == 200
    assert found.json()["code"] == DEMO_VILLAGE
    assert found.json()["level"] == 4
    # a point in the Yellow Sea, well outside Linyi
    assert client.get("/api/v1/grids/locate/", {"lat": 35.0, "lng": 121.5}).status_code == 404
    # the inspector of another village cannot locate into a grid outside the own scope
    other = shape(Grid.objects.get(code=OTHER_VILLAGE).boundary).centroid
    assert (
        api("inspector").get("/api/v1/grids/locate/", {"lat": other.y, "lng": other.x}).status_code
        == 404
    )


def test_every_zone_point_locates_to_a_zone_subgrid(db):
    zone = Grid.objects.get(name="蒙山旅游度假区")
    centre = shape(zone.boundary).centroid
    located = selectors.grid_locate(
        user=User.objects.get(username="office"), lat=centre.y, lng=centre.x
    )
    assert located.parent_id == zone.pk and located.level == 3


def test_out_of_scope_locate_raises_404_in_the_selector_too(db):
    with pytest.raises(Http404):
        selectors.grid_locate(user=User.objects.get(username="inspector"), lat=0, lng=0)


def test_grid_health_of_the_demo_flags_the_missing_people(db):
    office = User.objects.get(username="office")
    health = selectors.grid_health(user=office, root=Grid.objects.get(code="371302001000"))
    by_code = {row.grid.code: row for row in health.rows}
    # the demo township has its leader, principal and direct responsible officer
    assert by_code["371302001000"].missing_roles == []
    # every fourth village has only one officer
    short = [r.grid.code for r in health.too_few_officers]
    assert short and all(by_code[c].officers == 1 for c in short)
    assert DEMO_VILLAGE in short  # the first village (n = 0) is one of them
