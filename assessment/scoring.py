"""The arithmetic of a score sheet: pure, no database (DOMAIN §7.1).

Given a rule set (``RuleSetSpec``) and, per rule, what was found (``Finding``: a number of
instances at the rule's points, or the points of each fact entered), ``sheet_score`` computes:

- a **base item**: its maximum plus the points of its rules that applied, never below 0 nor
  above the maximum; an applying "no X → 0" rule (``zero_if``) zeroes it;
- a **bonus group**: the sum of its rules' points, never below 0, at most its cap;
- an **unbounded deduction**: the sum of its rules' points (a cap, if a city sets one, bounds
  it at −cap);
- the **total**: base + bonus + deductions, never below the rule set's floor (if any);
- the **grade**: the highest grade whose threshold the total reaches.

Rule kinds: ``per_instance``, ``bonus_per`` and ``deduction_per`` add their points once per
instance; ``once`` adds them once however many instances were found (a fact entered with
other points counts with the largest of them); ``zero_if`` zeroes its item.
All amounts are ``Decimal`` rounded half-up to two places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
CENT = Decimal("0.01")

BASE, BONUS, DEDUCTION = "base", "bonus", "deduction"
ZERO_IF, PER_INSTANCE, ONCE, BONUS_PER, DEDUCTION_PER = (
    "zero_if",
    "per_instance",
    "once",
    "bonus_per",
    "deduction_per",
)
PER_KINDS = frozenset({PER_INSTANCE, BONUS_PER, DEDUCTION_PER})
KINDS = PER_KINDS | {ZERO_IF, ONCE}


def q(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RuleSpec:
    code: str
    kind: str
    points: Decimal | None  # signed; None for zero_if

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown rule kind {self.kind!r}")
        if self.kind != ZERO_IF and self.points is None:
            raise ValueError(f"rule {self.code} needs points")


@dataclass(frozen=True)
class ItemSpec:
    code: str
    group: str
    max_points: Decimal | None  # base: maximum; bonus: cap; deduction: None (unbounded)
    rules: tuple[RuleSpec, ...]

    def __post_init__(self) -> None:
        if self.group not in (BASE, BONUS, DEDUCTION):
            raise ValueError(f"unknown group {self.group!r}")
        if self.group == BASE and self.max_points is None:
            raise ValueError(f"base item {self.code} needs a maximum")


@dataclass(frozen=True)
class Grades:
    excellent_from: Decimal = Decimal(90)
    good_from: Decimal = Decimal(80)
    pass_from: Decimal = Decimal(60)

    def grade(self, total: Decimal) -> str:
        if total >= self.excellent_from:
            return "excellent"
        if total >= self.good_from:
            return "good"
        if total >= self.pass_from:
            return "pass"
        return "fail"


@dataclass(frozen=True)
class RuleSetSpec:
    items: tuple[ItemSpec, ...]
    grades: Grades = field(default_factory=Grades)
    total_floor: Decimal | None = ZERO

    @property
    def base_max(self) -> Decimal:
        return sum((i.max_points for i in self.items if i.group == BASE), ZERO)


@dataclass(frozen=True)
class Finding:
    """What was found for one rule: ``instances`` at the rule's points, or — for facts — the
    points of each entry (then ``instances`` is their number)."""

    instances: int = 0
    entries: tuple[Decimal, ...] | None = None

    @classmethod
    def of_entries(cls, points: Sequence[Decimal]) -> Finding:
        return cls(instances=len(points), entries=tuple(Decimal(p) for p in points))


@dataclass(frozen=True)
class LineResult:
    code: str
    kind: str
    instances: int
    points: Decimal  # what the rule contributes (zero_if: minus the item's maximum)


@dataclass(frozen=True)
class ItemResult:
    code: str
    group: str
    max_points: Decimal | None
    raw: Decimal
    score: Decimal
    lines: tuple[LineResult, ...]


@dataclass(frozen=True)
class SheetResult:
    items: tuple[ItemResult, ...]
    base_score: Decimal
    bonus: Decimal
    deductions: Decimal
    total: Decimal
    grade: str


def line_points(rule: RuleSpec, finding: Finding, *, item_max: Decimal | None) -> Decimal:
    """What one rule contributes, before its item's floor or cap."""
    if finding.instances <= 0:
        return ZERO
    if rule.kind == ZERO_IF:
        return -(item_max or ZERO)
    entries = finding.entries
    if rule.kind == ONCE:
        if entries:
            return max(entries, key=abs)
        return rule.points
    if entries is not None:
        return sum(entries, ZERO)
    return rule.points * finding.instances


def item_score(item: ItemSpec, findings: Mapping[str, Finding]) -> ItemResult:
    lines = []
    zeroed = False
    total = ZERO
    for rule in item.rules:
        finding = findings.get(rule.code) or Finding()
        if finding.instances <= 0:
            continue
        points = q(line_points(rule, finding, item_max=item.max_points))
        lines.append(LineResult(rule.code, rule.kind, finding.instances, points))
        if rule.kind == ZERO_IF:
            zeroed = True
        else:
            total += points
    if item.group == BASE:
        raw = item.max_points + total
        score = ZERO if zeroed else min(max(raw, ZERO), item.max_points)
    elif item.group == BONUS:
        raw = total
        score = ZERO if zeroed else max(raw, ZERO)
        if item.max_points is not None:
            score = min(score, item.max_points)
    else:
        raw = total
        score = min(raw, ZERO)
        if item.max_points is not None:
            score = max(score, -item.max_points)
    return ItemResult(item.code, item.group, item.max_points, q(raw), q(score), tuple(lines))


def sheet_score(spec: RuleSetSpec, findings: Mapping[str, Finding]) -> SheetResult:
    """The whole sheet of one grid from the findings of every rule (keyed by rule code)."""
    items = tuple(item_score(item, findings) for item in spec.items)
    base = sum((i.score for i in items if i.group == BASE), ZERO)
    bonus = sum((i.score for i in items if i.group == BONUS), ZERO)
    deductions = sum((i.score for i in items if i.group == DEDUCTION), ZERO)
    total = base + bonus + deductions
    if spec.total_floor is not None:
        total = max(total, spec.total_floor)
    total = q(total)
    return SheetResult(
        items=items,
        base_score=q(base),
        bonus=q(bonus),
        deductions=q(deductions),
        total=total,
        grade=spec.grades.grade(total),
    )
