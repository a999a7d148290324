from grids.tests.conftest import english, small_city  # noqa: F401
