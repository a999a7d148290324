"""Browser tests. The fixtures (``browser``, ``browser_page``) live in
``tests/browser/fixtures.py``, loaded for the whole suite by the root conftest."""

import pytest


@pytest.fixture
def small_city(transactional_db):
    """The grids tests' small city. A transactional test empties every table when it ends,
    the levels the migrations installed included, so they are installed again first."""
    from grids import defaults
    from grids.models import GridLevel, Sector
    from grids.tests.conftest import small_city_build

    defaults.levels_install(GridLevel)
    defaults.sectors_install(Sector)
    return small_city_build()
