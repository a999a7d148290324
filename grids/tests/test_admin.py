"""The admin: scoped querysets, writes through the services (forms and tree drags), query count."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from core import services as core_services
from core.models import ApiToken
from core.tests.factories import UserFactory
from grids import services
from grids.models import Grid, GridChange, GridRole, Role
from grids.tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

GRID_CHANGELIST = reverse("admin:grids_grid_changelist")


@pytest.fixture
def root(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def county_staff(client, small_city):
    """A staff member (not a superuser) with the grid permissions, principal of 兰山区."""
    user = user_with_role(small_city.lanshan, Role.PRINCIPAL)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    codenames = [
        f"{action}_{model}"
        for action in ("view", "add", "change")
        for model in ("grid", "gridrole", "user", "apitoken")
    ]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user


def move(client, grid, target, position):
    return client.post(
        GRID_CHANGELIST,
        {"cmd": "move_node", "cut_item": grid.pk, "pasted_on": target.pk, "position": position},
    )


def test_grid_changelist_renders_paginated_with_bounded_queries(
    client, small_city, root, django_assert_max_num_queries
):
    for n in range(1, 31):
        services.grid_create(
            parent=small_city.yinqueshan,
            data=services.GridInput(name=f"村{n}", code=f"371302002{n:03d}"),
            actor=None,
        )
    with django_assert_max_num_queries(14):
        response = client.get(GRID_CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "draggable-admin.js" in html and "tree-indent--3" in html
    assert 'style="text-indent' not in html  # the CSP forbids inline styles
    assert response.context["cl"].result_count == 39

    with django_assert_max_num_queries(14):
        assert client.get(GRID_CHANGELIST, {"p": 2}).status_code == 200


def test_changelist_and_change_form_are_scoped(client, small_city, county_staff):
    response = client.get(GRID_CHANGELIST)
    shown = {g.code for g in response.context["cl"].result_list}
    assert shown == {
        "371302000000",
        "371302001000",
        "371302001001",
        "371302001002",
        "371302002000",
    }
    outside = reverse("admin:grids_grid_change", args=[small_city.luozhuang.pk])
    assert client.get(outside).status_code == 302  # the admin's "does not exist" redirect
    inside = reverse("admin:grids_grid_change", args=[small_city.yinqueshan.pk])
    assert client.get(inside).status_code == 200

    roles = client.get(reverse("admin:grids_gridrole_changelist")).context["cl"].result_list
    assert {r.grid.code for r in roles} == {"371302000000"}

    outsider = user_with_role(small_city.luozhuang, Role.LEADER)
    people = client.get(reverse("admin:core_user_changelist")).context["cl"].result_list
    assert county_staff in people and outsider not in people


def test_dragging_a_grid_moves_it_through_the_service(client, small_city, root):
    # when a village is dropped as the last child of another township
    response = move(client, small_city.village_a, small_city.yinqueshan, "last-child")

    # then it hangs there and the move is recorded with its author
    assert response.content.startswith(b"OK")
    small_city.village_a.refresh_from_db()
    assert small_city.village_a.parent == small_city.yinqueshan
    change = GridChange.objects.filter(grid=small_city.village_a).first()
    assert change.action == GridChange.Action.MOVE and change.actor == root


def test_dropping_beside_a_grid_hangs_it_below_that_grids_parent(client, small_city, root):
    village = services.grid_create(
        parent=small_city.yinqueshan,
        data=services.GridInput(name="银雀村", code="371302002001"),
        actor=None,
    )
    response = move(client, small_city.village_b, village, "right")

    assert response.content.startswith(b"OK")
    small_city.village_b.refresh_from_db()
    assert small_city.village_b.parent == small_city.yinqueshan


def test_a_move_the_service_refuses_is_reported_and_changes_nothing(client, small_city, root):
    response = move(client, small_city.village_a, small_city.lanshan, "last-child")

    assert response.content.startswith(b"FAIL")
    small_city.village_a.refresh_from_db()
    assert small_city.village_a.parent == small_city.lanshan_street
    page = client.get(GRID_CHANGELIST)
    messages = [str(m) for m in page.context["messages"]]
    assert any("第 4 级网格不能隶属于第 2 级网格" in m for m in messages)


def test_a_drag_outside_the_scope_finds_nothing(client, small_city, county_staff):
    response = move(client, small_city.village_a, small_city.luozhuang_street, "last-child")
    assert response.content.startswith(b"FAIL")
    small_city.village_a.refresh_from_db()
    assert small_city.village_a.parent == small_city.lanshan_street


def test_adding_a_grid_goes_through_the_service(client, small_city, root):
    response = client.post(
        reverse("admin:grids_grid_add"),
        {
            "code": "",
            "name": "兰山工业园",
            "parent": small_city.lanshan.pk,
            "kind": "industrial_park",
            "boundary": "null",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    park = Grid.objects.get(name="兰山工业园")
    assert park.code == "371302000000001" and park.level == 3
    assert list(GridChange.objects.filter(grid=park).values_list("action", "actor")) == [
        ("create", root.pk)
    ]


def test_a_grid_the_service_refuses_is_a_form_error_and_nothing_is_stored(client, small_city, root):
    response = client.post(
        reverse("admin:grids_grid_add"),
        {"code": "12", "name": "坏编码", "parent": small_city.lanshan.pk, "kind": "other"},
    )
    assert response.status_code == 200
    assert "编码无效" in response.content.decode()
    assert not Grid.objects.filter(name="坏编码").exists()
    assert not GridChange.objects.filter(after__name="坏编码").exists()


def test_changing_the_parent_in_the_form_moves_the_grid(client, small_city, root):
    url = reverse("admin:grids_grid_change", args=[small_city.village_a.pk])
    response = client.post(
        url,
        {
            "name": "前十里堡新社区",
            "parent": small_city.yinqueshan.pk,
            "kind": "administrative",
            "boundary": "null",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    small_city.village_a.refresh_from_db()
    assert small_city.village_a.parent == small_city.yinqueshan
    assert small_city.village_a.name == "前十里堡新社区"
    actions = set(
        GridChange.objects.filter(grid=small_city.village_a).values_list("action", flat=True)
    )
    assert {"move", "update"} <= actions


def test_assigning_a_role_in_the_admin_uses_the_service(client, small_city, county_staff):
    person = UserFactory()
    response = client.post(
        reverse("admin:grids_gridrole_add"),
        {
            "grid": small_city.village_a.pk,
            "user": person.pk,
            "role": "inspector",
            "employment": "",
            "starts_on": "2025-01-01",
        },
    )
    # the service's rule: an inspector is full- or part-time
    assert response.status_code == 200
    assert "网格员须注明专职或兼职" in response.content.decode()

    response = client.post(
        reverse("admin:grids_gridrole_add"),
        {
            "grid": small_city.village_a.pk,
            "user": person.pk,
            "role": "inspector",
            "employment": "part_time",
            "starts_on": "2025-01-01",
        },
    )
    assert response.status_code == 302
    assert GridRole.objects.filter(user=person, grid=small_city.village_a).count() == 1

    # a grid outside the scope is not a valid choice
    response = client.post(
        reverse("admin:grids_gridrole_add"),
        {
            "grid": small_city.village_c.pk,
            "user": person.pk,
            "role": "supervisor",
            "starts_on": "2025-01-01",
        },
    )
    assert response.status_code == 200
    assert not GridRole.objects.filter(grid=small_city.village_c).exists()

    # nor is a person placed outside it
    outsider = user_with_role(small_city.luozhuang, Role.LEADER)
    response = client.post(
        reverse("admin:grids_gridrole_add"),
        {
            "grid": small_city.village_a.pk,
            "user": outsider.pk,
            "role": "supervisor",
            "starts_on": "2025-01-01",
        },
    )
    assert response.status_code == 200
    assert not GridRole.objects.filter(user=outsider, grid=small_city.village_a).exists()


def test_privileges_are_read_only_for_non_superusers(client, small_city, county_staff):
    response = client.get(reverse("admin:core_user_change", args=[county_staff.pk]))
    form = response.context["adminform"].form
    assert "is_superuser" not in form.fields and "user_permissions" not in form.fields


def test_api_tokens_are_read_only_and_revoked_by_the_action(client, small_city, county_staff):
    _raw, token = core_services.api_token_issue(user=county_staff)
    outsider = user_with_role(small_city.luozhuang, Role.LEADER)
    _raw, other = core_services.api_token_issue(user=outsider)

    listed = client.get(reverse("admin:core_apitoken_changelist")).context["cl"].result_list
    assert list(listed) == [token]
    assert client.get(reverse("admin:core_apitoken_add")).status_code == 403

    response = client.post(
        reverse("admin:core_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk, other.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    other.refresh_from_db()
    assert token.revoked_at is not None
    assert other.revoked_at is None  # outside the scope: not touched


def test_other_admin_pages_render(client, small_city, root):
    services.division_plan_record(
        grid=small_city.lanshan, title="方案", adopted_on=date(2025, 3, 1), actor=root
    )
    for name in (
        "grids_gridlevel",
        "grids_sector",
        "grids_department",
        "grids_divisionplan",
        "grids_gridchange",
        "grids_gridrole",
        "cases_problemcategory",
        "core_user",
        "core_apitoken",
    ):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
    for name in ("grids_grid", "grids_gridrole", "grids_department", "grids_divisionplan"):
        assert client.get(reverse(f"admin:{name}_add")).status_code == 200, name
    assert not ApiToken.objects.exists()
