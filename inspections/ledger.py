"""Reads for the inspection ledger (检查台账) and for plan completion, scoped and set-based.

The ledger lists every on-site patrol and enforcement inspection of a department, or in a grid
subtree, over a period of calendar days in the city's time zone (DOMAIN §4 "Inspection ledger").

Plan completion is computed from the patrols, never typed in (issue 3, item 4):

- a monthly patrol plan: each item counts the on-site patrols of its source in that month (by
  the plan's inspector when the plan is an inspector's), at most the visits planned; the plan's
  completion is the sum of those counts over the sum of the visits planned;
- a yearly supervision plan: the on-site enforcement inspections (``Patrol.Kind.INSPECTION``)
  of the plan's department at sources in the plan's grid subtree during the plan's year, over
  the inspections planned.

Both take a list of plans and answer with one query for the whole list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department, Grid
from inspections.models import Patrol, PatrolPlan, PatrolPlanItem, SupervisionPlan

ON_SITE_KINDS = (Patrol.Kind.PATROL, Patrol.Kind.INSPECTION)


def _day_start(day: date) -> datetime:
    """Midnight of ``day`` in the city's time zone (the settings' TIME_ZONE)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def patrol_scope_q(*, user: User) -> Q:
    """Patrols the user may see: at a source in the user's grid scope, or done by a department
    in the user's department scope (its members see their own department's inspections)."""
    return grid_selectors.grid_scope_q(
        user=user, prefix="source__grid__"
    ) | grid_selectors.department_scope_q(user=user, prefix="department__")


# --- the ledger ------------------------------------------------------------------------------


def ledger_rows(
    *,
    user: User,
    start: date,
    end: date,
    department: Department | None = None,
    grid: Grid | None = None,
    kinds: Iterable[str] = ON_SITE_KINDS,
) -> QuerySet[Patrol]:
    """Every patrol of ``kinds`` from ``start`` to ``end`` (both included), oldest first, of
    ``department`` and/or at sources in ``grid``'s subtree, within the user's scope.

    Two queries whatever the number of rows: the patrols with their source, grid, department
    and recorder, and the officers of all of them.
    """
    qs = Patrol.objects.filter(
        patrol_scope_q(user=user),
        patrolled_at__gte=_day_start(start),
        patrolled_at__lt=_day_start(end + timedelta(days=1)),
        kind__in=list(kinds),
    )
    if department is not None:
        qs = qs.filter(department=department)
    if grid is not None:
        qs = qs.filter(grid_selectors.subtree_q(grid=grid, prefix="source__grid__"))
    return (
        qs.select_related("source", "source__grid", "department", "recorded_by")
        .prefetch_related(Prefetch("officers", queryset=User.objects.order_by("username")))
        .order_by("patrolled_at", "pk")
    )


def ledger_title(
    *, start: date, end: date, department: Department | None = None, grid: Grid | None = None
) -> str:
    """The heading of the ledger as the form reads, e.g.
    "兰山区生态环境局 检查台账 2026-01-01 至 2026-03-31"."""
    if department is not None and grid is not None and department.grid_id != grid.pk:
        who = f"{department.name}（{grid.name}）"
    elif department is not None:
        who = department.name
    elif grid is not None:
        who = grid.name
    else:
        who = ""
    return f"{who} 检查台账 {start.isoformat()} 至 {end.isoformat()}".strip()


# --- plans -----------------------------------------------------------------------------------


def supervision_plan_list(
    *,
    user: User,
    year: int | None = None,
    department: Department | None = None,
    grid: Grid | None = None,
) -> QuerySet[SupervisionPlan]:
    """Yearly plans for grids in the user's scope or of departments in it; ``grid`` takes the
    plans of its whole subtree."""
    qs = SupervisionPlan.objects.filter(
        grid_selectors.grid_scope_q(user=user, prefix="grid__")
        | grid_selectors.department_scope_q(user=user, prefix="department__")
    )
    if year is not None:
        qs = qs.filter(year=year)
    if department is not None:
        qs = qs.filter(department=department)
    if grid is not None:
        qs = qs.filter(grid_selectors.subtree_q(grid=grid, prefix="grid__"))
    return qs.select_related("department", "grid", "created_by").order_by(
        "-year", "department__code", "grid__code", "pk"
    )


