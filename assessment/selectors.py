"""Reads of the assessment app, scoped by ``grids.selectors`` like everything else.

A person sees the score sheets and records of the grids in their scope (a county officer sees
the own county's sheet, the city office all of them); the public disclosure lists need no
login and show only what was published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from assessment import scoring
from assessment.models import (
    AssessmentFact,
    HalfYearReport,
    HelpRequest,
    JointMeeting,
    MeetingDecision,
    PenaltyDecision,
    PerformanceFigure,
    PerformancePeriod,
    Rule,
    RuleItem,
    RuleSet,
    ScoreItem,
    ScoreLine,
    ScoreSheet,
    SelfEvaluation,
    Supervision,
)
from core.models import User
from grids import selectors as grid_selectors
from grids.models import Department, DepartmentMembership, Grid, GridRole, Role

# Roles that may record a grid's meetings, reports, supervisions and self-evaluation.
RECORD_ROLES = frozenset(
    {Role.OFFICE, Role.LEADER, Role.DEPUTY_LEADER, Role.PRINCIPAL, Role.DIRECT_RESPONSIBLE}
)


# --- who may do what ---------------------------------------------------------------------------


def is_city_office(*, user: User | None) -> bool:
    """The leadership-group office of the city (an ``office`` role on a root grid), which runs
    the assessment, enters its facts and locks it; or a superuser."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return GridRole.objects.filter(
        grid_selectors.active_q(timezone.localdate()),
        user=user,
        role=Role.OFFICE,
        grid__parent__isnull=True,
    ).exists()


@dataclass(frozen=True)
class RecordRights:
    """Where a user may record (a grid's meetings, reports, supervisions, answers): on the
    grids at or below those where they hold one of ``RECORD_ROLES``, and for the departments
    they belong to. Read once (``record_rights``), then asked per row without a query."""

    everywhere: bool
    ranges: tuple[tuple[int, int, int], ...]  # (tree_id, lft, rght) of the grids held
    department_ids: frozenset[int]

    def for_grid(self, grid: Grid) -> bool:
        """A responsible person or the office of the grid or of a grid above it."""
        return self.everywhere or any(
            tree_id == grid.tree_id and lft <= grid.lft and grid.rght <= rght
            for tree_id, lft, rght in self.ranges
        )

    def for_department(self, department: Department) -> bool:
        """A current member of the department, or whoever may record for its grid."""
        return department.pk in self.department_ids or self.for_grid(department.grid)


def record_rights(*, user: User) -> RecordRights:
    """The user's ``RecordRights`` today (two queries; none for a superuser)."""
    if user.is_superuser:
        return RecordRights(True, (), frozenset())
    on = timezone.localdate()
    ranges = GridRole.objects.filter(
        grid_selectors.active_q(on), user=user, role__in=RECORD_ROLES
    ).values_list("grid__tree_id", "grid__lft", "grid__rght")
    departments = DepartmentMembership.objects.filter(
        grid_selectors.active_q(on), user=user
    ).values_list("department_id", flat=True)
    return RecordRights(False, tuple(ranges), frozenset(departments))


def may_record_for_grid(*, user: User, grid: Grid) -> bool:
    return record_rights(user=user).for_grid(grid)


def may_record_for_department(*, user: User, department: Department) -> bool:
    return record_rights(user=user).for_department(department)


# --- rule sets ---------------------------------------------------------------------------------


def rule_set_get(*, year: int) -> RuleSet | None:
    """The year's rule set with its items and rules (three queries)."""
    return (
        RuleSet.objects.filter(year=year)
        .prefetch_related(
            Prefetch("items", queryset=RuleItem.objects.order_by("order", "code")),
            Prefetch("items__rules", queryset=Rule.objects.order_by("order", "code")),
        )
        .first()
    )


def rule_set_spec(*, rule_set: RuleSet) -> scoring.RuleSetSpec:
    """The rule set as the pure scoring module reads it (``rule_set`` from ``rule_set_get``)."""
    return scoring.RuleSetSpec(
        items=tuple(
            scoring.ItemSpec(
                code=item.code,
                group=item.group,
                max_points=item.max_points,
                rules=tuple(
                    scoring.RuleSpec(code=r.code, kind=r.kind, points=r.points)
                    for r in item.rules.all()
                ),
            )
            for item in rule_set.items.all()
        ),
        grades=scoring.Grades(
            excellent_from=rule_set.excellent_from,
            good_from=rule_set.good_from,
            pass_from=rule_set.pass_from,
        ),
        total_floor=rule_set.total_floor,
    )


