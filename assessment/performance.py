"""Step 8, assess (绩效考核): periodic figures for inspectors, departments and grids (DOMAIN
§7.2), and the lock that freezes them and marks the period's evaluated cases ``assessed``.

A period (a month, a quarter or a year) covers the cases **reported** in it. Its figures are
the digital city-management evaluation figures — on-time dispatch rate, on-time closure rate,
closure rate, rework rate, returns — plus problems reported, verifications on time and
patrol-plan completion. They are counted set-based: a handful of grouped queries whatever the
number of cases (grids roll up from the case's grid to the levels in ``GRID_LEVELS`` with
``grids.county.ancestor_map``).

Definitions (each a count; rates are count / base and shown by the API):
- on-time dispatch rate: ``dispatch_met`` true / dispatch outcome known;
- on-time closure rate: ``handling_met`` true / handling outcome known;
  an outcome is known once the step settled it (``*_met``) or once the deadline passed
  unmet (the deadline sweep's ``breach`` row on the case);
- closure rate: closed (verified, evaluated or assessed) / all cases of the period;
- rework rate: cases sent back at least once / cases fed back;
- returns: a department's "not our duty" returns (per department: the returns it made);
- patrol-plan completion: visits done / visits planned over the monthly patrol plans of the
  period (per inspector: their own plans; per grid: the grid plans in its subtree); for a
  department, over its yearly supervision plan, in year periods only.
"""

from __future__ import annotations

import calendar as month_calendar
from collections import defaultdict
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import selectors
from assessment.models import PerformanceFigure, PerformancePeriod
from cases.models import Case, CaseAssignment, CaseBreach, CaseEvent, Channel
from core.errors import Conflict, DomainError, Forbidden
from core.models import User
from grids import county as county_sql
from inspections.models import PatrolPlan, SupervisionPlan

GRID_LEVELS = (1, 2, 3)
CLOSED_STATES = ("verified", "evaluated", "assessed")
REPORTING_CHANNELS = (Channel.INSPECTOR, Channel.PATROL)
COUNTS = (
    "cases",
    "dispatched",
    "dispatched_on_time",
    "handled",
    "handled_on_time",
    "closed",
    "fed_back",
    "reworked",
    "returns",
)


