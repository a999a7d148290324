"""Pollution sources (污染源), patrols and inspections, plans, and patrol-frequency alarms.

A source's schedule is stored on it (``patrol_interval_days``, ``next_patrol_due`` and the online
counterparts) and recomputed by one set-based UPDATE in ``inspections.services`` whenever
something it depends on changes, so that the alarm sweep is an indexed range query.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Department, Grid


class ControlTier(models.TextChoices):
    NATIONAL = "national", _("National-controlled")
    PROVINCIAL = "provincial", _("Provincial-controlled")
    MUNICIPAL = "municipal", _("City-controlled")
    COUNTY = "county", _("County-controlled")
    OTHER = "other", _("Other discharging unit")


class SourceKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    CONSTRUCTION_SITE = "construction_site", _("Construction site")
    CATERING = "catering", _("Catering")
    LIVESTOCK_FARM = "livestock_farm", _("Livestock farm")
    BOILER = "boiler", _("Boiler")
    OTHER = "other", _("Other")


class PatrolPolicy(models.Model):
    """The patrol frequencies (Zhejiang notice §4(4)1) as data; one row, editable by the office."""

    online_check_days = models.PositiveSmallIntegerField(_("online check every (days)"), default=1)
    key_days = models.PositiveSmallIntegerField(
        _("national / provincial / safety-key sources every (days)"), default=14
    )
    municipal_days = models.PositiveSmallIntegerField(
        _("city- / county-controlled sources every (days)"), default=30
    )
    other_days = models.PositiveSmallIntegerField(_("other sources every (days)"), default=60)
    tighten_ratio = models.DecimalField(
        _("interval factor after a violation or complaint"),
        max_digits=3,
        decimal_places=2,
        default=0.5,
        validators=[MinValueValidator(0.05), MaxValueValidator(1)],
    )
    tighten_days = models.PositiveSmallIntegerField(_("tightened for (days)"), default=90)
    escalate_after_days = models.PositiveSmallIntegerField(
        _("escalate an open alarm to the grid principal after (days)"), default=3
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("patrol policy")
        verbose_name_plural = _("patrol policy")

    def __str__(self) -> str:
        return str(_("Patrol policy"))


class PollutionSource(models.Model):
    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="sources")
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    control_tier = models.CharField(_("control tier"), max_length=12, choices=ControlTier.choices)
    online_monitoring = models.BooleanField(_("online monitoring"), default=False)
    safety_key = models.BooleanField(_("provincial environmental-safety key source"), default=False)
    contact_name = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    permit_number = models.CharField(_("discharge permit number"), max_length=60, blank=True)
    pollutants = models.CharField(_("main pollutants"), max_length=300, blank=True)
    discharge_to = models.CharField(_("where the discharges go"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REPORTED
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_on = models.DateField(_("confirmed on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    # The schedule, kept by inspections.services.source_schedule_refresh.
    tightened_until = models.DateField(_("patrols tightened until"), null=True, blank=True)
    last_patrol_at = models.DateTimeField(_("last on-site patrol"), null=True, blank=True)
    last_online_check_at = models.DateTimeField(_("last online check"), null=True, blank=True)
    follow_up_due = models.DateField(_("follow-up due by"), null=True, blank=True)
    patrol_interval_days = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    next_patrol_due = models.DateField(null=True, blank=True, editable=False)
    next_online_check_due = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("pollution source")
        verbose_name_plural = _("pollution sources")
        indexes = [
            models.Index(fields=["grid", "status"]),
            models.Index(
                fields=["next_patrol_due"],
                name="source_patrol_due_idx",
                condition=Q(status="active"),
            ),
            models.Index(
                fields=["next_online_check_due"],
                name="source_online_due_idx",
                condition=Q(status="active", online_monitoring=True),
            ),
            models.Index(fields=["credit_code"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(control_tier__in=ControlTier.values), name="source_tier_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SourceChange(models.Model):
    """The source's history: every change with who, when, before and after. Never edited."""

    source = models.ForeignKey(PollutionSource, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["source", "-at"])]

    def __str__(self) -> str:
        return f"{self.source_id} {self.action}"


class Checklist(models.Model):
    """What is checked on a patrol of a source of this kind (data, editable)."""

    kind = models.CharField(
        _("source kind"), max_length=20, choices=SourceKind.choices, unique=True
    )
    items = models.JSONField(_("items"), default=list)

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")

    def __str__(self) -> str:
        return self.get_kind_display()


