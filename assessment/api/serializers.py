"""Serializers of the assessment API: score sheets exactly as API.md "Assessment", the records
of the mechanisms, the public disclosure lists and the performance figures.

Points are JSON numbers (two decimals at most); codes, not database ids, name grids, rules and
departments.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessment.models import (
    AssessmentFact,
    Grade,
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


def Points(**kw):  # noqa: N802 - a field factory
    return serializers.DecimalField(max_digits=7, decimal_places=2, coerce_to_string=False, **kw)


class EvidenceItemSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="app_label.model of the record, e.g. cases.case")
    pk = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()
    url = serializers.CharField(help_text="where the record is shown (page, API or admin)")
    document = serializers.CharField(required=False, help_text="a fact's attached document")


# --- score sheets ------------------------------------------------------------------------------


class ScoreLineSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="code", help_text="rule code, e.g. 3.4.1")
    title = serializers.CharField(source="rule.title")
    kind = serializers.CharField(source="rule.kind")
    points = Points(help_text="signed: what the rule took (or, for a bonus, gave)")
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = ScoreLine
        fields = ["rule", "title", "kind", "instances", "points", "evidence"]

    @extend_schema_field(EvidenceItemSerializer(many=True))
    def get_evidence(self, line) -> list[dict]:
        return line.evidence


class ScoreItemSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="rule_item.title")
    title_en = serializers.CharField(source="rule_item.title_en")
    max = Points(source="max_points", allow_null=True, help_text="maximum, cap, or null")
    score = Points()
    deductions = ScoreLineSerializer(
        source="lines", many=True, help_text="the rules that applied, each with its evidence"
    )

    class Meta:
        model = ScoreItem
        fields = ["code", "title", "title_en", "group", "max", "score", "deductions"]


class ScoreSheetSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    base_score = Points()
    bonus = Points()
    deductions = Points(help_text="the unbounded deductions, ≤ 0")
    total = Points()
    grade = serializers.ChoiceField(choices=Grade.choices)
    items = ScoreItemSerializer(many=True)

    class Meta:
        model = ScoreSheet
        fields = [
            "grid",
            "grid_name",
            "year",
            "base_score",
            "bonus",
            "deductions",
            "total",
            "grade",
            "computed_at",
            "locked_at",
            "items",
        ]


class RankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    grid = serializers.CharField(source="sheet.grid.code")
    grid_name = serializers.CharField(source="sheet.grid.name")
    base_score = Points(source="sheet.base_score")
    bonus = Points(source="sheet.bonus")
    deductions = Points(source="sheet.deductions")
    total = Points(source="sheet.total")
    grade = serializers.CharField(source="sheet.grade")


class RunResultSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    sheets = serializers.IntegerField()
    locked = serializers.BooleanField()


# --- rule sets ---------------------------------------------------------------------------------


class RuleSerializer(serializers.ModelSerializer):
    points = Points(allow_null=True)
    fact_min = Points(allow_null=True)
    fact_max = Points(allow_null=True)

    class Meta:
        model = Rule
        fields = [
            "code",
            "title",
            "title_en",
            "kind",
            "points",
            "evidence",
            "params",
            "fact_min",
            "fact_max",
        ]


class RuleItemSerializer(serializers.ModelSerializer):
    max = Points(source="max_points", allow_null=True)
    rules = RuleSerializer(many=True)

    class Meta:
        model = RuleItem
        fields = [
            "code",
            "section",
            "section_title",
            "title",
            "title_en",
            "content",
            "group",
            "max",
            "rules",
        ]


class RuleSetSerializer(serializers.ModelSerializer):
    excellent_from = Points()
    good_from = Points()
    pass_from = Points()
    total_floor = Points(allow_null=True)
    items = RuleItemSerializer(many=True)

    class Meta:
        model = RuleSet
        fields = [
            "year",
            "name",
            "source",
            "grid_level",
            "excellent_from",
            "good_from",
            "pass_from",
            "total_floor",
            "locked_at",
            "items",
        ]


# --- facts -------------------------------------------------------------------------------------


class FactSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.code")
    rule_title = serializers.CharField(source="rule.title")
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    points = Points()
    entered_by = serializers.CharField(source="entered_by.username")
    withdrawn_by = serializers.CharField(source="withdrawn_by.username", allow_null=True)

    class Meta:
        model = AssessmentFact
        fields = [
            "id",
            "year",
            "grid",
            "grid_name",
            "rule",
            "rule_title",
            "points",
            "occurred_on",
            "note",
            "document",
            "entered_by",
            "entered_at",
            "withdrawn_at",
            "withdrawn_by",
            "withdraw_reason",
        ]


class FactWriteSerializer(serializers.Serializer):
    grid = serializers.RegexField(r"^\d{12,15}$")
    rule = serializers.CharField(max_length=20)
    points = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True
    )
    occurred_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=4000)
    document = serializers.FileField()


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


# --- meetings ----------------------------------------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code", allow_null=True)
    department_name = serializers.CharField(source="department.name", allow_null=True)

    class Meta:
        model = MeetingDecision
        fields = [
            "id",
            "text",
            "issued_as",
            "letter_number",
            "department",
            "department_name",
            "due_on",
            "follow_up",
            "followed_up_at",
            "done_on",
        ]


class MeetingSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    recorded_by = serializers.CharField(source="recorded_by.username")
    decisions = DecisionSerializer(many=True)

    class Meta:
        model = JointMeeting
        fields = [
            "id",
            "grid",
            "grid_name",
            "held_on",
            "kind",
            "title",
            "chaired_by",
            "attendees",
            "minutes",
            "document",
            "recorded_by",
            "recorded_at",
            "decisions",
        ]


class DecisionWriteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    issued_as = serializers.ChoiceField(choices=MeetingDecision.IssuedAs.choices, default="minutes")
    letter_number = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default=""
    )
    department = serializers.CharField(
        max_length=40, required=False, allow_null=True, allow_blank=True
    )
    due_on = serializers.DateField(required=False, allow_null=True)


class MeetingWriteSerializer(serializers.Serializer):
    grid = serializers.RegexField(r"^\d{12,15}$")
    held_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=JointMeeting.Kind.choices, default="regular")
    title = serializers.CharField(max_length=200)
    chaired_by = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    attendees = serializers.ListField(child=serializers.CharField(max_length=100), max_length=200)
    minutes = serializers.CharField(max_length=20000)
    decisions = DecisionWriteSerializer(many=True, required=False, default=list)
    document = serializers.FileField(required=False, allow_null=True)


class FollowUpSerializer(serializers.Serializer):
    follow_up = serializers.CharField(max_length=4000)
    done_on = serializers.DateField(required=False, allow_null=True)


# --- reports, requests, supervisions, penalties, self-evaluations ------------------------------


class ReportSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    department = serializers.CharField(source="department.code", allow_null=True)
    submitted_by = serializers.CharField(source="submitted_by.username")
    late = serializers.BooleanField()

    class Meta:
        model = HalfYearReport
        fields = [
            "id",
            "grid",
            "grid_name",
            "department",
            "year",
            "half",
            "due_on",
            "submitted_at",
            "late",
            "submitted_by",
            "summary",
            "document",
        ]


class ReportWriteSerializer(serializers.Serializer):
    grid = serializers.RegexField(r"^\d{12,15}$")
    department = serializers.CharField(
        max_length=40, required=False, allow_null=True, allow_blank=True
    )
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    half = serializers.IntegerField(min_value=1, max_value=2)
    summary = serializers.CharField(max_length=20000)
    document = serializers.FileField(required=False, allow_null=True)


class HelpRequestSerializer(serializers.ModelSerializer):
    from_grid = serializers.CharField(source="from_grid.code")
    from_grid_name = serializers.CharField(source="from_grid.name")
    to_grid = serializers.CharField(source="to_grid.code")
    to_grid_name = serializers.CharField(source="to_grid.name")
    requested_by = serializers.CharField(source="requested_by.username")
    answered_by = serializers.CharField(source="answered_by.username", allow_null=True)

    class Meta:
        model = HelpRequest
        fields = [
            "id",
            "from_grid",
            "from_grid_name",
            "to_grid",
            "to_grid_name",
            "subject",
            "body",
            "case",
            "document",
            "requested_by",
            "requested_at",
            "status",
            "answer",
            "answered_by",
            "answered_at",
        ]


class HelpRequestWriteSerializer(serializers.Serializer):
    from_grid = serializers.RegexField(r"^\d{12,15}$")
    to_grid = serializers.RegexField(r"^\d{12,15}$", required=False, allow_null=True)
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)
    case = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    document = serializers.FileField(required=False, allow_null=True)


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=20000)


class SupervisionSerializer(serializers.ModelSerializer):
    supervisor_grid = serializers.CharField(source="supervisor_grid.code")
    supervisor_grid_name = serializers.CharField(source="supervisor_grid.name")
    target_grid = serializers.CharField(source="target_grid.code")
    target_grid_name = serializers.CharField(source="target_grid.name")
    department = serializers.CharField(source="department.code", allow_null=True)
    department_name = serializers.CharField(source="department.name", allow_null=True)
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = Supervision
        fields = [
            "id",
            "kind",
            "supervisor_grid",
            "supervisor_grid_name",
            "department",
            "department_name",
            "target_grid",
            "target_grid_name",
            "held_on",
            "topic",
            "findings",
            "rectification_due",
            "rectification",
            "rectified_on",
            "published_at",
            "document",
            "recorded_by",
            "recorded_at",
        ]


class SupervisionWriteSerializer(serializers.Serializer):
    supervisor_grid = serializers.RegexField(r"^\d{12,15}$")
    target_grid = serializers.RegexField(r"^\d{12,15}$")
    department = serializers.CharField(
        max_length=40, required=False, allow_null=True, allow_blank=True
    )
    held_on = serializers.DateField()
    topic = serializers.CharField(max_length=200)
    findings = serializers.CharField(max_length=20000)
    rectification_due = serializers.DateField(required=False, allow_null=True)
    document = serializers.FileField(required=False, allow_null=True)


class RectificationSerializer(serializers.Serializer):
    rectification = serializers.CharField(max_length=20000)
    rectified_on = serializers.DateField(required=False, allow_null=True)


class PenaltySerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name")
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, allow_null=True
    )

    class Meta:
        model = PenaltyDecision
        fields = [
            "id",
            "department",
            "department_name",
            "grid",
            "grid_name",
            "number",
            "party",
            "credit_code",
            "violation",
            "penalty",
            "amount",
            "decided_on",
            "source",
            "case",
            "published_at",
        ]


class PenaltyWriteSerializer(serializers.Serializer):
    department = serializers.CharField(max_length=40)
    grid = serializers.RegexField(r"^\d{12,15}$")
    number = serializers.CharField(max_length=80)
    party = serializers.CharField(max_length=200)
    credit_code = serializers.CharField(max_length=18, required=False, allow_blank=True, default="")
    violation = serializers.CharField(max_length=4000)
    penalty = serializers.CharField(max_length=4000)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    decided_on = serializers.DateField()


class SelfEvaluationSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    score = Points(allow_null=True)
    submitted_by = serializers.CharField(source="submitted_by.username")

    class Meta:
        model = SelfEvaluation
        fields = [
            "id",
            "grid",
            "grid_name",
            "year",
            "score",
            "summary",
            "problems",
            "document",
            "submitted_by",
            "submitted_at",
        ]


class SelfEvaluationWriteSerializer(serializers.Serializer):
    grid = serializers.RegexField(r"^\d{12,15}$")
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    score = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True
    )
    summary = serializers.CharField(max_length=20000)
    problems = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    document = serializers.FileField(required=False, allow_null=True)


# --- the public disclosure lists ---------------------------------------------------------------


class PublicSupervisionSerializer(serializers.ModelSerializer):
    """What the public page shows of a published supervision: no people, no internal notes."""

    supervisor = serializers.SerializerMethodField()
    target_grid = serializers.CharField(source="target_grid.name")

    class Meta:
        model = Supervision
        fields = [
            "id",
            "supervisor",
            "target_grid",
            "held_on",
            "topic",
            "findings",
            "rectification_due",
            "rectification",
            "rectified_on",
            "published_at",
        ]

    def get_supervisor(self, supervision) -> str:
        if supervision.department_id:
            return supervision.department.name
        return supervision.supervisor_grid.name


class PublicPenaltySerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.name")
    grid = serializers.CharField(source="grid.name")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, allow_null=True
    )

    class Meta:
        model = PenaltyDecision
        fields = [
            "id",
            "department",
            "grid",
            "number",
            "party",
            "credit_code",
            "violation",
            "penalty",
            "amount",
            "decided_on",
            "published_at",
        ]


# --- performance -------------------------------------------------------------------------------


def _rate(num: int, den: int | None) -> float | None:
    return round(num / den, 4) if den else None


class PeriodSerializer(serializers.ModelSerializer):
    locked_by = serializers.CharField(source="locked_by.username", allow_null=True)

    class Meta:
        model = PerformancePeriod
        fields = [
            "id",
            "kind",
            "starts_on",
            "ends_on",
            "computed_at",
            "locked_at",
            "locked_by",
            "cases_assessed",
        ]


class PeriodWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PerformancePeriod.Kind.choices)
    starts_on = serializers.DateField()


class FigureSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code", allow_null=True)
    grid_name = serializers.CharField(source="grid.name", allow_null=True)
    department = serializers.CharField(source="department.code", allow_null=True)
    department_name = serializers.CharField(source="department.name", allow_null=True)
    user = serializers.CharField(source="user.username", allow_null=True)
    on_time_dispatch_rate = serializers.SerializerMethodField()
    on_time_closure_rate = serializers.SerializerMethodField()
    closure_rate = serializers.SerializerMethodField()
    rework_rate = serializers.SerializerMethodField()
    verified_on_time_rate = serializers.SerializerMethodField()
    plan_completion = serializers.SerializerMethodField()

    class Meta:
        model = PerformanceFigure
        fields = [
            "subject",
            "grid",
            "grid_name",
            "department",
            "department_name",
            "user",
            "cases",
            "dispatched",
            "dispatched_on_time",
            "on_time_dispatch_rate",
            "handled",
            "handled_on_time",
            "on_time_closure_rate",
            "closed",
            "closure_rate",
            "fed_back",
            "reworked",
            "rework_rate",
            "returns",
            "reported",
            "verified",
            "verified_on_time",
            "verified_on_time_rate",
            "plan_planned",
            "plan_done",
            "plan_completion",
        ]

    def get_on_time_dispatch_rate(self, f) -> float | None:
        return _rate(f.dispatched_on_time, f.dispatched)

    def get_on_time_closure_rate(self, f) -> float | None:
        return _rate(f.handled_on_time, f.handled)

    def get_closure_rate(self, f) -> float | None:
        return _rate(f.closed, f.cases)

    def get_rework_rate(self, f) -> float | None:
        return _rate(f.reworked, f.fed_back)

    def get_verified_on_time_rate(self, f) -> float | None:
        return _rate(f.verified_on_time, f.verified)

    def get_plan_completion(self, f) -> float | None:
        return _rate(f.plan_done or 0, f.plan_planned)
