"""Each evidence collector against the county whose records are in order, one fault at a time:
what it finds, for which county, and the record it points at."""

from datetime import date, datetime, timedelta

import pytest

from assessment import evidence, services
from assessment.models import HalfYearReport, Supervision
from assessment.tests.conftest import RUN_AT, TZ, YEAR, at, late_case
from cases.models import CaseAssignment, CaseEvent
from grids import county as county_sql
from grids.models import Department, DivisionPlan, GridRole
from inspections.models import Patrol, PollutionSource, SupervisionPlan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def found(name, params=None, *, now=RUN_AT):
    ctx = evidence.Context(year=YEAR, counties=county_sql.grids_at_level(level=2), now=now)
    return evidence.collect(ctx, name, params)


def test_nothing_is_found_against_a_county_in_order(county):
    for name in evidence.COLLECTORS:
        params = {"role": "leader"} if name == "role_missing" else None
        assert county.grid.pk not in found(name, params), name


def test_division_plan_rules(county, small_city):
    assert small_city.luozhuang.pk in found("division_plan_missing")
    DivisionPlan.objects.filter(grid=county.grid).update(filed_on=None, published_on=None)
    [filed] = found("division_plan_not_filed")[county.grid.pk].items
    assert filed.model == "grids.divisionplan"
    assert county.grid.pk in found("division_plan_not_published")
    # a plan adopted before the year and no change to the grids in it: not maintained
    DivisionPlan.objects.filter(grid=county.grid).update(adopted_on=date(2024, 3, 1))
    assert county.grid.pk in found("division_not_maintained")


def test_roles_named_on_the_last_day_of_the_year(county):
    GridRole.objects.filter(grid=county.grid, role="deputy_leader").update(
        ends_on=date(2025, 11, 30)
    )
    assert county.grid.pk in found("role_missing", {"role": "deputy_leader"})
    assert county.grid.pk not in found("role_missing", {"role": "leader"})


def test_townships_without_agency_or_staff(county, small_city):
    Department.objects.filter(grid=small_city.yinqueshan).update(active=False)
    GridRole.objects.filter(grid=small_city.yinqueshan, role="inspector").delete()
    [agency] = found("townships_without_agency")[county.grid.pk].items
    [staff] = found("townships_without_staff")[county.grid.pk].items
    assert agency.pk == staff.pk == small_city.yinqueshan.pk
    # 兰山街道's staff is an inspector of one of its villages
    assert found("townships_without_staff")[small_city.luozhuang.pk].count == 1


def test_the_source_list(county, small_city, crew):
    assert small_city.luozhuang.pk in found("sources_missing")
    reported = PollutionSource.objects.create(
        name="新发现工地", kind="construction_site", control_tier="other", grid=small_city.village_b
    )
    PollutionSource.objects.filter(pk=reported.pk).update(
        created_at=datetime(2025, 10, 1, tzinfo=TZ)
    )
    enterprise = PollutionSource.objects.create(
        name="无代码企业",
        kind="enterprise",
        control_tier="county",
        grid=small_city.village_b,
        status="active",
        confirmed_on=date(2025, 2, 1),
    )
    items = found("sources_incomplete", {"confirm_days": 30})[county.grid.pk].items
    assert {e.pk for e in items} == {reported.pk, enterprise.pk}
    # reported only 20 days before the year's end: not yet late
    PollutionSource.objects.filter(pk=reported.pk).update(
        created_at=datetime(2025, 12, 11, tzinfo=TZ)
    )
    items = found("sources_incomplete", {"confirm_days": 30})[county.grid.pk].items
    assert {e.pk for e in items} == {enterprise.pk}


def test_plans_checks_and_ledgers(county):
    SupervisionPlan.objects.filter(department=county.housing).update(inspections_planned=5)
    [short] = found("departments_plan_unfulfilled")[county.grid.pk].items
    assert short.model == "inspections.supervisionplan"
    assert "1 of 5" in short.text
    SupervisionPlan.objects.filter(department=county.env).delete()
    [no_plan] = found("departments_without_plan")[county.grid.pk].items
    assert no_plan.pk == county.env.pk
    Patrol.objects.filter(department=county.env).update(patrolled_at=at(date(2024, 12, 1)))
    [no_ledger] = found("departments_without_ledger")[county.grid.pk].items
    assert no_ledger.pk == county.env.pk


def test_reports_missing_or_late(county):
    HalfYearReport.objects.filter(department=county.env, half=2).update(
        submitted_at=at(date(2026, 1, 20))
    )
    HalfYearReport.objects.filter(department=county.housing, half=1).delete()
    texts = {e.pk: e.text for e in found("department_reports_missing")[county.grid.pk].items}
    assert "H2 report late" in texts[county.env.pk]
    assert "H1 report missing" in texts[county.housing.pk]
    HalfYearReport.objects.filter(grid=county.grid, department__isnull=True, half=1).update(
        submitted_at=at(date(2025, 7, 11))
    )
    [late] = found("half_year_reports_missing")[county.grid.pk].items
    assert late.model == "assessment.halfyearreport"
    # before 10 January the second half's report is not yet due
    HalfYearReport.objects.filter(grid=county.grid, department__isnull=True, half=2).delete()
    early = found("half_year_reports_missing", now=datetime(2026, 1, 5, 9, tzinfo=TZ))
    assert early[county.grid.pk].count == 1


