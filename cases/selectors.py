"""Reads for the case workflow: categories, the duty matrix, the working calendar and the
cases themselves, always through the scope rule."""

import copy
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.http import Http404
from django.utils import timezone

from cases.calendar import WorkingCalendar, traffic_light
from cases.models import (
    OPEN_STATES,
    CalendarDay,
    Case,
    CaseAssignment,
    CaseBreach,
    CasePhoto,
    CaseSettings,
    DutyRule,
    ProblemCategory,
)
from cases.transitions import Actor
from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department, DepartmentMembership, Grid, Role


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


# --- the working calendar and the cases ---------------------------------------------------------


# --- reference data kept per process ------------------------------------------------------------
#
# Every intake and transition reads the case settings, the calendar's office overrides and the
# category; they change a few times a year. Each process keeps what it read for
# ``CASES_REFERENCE_CACHE_SECONDS``; a save or delete of any of them clears the saving
# process's copy at once, and other processes see it when their copy expires.

_T = TypeVar("_T")
_reference: dict[str, tuple[float, object]] = {}


def _kept(name: str, load: Callable[[], _T]) -> _T:
    seconds = settings.CASES_REFERENCE_CACHE_SECONDS
    if seconds <= 0:
        return load()
    now = clock.monotonic()
    hit = _reference.get(name)
    if hit is not None and now - hit[0] < seconds:
        return hit[1]  # type: ignore[return-value]
    value = load()
    _reference[name] = (now, value)
    return value


def reference_cache_clear(**_signal) -> None:
    """Forget this process's copies of the cases' reference data."""
    _reference.clear()


for _model in (CaseSettings, CalendarDay, ProblemCategory, DutyRule):
    post_save.connect(reference_cache_clear, sender=_model, dispatch_uid=f"cases-ref-{_model}")
    post_delete.connect(reference_cache_clear, sender=_model, dispatch_uid=f"cases-ref-{_model}")


def category_for_intake(*, code: str) -> ProblemCategory | None:
    """The active category with this code (kept per process)."""

    def load() -> dict[str, ProblemCategory]:
        return {c.code: c for c in ProblemCategory.objects.filter(active=True)}

    category = _kept("categories", load).get(code)
    return copy.copy(category) if category is not None else None


def _case_settings_load() -> CaseSettings:
    row = CaseSettings.objects.order_by("pk").first()
    return row or CaseSettings.objects.create(work_periods=[["08:30", "12:00"], ["13:30", "17:30"]])


def case_settings_get() -> CaseSettings:
    """The office's deadline settings (one row, made with the defaults when missing; kept per
    process). A copy: changing it changes nothing until it is saved."""
    return copy.copy(_kept("case_settings", _case_settings_load))


def _overrides_load() -> dict[date, bool]:
    return dict(CalendarDay.objects.values_list("day", "is_working_day"))


def calendar_get(*, case_settings: CaseSettings | None = None) -> WorkingCalendar:
    """The working calendar: the office's hours and overrides over chinese-calendar. A new
    calendar each time (it collects the years it found no data for)."""
    case_settings = case_settings or case_settings_get()
    periods = tuple(
        (time.fromisoformat(start), time.fromisoformat(end))
        for start, end in (case_settings.work_periods or [["08:30", "12:00"], ["13:30", "17:30"]])
    )
    overrides = _kept("calendar_overrides", _overrides_load)
    return WorkingCalendar(
        tz=ZoneInfo(settings.TIME_ZONE),
        periods=periods,
        overrides=overrides,
        warn_share=float(case_settings.warn_at_share),
    )


def user_department_ids(*, user: User) -> frozenset[int]:
    return grid_selectors.user_scope(user=user).department_ids


def case_scope_q(*, user: User) -> Q:
    """Cases in the user's grid subtrees, plus cases dispatched to the user's departments."""
    scope = grid_selectors.user_scope(user=user)
    if scope.everything:
        return Q()
    q = grid_selectors.grid_scope_q(user=user, prefix="grid__")
    if scope.department_ids:
        ids = list(scope.department_ids)
        q |= Q(department_id__in=ids) | Q(
            pk__in=CaseAssignment.objects.filter(department_id__in=ids, active=True).values(
                "case_id"
            )
        )
    return q


def overdue_q(*, now: datetime) -> Q:
    """Open cases past a deadline that is still running."""
    return Q(status__in=OPEN_STATES) & (
        Q(response_deadline__lt=now, arrived_at__isnull=True)
        | Q(status="filed", dispatch_deadline__lt=now)
        | Q(status__in=["dispatched", "handling"], handling_deadline__lt=now)
        | Q(status="fed_back", verify_deadline__lt=now)
    )