def year_locked(*, year: int) -> bool:
    return RuleSet.objects.filter(year=year, locked_at__isnull=False).exists()


# --- score sheets ------------------------------------------------------------------------------


def sheet_list(*, user: User, year: int, grid: Grid | None = None) -> QuerySet[ScoreSheet]:
    """The year's sheets the user may see, best first, with items and lines (three queries)."""
    qs = ScoreSheet.objects.filter(year=year)
    if not is_city_office(user=user):
        qs = qs.filter(grid_selectors.grid_scope_q(user=user, prefix="grid__"))
    if grid is not None:
        qs = qs.filter(grid=grid)
    return (
        qs.select_related("grid", "rule_set")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ScoreItem.objects.select_related("rule_item").order_by("order", "code"),
            ),
            Prefetch(
                "items__lines",
                queryset=ScoreLine.objects.select_related("rule").order_by("order", "code"),
            ),
        )
        .order_by("-total", "grid__code")
    )


def sheet_get(*, user: User, year: int, grid_code: str) -> ScoreSheet:
    sheet = sheet_list(user=user, year=year).filter(grid__code=grid_code).first()
    if sheet is None:
        raise Http404
    return sheet


@dataclass(frozen=True)
class RankRow:
    rank: int
    sheet: ScoreSheet


def ranking(*, user: User, year: int) -> list[RankRow]:
    """Every visible sheet of the year by total, best first; equal totals share a rank
    (1, 2, 2, 4 …). One query."""
    sheets = list(
        ScoreSheet.objects.filter(
            Q(year=year)
            & (
                Q()
                if is_city_office(user=user)
                else grid_selectors.grid_scope_q(user=user, prefix="grid__")
            )
        )
        .select_related("grid")
        .order_by("-total", "grid__code")
    )
    rows, rank, last = [], 0, None
    for index, sheet in enumerate(sheets, start=1):
        if sheet.total != last:
            rank, last = index, sheet.total
        rows.append(RankRow(rank=rank, sheet=sheet))
    return rows


def sheet_years() -> list[int]:
    """The years that have a rule set, newest first (one query): the pages' year switcher."""
    return list(RuleSet.objects.order_by("-year").values_list("year", flat=True))


def year_state(*, year: int) -> RuleSet | None:
    """The year's rule set without its items (one query): whether it exists and is locked."""
    return RuleSet.objects.filter(year=year).only("year", "name", "locked_at").first()


def sheet_line_get(*, user: User, year: int, grid_code: str, code: str) -> ScoreLine:
    """One applied rule of a visible sheet with its item, sheet and grid (one query after the
    scope), or 404."""
    qs = ScoreLine.objects.filter(
        item__sheet__year=year, item__sheet__grid__code=grid_code, code=code
    )
    if not is_city_office(user=user):
        qs = qs.filter(grid_selectors.grid_scope_q(user=user, prefix="item__sheet__grid__"))
    line = qs.select_related(
        "rule", "item", "item__rule_item", "item__sheet", "item__sheet__grid"
    ).first()
    if line is None:
        raise Http404
    return line


def assessed_grids(*, user: User, year: int) -> QuerySet[Grid]:
    """The grids the year's assessment scores (level 2 unless the rule set says otherwise) that
    the user may see, in code order."""
    state = RuleSet.objects.filter(year=year).values_list("grid_level", flat=True).first()
    qs = Grid.objects.filter(level=state or 2).order_by("code")
    if not is_city_office(user=user):
        qs = qs.filter(grid_selectors.grid_scope_q(user=user))
    return qs


def fact_rules(*, year: int) -> QuerySet[Rule]:
    """The rules of the year the office enters as facts, in the table's order."""
    return (
        Rule.objects.filter(rule_set__year=year, evidence=Rule.FACT)
        .select_related("item")
        .order_by("item__order", "order", "code")
    )


