"""The score-sheet arithmetic, without the database (DOMAIN §7.1)."""

from decimal import Decimal as D

import pytest

from assessment import defaults
from assessment.scoring import (
    Finding,
    Grades,
    ItemSpec,
    RuleSetSpec,
    RuleSpec,
    item_score,
    sheet_score,
)


def linyi_spec() -> RuleSetSpec:
    """The Linyi table straight from ``assessment.defaults`` (what the migration installs)."""
    return RuleSetSpec(
        items=tuple(
            ItemSpec(
                code=item["code"],
                group=item["group"],
                max_points=item["max"],
                rules=tuple(RuleSpec(r["code"], r["kind"], r["points"]) for r in item["rules"]),
            )
            for item in defaults.ITEMS
        ),
        grades=Grades(**defaults.GRADES),
    )


def test_linyi_table_adds_up_to_100_with_caps_4_6_5():
    spec = linyi_spec()
    sections = {}
    for item in defaults.ITEMS:
        if item["group"] == "base":
            sections[item["section"]] = sections.get(item["section"], 0) + item["max"]
    assert sections == {"1": 10, "2": 25, "3": 65}
    assert spec.base_max == 100
    assert [(i.code, i.max_points) for i in spec.items if i.group == "bonus"] == [
        ("B1", 4),
        ("B2", 6),
        ("B3", 5),
    ]
    assert [
        (i.code, i.max_points, i.rules[0].points) for i in spec.items if i.group == "deduction"
    ] == [("D1", None, -5), ("D2", None, -5), ("D3", None, -10)]


def test_nothing_found_scores_100_excellent():
    result = sheet_score(linyi_spec(), {})
    assert (result.base_score, result.bonus, result.deductions, result.total) == (100, 0, 0, 100)
    assert result.grade == "excellent"
    assert all(i.score == i.max_points for i in result.items if i.group == "base")


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("59.9", "fail"),
        ("60", "pass"),
        ("79.9", "pass"),
        ("80", "good"),
        ("89.9", "good"),
        ("90", "excellent"),
        ("0", "fail"),
        ("115", "excellent"),
    ],
)
def test_grade_boundaries(total, grade):
    assert Grades().grade(D(total)) == grade


@pytest.mark.parametrize(
    ("deducted", "grade"),
    [
        ("40.1", "fail"),
        ("40", "pass"),
        ("20.1", "pass"),
        ("20", "good"),
        ("10.1", "good"),
        ("10", "excellent"),
    ],
)
def test_grade_boundaries_through_a_sheet(deducted, grade):
    # given an unbounded deduction of exactly the amount that puts the total on the boundary
    spec = RuleSetSpec(
        items=(
            ItemSpec("1", "base", D(100), ()),
            ItemSpec("D", "deduction", None, (RuleSpec("D.1", "deduction_per", D("-0.1")),)),
        )
    )
    instances = int(D(deducted) / D("0.1"))
    # when
    result = sheet_score(spec, {"D.1": Finding(instances=instances)})
    # then
    assert result.total == 100 - D(deducted)
    assert result.grade == grade


def test_item_never_below_zero():
    item = ItemSpec("3.4", "base", D(10), (RuleSpec("3.4.1", "per_instance", D(-1)),))
    result = item_score(item, {"3.4.1": Finding(instances=37)})
    assert result.raw == -27
    assert result.score == 0
    assert result.lines[0].points == -37


def test_zero_if_zeroes_the_item_whatever_else_applies():
    item = ItemSpec(
        "1.1",
        "base",
        D(5),
        (RuleSpec("1.1.1", "zero_if", None), RuleSpec("1.1.2", "once", D(-1))),
    )
    result = item_score(item, {"1.1.1": Finding(instances=1), "1.1.2": Finding(instances=1)})
    assert result.score == 0
    assert [(ln.code, ln.points) for ln in result.lines] == [("1.1.1", D(-5)), ("1.1.2", D(-1))]


