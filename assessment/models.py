"""The yearly assessment of county-level grids (DOMAIN §7.1), the records of the six mechanisms
it reads (DOMAIN §6: reports, communication, supervision, disclosure) and the step-8
performance periods (DOMAIN §7.2).

- The rule set is data, one per year (``RuleSet`` → ``RuleItem`` → ``Rule``): the Linyi table is
  installed by ``assessment.defaults``; another city's scheme is another rule set.
- Each rule is counted by an evidence collector (``assessment.evidence``) or from facts the
  office enters with a document (``AssessmentFact``).
- A run writes one ``ScoreSheet`` per county-level grid with its items and lines; each line keeps
  the evidence (records or facts) that caused it. A locked sheet never changes.

Only ``assessment.services`` writes these tables.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Department, Grid

POINTS = {"max_digits": 7, "decimal_places": 2}


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


# --- the rule set -----------------------------------------------------------------------------


class RuleSet(models.Model):
    """The scoring scheme of one year (Linyi: 临政办字〔2017〕121号 annex 3 and its rules)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    source = models.CharField(_("from the notice"), max_length=300, blank=True)
    grid_level = models.PositiveSmallIntegerField(
        _("level of the grids assessed"),
        default=2,
        help_text=_("2: the county-level grids (二级网格)."),
    )
    excellent_from = models.DecimalField(_("excellent from"), default=Decimal(90), **POINTS)
    good_from = models.DecimalField(_("good from"), default=Decimal(80), **POINTS)
    pass_from = models.DecimalField(_("pass from"), default=Decimal(60), **POINTS)
    total_floor = models.DecimalField(
        _("total never below"),
        null=True,
        blank=True,
        default=Decimal(0),
        help_text=_("Empty: the unbounded deductions may take the total below zero."),
        **POINTS,
    )
    created_at = models.DateTimeField(default=timezone.now)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("assessment rule set")
        verbose_name_plural = _("assessment rule sets")

    def __str__(self) -> str:
        return f"{self.year} {self.name}"