def patrol_plan_list(
    *,
    user: User,
    month: date | None = None,
    grid: Grid | None = None,
    inspector: User | None = None,
) -> QuerySet[PatrolPlan]:
    """Monthly plans for grids in the user's scope; ``grid`` takes its whole subtree."""
    qs = PatrolPlan.objects.filter(grid_selectors.grid_scope_q(user=user, prefix="grid__"))
    if month is not None:
        qs = qs.filter(month=month)
    if grid is not None:
        qs = qs.filter(grid_selectors.subtree_q(grid=grid, prefix="grid__"))
    if inspector is not None:
        qs = qs.filter(inspector=inspector)
    return qs.select_related("grid", "inspector", "created_by").order_by(
        "-month", "grid__code", "inspector__username", "pk"
    )


@dataclass(frozen=True)
class Completion:
    planned: int
    done: int

    @property
    def ratio(self) -> float | None:
        """Share done, 0–1 (four decimals); None for a plan with nothing planned."""
        return round(self.done / self.planned, 4) if self.planned else None


@dataclass(frozen=True)
class ItemProgress:
    source_id: int
    source_name: str
    visits: int
    # On-site patrols of the month, all of them (``counted`` caps them at ``visits``).
    done: int

    @property
    def counted(self) -> int:
        return min(self.done, self.visits)


@dataclass
class PlanProgress:
    items: list[ItemProgress] = field(default_factory=list)

    @property
    def completion(self) -> Completion:
        return Completion(
            planned=sum(i.visits for i in self.items), done=sum(i.counted for i in self.items)
        )


class _Count(Func):
    # COUNT(*) as a plain function, so the correlated subquery needs no GROUP BY.
    function = "COUNT"
    template = "%(function)s(*)"
    output_field = IntegerField()


def patrol_plan_progress(*, plans: Sequence[PatrolPlan]) -> dict[int, PlanProgress]:
    """Progress of each plan's items: one query over the items of all ``plans``, each item
    carrying the count of on-site patrols of its source in its plan's month (by the plan's
    inspector if it has one), in a correlated subquery."""
    progress = {plan.pk: PlanProgress() for plan in plans}
    if not progress:
        return progress
    in_month = (
        Patrol.objects.alias(
            month=TruncMonth(
                "patrolled_at", output_field=DateField(), tzinfo=timezone.get_default_timezone()
            )
        )
        .filter(source=OuterRef("source"), kind__in=ON_SITE_KINDS, month=OuterRef("plan__month"))
        .order_by()
    )
    by_anyone = Subquery(in_month.annotate(n=_Count()).values("n"), output_field=IntegerField())
    by_inspector = Subquery(
        in_month.filter(officers=OuterRef("plan__inspector")).annotate(n=_Count()).values("n"),
        output_field=IntegerField(),
    )
    items = (
        PatrolPlanItem.objects.filter(plan__in=list(progress))
        .annotate(
            done=Coalesce(
                Case(
                    When(plan__inspector__isnull=True, then=by_anyone),
                    default=by_inspector,
                    output_field=IntegerField(),
                ),
                0,
            ),
            source_name=F("source__name"),
        )
        .order_by("plan_id", "source_name", "pk")
        .values_list("plan_id", "source_id", "source_name", "visits", "done")
    )
    for plan_id, source_id, source_name, visits, done in items:
        progress[plan_id].items.append(
            ItemProgress(source_id=source_id, source_name=source_name, visits=visits, done=done)
        )
    return progress


def supervision_plan_completion(*, plans: Sequence[SupervisionPlan]) -> dict[int, Completion]:
    """Inspections done against each plan, in one aggregate query with one conditional count
    per plan. ``plans`` need their ``grid`` loaded (``supervision_plan_list`` does)."""
    if not plans:
        return {}
    counts = {}
    for plan in plans:
        counts[f"p{plan.pk}"] = Count(
            "pk",
            filter=Q(
                department_id=plan.department_id,
                patrolled_at__gte=_day_start(date(plan.year, 1, 1)),
                patrolled_at__lt=_day_start(date(plan.year + 1, 1, 1)),
            )
            & grid_selectors.subtree_q(grid=plan.grid, prefix="source__grid__"),
        )
    years = [plan.year for plan in plans]
    done = Patrol.objects.filter(
        kind=Patrol.Kind.INSPECTION,
        department_id__in={plan.department_id for plan in plans},
        patrolled_at__gte=_day_start(date(min(years), 1, 1)),
        patrolled_at__lt=_day_start(date(max(years) + 1, 1, 1)),
    ).aggregate(**counts)
    return {
        plan.pk: Completion(planned=plan.inspections_planned, done=done[f"p{plan.pk}"] or 0)
        for plan in plans
    }
