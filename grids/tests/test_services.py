from datetime import date

import pytest

from core.errors import DomainError
from core.tests.factories import UserFactory
from grids import services
from grids.geometry import rectangle
from grids.models import DivisionPlan, Grid, GridChange, GridKind, GridLevel

pytestmark = pytest.mark.usefixtures("english")


def test_child_takes_the_next_level_and_history_is_written(small_city):
    # given the small city
    # when a village is added below a township
    user = UserFactory()
    grid = services.grid_create(
        parent=small_city.yinqueshan,
        data=services.GridInput(name="新村", code="371302002001"),
        actor=user,
    )
    # then it is level 4 and its creation is in the history with the author
    assert grid.level == 4
    change = GridChange.objects.get(grid=grid)
    assert change.action == "create" and change.actor == user
    assert change.after["parent"] == "371302002000"


def test_duplicate_code_is_refused_and_nothing_stored(small_city):
    before = Grid.objects.count()
    with pytest.raises(DomainError, match="already exists"):
        services.grid_create(
            parent=small_city.lanshan_street,
            data=services.GridInput(name="重复", code="371302001001"),
            actor=None,
        )
    assert Grid.objects.count() == before


@pytest.mark.parametrize("code", ["37130200200", "3713020020011", "37130200200a", "371311001005"])
def test_malformed_or_foreign_code_is_refused(small_city, code):
    with pytest.raises(DomainError):
        services.grid_create(
            parent=small_city.yinqueshan, data=services.GridInput(name="x", code=code), actor=None
        )


def test_child_at_the_wrong_level_is_refused(small_city):
    with pytest.raises(DomainError, match="must be of level 3"):
        services.grid_create(
            parent=small_city.lanshan,
            data=services.GridInput(name="x", code="371302009000", level=4),
            actor=None,
        )


def test_a_grid_below_the_deepest_configured_level_is_refused(small_city):
    with pytest.raises(DomainError, match="not one of the configured levels"):
        services.grid_create(
            parent=small_city.village_a, data=services.GridInput(name="x"), actor=None
        )


def test_a_fifth_level_once_configured_takes_parent_code_plus_sequence(small_city):
    GridLevel.objects.create(number=5, name="单元网格")
    first = services.grid_create(
        parent=small_city.village_a, data=services.GridInput(name="一组"), actor=None
    )
    second = services.grid_create(
        parent=small_city.village_a, data=services.GridInput(name="二组"), actor=None
    )
    assert (first.code, second.code) == ("371302001001001", "371302001001002")


def test_non_administrative_grid_gets_parent_code_plus_sequence(small_city):
    zone = services.grid_create(
        parent=small_city.city,
        data=services.GridInput(name="经济技术开发区", kind=GridKind.DEVELOPMENT_ZONE),
        actor=None,
    )
    assert zone.code == "371300000000001"
    assert zone.level == 2
    park = services.grid_create(parent=zone, data=services.GridInput(name="园区"), actor=None)
    assert park.code == "371300000000002"


@pytest.mark.parametrize(
    "boundary, message",
    [
        ({"type": "Point", "coordinates": [117, 34]}, "Polygon or MultiPolygon"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "not a valid polygon",
        ),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1]]]}, "not valid GeoJSON"),
        ({"type": "Polygon", "coordinates": "nonsense"}, "not valid GeoJSON"),
        (rectangle(200, 0, 201, 1), "longitude, latitude"),
        ("not even a dict", "Polygon or MultiPolygon"),
    ],
)
def test_bad_boundary_is_refused_and_nothing_stored(small_city, boundary, message):
    before = (Grid.objects.count(), GridChange.objects.count())
    with pytest.raises(DomainError, match=message):
        services.grid_create(
            parent=small_city.yinqueshan,
            data=services.GridInput(name="x", code="371302002001", boundary=boundary),
            actor=None,
        )
    assert (Grid.objects.count(), GridChange.objects.count()) == before


