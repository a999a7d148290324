"""``grids/county.py``: the county of any row, set-based, from the nested-set ranges."""

import pytest

from grids import county
from grids.models import Department, Grid

pytestmark = pytest.mark.django_db


def test_every_grid_maps_to_its_county(small_city):
    c = small_city
    assert county.ancestor_map(level=2) == {
        c.lanshan.pk: c.lanshan.pk,
        c.lanshan_street.pk: c.lanshan.pk,
        c.village_a.pk: c.lanshan.pk,
        c.village_b.pk: c.lanshan.pk,
        c.yinqueshan.pk: c.lanshan.pk,
        c.luozhuang.pk: c.luozhuang.pk,
        c.luozhuang_street.pk: c.luozhuang.pk,
        c.village_c.pk: c.luozhuang.pk,
    }
    assert county.ancestor_map(level=3, grid_ids=[c.village_a.pk, c.yinqueshan.pk]) == {
        c.village_a.pk: c.lanshan_street.pk,
        c.yinqueshan.pk: c.yinqueshan.pk,
    }


def test_rows_reached_through_a_prefix(small_city, crew):
    counties = county.grids_at_level(level=2)
    rows = dict(
        county.annotate_ancestor(
            Department.objects.all(), ancestors=counties, prefix="grid__"
        ).values_list("code", "county_id")
    )
    assert rows == {
        "371302.environment": small_city.lanshan.pk,
        "371302.housing": small_city.lanshan.pk,
    }
    leaves = set(
        Grid.objects.filter(
            county.leaf_q(), county.within_q(ancestors=counties, prefix="")
        ).values_list("name", flat=True)
    )
    assert leaves == {"前十里堡社区", "后十里堡社区", "银雀山街道", "沈庄村"}
    assert not Grid.objects.filter(county.within_q(ancestors=[], prefix="")).exists()


def test_one_query_whatever_the_number_of_branches(small_city, django_assert_num_queries):
    townships = county.grids_at_level(level=3)
    with django_assert_num_queries(1):
        list(
            county.annotate_ancestor(
                Grid.objects.all(), ancestors=townships, prefix="", name="township"
            ).values_list("pk", "township")
        )
