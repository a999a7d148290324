"""A small city for tests: two counties, townships and villages with rectangle boundaries.

临沂市 371300000000 (117..119, 34..36)
  兰山区 371302000000 (117..118, 34..36)
    兰山街道 371302001000 (117..118, 34..35)
      前十里堡 371302001001 (117..117.5, 34..35)
      后十里堡 371302001002 (117.5..118, 34..35)
    银雀山街道 371302002000 (117..118, 35..36)
  罗庄区 371311000000 (118..119, 34..36)
    罗庄街道 371311001000 (118..119, 34..36)
      沈庄村 371311001001 (118..119, 34..36)
"""

from dataclasses import dataclass
from datetime import date

import pytest
from django.db import transaction

from core.tests.factories import UserFactory
from grids import services
from grids.demo import demo_city_seed
from grids.geometry import rectangle
from grids.models import Grid, Role


@dataclass
class SmallCity:
    city: Grid
    lanshan: Grid
    lanshan_street: Grid
    village_a: Grid
    village_b: Grid
    yinqueshan: Grid
    luozhuang: Grid
    luozhuang_street: Grid
    village_c: Grid


def _grid(parent, code, name, rect, **kw):
    return services.grid_create(
        parent=parent,
        data=services.GridInput(name=name, code=code, boundary=rectangle(*rect), **kw),
        actor=None,
    )


def small_city_build() -> SmallCity:
    city = _grid(None, "371300000000", "临沂市", (117, 34, 119, 36))
    lanshan = _grid(city, "371302000000", "兰山区", (117, 34, 118, 36))
    street = _grid(lanshan, "371302001000", "兰山街道", (117, 34, 118, 35))
    a = _grid(street, "371302001001", "前十里堡社区", (117, 34, 117.5, 35))
    b = _grid(street, "371302001002", "后十里堡社区", (117.5, 34, 118, 35))
    yq = _grid(lanshan, "371302002000", "银雀山街道", (117, 35, 118, 36))
    lz = _grid(city, "371311000000", "罗庄区", (118, 34, 119, 36))
    lzs = _grid(lz, "371311001000", "罗庄街道", (118, 34, 119, 36))
    c = _grid(lzs, "371311001001", "沈庄村", (118, 34, 119, 36))
    return SmallCity(city, lanshan, street, a, b, yq, lz, lzs, c)


def reference_data_ensure() -> None:
    """The defaults the data migrations install. Transactional tests (live server, threads)
    flush the database when they end, so later ones put them back (idempotent)."""
    from cases import defaults as case_defaults
    from cases.models import CaseSettings, DutyRule, ProblemCategory
    from grids import defaults as grid_defaults
    from grids.models import GridLevel, Sector
    from inspections import defaults as inspection_defaults
    from inspections.models import Checklist, PatrolPolicy

    grid_defaults.levels_install(GridLevel)
    grid_defaults.sectors_install(Sector)
    case_defaults.categories_install(ProblemCategory, DutyRule, Sector)
    case_defaults.settings_install(CaseSettings)
    inspection_defaults.defaults_install(PatrolPolicy, Checklist)


@pytest.fixture
def small_city(db) -> SmallCity:
    reference_data_ensure()
    return small_city_build()


def user_with_role(grid: Grid, role: str, username: str | None = None, **extra):
    user = UserFactory(**({"username": username} if username else {}))
    if role == Role.INSPECTOR:
        extra.setdefault("employment", "full_time")
    services.grid_role_assign(grid=grid, user=user, role=role, starts_on=date(2024, 1, 1), **extra)
    return user


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker):
    """The Linyi demo city, seeded once for a module and rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        reference_data_ensure()
        demo_city_seed()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def english(settings):
    """Messages in English for tests that read them (the product defaults to Chinese)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