def fact_get(*, user: User, pk: int) -> AssessmentFact:
    qs = AssessmentFact.objects.filter(pk=pk)
    if not is_city_office(user=user):
        qs = qs.filter(grid_selectors.grid_scope_q(user=user, prefix="grid__"))
    fact = qs.select_related("rule", "rule__item", "grid", "entered_by", "withdrawn_by").first()
    if fact is None:
        raise Http404
    return fact


# --- facts and records -------------------------------------------------------------------------


def fact_list(*, user: User, year: int, grid: Grid | None = None) -> QuerySet[AssessmentFact]:
    qs = AssessmentFact.objects.filter(year=year)
    if not is_city_office(user=user):
        qs = qs.filter(grid_selectors.grid_scope_q(user=user, prefix="grid__"))
    if grid is not None:
        qs = qs.filter(grid=grid)
    return qs.select_related("rule", "grid", "entered_by", "withdrawn_by").order_by(
        "grid__code", "rule__code", "pk"
    )


def _scoped(qs: QuerySet, *, user: User, prefix: str) -> QuerySet:
    return qs.filter(grid_selectors.grid_scope_q(user=user, prefix=prefix))


def _in_subtree(qs: QuerySet, *, grid: Grid | None, prefix: str) -> QuerySet:
    return qs if grid is None else qs.filter(grid_selectors.subtree_q(grid=grid, prefix=prefix))


def _in_year(qs: QuerySet, *, year: int | None, field: str) -> QuerySet:
    if year is None:
        return qs
    return qs.filter(**{f"{field}__gte": date(year, 1, 1), f"{field}__lte": date(year, 12, 31)})


def meeting_list(
    *, user: User, grid: Grid | None = None, year: int | None = None
) -> QuerySet[JointMeeting]:
    qs = _scoped(JointMeeting.objects.all(), user=user, prefix="grid__")
    qs = _in_year(_in_subtree(qs, grid=grid, prefix="grid__"), year=year, field="held_on")
    return (
        qs.select_related("grid", "recorded_by")
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=MeetingDecision.objects.select_related("department").order_by("pk"),
            )
        )
        .order_by("-held_on", "-pk")
    )


def meeting_get(*, user: User, pk: int) -> JointMeeting:
    meeting = meeting_list(user=user).filter(pk=pk).first()
    if meeting is None:
        raise Http404
    return meeting


def decision_get(*, user: User, pk: int) -> MeetingDecision:
    decision = (
        MeetingDecision.objects.filter(
            grid_selectors.grid_scope_q(user=user, prefix="meeting__grid__")
            | grid_selectors.department_scope_q(user=user, prefix="department__"),
            pk=pk,
        )
        .select_related("meeting", "meeting__grid", "department")
        .first()
    )
    if decision is None:
        raise Http404
    return decision


def report_list(
    *, user: User, grid: Grid | None = None, year: int | None = None
) -> QuerySet[HalfYearReport]:
    qs = HalfYearReport.objects.filter(
        grid_selectors.grid_scope_q(user=user, prefix="grid__")
        | grid_selectors.department_scope_q(user=user, prefix="department__")
    )
    qs = _in_subtree(qs, grid=grid, prefix="grid__")
    if year is not None:
        qs = qs.filter(year=year)
    return qs.select_related("grid", "department", "submitted_by").order_by(
        "-year", "-half", "grid__code", "pk"
    )


def report_get(*, user: User, pk: int) -> HalfYearReport:
    report = report_list(user=user).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


def help_request_list(*, user: User, grid: Grid | None = None) -> QuerySet[HelpRequest]:
    scope = grid_selectors.grid_scope_q(
        user=user, prefix="from_grid__"
    ) | grid_selectors.grid_scope_q(user=user, prefix="to_grid__")
    qs = HelpRequest.objects.filter(scope)
    if grid is not None:
        qs = qs.filter(grid_selectors.subtree_q(grid=grid, prefix="from_grid__") | Q(to_grid=grid))
    return qs.select_related("from_grid", "to_grid", "requested_by", "answered_by").order_by(
        "-requested_at", "-pk"
    )