class RuleItem(models.Model):
    """A row of the notice's table: an item with its maximum (1.1 … 3.7), a bonus group with
    its cap (B1–B3) or an unbounded deduction (D1–D3)."""

    class Group(models.TextChoices):
        BASE = "base", _("Base item")
        BONUS = "bonus", _("Bonus")
        DEDUCTION = "deduction", _("Deduction")

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=10)
    section = models.CharField(_("section"), max_length=10)
    section_title = models.CharField(_("section title"), max_length=200)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    content = models.TextField(_("what is assessed"), blank=True)
    group = models.CharField(_("group"), max_length=10, choices=Group.choices)
    max_points = models.DecimalField(
        _("maximum / cap"),
        null=True,
        blank=True,
        help_text=_("A base item's points, a bonus group's cap; empty for unbounded deductions."),
        **POINTS,
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rule_set", "order", "code"]
        verbose_name = _("assessment item")
        verbose_name_plural = _("assessment items")
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "code"], name="rule_item_code_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Rule(models.Model):
    """One scoring rule of an item (评分细则), e.g. "−1 per case not closed in time"."""

    class Kind(models.TextChoices):
        ZERO_IF = "zero_if", _("Item scores 0 if found")
        PER_INSTANCE = "per_instance", _("Points per instance")
        ONCE = "once", _("Points once if found")
        BONUS_PER = "bonus_per", _("Bonus per instance")
        DEDUCTION_PER = "deduction_per", _("Deduction per instance")

    FACT = "fact"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    item = models.ForeignKey(RuleItem, on_delete=models.CASCADE, related_name="rules")
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    points = models.DecimalField(
        _("points"),
        null=True,
        blank=True,
        help_text=_("Signed: negative for a deduction; empty for “item scores 0”."),
        **POINTS,
    )
    evidence = models.CharField(
        _("evidence"),
        max_length=60,
        help_text=_("The name of an evidence collector, or “fact” for facts the office enters."),
    )
    params = models.JSONField(_("collector parameters"), default=dict, blank=True)
    fact_min = models.DecimalField(_("lowest points of an entry"), null=True, blank=True, **POINTS)
    fact_max = models.DecimalField(_("highest points of an entry"), null=True, blank=True, **POINTS)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rule_set", "order", "code"]
        verbose_name = _("assessment rule")
        verbose_name_plural = _("assessment rules")
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "code"], name="rule_code_uniq"),
            models.CheckConstraint(
                condition=Q(kind="zero_if") | Q(points__isnull=False), name="rule_points_set"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_fact(self) -> bool:
        return self.evidence == self.FACT


# --- facts the office enters ------------------------------------------------------------------


class AssessmentFact(models.Model):
    """An instance of a rule the system cannot count itself (a criticism, a media report, a
    leading group not set up …), entered by the office with the document that proves it."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="facts")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="assessment_facts")
    year = models.PositiveSmallIntegerField(_("year"))
    points = models.DecimalField(_("points"), **POINTS)
    occurred_on = models.DateField(_("occurred on"), null=True, blank=True)
    note = models.TextField(_("note"))
    document = models.FileField(_("document"), upload_to="assessment/facts/%Y/")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdraw_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["year", "grid", "rule", "pk"]
        verbose_name = _("assessment fact")
        verbose_name_plural = _("assessment facts")
        indexes = [models.Index(fields=["year", "grid"])]

    def __str__(self) -> str:
        return f"{self.year} {self.grid_id} {self.rule_id} {self.points}"


# --- records of the mechanisms (DOMAIN §6) ----------------------------------------------------


class JointMeeting(models.Model):
    """A joint meeting (联席会议) of a grid's leading group: twice a year, plus ad-hoc ones."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular")
        AD_HOC = "ad_hoc", _("Ad hoc")

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="joint_meetings")
    held_on = models.DateField(_("held on"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REGULAR)
    title = models.CharField(_("title"), max_length=200)
    chaired_by = models.CharField(_("chaired by"), max_length=100, blank=True)
    attendees = models.JSONField(_("attendees"), default=list)
    minutes = models.TextField(_("minutes"))
    document = models.FileField(
        _("minutes (document)"), upload_to="assessment/meetings/%Y/", blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("joint meeting")
        verbose_name_plural = _("joint meetings")
        indexes = [models.Index(fields=["grid", "held_on"])]

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"


class MeetingDecision(models.Model):
    """A decision of a joint meeting, issued as minutes or as a supervision letter (督办函) to a
    department, with its follow-up tracked."""

    class IssuedAs(models.TextChoices):
        MINUTES = "minutes", _("Meeting minutes")
        SUPERVISION_LETTER = "supervision_letter", _("Supervision letter")

    meeting = models.ForeignKey(JointMeeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField(_("decision"))
    issued_as = models.CharField(_("issued as"), max_length=20, choices=IssuedAs.choices)
    letter_number = models.CharField(_("letter number"), max_length=60, blank=True)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_decisions",
        verbose_name=_("department to act"),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    follow_up = models.TextField(_("follow-up"), blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        ordering = ["meeting", "pk"]
        verbose_name = _("meeting decision")
        verbose_name_plural = _("meeting decisions")

    def __str__(self) -> str:
        return self.text[:60]


class HalfYearReport(models.Model):
    """A half-yearly report (DOMAIN §6 "report"): a county-level grid's report to the city office
    (patrol ledger, supervision, work summary), due 10 July for the first half and 10 January of
    the next year for the second; or, with ``department`` set, a department's report of its
    ledger to its grid's office (Linyi rules 3.2 and 3.7)."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="half_year_reports")
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="half_year_reports",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    half = models.PositiveSmallIntegerField(_("half"), choices=[(1, "H1"), (2, "H2")])
    due_on = models.DateField(_("due on"))
    submitted_at = models.DateTimeField(_("submitted at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(_("summary"))
    document = models.FileField(_("document"), upload_to="assessment/reports/%Y/", blank=True)

    class Meta:
        ordering = ["-year", "-half", "grid"]
        verbose_name = _("half-year report")
        verbose_name_plural = _("half-year reports")
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "year", "half"],
                condition=Q(department__isnull=True),
                name="half_year_report_grid_uniq",
            ),
            models.UniqueConstraint(
                fields=["department", "year", "half"],
                condition=Q(department__isnull=False),
                name="half_year_report_department_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grid_id} {self.year}H{self.half}"

    @property
    def late(self) -> bool:
        return timezone.localdate(self.submitted_at) > self.due_on


class HelpRequest(models.Model):
    """A lower grid asks an upper grid for help with a problem it cannot handle (Linyi report
    rule 2; in writing from a county to the city, disposal rule 4)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")

    from_grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="help_requests_sent")
    to_grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, related_name="help_requests_received"
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("request"))
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    document = models.FileField(_("document"), upload_to="assessment/requests/%Y/", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("request for help")
        verbose_name_plural = _("requests for help")

    def __str__(self) -> str:
        return self.subject


class Supervision(models.Model):
    """One level supervises the next (一级督一级): a comprehensive supervision by a grid's office,
    or a department's supervision of its own matters, of a lower grid — findings,
    rectification, and whether it was published."""

    class Kind(models.TextChoices):
        COMPREHENSIVE = "comprehensive", _("Comprehensive (by the office)")
        DEPARTMENT = "department", _("By a department, of its own matters")

    supervisor_grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, related_name="supervisions_made"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="supervisions"
    )
    target_grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, related_name="supervisions_received"
    )
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    held_on = models.DateField(_("held on"))
    topic = models.CharField(_("topic"), max_length=200)
    findings = models.TextField(_("findings"))
    rectification_due = models.DateField(_("rectify by"), null=True, blank=True)
    rectification = models.TextField(_("rectification"), blank=True)
    rectified_on = models.DateField(_("rectified on"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    document = models.FileField(_("document"), upload_to="assessment/supervisions/%Y/", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("supervision")
        verbose_name_plural = _("supervisions")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="comprehensive", department__isnull=True)
                | Q(kind="department", department__isnull=False),
                name="supervision_kind_department",
            )
        ]
        indexes = [
            models.Index(fields=["supervisor_grid", "held_on"]),
            models.Index(
                fields=["published_at"],
                condition=Q(published_at__isnull=False),
                name="supervision_published_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.held_on} {self.topic}"


class PenaltyDecision(models.Model):
    """An administrative penalty decision of a department (行政处罚决定), published for
    disclosure (Linyi disclosure rule 2)."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="penalty_decisions"
    )
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="penalty_decisions")
    number = models.CharField(_("decision number"), max_length=80)
    party = models.CharField(_("party penalised"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    violation = models.TextField(_("violation"))
    penalty = models.TextField(_("penalty"))
    amount = models.DecimalField(
        _("fine (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    decided_on = models.DateField(_("decided on"))
    source = models.ForeignKey(
        "inspections.PollutionSource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_on", "-pk"]
        verbose_name = _("penalty decision")
        verbose_name_plural = _("penalty decisions")
        constraints = [
            models.UniqueConstraint(fields=["department", "number"], name="penalty_number_uniq")
        ]
        indexes = [models.Index(fields=["department", "decided_on"])]

    def __str__(self) -> str:
        return self.number


class SelfEvaluation(models.Model):
    """A grid's yearly evaluation of its own running, reported upward (Yiyang; DOMAIN §7.3)."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="self_evaluations")
    year = models.PositiveSmallIntegerField(_("year"))
    score = models.DecimalField(_("own score"), null=True, blank=True, **POINTS)
    summary = models.TextField(_("summary"))
    problems = models.TextField(_("problems found"), blank=True)
    document = models.FileField(_("document"), upload_to="assessment/self/%Y/", blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "grid"]
        verbose_name = _("self-evaluation")
        verbose_name_plural = _("self-evaluations")
        constraints = [
            models.UniqueConstraint(fields=["grid", "year"], name="self_evaluation_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.grid_id} {self.year}"


# --- score sheets -----------------------------------------------------------------------------


class ScoreSheet(models.Model):
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="score_sheets")
    year = models.PositiveSmallIntegerField(_("year"))
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="sheets")
    base_score = models.DecimalField(_("base score"), **POINTS)
    bonus = models.DecimalField(_("bonus"), **POINTS)
    deductions = models.DecimalField(_("deductions"), **POINTS)
    total = models.DecimalField(_("total"), **POINTS)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    computed_at = models.DateTimeField(_("computed at"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-year", "-total", "grid__code"]
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")
        constraints = [
            models.UniqueConstraint(fields=["grid", "year"], name="score_sheet_uniq"),
            models.CheckConstraint(condition=Q(grade__in=Grade.values), name="score_sheet_grade"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.grid_id} {self.total}"


class ScoreItem(models.Model):
    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="items")
    rule_item = models.ForeignKey(RuleItem, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=10)
    group = models.CharField(max_length=10, choices=RuleItem.Group.choices)
    max_points = models.DecimalField(null=True, blank=True, **POINTS)
    raw = models.DecimalField(help_text=_("Before the floor at zero and the cap."), **POINTS)
    score = models.DecimalField(**POINTS)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sheet", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["sheet", "code"], name="score_item_uniq")]

    def __str__(self) -> str:
        return f"{self.code} {self.score}"


class ScoreLine(models.Model):
    """A rule that applied on a sheet: its instances, its points and the evidence behind it."""

    item = models.ForeignKey(ScoreItem, on_delete=models.CASCADE, related_name="lines")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=20)
    instances = models.PositiveIntegerField()
    points = models.DecimalField(**POINTS)
    evidence = models.JSONField(default=list)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["item", "order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.points}"


class AssessmentLog(models.Model):
    """Who ran, locked, entered or withdrew what, when. Never edited."""

    action = models.CharField(max_length=30)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    grid = models.ForeignKey(Grid, on_delete=models.SET_NULL, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.action}"


# --- step 8: performance periods (DOMAIN §7.2) ------------------------------------------------


class PerformancePeriod(models.Model):
    class Kind(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), help_text=_("The last day of the period."))
    computed_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cases_assessed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-starts_on", "kind"]
        verbose_name = _("performance period")
        verbose_name_plural = _("performance periods")
        constraints = [
            models.UniqueConstraint(fields=["kind", "starts_on"], name="performance_period_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_on}"


class PerformanceFigure(models.Model):
    """The figures of one inspector, department or grid over a period, counted from the cases
    reported in the period and the patrol plans of its months."""

    class Subject(models.TextChoices):
        INSPECTOR = "inspector", _("Inspector")
        DEPARTMENT = "department", _("Department")
        GRID = "grid", _("Grid")

    period = models.ForeignKey(PerformancePeriod, on_delete=models.CASCADE, related_name="figures")
    subject = models.CharField(max_length=12, choices=Subject.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    cases = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    dispatched_on_time = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    handled_on_time = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    fed_back = models.PositiveIntegerField(default=0)
    reworked = models.PositiveIntegerField(default=0)
    returns = models.PositiveIntegerField(default=0)
    reported = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    verified_on_time = models.PositiveIntegerField(default=0)
    plan_planned = models.PositiveIntegerField(null=True, blank=True)
    plan_done = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["period", "subject", "pk"]
        indexes = [models.Index(fields=["period", "subject"])]

    def __str__(self) -> str:
        return f"{self.period_id} {self.subject}"
