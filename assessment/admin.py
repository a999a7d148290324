"""The office's admin for the assessment.

The rule sets are the office's data: an unlocked year's items and rules can be edited here (a
locked year's never). Score sheets, facts and the mechanisms' records are read here, scoped like
everything else; they are written through the API, which calls ``assessment.services``.
"""

from django.contrib import admin

from assessment.models import (
    AssessmentFact,
    AssessmentLog,
    HalfYearReport,
    HelpRequest,
    JointMeeting,
    PenaltyDecision,
    PerformancePeriod,
    Rule,
    RuleItem,
    RuleSet,
    ScoreSheet,
    SelfEvaluation,
    Supervision,
)
from grids.admin import ScopedAdminMixin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _UnlockedOnly:
    """Editable while the rule set's year is not locked."""

    def _rule_set(self, obj):
        if obj is None:
            return None
        return obj if isinstance(obj, RuleSet) else obj.rule_set

    def has_change_permission(self, request, obj=None):
        rule_set = self._rule_set(obj)
        if rule_set is not None and rule_set.locked_at:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class RuleInline(_UnlockedOnly, admin.TabularInline):
    model = Rule
    fk_name = "item"
    extra = 0
    fields = [
        "code",
        "title",
        "kind",
        "points",
        "evidence",
        "params",
        "fact_min",
        "fact_max",
        "order",
    ]

    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.rule_set.locked_at


@admin.register(RuleSet)
class RuleSetAdmin(_UnlockedOnly, admin.ModelAdmin):
    list_display = [
        "year",
        "name",
        "grid_level",
        "excellent_from",
        "good_from",
        "pass_from",
        "locked_at",
    ]
    readonly_fields = ["locked_at", "created_at"]


@admin.register(RuleItem)
class RuleItemAdmin(_UnlockedOnly, admin.ModelAdmin):
    list_display = ["rule_set", "code", "title", "group", "max_points"]
    list_filter = ["rule_set", "group"]
    inlines = [RuleInline]
    readonly_fields = ["rule_set"]

    def has_add_permission(self, request):
        return False


@admin.register(ScoreSheet)
class ScoreSheetAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = [
        "year",
        "grid",
        "base_score",
        "bonus",
        "deductions",
        "total",
        "grade",
        "locked_at",
    ]
    list_filter = ["year", "grade"]


@admin.register(AssessmentFact)
class AssessmentFactAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ["year", "grid", "rule", "points", "entered_by", "entered_at", "withdrawn_at"]
    list_filter = ["year"]


@admin.register(JointMeeting)
class JointMeetingAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ["held_on", "grid", "title", "kind"]


@admin.register(HalfYearReport)
class HalfYearReportAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ["year", "half", "grid", "department", "due_on", "submitted_at"]


@admin.register(HelpRequest)
class HelpRequestAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    grid_prefix = "from_grid__"
    list_display = ["requested_at", "from_grid", "to_grid", "subject", "status"]


@admin.register(Supervision)
class SupervisionAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    grid_prefix = "target_grid__"
    list_display = [
        "held_on",
        "kind",
        "supervisor_grid",
        "department",
        "target_grid",
        "published_at",
    ]


@admin.register(PenaltyDecision)
class PenaltyDecisionAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ["decided_on", "number", "department", "party", "published_at"]


@admin.register(SelfEvaluation)
class SelfEvaluationAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ["year", "grid", "score", "submitted_at"]


@admin.register(PerformancePeriod)
class PerformancePeriodAdmin(ReadOnlyAdmin):
    list_display = ["kind", "starts_on", "ends_on", "computed_at", "locked_at", "cases_assessed"]


@admin.register(AssessmentLog)
class AssessmentLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "year", "grid", "actor"]
    list_filter = ["action", "year"]
