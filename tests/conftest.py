"""Project-level tests use the apps' fixtures."""

from cases.tests.conftest import crew
from grids.tests.conftest import english, small_city
