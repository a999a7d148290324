"""Problem categories and the duty matrix. The case workflow itself arrives with its own issue."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Department, Grid, Sector


class ProblemCategory(models.Model):
    """A kind of problem (扬尘, 焚烧, 小煤炉 …). Data, editable by the office."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    handling_limit_days = models.DecimalField(
        _("handling limit (working days)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("5"),
    )
    is_emergency = models.BooleanField(_("emergency"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("problem category")
        verbose_name_plural = _("problem categories")

    def __str__(self) -> str:
        return self.name


class DutyRule(models.Model):
    """One cell of the duty matrix: at this level, this category is this sector's legal duty."""

    category = models.ForeignKey(
        ProblemCategory, on_delete=models.CASCADE, related_name="duty_rules"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="duty_rules")

    class Meta:
        ordering = ["category", "level"]
        verbose_name = _("duty matrix entry")
        verbose_name_plural = _("duty matrix")
        constraints = [models.UniqueConstraint(fields=["category", "level"], name="duty_rule_uniq")]

    def __str__(self) -> str:
        return f"{self.category} L{self.level} → {self.sector}"


# --- configuration (data, editable by the office) ----------------------------------------------


class CaseSettings(models.Model):
    """Working hours, response and step limits, and the escalation ladder; one row."""

    work_periods = models.JSONField(
        _("working hours"),
        default=list,
        help_text=_('Periods of a working day, e.g. [["08:30", "12:00"], ["13:30", "17:30"]].'),
    )
    response_in_hours_minutes = models.PositiveSmallIntegerField(
        _("on site within (minutes) when received in working hours"), default=30
    )
    response_off_hours_minutes = models.PositiveSmallIntegerField(
        _("on site within (minutes) at night and on non-working days"), default=120
    )
    dispatch_limit_hours = models.DecimalField(
        _("dispatch within (working hours)"), max_digits=5, decimal_places=1, default=Decimal("2")
    )
    verify_limit_days = models.DecimalField(
        _("verify within (working days)"), max_digits=4, decimal_places=1, default=Decimal("2")
    )
    warn_at_share = models.DecimalField(
        _("warn the officer at this share of the time allowed"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.80"),
    )
    principal_after_days = models.DecimalField(
        _("alarm to the grid principal after a breach of (working days)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("1"),
    )
    leader_after_days = models.DecimalField(
        _("alarm to the grid leader after a breach of (working days)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("3"),
    )

    class Meta:
        verbose_name = _("case settings")
        verbose_name_plural = _("case settings")

    def __str__(self) -> str:
        return str(_("Case settings"))


class CalendarDay(models.Model):
    """An office override of the working calendar: a holiday or a make-up working day (调休),
    for years the chinese-calendar package does not know yet, or local changes."""

    day = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.day} {'✓' if self.is_working_day else '✗'}"


# --- cases --------------------------------------------------------------------------------------


class Channel(models.TextChoices):
    INSPECTOR = "inspector", _("Grid inspector")
    PATROL = "patrol", _("Patrol finding")
    COMPLAINT = "complaint", _("Public complaint")
    HOTLINE = "hotline", _("12369 hotline")
    PLATFORM = "platform", _("City-management platform")
    ONLINE_MONITORING = "online_monitoring", _("Online-monitoring anomaly")
    SUPERIOR = "superior", _("Assigned by a superior")
    TRANSFER = "transfer", _("Transferred from another unit")


# Reports from the public: the 30-minute / 2-hour response deadline applies (Zhejiang §4(4)2).
COMPLAINT_CHANNELS = frozenset({Channel.COMPLAINT, Channel.HOTLINE, Channel.PLATFORM})
OPEN_STATES = ("collected", "filed", "dispatched", "handling", "fed_back", "verified", "suspended")


class Case(models.Model):
    class Status(models.TextChoices):
        COLLECTED = "collected", _("Collected")
        FILED = "filed", _("Filed")
        REJECTED = "rejected", _("Rejected")
        DISPATCHED = "dispatched", _("Dispatched")
        HANDLING = "handling", _("Handling")
        FED_BACK = "fed_back", _("Fed back")
        VERIFIED = "verified", _("Verified")
        EVALUATED = "evaluated", _("Evaluated")
        ASSESSED = "assessed", _("Assessed")
        SUSPENDED = "suspended", _("Suspended")
        VOIDED = "voided", _("Voided")

    number = models.CharField(_("case number"), max_length=40, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    category = models.ForeignKey(ProblemCategory, on_delete=models.PROTECT, related_name="cases")
    description = models.TextField(_("description"))
    emergency = models.BooleanField(_("emergency"), default=False)
    reporter_name = models.CharField(_("reporter"), max_length=60, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=30, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_created"
    )
    external_id = models.CharField(_("platform's id"), max_length=64, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    # No index of its own on grid or department: the composite indexes in Meta lead with them.
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="cases", db_index=False)
    source = models.ForeignKey(
        "inspections.PollutionSource",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.COLLECTED
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    reported_at = models.DateTimeField(_("reported at"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    # Deadlines and how they were met (null: not yet known / not applicable).
    response_deadline = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    arrived_lat = models.FloatField(null=True, blank=True)
    arrived_lng = models.FloatField(null=True, blank=True)
    response_met = models.BooleanField(null=True, blank=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    dispatch_deadline = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_met = models.BooleanField(null=True, blank=True)
    handling_deadline = models.DateTimeField(null=True, blank=True)
    fed_back_at = models.DateTimeField(null=True, blank=True)
    handling_met = models.BooleanField(null=True, blank=True)
    verify_deadline = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_met = models.BooleanField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    evaluation_score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_seconds = models.PositiveIntegerField(default=0)
    extension_until = models.DateTimeField(null=True, blank=True)
    extension_reason = models.CharField(max_length=300, blank=True)
    rework_count = models.PositiveSmallIntegerField(default=0)
    return_count = models.PositiveSmallIntegerField(default=0)
    escalation_count = models.PositiveSmallIntegerField(default=0)
    extension_count = models.PositiveSmallIntegerField(default=0)

    # On PostgreSQL the table is kept at fillfactor 90 (migration 0009): an update that changes
    # no indexed column (a `*_met` outcome, a count) then stays on its page (HOT) and writes no
    # index entries. Keep the `*_met` columns out of every index for that reason.
    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "external_id"],
                condition=~Q(external_id=""),
                name="case_external_id_per_client",
            ),
        ]
        indexes = [
            models.Index(fields=["grid", "status", "-reported_at"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["status", "-reported_at"]),
            models.Index(fields=["-reported_at", "-id"]),
        ]

    def __str__(self) -> str:
        return self.number


class CaseAssignment(models.Model):
    """A department on a case: the lead, or one assisting in joint enforcement (联合执法)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead department")
        ASSIST = "assist", _("Assisting department")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices)
    assigned_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)
    part = models.TextField(_("its part"), blank=True)
    part_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["department", "active"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.department_id} {self.role}"


class CaseEvent(models.Model):
    """One transition of a case: who, when, from, to, note. Never edited or deleted."""

    # indexed by the unique (case, seq) below, which leads with it
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"


class CasePhoto(models.Model):
    class Kind(models.TextChoices):
        BEFORE = "before", _("Before")
        AFTER = "after", _("After")
        ON_SITE = "on_site", _("On site")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        CaseEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="photos"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    image = models.ImageField(upload_to="cases/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.sha256[:8]}"


class CaseBreach(models.Model):
    """A deadline passing recorded on the case, once per deadline and level: the deadline
    itself (``breach``, the mark of a deadline missed while its step was pending) and the
    alarms after it. The 80 % warning is a timer level that is sent, not recorded (rows of
    level ``warning`` come only from before that rule)."""

    class Deadline(models.TextChoices):
        RESPONSE = "response", _("On-site response")
        DISPATCH = "dispatch", _("Dispatch")
        HANDLING = "handling", _("Handling")
        VERIFY = "verify", _("Verification")

    class Level(models.TextChoices):
        WARNING = "warning", _("80 % warning")
        BREACH = "breach", _("Deadline passed")
        PRINCIPAL = "principal", _("Alarm to the grid principal")
        LEADER = "leader", _("Alarm to the grid leader")

    # No index of its own: the unique constraint below leads with the case. No foreign key in
    # the database either: the deadline sweep is the only writer and inserts a backlog's
    # breaches for cases that are never deleted, where 20,000 per-row key checks at commit
    # cost as much as the rows themselves; Django still cascades a case's deletion to them.
    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="breaches",
        db_index=False,
        db_constraint=False,
    )
    deadline = models.CharField(max_length=10, choices=Deadline.choices)
    level = models.CharField(max_length=10, choices=Level.choices)
    due_at = models.DateTimeField()
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "deadline", "level"], name="case_breach_once")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.deadline} {self.level}"


class CaseTimer(models.Model):
    """A moment the enforcement sweep must act at: the 80 % warning, the deadline itself, and
    the alarms to the principal and the leader after it. Rows are written when a deadline is
    set and dropped when it is met; the sweep deletes the due ones as it fires them (their
    ``CaseBreach`` row is the record), so the table holds pending timers only (never Celery
    ETA tasks). ``fired_at`` is always empty now; it stays, with the partial index on it, so
    that code filtering on ``fired_at__isnull=True`` keeps working until it is dropped."""

    # no index of its own: the unique constraint below leads with the case
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timers", db_index=False)
    deadline = models.CharField(max_length=10, choices=CaseBreach.Deadline.choices)
    level = models.CharField(max_length=10, choices=CaseBreach.Level.choices)
    due_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "deadline", "level"], name="case_timer_once")
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="case_timer_due_idx", condition=Q(fired_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.deadline} {self.level} {self.due_at}"


class ReturnVisit(models.Model):
    """The complainant told the outcome (回访)."""

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASICALLY = "basically", _("Basically satisfied")
        DISSATISFIED = "dissatisfied", _("Dissatisfied")
        UNREACHABLE = "unreachable", _("Could not be reached")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="return_visits")
    visited_at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    satisfaction = models.CharField(max_length=15, choices=Satisfaction.choices)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.case_id} {self.satisfaction}"


class CaseNumberCounter(models.Model):
    """The last sequence number given under a case-number prefix (category code and day,
    ``DUST-20261122-``): one row per prefix, counted up by the intake in its transaction, so
    numbers have no gaps and an intake takes the next one without searching the cases. A
    number taken outside this counter (imported cases) is caught by the number's unique
    index, and the counter is moved past it (``cases.services``)."""

    prefix = models.CharField(max_length=40, primary_key=True)
    last = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.prefix}{self.last:04d}"


class IdempotencyRecord(models.Model):
    """An intake request by key (IETF Idempotency-Key draft), kept at least 24 hours."""

    # indexed by the unique (client, key) below, which leads with it
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_per_client")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return self.key


class CallbackEndpoint(models.Model):
    """Where a client (the platform) wants status callbacks, and the secret they are signed with."""

    client = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="callback_endpoint"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.url


class CallbackDelivery(models.Model):
    """The outbox: one row per status change to tell a client, delivered in order per case and
    retried with back-off until the client answers 2xx. Written in the same transaction as the
    change, so none is lost when the platform or the broker is down."""

    endpoint = models.ForeignKey(
        CallbackEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="callbacks")
    seq = models.PositiveIntegerField()
    body = models.TextField()
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "endpoint", "seq"], name="callback_order")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="callback_pending_idx",
                condition=Q(delivered_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq}"