def test_multipolygon_boundary_is_stored_with_its_bbox(small_city):
    boundary = {
        "type": "MultiPolygon",
        "coordinates": [
            rectangle(117, 35, 117.2, 35.2)["coordinates"],
            rectangle(117.5, 35.5, 117.6, 35.9)["coordinates"],
        ],
    }
    grid = services.grid_update(grid=small_city.yinqueshan, actor=None, boundary=boundary)
    grid.refresh_from_db()
    assert grid.boundary["type"] == "MultiPolygon"
    assert (grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat) == (117, 35, 117.6, 35.9)


def test_move_records_before_and_after(small_city):
    user = UserFactory()
    services.grid_move(grid=small_city.village_c, new_parent=small_city.lanshan_street, actor=user)
    village = Grid.objects.get(pk=small_city.village_c.pk)
    assert village.parent == small_city.lanshan_street
    assert village.is_descendant_of(Grid.objects.get(pk=small_city.lanshan.pk))
    change = GridChange.objects.get(grid=village, action="move")
    assert change.before["parent"] == "371311001000"
    assert change.after["parent"] == "371302001000"
    assert change.actor == user


def test_move_into_own_subtree_is_a_cycle(small_city):
    with pytest.raises(DomainError, match="cycle"):
        services.grid_move(grid=small_city.lanshan, new_parent=small_city.village_a, actor=None)
    with pytest.raises(DomainError, match="cycle"):
        services.grid_move(grid=small_city.lanshan, new_parent=small_city.lanshan, actor=None)


def test_move_to_a_parent_of_the_wrong_level_is_refused(small_city):
    with pytest.raises(DomainError, match="cannot hang below"):
        services.grid_move(grid=small_city.village_a, new_parent=small_city.lanshan, actor=None)


def test_update_keeps_the_history_and_refuses_code_changes(small_city):
    services.grid_update(grid=small_city.village_a, actor=None, name="前十里堡社区居委会")
    change = GridChange.objects.get(grid=small_city.village_a, action="update")
    assert change.before["name"] == "前十里堡社区"
    assert change.after["name"] == "前十里堡社区居委会"
    with pytest.raises(DomainError, match="cannot be changed"):
        services.grid_update(grid=small_city.village_a, actor=None, code="371302001009")


def test_deactivate_keeps_the_grid(small_city):
    services.grid_deactivate(grid=small_city.village_b, on=date(2026, 1, 1), actor=None)
    grid = Grid.objects.get(pk=small_city.village_b.pk)
    assert grid.active_until == date(2026, 1, 1)
    assert not grid.is_active


def test_division_plan_versions_and_dates(small_city):
    first = services.division_plan_record(
        grid=small_city.lanshan,
        title="方案",
        adopted_on=date(2025, 1, 1),
        filed_on=date(2025, 1, 5),
    )
    second = services.division_plan_record(
        grid=small_city.lanshan, title="方案（修订）", adopted_on=date(2026, 1, 1)
    )
    assert (first.version, second.version) == (1, 2)
    with pytest.raises(DomainError, match="before it is adopted"):
        services.division_plan_record(
            grid=small_city.lanshan,
            title="x",
            adopted_on=date(2026, 2, 1),
            filed_on=date(2026, 1, 1),
        )
    with pytest.raises(DomainError, match="future"):
        services.division_plan_record(
            grid=small_city.lanshan, title="x", adopted_on=date(2999, 1, 1)
        )
    assert DivisionPlan.objects.count() == 2


def test_role_dates_and_inspector_employment(small_city):
    user = UserFactory()
    with pytest.raises(DomainError, match="full-time or part-time"):
        services.grid_role_assign(grid=small_city.village_a, user=user, role="inspector")
    with pytest.raises(DomainError, match="before it starts"):
        services.grid_role_assign(
            grid=small_city.village_a,
            user=user,
            role="supervisor",
            starts_on=date(2026, 2, 1),
            ends_on=date(2026, 1, 1),
        )
    with pytest.raises(DomainError, match="Unknown role"):
        services.grid_role_assign(grid=small_city.village_a, user=user, role="king")