def help_request_get(*, user: User, pk: int) -> HelpRequest:
    found = help_request_list(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def supervision_list(
    *, user: User, grid: Grid | None = None, year: int | None = None
) -> QuerySet[Supervision]:
    scope = grid_selectors.grid_scope_q(
        user=user, prefix="supervisor_grid__"
    ) | grid_selectors.grid_scope_q(user=user, prefix="target_grid__")
    qs = Supervision.objects.filter(scope)
    if grid is not None:
        qs = qs.filter(
            grid_selectors.subtree_q(grid=grid, prefix="target_grid__") | Q(supervisor_grid=grid)
        )
    qs = _in_year(qs, year=year, field="held_on")
    # the department's grid tells who may write a row (``RecordRights``); outlines not read
    return (
        qs.select_related("supervisor_grid", "target_grid", "department__grid", "recorded_by")
        .defer("supervisor_grid__boundary", "target_grid__boundary", "department__grid__boundary")
        .order_by("-held_on", "-pk")
    )


def supervision_get(*, user: User, pk: int) -> Supervision:
    found = supervision_list(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def penalty_list(
    *, user: User, grid: Grid | None = None, year: int | None = None
) -> QuerySet[PenaltyDecision]:
    qs = PenaltyDecision.objects.filter(
        grid_selectors.grid_scope_q(user=user, prefix="grid__")
        | grid_selectors.department_scope_q(user=user, prefix="department__")
    )
    qs = _in_year(_in_subtree(qs, grid=grid, prefix="grid__"), year=year, field="decided_on")
    return qs.select_related("department", "grid", "recorded_by").order_by("-decided_on", "-pk")


def penalty_get(*, user: User, pk: int) -> PenaltyDecision:
    found = penalty_list(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def self_evaluation_list(
    *, user: User, grid: Grid | None = None, year: int | None = None
) -> QuerySet[SelfEvaluation]:
    qs = _in_subtree(
        _scoped(SelfEvaluation.objects.all(), user=user, prefix="grid__"),
        grid=grid,
        prefix="grid__",
    )
    if year is not None:
        qs = qs.filter(year=year)
    return qs.select_related("grid", "submitted_by").order_by("-year", "grid__code")


# --- public disclosure (no login) -------------------------------------------------------------


def disclosure_supervisions(*, grid: Grid | None = None) -> QuerySet[Supervision]:
    """Published supervision findings and rectification, newest first (Linyi disclosure rule
    1). Only what was published is shown; nothing needs a login."""
    qs = Supervision.objects.filter(published_at__isnull=False)
    qs = _in_subtree(qs, grid=grid, prefix="target_grid__")
    return qs.select_related("supervisor_grid", "target_grid", "department").order_by(
        "-published_at", "-pk"
    )


def disclosure_penalties(*, grid: Grid | None = None) -> QuerySet[PenaltyDecision]:
    """Published penalty decisions, newest first (Linyi disclosure rule 2)."""
    qs = PenaltyDecision.objects.filter(published_at__isnull=False)
    qs = _in_subtree(qs, grid=grid, prefix="grid__")
    return qs.select_related("department", "grid").order_by("-published_at", "-pk")


# --- performance -------------------------------------------------------------------------------


def performance_period_list() -> QuerySet[PerformancePeriod]:
    return PerformancePeriod.objects.select_related("locked_by").order_by("-starts_on", "kind")


def performance_figures(
    *, user: User, period: PerformancePeriod, subject: str | None = None
) -> QuerySet[PerformanceFigure]:
    """The period's figures the user may see: grids in scope, departments in scope, and
    inspectors — the user themself, or everyone for the office and for people whose scope holds
    grids (their supervisors see their inspectors' figures through the grid rows)."""
    qs = PerformanceFigure.objects.filter(period=period)
    if not is_city_office(user=user):
        qs = qs.filter(
            Q(subject=PerformanceFigure.Subject.GRID)
            & grid_selectors.grid_scope_q(user=user, prefix="grid__")
            | Q(subject=PerformanceFigure.Subject.DEPARTMENT)
            & grid_selectors.department_scope_q(user=user, prefix="department__")
            | Q(subject=PerformanceFigure.Subject.INSPECTOR, user=user)
        )
    if subject:
        qs = qs.filter(subject=subject)
    return qs.select_related("user", "department", "grid").order_by(
        "subject", "grid__code", "department__code", "user__username", "pk"
    )