def _returned(case, *, returned_at, dispatched_again_at=None):
    CaseEvent.objects.create(
        case=case,
        seq=2,
        action="return",
        from_status="dispatched",
        to_status="filed",
        at=returned_at,
    )
    if dispatched_again_at:
        CaseEvent.objects.create(
            case=case,
            seq=3,
            action="dispatch",
            from_status="filed",
            to_status="dispatched",
            at=dispatched_again_at,
        )


def test_cases_not_transferred(county, small_city, crew):
    def case():
        return late_case(
            grid=small_city.village_a,
            department=None,
            creator=crew.inspector,
            due=at(date(2025, 6, 20)),
            fed_back=None,
            status="filed",
            return_count=1,  # as the workflow's return leaves it
        )

    # Monday 2025-06-16 10:00; the limit is two working hours
    monday = datetime(2025, 6, 16, 10, tzinfo=TZ)
    on_time, late, never, friday = case(), case(), case(), case()
    _returned(on_time, returned_at=monday, dispatched_again_at=monday + timedelta(hours=1))
    _returned(late, returned_at=monday, dispatched_again_at=monday + timedelta(days=2))
    _returned(never, returned_at=monday)
    # returned on Friday 17:00, dispatched again on Monday 09:00: within two working hours
    _returned(
        friday,
        returned_at=datetime(2025, 6, 20, 17, tzinfo=TZ),
        dispatched_again_at=datetime(2025, 6, 23, 9, tzinfo=TZ),
    )
    items = found("cases_not_transferred")[county.grid.pk].items
    assert {e.pk for e in items} == {late.pk, never.pk}


def test_joint_cases_not_jointly_enforced(county, small_city, crew):
    joint = late_case(
        grid=small_city.village_a,
        department=county.env,
        creator=crew.inspector,
        due=at(date(2025, 8, 1)),
        fed_back=at(date(2025, 7, 30)),
        handling_met=True,
    )
    assist = CaseAssignment.objects.create(case=joint, department=county.housing, role="assist")
    [item] = found("joint_cases_not_joint")[county.grid.pk].items
    assert item.pk == joint.pk
    assist.part = "配合执法"
    assist.save()
    assert county.grid.pk not in found("joint_cases_not_joint")


def test_cases_still_open_past_their_deadline_count_as_late(county, small_city, crew):
    open_case = late_case(
        grid=small_city.village_a,
        department=county.env,
        creator=crew.inspector,
        due=at(date(2025, 12, 20)),
        fed_back=None,
        handling_met=None,
        status="handling",
    )
    suspended = late_case(
        grid=small_city.village_a,
        department=county.env,
        creator=crew.inspector,
        due=at(date(2025, 12, 20)),
        fed_back=None,
        handling_met=None,
        status="suspended",
    )
    items = found("cases_handled_late")[county.grid.pk].items
    assert [e.pk for e in items] == [open_case.pk]
    assert suspended.pk not in [e.pk for e in items]


def test_meetings_per_half_year(county):
    assert county.grid.pk not in found("joint_meetings_missing", {"per_half_year": 1})
    # two a half-year wanted by another city's rules
    assert found("joint_meetings_missing", {"per_half_year": 2})[county.grid.pk].count == 2
    # during the year only the halves that have ended count
    midyear = found("joint_meetings_missing", {"per_half_year": 2}, now=at(date(2025, 8, 1)))
    assert midyear[county.grid.pk].count == 1


def test_supervision_and_disclosure(county, small_city):
    Supervision.objects.filter(kind="comprehensive").update(published_at=None)
    [unpublished] = found("supervisions_not_published")[county.grid.pk].items
    assert unpublished.model == "assessment.supervision"
    Supervision.objects.filter(department=county.housing).delete()
    [dept] = found("departments_without_supervision")[county.grid.pk].items
    assert dept.pk == county.housing.pk
    Supervision.objects.filter(kind="comprehensive").delete()
    assert county.grid.pk in found("comprehensive_supervision_missing")


def test_penalties_not_published_count_departments(county):
    for n in (1, 2):
        services.penalty_decision_record(
            department=county.env,
            grid=county.grid,
            number=f"罚-{n}",
            party="某公司",
            violation="超标排放",
            penalty="罚款",
            decided_on=date(2025, 5, n),
            actor=county.principal,
        )
    result = found("penalties_not_published")[county.grid.pk]
    assert result.count == 1  # one department
    assert len(result.items) == 2  # both decisions as evidence


def test_the_working_clock_agrees_with_the_calendar():
    import random
    from zoneinfo import ZoneInfo

    from cases.calendar import WorkingCalendar

    calendar = WorkingCalendar(tz=ZoneInfo("Asia/Shanghai"))
    clock = evidence.WorkingClock(calendar, first=date(2024, 12, 31), last=date(2026, 2, 14))
    rng = random.Random(5)
    start = datetime(2025, 1, 1, tzinfo=TZ)
    for _ in range(2000):
        at = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        amount = timedelta(minutes=rng.choice([1, 30, 120, 210, 240, 450, 3000]))
        assert clock.due(at, amount) == calendar.add_working_time(at, amount), (at, amount)
    # outside the table the caller falls back to the calendar
    assert clock.due(datetime(2024, 6, 1, tzinfo=TZ), timedelta(hours=2)) is None