def test_division_plan_filing_and_publishing_after_adoption(small_city):
    # given a plan adopted on 1 March
    plan = services.division_plan_record(
        grid=small_city.lanshan, title="方案", adopted_on=date(2025, 3, 1)
    )
    # when it is filed and published later
    plan = services.division_plan_update(
        plan=plan,
        title="方案",
        filed_on=date(2025, 3, 10),
        filed_with="临沂市人民政府",
        published_on=date(2025, 3, 12),
        published_url="https://example.gov.cn/plan",
        notes="备案",
    )
    # then the dates are stored on the same version
    stored = DivisionPlan.objects.get(pk=plan.pk)
    assert (stored.version, stored.filed_on, stored.published_on) == (
        1,
        date(2025, 3, 10),
        date(2025, 3, 12),
    )
    # and a filing before adoption is refused and changes nothing
    with pytest.raises(DomainError, match="before it is adopted"):
        services.division_plan_update(
            plan=plan,
            title="改",
            filed_on=date(2025, 2, 1),
            filed_with="",
            published_on=None,
            published_url="",
        )
    assert DivisionPlan.objects.get(pk=plan.pk).title == "方案"


def test_department_rename_close_and_membership_end(small_city):
    from grids.models import DepartmentMembership, Sector

    department = services.department_create(
        code="LS-EEB",
        name="兰山区生态环境分局",
        sector=Sector.objects.first(),
        grid=small_city.lanshan,
    )
    with pytest.raises(DomainError, match="needs a name"):
        services.department_update(department=department, name="  ", active=False)
    services.department_update(department=department, name="兰山分局", active=False)
    department.refresh_from_db()
    assert (department.name, department.active) == ("兰山分局", False)

    member = services.department_member_add(
        department=department,
        user=UserFactory(),
        position=DepartmentMembership.Position.values[0],
        starts_on=date(2025, 1, 1),
    )
    with pytest.raises(DomainError, match="before it starts"):
        services.department_member_end(membership=member, on=date(2024, 12, 31))
    services.department_member_end(membership=member, on=date(2025, 6, 30))
    assert DepartmentMembership.objects.get(pk=member.pk).ends_on == date(2025, 6, 30)


def test_a_point_is_located_by_the_boundary_as_it_is_now_even_with_the_same_bounding_box(
    small_city,
):
    from grids import selectors

    office = UserFactory(is_superuser=True)
    # given 前十里堡社区 (a rectangle) holds the point
    assert selectors.grid_locate(user=office, lat=34.8, lng=117.1) == small_city.village_a
    # when its boundary becomes the triangle below the diagonal of the same rectangle
    triangle = {
        "type": "Polygon",
        "coordinates": [[[117, 34], [117.5, 34], [117.5, 35], [117, 34]]],
    }
    services.grid_update(grid=small_city.village_a, actor=None, boundary=triangle)
    # then the point, above the diagonal, lies in the street around it
    office = type(office).objects.get(pk=office.pk)
    assert selectors.grid_locate(user=office, lat=34.8, lng=117.1) == small_city.lanshan_street
    assert selectors.grid_locate(user=office, lat=34.1, lng=117.4) == small_city.village_a


def test_outlines_read_ahead_locate_a_point_without_reading_an_outline(small_city):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grids import selectors

    office = UserFactory(is_superuser=True)
    selectors._grid_shape.cache_clear()
    # when: a worker starts and reads the outlines ahead
    kept = selectors.outlines_warm()
    with CaptureQueriesContext(connection) as queries:
        located = selectors.grid_locate(user=office, lat=34.8, lng=117.1)
    # then: every grid with an outline is kept, and locating asks only for the candidates
    assert kept == Grid.objects.exclude(boundary=None).count()
    assert located == small_city.village_a
    assert not any("boundary FROM" in q["sql"] or "grid_boundary" in q["sql"] for q in queries)
    # and a boundary changed since is read again (its version changed)
    services.grid_update(
        grid=small_city.village_a,
        actor=None,
        boundary={
            "type": "Polygon",
            "coordinates": [[[117, 34], [117.5, 34], [117.5, 35], [117, 34]]],
        },
    )
    office = type(office).objects.get(pk=office.pk)
    assert selectors.grid_locate(user=office, lat=34.8, lng=117.1) == small_city.lanshan_street
