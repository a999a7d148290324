"""Fixtures for the assessment tests: the small city (兰山区 and 罗庄区) with a county whose
records satisfy every rule the system counts, so that each test adds exactly the faults it
scores.

兰山区 371302000000
  兰山街道 371302001000 (township)  — villages 前十里堡 (a), 后十里堡 (b)
  银雀山街道 371302002000 (township, a base grid itself)
罗庄区 371311000000 — 罗庄街道 — 沈庄村
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assessment import services
from cases.models import Case, ProblemCategory
from cases.tests.conftest import Crew, crew  # noqa: F401
from core.tests.factories import UserFactory
from grids import services as grid_services
from grids.models import Department, Grid, Role, Sector
from grids.tests.conftest import demo_city, english, small_city, user_with_role  # noqa: F401
from inspections import plans as inspection_plans
from inspections import services as inspection_services
from inspections.models import Patrol, PollutionSource

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
# The run happens in Q1 of the next year, after the 10 January reports.
RUN_AT = datetime(2026, 2, 2, 9, 0, tzinfo=TZ)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def pdf(name: str = "proof.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 proof", content_type="application/pdf")


@dataclass
class County:
    """A county whose records pass every rule counted from the system."""

    grid: Grid
    env: Department
    housing: Department
    principal: object
    officer: object
    officer2: object
    source: PollutionSource


@pytest.fixture
def office(small_city):
    return user_with_role(small_city.city, Role.OFFICE, username="city_office")


def _env_sector():
    return Sector.objects.get(code="environment")


def county_in_order(small_city, crew) -> County:
    """兰山区 with everything the collectors look for in 2025."""
    city = small_city
    lanshan = city.lanshan
    env, housing = crew.env, crew.housing
    # 1.1: a division plan adopted, filed and published in the year.
    grid_services.division_plan_record(
        grid=lanshan,
        title="兰山区环境监管网格划分方案",
        adopted_on=date(2025, 3, 1),
        filed_on=date(2025, 3, 10),
        filed_with="临沂市网格办",
        published_on=date(2025, 3, 12),
    )
    # 1.2: the four responsible people.
    principal = user_with_role(lanshan, Role.PRINCIPAL, username="lanshan_principal")
    user_with_role(lanshan, Role.LEADER, username="lanshan_leader")
    user_with_role(lanshan, Role.DEPUTY_LEADER, username="lanshan_deputy")
    officer = user_with_role(
        lanshan, Role.DIRECT_RESPONSIBLE, username="lanshan_officer", department=env
    )
    officer2 = user_with_role(lanshan, Role.OFFICER, username="lanshan_officer2", department=env)
    # 2.2: a stationed officer in every base grid …
    for grid in (city.village_a, city.village_b, city.yinqueshan):
        user_with_role(grid, Role.OFFICER, department=env)
    # 2.4: … an agency and staff in every township.
    for township in (city.lanshan_street, city.yinqueshan):
        grid_services.department_create(
            code=f"{township.code}.environment",
            name=f"{township.name}环保所",
            sector=_env_sector(),
            grid=township,
        )
    user_with_role(city.yinqueshan, Role.INSPECTOR)  # 兰山街道 has crew.inspector in village a
    # 3.1: a listed source.
    source = inspection_services.source_create(
        grid=city.village_a,
        data=inspection_services.SourceInput(
            name="兰山饭店", kind="catering", control_tier="other", lat=34.5, lng=117.2
        ),
        actor=officer,
    )
    PollutionSource.objects.filter(pk=source.pk).update(confirmed_on=date(2025, 1, 5))
    # 3.2: each department has a plan, inspected to it, and kept a ledger; 3.7: reported.
    for dept in (env, housing):
        inspection_plans.supervision_plan_create(
            department=dept,
            grid=lanshan,
            year=YEAR,
            title=f"{dept.name}2025年度监管计划",
            inspections_planned=1,
            actor=officer,
        )
        inspection_services.patrol_record(
            source=source,
            data=inspection_services.PatrolInput(
                kind=Patrol.Kind.INSPECTION,
                patrolled_at=at(date(2025, 5, 6)),
                outcome=Patrol.Outcome.COMPLIANT,
                officers=[officer, officer2],
                lat=34.5,
                lng=117.2,
                department=dept,
            ),
            actor=officer,
        )
        for half, when in ((1, at(date(2025, 7, 3))), (2, at(date(2026, 1, 6)))):
            services.half_year_report_submit(
                grid=lanshan,
                department=dept,
                year=YEAR,
                half=half,
                summary="检查台账、督查情况和工作总结",
                actor=principal,
                now=when,
            )
        # 3.6: each department supervised its own matters in a township.
        services.supervision_record(
            supervisor_grid=lanshan,
            target_grid=city.lanshan_street,
            department=dept,
            held_on=date(2025, 9, 1),
            topic="部门督查",
            findings="台账不全",
            actor=principal,
            now=at(date(2025, 9, 2)),
        )
    # 3.3: the county's own half-yearly reports, on time.
    for half, when in ((1, at(date(2025, 7, 8))), (2, at(date(2026, 1, 9)))):
        services.half_year_report_submit(
            grid=lanshan, year=YEAR, half=half, summary="半年工作总结", actor=principal, now=when
        )
    # 3.5: the two joint meetings of the year.
    for held in (date(2025, 4, 20), date(2025, 10, 20)):
        joint_meeting(lanshan, held, principal)
    # 3.6 / 3.7: a comprehensive supervision of a township, published.
    supervision = services.supervision_record(
        supervisor_grid=lanshan,
        target_grid=city.yinqueshan,
        held_on=date(2025, 11, 3),
        topic="综合督查",
        findings="巡查频次不足",
        rectification_due=date(2025, 12, 31),
        actor=principal,
        now=at(date(2025, 11, 4)),
    )
    services.supervision_publish(supervision=supervision, actor=principal)
    return County(lanshan, env, housing, principal, officer, officer2, source)


def joint_meeting(grid, held_on, actor):
    return services.joint_meeting_record(
        grid=grid,
        held_on=held_on,
        title=f"{grid.name}联席会议",
        minutes="研究部署网格化监管工作",
        attendees=["生态环境局", "住建局"],
        actor=actor,
        now=at(held_on + timedelta(days=1)),
    )


@pytest.fixture
def county(small_city, crew) -> County:
    return county_in_order(small_city, crew)


_numbers = itertools.count(1)


def late_case(
    *,
    grid: Grid,
    department: Department,
    creator,
    due: datetime,
    fed_back: datetime | None,
    handling_met: bool | None = False,
    status: str = Case.Status.FED_BACK,
    **extra,
) -> Case:
    """A case row as the workflow leaves it (the workflow itself is the cases app's to test)."""
    n = next(_numbers)
    values = {
        "number": f"TEST-{n:06d}",
        "channel": "inspector",
        "category": ProblemCategory.objects.order_by("pk").first(),
        "description": "扬尘",
        "created_by": creator,
        "grid": grid,
        "department": department,
        "status": status,
        "reported_at": due - timedelta(days=5),
        "dispatched_at": due - timedelta(days=4),
        "handling_deadline": due,
        "fed_back_at": fed_back,
        "handling_met": handling_met,
    }
    values.update(extra)
    return Case.objects.create(**values)


@pytest.fixture
def someone(db):
    return UserFactory(username="someone")