class Patrol(models.Model):
    class Kind(models.TextChoices):
        PATROL = "patrol", _("Inspector patrol")
        INSPECTION = "inspection", _("On-site enforcement inspection")
        ONLINE_CHECK = "online_check", _("Online check")

    class Outcome(models.TextChoices):
        COMPLIANT = "compliant", _("Compliant")
        CORRECTED_ON_SITE = "corrected_on_site", _("Corrected on the spot")
        NOTICE_ISSUED = "notice_issued", _("Written notice with a deadline")
        CASE_OPENED = "case_opened", _("Case opened")
        ABNORMAL_READING = "abnormal_reading", _("Abnormal online reading")

    source = models.ForeignKey(PollutionSource, on_delete=models.PROTECT, related_name="patrols")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    patrolled_at = models.DateTimeField(_("patrolled at"))
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    officers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="patrols")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="patrols"
    )
    checklist = models.JSONField(_("checklist answers"), default=dict, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    rectification_deadline = models.DateField(_("rectification deadline"), null=True, blank=True)
    person_present = models.CharField(_("person present"), max_length=60, blank=True)
    follow_up_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups"
    )
    # The case opened from this patrol; a plain reference until the cases app holds cases.
    case_reference = models.CharField(_("case"), max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-patrolled_at"]
        indexes = [
            models.Index(fields=["source", "-patrolled_at"]),
            models.Index(fields=["department", "patrolled_at"]),
            models.Index(fields=["patrolled_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.patrolled_at:%Y-%m-%d}"


class PatrolPhoto(models.Model):
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="patrols/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.sha256[:12]


class PatrolAlarm(models.Model):
    """One alarm per source, kind of check and missed due date (the overdue period).

    The unique constraint makes the sweep idempotent: a second run, a retry after a crash or
    two workers at once cannot raise a second alarm for the same period.
    """

    class Kind(models.TextChoices):
        ON_SITE = "on_site", _("On-site patrol overdue")
        ONLINE = "online", _("Online check overdue")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLEARED = "cleared", _("Cleared")

    class Level(models.TextChoices):
        OFFICER = "officer", _("Direct responsible officer")
        PRINCIPAL = "principal", _("Grid principal")

    # No index of its own: the unique (source, kind, due_on) index starts with it.
    source = models.ForeignKey(
        PollutionSource, on_delete=models.CASCADE, related_name="alarms", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    due_on = models.DateField(_("was due on"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.OFFICER)
    raised_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        Patrol,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cleared_alarms",
        db_index=False,  # partial index below: a new alarm has none
    )
    # The level whose people have been told: set together with ``level`` by the sweep that tells
    # them (in the same transaction); where it still differs, the next sweep tells them.
    notified_level = models.CharField(max_length=10, blank=True)

    class Meta:
        verbose_name = _("patrol alarm")
        verbose_name_plural = _("patrol alarms")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "due_on"], name="patrol_alarm_once_per_period"
            )
        ]
        # The sweep writes thousands of alarms at once, so each index costs: the open alarms
        # by level and age (escalation, notification, clearing), and the patrols that cleared
        # one. Lookups by source use the unique index.
        indexes = [
            models.Index(
                fields=["level", "raised_at"],
                condition=models.Q(status="open"),
                name="patrol_alarm_open",
            ),
            models.Index(
                fields=["cleared_by"],
                condition=models.Q(cleared_by__isnull=False),
                name="patrol_alarm_cleared_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.due_on}"


class SupervisionPlan(models.Model):
    """A department's yearly supervision plan for a grid (年度环境监管计划)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="plans")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="supervision_plans")
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"), blank=True)
    inspections_planned = models.PositiveIntegerField(_("inspections planned"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("yearly supervision plan")
        verbose_name_plural = _("yearly supervision plans")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "grid", "year"], name="supervision_plan_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.title


class PatrolPlan(models.Model):
    """A monthly patrol plan of a grid, or of one inspector in it (月巡查工作计划)."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="patrol_plans")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patrol_plans",
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("monthly patrol plan")
        verbose_name_plural = _("monthly patrol plans")
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "inspector", "month"],
                condition=Q(inspector__isnull=False),
                name="patrol_plan_inspector_uniq",
            ),
            models.UniqueConstraint(
                fields=["grid", "month"],
                condition=Q(inspector__isnull=True),
                name="patrol_plan_grid_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grid} {self.month:%Y-%m}"


class PatrolPlanItem(models.Model):
    plan = models.ForeignKey(PatrolPlan, on_delete=models.CASCADE, related_name="items")
    source = models.ForeignKey(PollutionSource, on_delete=models.PROTECT, related_name="+")
    visits = models.PositiveSmallIntegerField(_("visits planned"), default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "source"], name="patrol_plan_item_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}:{self.source_id}×{self.visits}"


from inspections.models_draw import *  # noqa: E402, F403 - the random-inspection models
