"""Writes of plans (计划, DOMAIN §4): a department's yearly supervision plan for a grid
(年度环境监管计划) and a grid's monthly patrol plan, optionally one inspector's (月巡查工作计划).

Rules:
- whoever makes a plan holds an enforcement role (``services.ENFORCEMENT_ROLES``) on the plan's
  grid or above it;
- one supervision plan per department, grid and year; the grid lies within the department's own
  grid (a district bureau plans for its district, not the neighbour's); at least one inspection;
- one patrol plan per grid and month, and one per inspector, grid and month; ``month`` is the
  first day of the month; the inspector holds a patrol role on the grid or above it; every item
  is an active source in the grid's subtree, named once, with 1 to ``MAX_VISITS`` visits.

Completion is never stored: ``inspections.ledger`` computes it from the patrols.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, Value, When
from django.utils.translation import gettext as _

from core.errors import DomainError, Forbidden
from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department, Grid
from inspections.models import PatrolPlan, PatrolPlanItem, PollutionSource, SupervisionPlan
from inspections.services import ENFORCEMENT_ROLES, PATROL_ROLES

MIN_YEAR, MAX_YEAR = 2000, 2100
# At most one visit a day.
MAX_VISITS = 31


def _require_enforcement(*, actor: User, grid: Grid) -> None:
    if not grid_selectors.user_roles_over(user=actor, grid=grid) & ENFORCEMENT_ROLES:
        raise Forbidden(_("You may not make plans for this grid."))


@transaction.atomic
def supervision_plan_create(
    *,
    department: Department,
    grid: Grid,
    year: int,
    title: str,
    inspections_planned: int,
    actor: User,
    content: str = "",
) -> SupervisionPlan:
    """A department's yearly supervision plan for a grid: how many on-site enforcement
    inspections it will carry out there that year."""
    _require_enforcement(actor=actor, grid=grid)
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("A plan needs a title.")]
    elif len(title) > SupervisionPlan._meta.get_field("title").max_length:
        errors["title"] = [_("The title is too long.")]
    if not MIN_YEAR <= year <= MAX_YEAR:
        errors["year"] = [
            _("The year must lie between %(a)s and %(b)s.") % {"a": MIN_YEAR, "b": MAX_YEAR}
        ]
    if inspections_planned < 1:
        errors["inspections_planned"] = [_("Plan at least one inspection.")]
    if not department.active:
        errors["department"] = [_("The department is no longer active.")]
    elif not Grid.objects.filter(
        # The department's grid as stored now, not an object cached on the department.
        grid_selectors.subtree_q(grid=Grid.objects.get(pk=department.grid_id)),
        pk=grid.pk,
    ).exists():
        errors["grid"] = [
            _("%(grid)s lies outside the area of %(department)s.")
            % {"grid": grid.name, "department": department.name}
        ]
    if errors:
        raise DomainError(_("The plan has errors; nothing was stored."), **errors)
    if SupervisionPlan.objects.filter(department=department, grid=grid, year=year).exists():
        raise _duplicate_supervision_plan(department=department, grid=grid, year=year)
    try:
        with transaction.atomic():
            return SupervisionPlan.objects.create(
                department=department,
                grid=grid,
                year=year,
                title=title,
                content=content,
                inspections_planned=inspections_planned,
                created_by=actor,
            )
    except IntegrityError as exc:  # a concurrent request made the same plan
        raise _duplicate_supervision_plan(department=department, grid=grid, year=year) from exc


def _duplicate_supervision_plan(*, department: Department, grid: Grid, year: int) -> DomainError:
    return DomainError(
        _("%(department)s already has a %(year)s plan for %(grid)s.")
        % {"department": department.name, "year": year, "grid": grid.name},
        year=[_("A plan for this department, grid and year exists.")],
    )


@dataclass(frozen=True)
class PatrolPlanItemInput:
    source_id: int
    visits: int = 1


@transaction.atomic
def patrol_plan_create(
    *,
    grid: Grid,
    month: date,
    items: list[PatrolPlanItemInput],
    actor: User,
    inspector: User | None = None,
) -> PatrolPlan:
    """A monthly patrol plan of a grid (or of one inspector in it): which sources to visit
    and how often that month (Zhejiang: "patrol the whole grid regularly")."""
    _require_enforcement(actor=actor, grid=grid)
    errors: dict[str, list[str]] = {}
    if month.day != 1:
        errors["month"] = [_("A plan's month is given by its first day (e.g. 2026-03-01).")]
    if inspector is not None and (
        not inspector.is_active
        or not grid_selectors.user_roles_over(user=inspector, grid=grid) & PATROL_ROLES
    ):
        errors["inspector"] = [
            _("%(name)s does not patrol this grid.") % {"name": inspector.get_username()}
        ]
    item_errors = _items_problems(grid=grid, items=items)
    if item_errors:
        errors["items"] = item_errors
    if errors:
        raise DomainError(_("The plan has errors; nothing was stored."), **errors)
    if PatrolPlan.objects.filter(grid=grid, inspector=inspector, month=month).exists():
        raise _duplicate_patrol_plan(grid=grid, month=month, inspector=inspector)
    try:
        with transaction.atomic():
            plan = PatrolPlan.objects.create(
                grid=grid, inspector=inspector, month=month, created_by=actor
            )
    except IntegrityError as exc:  # a concurrent request made the same plan
        raise _duplicate_patrol_plan(grid=grid, month=month, inspector=inspector) from exc
    PatrolPlanItem.objects.bulk_create(
        PatrolPlanItem(plan=plan, source_id=item.source_id, visits=item.visits) for item in items
    )
    return plan


def _items_problems(*, grid: Grid, items: list[PatrolPlanItemInput]) -> list[str]:
    """What is wrong with the items, one message each; the sources checked in one query."""
    if not items:
        return [_("Name at least one source to patrol.")]
    problems = []
    seen: set[int] = set()
    for item in items:
        if item.source_id in seen:
            problems.append(_("Source %(id)s is named twice.") % {"id": item.source_id})
        seen.add(item.source_id)
        if not 1 <= item.visits <= MAX_VISITS:
            problems.append(
                _("Source %(id)s: plan 1 to %(max)s visits.")
                % {"id": item.source_id, "max": MAX_VISITS}
            )
    found = {
        pk: (inside, status)
        for pk, inside, status in PollutionSource.objects.filter(pk__in=seen)
        .annotate(
            inside=Case(
                When(grid_selectors.subtree_q(grid=grid, prefix="grid__"), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values_list("pk", "inside", "status")
    }
    for source_id in sorted(seen):
        inside, status = found.get(source_id, (False, None))
        if not inside:
            # Unknown and outside read alike, so ids outside one's scope stay unconfirmed.
            problems.append(
                _("Source %(id)s is not a source in %(grid)s.")
                % {"id": source_id, "grid": grid.name}
            )
        elif status != PollutionSource.Status.ACTIVE:
            problems.append(
                _("Source %(id)s is not active; confirm it before planning patrols.")
                % {"id": source_id}
            )
    return problems


def _duplicate_patrol_plan(*, grid: Grid, month: date, inspector: User | None) -> DomainError:
    if inspector is None:
        message = _("%(grid)s already has a patrol plan for %(month)s.")
    else:
        message = _("%(grid)s already has a patrol plan of %(name)s for %(month)s.")
    return DomainError(
        message
        % {
            "grid": grid.name,
            "month": f"{month:%Y-%m}",
            "name": inspector.get_username() if inspector else "",
        },
        month=[_("A plan for this grid, inspector and month exists.")],
    )