def test_once_counts_once_however_many_instances():
    item = ItemSpec("3.1", "base", D(5), (RuleSpec("3.1.2", "once", D(-2)),))
    assert item_score(item, {"3.1.2": Finding(instances=14)}).score == 3


def test_fractions_are_exact_decimals():
    item = ItemSpec("2.2", "base", D(5), (RuleSpec("2.2.1", "per_instance", D("-0.1")),))
    result = item_score(item, {"2.2.1": Finding(instances=3)})
    assert result.score == D("4.70")
    assert str(result.score) == "4.70"


def test_bonus_groups_are_capped():
    spec = linyi_spec()
    findings = {
        "B1.1": Finding(instances=5),  # +10, cap 4
        "B2.1": Finding(instances=1),  # +1
        "B2.2": Finding(instances=1),  # +2
        "B2.3": Finding(instances=3),  # +1.5
        "B2.4": Finding(instances=4),  # +4 → 8.5, cap 6
        "B3.2": Finding(instances=1),  # +1 (cap 5)
    }
    result = sheet_score(spec, findings)
    bonus = {i.code: (i.raw, i.score) for i in result.items if i.group == "bonus"}
    assert bonus == {"B1": (10, 4), "B2": (D("8.5"), 6), "B3": (1, 1)}
    assert result.bonus == 11
    assert result.total == 111


def test_unbounded_deductions_and_the_total_floor():
    spec = linyi_spec()
    findings = {
        "D1.1": Finding(instances=3),  # −15
        "D2.1": Finding(instances=1),  # −5
        "D3.1": Finding(instances=2),  # −20
    }
    result = sheet_score(spec, findings)
    assert result.deductions == -40
    assert result.total == 60
    assert result.grade == "pass"
    many = sheet_score(spec, {"D3.1": Finding(instances=20)})
    assert many.deductions == -200
    assert many.total == 0  # never below the rule set's floor
    unfloored = RuleSetSpec(items=spec.items, total_floor=None)
    assert sheet_score(unfloored, {"D3.1": Finding(instances=20)}).total == -100


def test_fact_entries_count_with_their_own_points():
    item = ItemSpec("B2", "bonus", D(6), (RuleSpec("B2.3", "bonus_per", D("0.5")),))
    assert item_score(item, {"B2.3": Finding.of_entries([D("0.5"), D("0.5")])}).score == 1
    once = ItemSpec("2.1", "base", D(5), (RuleSpec("2.1.2", "once", D(-2)),))
    assert item_score(once, {"2.1.2": Finding.of_entries([D(-1), D(-2)])}).score == 3


def test_a_sheet_by_hand():
    # given: three late cases, one joint meeting missing, a missing stationed officer,
    # a +2 bonus and one −5 criticism
    findings = {
        "3.4.1": Finding(instances=3),
        "3.5.2": Finding(instances=1),
        "2.2.1": Finding(instances=1),
        "B1.1": Finding.of_entries([D(2)]),
        "D1.1": Finding.of_entries([D(-5)]),
    }
    # when
    result = sheet_score(linyi_spec(), findings)
    # then
    scores = {i.code: i.score for i in result.items}
    assert scores["3.4"] == 7
    assert scores["3.5"] == D("7.5")
    assert scores["2.2"] == D("4.9")
    assert scores["B1"] == 2
    assert scores["D1"] == -5
    assert result.base_score == 100 - 3 - D("2.5") - D("0.1")
    assert result.total == D("94.40") + 2 - 5
    assert result.grade == "excellent"


def test_unknown_kinds_and_missing_points_are_refused():
    with pytest.raises(ValueError):
        RuleSpec("x", "sometimes", D(1))
    with pytest.raises(ValueError):
        RuleSpec("x", "once", None)
    with pytest.raises(ValueError):
        ItemSpec("x", "base", None, ())
