"""Reads of the reference data the case workflow runs on: categories and the duty matrix."""

from django.db.models import Prefetch, QuerySet

from cases.models import DutyRule, ProblemCategory
from grids.models import Department, Grid


def category_list() -> QuerySet[ProblemCategory]:
    return ProblemCategory.objects.filter(active=True).prefetch_related(
        Prefetch("duty_rules", queryset=DutyRule.objects.select_related("sector").order_by("level"))
    )


def duty_departments_for_grid(*, grid: Grid) -> dict[tuple[int, int], Department]:
    """The departments of the grid and its ancestors, keyed by (level, sector id): one query."""
    ancestors = grid.get_ancestors(include_self=True)
    departments = Department.objects.filter(grid__in=ancestors, active=True).select_related(
        "sector"
    )
    return {(d.level, d.sector_id): d for d in departments}


def duty_department_pick(
    *, rules, departments: dict[tuple[int, int], Department], level: int
) -> Department | None:
    """The department named by the rule at ``level``, or by the nearest level above it that
    has both a rule and a department (根据法定职责派遣)."""
    for rule in sorted(rules, key=lambda r: -r.level):
        if rule.level <= level and (rule.level, rule.sector_id) in departments:
            return departments[(rule.level, rule.sector_id)]
    return None


def duty_department_propose(*, category: ProblemCategory, grid: Grid) -> Department | None:
    """The department the duty matrix proposes for a problem of this category in this grid."""
    return duty_department_pick(
        rules=category.duty_rules.all(),
        departments=duty_departments_for_grid(grid=grid),
        level=grid.level,
    )
