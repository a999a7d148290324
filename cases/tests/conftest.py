import io
from dataclasses import dataclass

import pytest
from PIL import Image

from core.tests.factories import UserFactory
from grids import services as grid_services
from grids.models import Role, Sector
from grids.tests.conftest import english, small_city, user_with_role  # noqa: F401


def jpeg(name="site.jpg") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), "blue").save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = name
    return buffer


@dataclass
class Crew:
    platform: object
    dispatcher: object
    env_handler: object
    housing_handler: object
    principal: object
    supervisor: object
    inspector: object
    env: object
    housing: object


@pytest.fixture
def crew(small_city) -> Crew:
    env = grid_services.department_create(
        code="371302.environment",
        name="兰山区生态环境局",
        sector=Sector.objects.get(code="environment"),
        grid=small_city.lanshan,
    )
    housing = grid_services.department_create(
        code="371302.housing",
        name="兰山区住建局",
        sector=Sector.objects.get(code="housing"),
        grid=small_city.lanshan,
    )
    env_handler = UserFactory(username="env_handler")
    grid_services.department_member_add(department=env, user=env_handler, position="handler")
    housing_handler = UserFactory(username="housing_handler")
    grid_services.department_member_add(
        department=housing, user=housing_handler, position="handler"
    )
    platform = user_with_role(small_city.city, Role.PLATFORM, username="platform1")
    platform.is_machine = True
    platform.save()
    return Crew(
        platform=platform,
        dispatcher=user_with_role(small_city.city, Role.DISPATCHER, username="dispatcher1"),
        env_handler=env_handler,
        housing_handler=housing_handler,
        principal=user_with_role(small_city.lanshan_street, Role.PRINCIPAL, username="principal1"),
        supervisor=user_with_role(
            small_city.lanshan_street, Role.SUPERVISOR, username="supervisor1"
        ),
        inspector=user_with_role(small_city.village_a, Role.INSPECTOR, username="inspector1"),
        env=env,
        housing=housing,
    )
