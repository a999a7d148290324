from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from grids.models import Role
from grids.tests.conftest import demo_city, english, small_city, user_with_role  # noqa: F401
from inspections import services
from inspections.models import PollutionSource

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def officer(small_city):
    return user_with_role(small_city.lanshan_street, Role.DIRECT_RESPONSIBLE, username="officer1")


@pytest.fixture
def officer2(small_city):
    return user_with_role(small_city.lanshan_street, Role.OFFICER, username="officer2")


@pytest.fixture
def registrar(small_city):
    """The city office, which registers the test sources (active at once)."""
    return user_with_role(small_city.city, Role.OFFICE, username="registrar")


@pytest.fixture
def make_source(small_city, registrar):
    def make(*, tier="other", confirmed_on=date(2026, 1, 1), grid=None, **kw):
        source = services.source_create(
            grid=grid or small_city.village_a,
            data=services.SourceInput(
                name=kw.pop("name", f"源-{tier}"),
                kind=kw.pop("kind", "enterprise"),
                control_tier=tier,
                lat=34.5,
                lng=117.2,
                **kw,
            ),
            actor=registrar,
        )
        PollutionSource.objects.filter(pk=source.pk).update(confirmed_on=confirmed_on)
        services.source_schedule_refresh(source_ids=[source.pk])
        source.refresh_from_db()
        return source

    return make