def period_bounds(*, kind: str, starts_on: date) -> tuple[date, date]:
    """First and last day of the period that starts on ``starts_on``; DomainError if a period
    of that kind cannot start there."""
    if kind == PerformancePeriod.Kind.MONTH and starts_on.day == 1:
        last = month_calendar.monthrange(starts_on.year, starts_on.month)[1]
        return starts_on, starts_on.replace(day=last)
    if (
        kind == PerformancePeriod.Kind.QUARTER
        and starts_on.day == 1
        and starts_on.month in (1, 4, 7, 10)
    ):
        end_month = starts_on.month + 2
        return starts_on, date(
            starts_on.year, end_month, month_calendar.monthrange(starts_on.year, end_month)[1]
        )
    if kind == PerformancePeriod.Kind.YEAR and (starts_on.month, starts_on.day) == (1, 1):
        return starts_on, date(starts_on.year, 12, 31)
    if kind not in PerformancePeriod.Kind.values:
        raise DomainError(_("A period is a month, a quarter or a year."), kind=[_("Unknown.")])
    raise DomainError(
        _("A %(kind)s starts on the first day of a %(kind)s.") % {"kind": kind},
        starts_on=[_("Not the start of a %(kind)s.") % {"kind": kind}],
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _period_cases(period: PerformancePeriod):
    from datetime import timedelta

    return Case.objects.filter(
        reported_at__gte=_midnight(period.starts_on),
        reported_at__lt=_midnight(period.ends_on + timedelta(days=1)),
    )


def _known(deadline: str) -> Q:
    """The deadline's outcome is known: settled by its step, or passed unmet (breach row)."""
    passed = CaseBreach.objects.filter(
        case=OuterRef("pk"), deadline=deadline, level=CaseBreach.Level.BREACH
    )
    return Q(**{f"{deadline}_met__isnull": False}) | Q(Exists(passed))


def _metrics() -> dict:
    return {
        "cases": Count("pk"),
        "dispatched": Count("pk", filter=_known("dispatch")),
        "dispatched_on_time": Count("pk", filter=Q(dispatch_met=True)),
        "handled": Count("pk", filter=_known("handling")),
        "handled_on_time": Count("pk", filter=Q(handling_met=True)),
        "closed": Count("pk", filter=Q(status__in=CLOSED_STATES)),
        "fed_back": Count("pk", filter=Q(fed_back_at__isnull=False)),
        "reworked": Count("pk", filter=Q(rework_count__gt=0)),
        "returns": Sum("return_count"),
    }


def _blank() -> dict:
    return dict.fromkeys(COUNTS, 0)


def _add(into: dict, row: dict) -> None:
    for name in COUNTS:
        into[name] += row.get(name) or 0


def figures_compute(*, period: PerformancePeriod) -> list[PerformanceFigure]:
    """The period's figures, unsaved. About a dozen queries whatever the number of cases."""
    from inspections.ledger import patrol_plan_progress, supervision_plan_completion

    cases = _period_cases(period)
    figures: list[PerformanceFigure] = []

    # Grids: group by the case's grid, then roll up to each level.
    by_grid = list(cases.values("grid_id").annotate(**_metrics()).order_by())
    grid_plans = list(
        PatrolPlan.objects.filter(
            inspector__isnull=True, month__gte=period.starts_on, month__lte=period.ends_on
        ).only("pk", "grid_id")
    )
    grid_progress = patrol_plan_progress(plans=grid_plans)
    grid_ids = {r["grid_id"] for r in by_grid} | {p.grid_id for p in grid_plans}
    for level in GRID_LEVELS:
        ancestors = county_sql.ancestor_map(level=level, grid_ids=grid_ids) if grid_ids else {}
        totals: dict[int, dict] = defaultdict(_blank)
        plans: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for row in by_grid:
            anc = ancestors.get(row["grid_id"])
            if anc is not None:
                _add(totals[anc], row)
        for plan in grid_plans:
            anc = ancestors.get(plan.grid_id)
            if anc is not None:
                completion = grid_progress[plan.pk].completion
                plans[anc][0] += completion.planned
                plans[anc][1] += completion.done
        for grid_id in set(totals) | set(plans):
            planned, done = plans.get(grid_id, (None, None))
            figures.append(
                PerformanceFigure(
                    period=period,
                    subject=PerformanceFigure.Subject.GRID,
                    grid_id=grid_id,
                    plan_planned=planned,
                    plan_done=done,
                    **totals.get(grid_id, _blank()),
                )
            )

    # Departments: the cases they lead; the returns they made (the lead at the moment of the
    # return, from the assignments).
    by_department = {
        r["department_id"]: r
        for r in cases.filter(department__isnull=False)
        .values("department_id")
        .annotate(**_metrics())
        .order_by()
    }
    returning = Subquery(
        CaseAssignment.objects.filter(
            case=OuterRef("case"), role=CaseAssignment.Role.LEAD, assigned_at__lte=OuterRef("at")
        )
        .order_by("-assigned_at", "-pk")
        .values("department_id")[:1]
    )
    returns = {
        r["dept"]: r["n"]
        for r in CaseEvent.objects.filter(action="return", case__in=cases.values("pk"))
        .annotate(dept=returning)
        .values("dept")
        .annotate(n=Count("pk"))
        .order_by()
        if r["dept"] is not None
    }
    dept_plans: dict[int, list[int]] = {}
    if period.kind == PerformancePeriod.Kind.YEAR:
        plans_of_year = list(
            SupervisionPlan.objects.filter(year=period.starts_on.year).select_related("grid")
        )
        for plan_pk, completion in supervision_plan_completion(plans=plans_of_year).items():
            plan = next(p for p in plans_of_year if p.pk == plan_pk)
            acc = dept_plans.setdefault(plan.department_id, [0, 0])
            acc[0] += completion.planned
            acc[1] += min(completion.done, completion.planned)
    for dept_id in set(by_department) | set(returns) | set(dept_plans):
        row = _blank()
        _add(row, by_department.get(dept_id, {}))
        row["returns"] = returns.get(dept_id, 0)
        planned, done = dept_plans.get(dept_id, (None, None))
        figures.append(
            PerformanceFigure(
                period=period,
                subject=PerformanceFigure.Subject.DEPARTMENT,
                department_id=dept_id,
                plan_planned=planned,
                plan_done=done,
                **row,
            )
        )

    # Inspectors: problems they reported, verifications they made (and on time), their plans.
    reported = {
        r["created_by_id"]: r["n"]
        for r in cases.filter(channel__in=REPORTING_CHANNELS)
        .values("created_by_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    verified = {
        r["actor_id"]: r
        for r in CaseEvent.objects.filter(
            action="verify", case__in=cases.values("pk"), actor__isnull=False
        )
        .values("actor_id")
        .annotate(
            n=Count("case_id", distinct=True),
            on_time=Count("case_id", distinct=True, filter=Q(case__verify_met=True)),
        )
        .order_by()
    }
    own_plans = list(
        PatrolPlan.objects.filter(
            inspector__isnull=False, month__gte=period.starts_on, month__lte=period.ends_on
        ).only("pk", "inspector_id")
    )
    own_progress = patrol_plan_progress(plans=own_plans)
    inspector_plans: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for plan in own_plans:
        completion = own_progress[plan.pk].completion
        inspector_plans[plan.inspector_id][0] += completion.planned
        inspector_plans[plan.inspector_id][1] += completion.done
    for user_id in set(reported) | set(verified) | set(inspector_plans):
        planned, done = inspector_plans.get(user_id, (None, None))
        v = verified.get(user_id, {})
        figures.append(
            PerformanceFigure(
                period=period,
                subject=PerformanceFigure.Subject.INSPECTOR,
                user_id=user_id,
                reported=reported.get(user_id, 0),
                verified=v.get("n", 0),
                verified_on_time=v.get("on_time", 0),
                plan_planned=planned,
                plan_done=done,
            )
        )
    return figures


@transaction.atomic
def _figures_replace(period: PerformancePeriod, now: datetime) -> None:
    figures = figures_compute(period=period)
    PerformanceFigure.objects.filter(period=period).delete()
    PerformanceFigure.objects.bulk_create(figures, batch_size=1000)
    period.computed_at = now
    period.save(update_fields=["computed_at"])


def performance_period_compute(
    *, kind: str, starts_on: date, actor: User | None, now: datetime | None = None
) -> PerformancePeriod:
    """Compute (or recompute) the figures of a period; a locked period never changes."""
    now = now or timezone.now()
    if actor is not None and not selectors.is_city_office(user=actor):
        raise Forbidden(_("Only the leadership-group office may do this."))
    starts_on, ends_on = period_bounds(kind=kind, starts_on=starts_on)
    if starts_on > timezone.localdate(now):
        raise DomainError(_("The period has not begun."), starts_on=[_("In the future.")])
    with transaction.atomic():
        period, _created = PerformancePeriod.objects.get_or_create(
            kind=kind, starts_on=starts_on, defaults={"ends_on": ends_on}
        )
        period = PerformancePeriod.objects.select_for_update().get(pk=period.pk)
        if period.locked_at:
            raise Conflict(_("The period is locked; its figures never change."))
        _figures_replace(period, now)
    return period


def performance_period_lock(
    *, period: PerformancePeriod, actor: User, now: datetime | None = None
) -> PerformancePeriod:
    """Freeze a period that has ended: its figures are computed one last time and never again.
    Its evaluated cases are then marked ``assessed`` by ``performance_cases_assess`` (the API
    hands that to a task after the commit)."""
    now = now or timezone.now()
    if not selectors.is_city_office(user=actor):
        raise Forbidden(_("Only the leadership-group office may do this."))
    with transaction.atomic():
        period = PerformancePeriod.objects.select_for_update().get(pk=period.pk)
        if period.locked_at:
            raise Conflict(_("The period is already locked."))
        if period.ends_on >= timezone.localdate(now):
            raise DomainError(_("The period has not ended yet."), detail=[_("Not over.")])
        _figures_replace(period, now)
        period.locked_at = now
        period.locked_by = actor
        period.save(update_fields=["locked_at", "locked_by"])
    return period


def performance_cases_assess(
    *, period: PerformancePeriod, now: datetime | None = None, batch: int = 2000
) -> int:
    """Mark the locked period's evaluated cases ``assessed`` through the workflow's bulk
    service (``cases.services.cases_assess_bulk``: the transition table's ``assess`` edge, its
    events and callbacks, by the system), ``batch`` cases per transaction. Idempotent: only
    cases still ``evaluated`` are taken, so a second run or a retry does nothing more."""
    from cases.services import cases_assess_bulk

    period = PerformancePeriod.objects.get(pk=period.pk)
    if not period.locked_at:
        raise Conflict(_("Lock the period first."))
    now = now or timezone.now()
    done = 0
    last = 0
    while True:
        ids = list(
            _period_cases(period)
            .filter(status=Case.Status.EVALUATED, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        last = ids[-1]
        done += cases_assess_bulk(case_ids=ids, actor=None, now=now)
    if done:
        PerformancePeriod.objects.filter(pk=period.pk).update(
            cases_assessed=F("cases_assessed") + done
        )
    return done
