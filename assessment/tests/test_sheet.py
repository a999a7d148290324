"""A county's whole score sheet computed by hand from a known set of records, compared item by
item with the system's; the locked year; constant queries per rule."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import services
from assessment.models import JointMeeting, ScoreSheet
from assessment.tests.conftest import RUN_AT, YEAR, at, joint_meeting, late_case, pdf
from core.errors import Conflict, DomainError
from grids.models import GridRole

pytestmark = pytest.mark.django_db


def items_of(sheet: ScoreSheet) -> dict[str, D]:
    return {i.code: i.score for i in sheet.items.all()}


def lines_of(sheet: ScoreSheet) -> dict[str, tuple[int, D]]:
    return {
        line.code: (line.instances, line.points)
        for item in sheet.items.all()
        for line in item.lines.all()
    }


def test_a_county_in_order_scores_100(county, office):
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    sheet = ScoreSheet.objects.get(grid=county.grid, year=YEAR)
    assert lines_of(sheet) == {}
    assert (sheet.base_score, sheet.bonus, sheet.deductions, sheet.total) == (100, 0, 0, 100)
    assert sheet.grade == "excellent"


def test_the_sheet_of_a_county_by_hand(small_city, county, office, crew, english):
    # given: three cases of its own departments closed late in 2025 …
    late = [
        late_case(
            grid=small_city.village_a,
            department=county.env,
            creator=crew.inspector,
            due=at(date(2025, m, 10)),
            fed_back=at(date(2025, m, 14)),
        )
        for m in (3, 6, 9)
    ]
    # … and, not counting: one closed in time, one late but due in 2024, one of another county
    late_case(
        grid=small_city.village_a,
        department=county.env,
        creator=crew.inspector,
        due=at(date(2025, 4, 10)),
        fed_back=at(date(2025, 4, 9)),
        handling_met=True,
    )
    late_case(
        grid=small_city.village_a,
        department=county.env,
        creator=crew.inspector,
        due=at(date(2024, 12, 10)),
        fed_back=at(date(2025, 1, 14)),
    )
    # one joint meeting missing (the second half's)
    JointMeeting.objects.filter(grid=county.grid, held_on__month=10).delete()
    # one stationed officer missing (银雀山街道 loses its officer)
    GridRole.objects.filter(grid=small_city.yinqueshan, role="officer").update(
        ends_on=date(2025, 6, 30)
    )
    # a +2 bonus ("three always" accountability) and one −5 criticism, entered by the office
    bonus = services.fact_enter(
        year=YEAR,
        grid=county.grid,
        rule_code="B1.1",
        note="三个一律追责一起",
        document=pdf(),
        actor=office,
    )
    criticism = services.fact_enter(
        year=YEAR,
        grid=county.grid,
        rule_code="D1.1",
        note="市级通报批评",
        document=pdf(),
        actor=office,
        occurred_on=date(2025, 8, 1),
    )

    # when
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    sheet = ScoreSheet.objects.get(grid=county.grid, year=YEAR)

    # then, by hand:
    #   2.2  5 − 0.1 (one base grid without an officer)       = 4.9
    #   3.4 10 − 3 × 1 (three cases closed late)               = 7
    #   3.5 10 − 2.5 (the second half's meeting not held)      = 7.5
    #   every other base item at its maximum
    #   base 100 − 0.1 − 3 − 2.5 = 94.4; bonus B1 +2; deduction D1 −5; total 91.4 → excellent
    expected_items = {
        "1.1": D(5),
        "1.2": D(5),
        "2.1": D(5),
        "2.2": D("4.9"),
        "2.3": D(5),
        "2.4": D(10),
        "3.1": D(5),
        "3.2": D(10),
        "3.3": D(10),
        "3.4": D(7),
        "3.5": D("7.5"),
        "3.6": D(10),
        "3.7": D(10),
        "B1": D(2),
        "B2": D(0),
        "B3": D(0),
        "D1": D(-5),
        "D2": D(0),
        "D3": D(0),
    }
    assert items_of(sheet) == expected_items
    assert lines_of(sheet) == {
        "2.2.1": (1, D("-0.1")),
        "3.4.1": (3, D(-3)),
        "3.5.2": (1, D("-2.5")),
        "B1.1": (1, D(2)),
        "D1.1": (1, D(-5)),
    }
    assert sheet.base_score == D("94.4")
    assert sheet.bonus == 2
    assert sheet.deductions == -5
    assert sheet.total == D("91.4")
    assert sheet.grade == "excellent"

    # and every deduction links to its cause
    evidence = {line.code: line.evidence for item in sheet.items.all() for line in item.lines.all()}
    assert [(e["model"], e["pk"]) for e in evidence["3.4.1"]] == [
        ("cases.case", c.pk) for c in late
    ]
    assert all(e["url"] for e in evidence["3.4.1"])
    assert evidence["2.2.1"][0]["pk"] == small_city.yinqueshan.pk
    assert "2025 H2" in evidence["3.5.2"][0]["text"]
    assert evidence["B1.1"][0]["pk"] == bonus.pk
    assert evidence["D1.1"][0]["pk"] == criticism.pk
    assert evidence["D1.1"][0]["document"]


def test_the_other_county_is_scored_from_its_own_records(small_city, county, office):
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    sheet = ScoreSheet.objects.get(grid=small_city.luozhuang, year=YEAR)
    lines = lines_of(sheet)
    # 罗庄区 has no plan, no people, no source, no meetings …
    assert lines["1.1.1"] == (1, D(-5))
    assert lines["3.1.1"] == (1, D(-5))
    assert lines["3.5.2"] == (2, D(-5))
    assert items_of(sheet)["1.1"] == 0
    assert items_of(sheet)["1.2"] == 1  # four responsible people missing
    # … and none of 兰山区's records count for it
    assert "3.4.1" not in lines
    # by hand: 1.1 −5 (no plan), 1.2 −4, 2.2 −0.1 (沈庄村), 2.4 −2 (罗庄街道: no agency, no
    # staff), 3.1 −5 (no list), 3.3 −2 (no reports), 3.5 −5 (no meetings), 3.6 −4 (no
    # supervision); it has no departments of its own, so no per-department rule applies
    assert sheet.total == D("72.9")
    assert sheet.grade == "pass"


def test_a_rerun_replaces_the_sheet(county, office):
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    first = ScoreSheet.objects.get(grid=county.grid, year=YEAR)
    services.fact_enter(
        year=YEAR, grid=county.grid, rule_code="D3.1", note="渎职判决", document=pdf(), actor=office
    )
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    again = ScoreSheet.objects.get(grid=county.grid, year=YEAR)
    assert again.pk == first.pk
    assert again.total == 90
    assert again.items.count() == 19


def test_a_withdrawn_fact_no_longer_counts(county, office):
    fact = services.fact_enter(
        year=YEAR, grid=county.grid, rule_code="D2.1", note="挂牌督办", document=pdf(), actor=office
    )
    services.fact_withdraw(fact=fact, actor=office, reason="录入错误")
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    assert ScoreSheet.objects.get(grid=county.grid, year=YEAR).total == 100


def test_facts_outside_the_rule_range_are_refused(county, office):
    with pytest.raises(DomainError) as refused:
        services.fact_enter(
            year=YEAR,
            grid=county.grid,
            rule_code="D1.1",
            points="-3",
            note="通报",
            document=pdf(),
            actor=office,
        )
    assert "points" in refused.value.extra
    with pytest.raises(DomainError) as counted:
        services.fact_enter(
            year=YEAR,
            grid=county.grid,
            rule_code="3.4.1",
            note="x",
            document=pdf(),
            actor=office,
        )
    assert "rule" in counted.value.extra
    with pytest.raises(DomainError):
        services.fact_enter(
            year=YEAR,
            grid=county.env.grid.children.first(),
            rule_code="D1.1",
            note="x",
            document=pdf(),
            actor=office,
        )
    with pytest.raises(DomainError) as no_document:
        services.fact_enter(
            year=YEAR, grid=county.grid, rule_code="D1.1", note="x", document=None, actor=office
        )
    assert "document" in no_document.value.extra


def test_only_the_office_runs_enters_and_locks(county, office):
    from core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.assessment_run(year=YEAR, actor=county.principal, now=RUN_AT)
    with pytest.raises(Forbidden):
        services.fact_enter(
            year=YEAR,
            grid=county.grid,
            rule_code="B3.2",
            note="培训",
            document=pdf(),
            actor=county.principal,
        )
    with pytest.raises(Forbidden):
        services.assessment_lock(year=YEAR, actor=county.principal)


# --- the locked year -----------------------------------------------------------------------------


def test_a_locked_year_never_changes(county, office, small_city, english):
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    assert services.assessment_lock(year=YEAR, actor=office) == 2
    before = {
        s.grid_id: (s.total, s.computed_at, s.locked_at)
        for s in ScoreSheet.objects.filter(year=YEAR)
    }

    with pytest.raises(Conflict):
        services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    with pytest.raises(Conflict):
        services.assessment_lock(year=YEAR, actor=office)
    # entries for the locked year are bad input, and nothing is stored
    with pytest.raises(DomainError) as fact:
        services.fact_enter(
            year=YEAR, grid=county.grid, rule_code="D1.1", note="x", document=pdf(), actor=office
        )
    assert "locked" in str(fact.value)
    with pytest.raises(DomainError) as meeting:
        services.joint_meeting_record(
            grid=county.grid,
            held_on=date(2025, 12, 1),
            title="补开",
            minutes="…",
            attendees=["环保局"],
            actor=county.principal,
        )
    assert "locked" in str(meeting.value)
    with pytest.raises(DomainError):
        services.supervision_record(
            supervisor_grid=county.grid,
            target_grid=small_city.lanshan_street,
            held_on=date(2025, 12, 2),
            topic="补",
            findings="…",
            actor=county.principal,
        )
    with pytest.raises(DomainError):
        services.self_evaluation_submit(
            grid=county.grid, year=YEAR, summary="自评", actor=county.principal
        )
    assert JointMeeting.objects.filter(title="补开").count() == 0
    after = {
        s.grid_id: (s.total, s.computed_at, s.locked_at)
        for s in ScoreSheet.objects.filter(year=YEAR)
    }
    assert after == before
    # the next year is open
    services.joint_meeting_record(
        grid=county.grid,
        held_on=date(2026, 3, 1),
        title="2026上半年联席会议",
        minutes="…",
        attendees=["环保局"],
        actor=county.principal,
        now=at(date(2026, 3, 2)),
    )


def test_lock_needs_a_run_first(county, office):
    with pytest.raises(DomainError):
        services.assessment_lock(year=YEAR, actor=office)


def test_a_future_year_or_one_without_rules_cannot_run(office):
    with pytest.raises(DomainError):
        services.assessment_run(year=2099, actor=office, now=RUN_AT)
    with pytest.raises(DomainError):
        services.assessment_run(year=2019, actor=office, now=RUN_AT)


# --- constant queries ----------------------------------------------------------------------------


def _run_queries(office) -> int:
    with CaptureQueriesContext(connection) as ctx:
        services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_cases_or_grids(
    small_city, county, office, crew, django_assert_num_queries
):
    # given one late case
    def late(n):
        for i in range(n):
            late_case(
                grid=small_city.village_b,
                department=county.env,
                creator=crew.inspector,
                due=at(date(2025, 3, 1) + timedelta(days=i)),
                fed_back=at(date(2025, 3, 20) + timedelta(days=i)),
            )

    late(1)
    services.assessment_run(year=YEAR, actor=office, now=RUN_AT)  # the sheets exist from now on
    with_one = _run_queries(office)
    # when there are forty more, and more grids, roles, meetings and facts
    late(40)
    for i in range(3):
        joint_meeting(small_city.luozhuang, date(2025, 2, 1 + i), office)
    services.fact_enter(
        year=YEAR,
        grid=small_city.luozhuang,
        rule_code="D1.1",
        note="x",
        document=pdf(),
        actor=office,
    )
    # then the run takes exactly as many queries
    with django_assert_num_queries(with_one):
        services.assessment_run(year=YEAR, actor=office, now=RUN_AT)
    sheet = ScoreSheet.objects.get(grid=county.grid, year=YEAR)
    assert lines_of(sheet)["3.4.1"] == (41, D(-41))
    assert items_of(sheet)["3.4"] == 0  # the item's floor