def case_list(
    *,
    user: User,
    status: str | None = None,
    grid=None,
    category: str | None = None,
    channel: str | None = None,
    overdue: bool | None = None,
    reported_after: datetime | None = None,
    reported_before: datetime | None = None,
    department=None,
):
    qs = Case.objects.filter(case_scope_q(user=user))
    if status:
        qs = qs.filter(status=status)
    if grid is not None:
        qs = qs.filter(grid_selectors.subtree_q(grid=grid, prefix="grid__"))
    if category:
        qs = qs.filter(category__code=category)
    if channel:
        qs = qs.filter(channel=channel)
    if overdue is not None:
        late = overdue_q(now=timezone.now())
        qs = qs.filter(late) if overdue else qs.exclude(late)
    if reported_after:
        qs = qs.filter(reported_at__gte=reported_after)
    if reported_before:
        qs = qs.filter(reported_at__lt=reported_before)
    if department is not None:
        qs = qs.filter(department=department)
    # the grid's outline (tens of KB for a real village) is not read for a list of cases
    return qs.select_related("grid", "category", "department").defer("grid__boundary")


def case_get(*, user: User, pk: int) -> Case:
    case = case_list(user=user).defer(None).filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def case_photo_get(*, user: User, pk: int, photo_pk: int) -> CasePhoto:
    """A photo of a case the user may see (404 otherwise: evidence is not public)."""
    photo = CasePhoto.objects.filter(case=case_get(user=user, pk=pk), pk=photo_pk).first()
    if photo is None:
        raise Http404
    return photo


def actor_kinds(*, user: User, case: Case) -> set[Actor]:
    """What ``user`` is to ``case`` in the transition table's terms (two queries)."""
    if user.is_superuser:
        return set(Actor) - {Actor.SYSTEM}
    roles = grid_selectors.user_roles_over(user=user, grid=case.grid)
    kinds: set[Actor] = set()
    if roles & {Role.DISPATCHER, Role.OFFICE, Role.PLATFORM}:
        kinds.add(Actor.DISPATCHER)
    if roles & {Role.DIRECT_RESPONSIBLE, Role.OFFICER}:
        kinds.add(Actor.OFFICER)
    if roles & {Role.INSPECTOR, Role.SUPERVISOR}:
        kinds.add(Actor.INSPECTOR)
    if roles & {Role.PRINCIPAL, Role.LEADER, Role.DEPUTY_LEADER, Role.DIRECT_RESPONSIBLE}:
        kinds.add(Actor.PRINCIPAL)
    if case.department_id:
        on = timezone.localdate()
        departments = {case.department_id} | set(
            CaseAssignment.objects.filter(case=case, active=True).values_list(
                "department_id", flat=True
            )
        )
        if DepartmentMembership.objects.filter(
            grid_selectors.active_q(on), user=user, department_id__in=departments
        ).exists():
            kinds.add(Actor.HANDLER)
    return kinds


# --- a case's deadlines and their traffic lights ------------------------------------------------

# States in which no deadline runs any more (evaluation closes the case's clock).
CLOCK_STOPPED = ("rejected", "voided", "assessed", "evaluated")


@dataclass
class DeadlineState:
    name: str  # response / dispatch / handling / verify
    start: datetime
    due: datetime
    done: datetime | None
    light: str  # green / yellow / red while running; done / late when met; paused; stopped
    warn_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.light in ("green", "yellow", "red")


def deadline_outcomes(case: Case) -> dict[str, bool | None]:
    """Each deadline's outcome: as the step that completed it settled it (``<deadline>_met``),
    else missed (``False``) once the sweep recorded it passing while the step was pending (its
    ``breach`` row), else ``None`` (running, or not set). Reads ``case.breaches`` (prefetched
    by the detail views; one query otherwise)."""
    passed = {b.deadline for b in case.breaches.all() if b.level == CaseBreach.Level.BREACH}
    outcomes: dict[str, bool | None] = {}
    for deadline in CaseBreach.Deadline.values:
        met = getattr(case, f"{deadline}_met")
        outcomes[deadline] = met if met is not None else (False if deadline in passed else None)
    return outcomes


def case_deadline_states(
    case: Case, *, now: datetime, calendar: WorkingCalendar
) -> list[DeadlineState]:
    """A case's deadlines as the pages and the API show them: the on-site response counts
    wall-clock time (Zhejiang §4(4)2), the step limits count working time on the calendar; the
    light is green to 80 % of the time allowed, yellow to 100 %, red past it."""
    states = []
    for name, start, due, done, working in (
        ("response", case.reported_at, case.response_deadline, case.arrived_at, False),
        ("dispatch", case.filed_at, case.dispatch_deadline, case.dispatched_at, True),
        ("handling", case.dispatched_at, case.handling_deadline, case.fed_back_at, True),
        ("verify", case.fed_back_at, case.verify_deadline, case.verified_at, True),
    ):
        if due is None or start is None:
            continue
        state = DeadlineState(name, start, due, done, "green")
        if done is not None:
            state.light = "done" if done <= due else "late"
        elif case.status in CLOCK_STOPPED:
            state.light = "stopped"
        elif case.status == "suspended" and name == "handling":
            state.light = "paused"
        else:
            state.light = traffic_light(
                start=start, deadline=due, now=now, calendar=calendar, working=working
            )
            if working:
                allowed = calendar.working_time_between(start, due)
                state.warn_at = calendar.add_working_time(start, allowed * calendar.warn_share)
            else:
                state.warn_at = start + (due - start) * calendar.warn_share
        states.append(state)
    return states
