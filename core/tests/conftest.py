from grids.tests.conftest import english  # noqa: F401
