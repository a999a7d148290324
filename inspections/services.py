"""Every write to sources, patrols, plans and patrol alarms.

Rules from the Zhejiang notice §4(4)1 (DOMAIN §4): each source is patrolled at least as often as
its control tier demands, online-monitored sources are checked online every day, a violation
or complaint tightens the interval for a while, and a late patrol raises one alarm per source
and period that escalates and clears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Case, DateField, DurationField, F, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, Forbidden
from core.models import Notification, User
from core.photos import photo_check
from core.services import notifications_email_after_commit
from grids import selectors as grid_selectors
from grids.models import Department, Grid, Role
from inspections.credit_code import credit_code_problem
from inspections.models import (
    ControlTier,
    Patrol,
    PatrolAlarm,
    PatrolPhoto,
    PatrolPolicy,
    PollutionSource,
    SourceChange,
    SourceKind,
)

# Roles that may confirm, close and inspect sources (enforcement side); inspectors report.
ENFORCEMENT_ROLES = {
    Role.DIRECT_RESPONSIBLE,
    Role.OFFICER,
    Role.PRINCIPAL,
    Role.LEADER,
    Role.DEPUTY_LEADER,
    Role.OFFICE,
}
PATROL_ROLES = ENFORCEMENT_ROLES | {Role.INSPECTOR, Role.SUPERVISOR}
VIOLATION_OUTCOMES = {
    Patrol.Outcome.NOTICE_ISSUED,
    Patrol.Outcome.CASE_OPENED,
    Patrol.Outcome.ABNORMAL_READING,
}
ON_SITE_KINDS = {Patrol.Kind.PATROL, Patrol.Kind.INSPECTION}


def policy_get() -> PatrolPolicy:
    policy = PatrolPolicy.objects.order_by("pk").first()
    return policy or PatrolPolicy.objects.create()


# --- schedule --------------------------------------------------------------------------------


def _tightened(days: int, ratio: Decimal) -> int:
    return max(1, int((Decimal(days) * ratio).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def interval_days(*, source: PollutionSource, policy: PatrolPolicy, tightened: bool) -> int:
    """The on-site interval for one source (the same rule as the set-based refresh below)."""
    if source.control_tier in (ControlTier.NATIONAL, ControlTier.PROVINCIAL) or source.safety_key:
        days = policy.key_days
    elif source.control_tier in (ControlTier.MUNICIPAL, ControlTier.COUNTY):
        days = policy.municipal_days
    else:
        days = policy.other_days
    return _tightened(days, policy.tighten_ratio) if tightened else days


def _interval_case(policy: PatrolPolicy, base_date) -> Case:
    """Interval in days by tier, tightened when the last patrol fell inside the tightened window."""
    key = Q(control_tier__in=[ControlTier.NATIONAL, ControlTier.PROVINCIAL]) | Q(safety_key=True)
    municipal = Q(control_tier__in=[ControlTier.MUNICIPAL, ControlTier.COUNTY])
    tight = Q(tightened_until__isnull=False, tightened_until__gte=base_date)
    r = policy.tighten_ratio
    whens = [
        When(key & tight, then=Value(_tightened(policy.key_days, r))),
        When(key, then=Value(policy.key_days)),
        When(municipal & tight, then=Value(_tightened(policy.municipal_days, r))),
        When(municipal, then=Value(policy.municipal_days)),
        When(tight, then=Value(_tightened(policy.other_days, r))),
    ]
    return Case(*whens, default=Value(policy.other_days), output_field=IntegerField())


def _plus_days(base, days_case: Case) -> Cast:
    # date + n days, portable: the integer case becomes a duration case.
    duration = Case(
        *[When(w.condition, then=Value(timedelta(days=w.result.value))) for w in days_case.cases],
        default=Value(timedelta(days=days_case.default.value)),
        output_field=DurationField(),
    )
    return Cast(base + duration, output_field=DateField())


def source_schedule_refresh(*, source_ids: list[int] | None = None) -> int:
    """Recompute interval and due dates of active sources in one UPDATE (set-based).

    On site: due ``interval`` days after the last on-site patrol (or the confirmation), or by a
    rectification deadline if that comes first. Online: due ``online_check_days`` after the last
    online check. Sources that are not active have no schedule.
    """
    policy = policy_get()
    qs = PollutionSource.objects.all()
    if source_ids is not None:
        qs = qs.filter(pk__in=source_ids)
    qs.exclude(status=PollutionSource.Status.ACTIVE).update(
        patrol_interval_days=None, next_patrol_due=None, next_online_check_due=None
    )
    active = qs.filter(status=PollutionSource.Status.ACTIVE)
    base = Coalesce(TruncDate("last_patrol_at"), F("confirmed_on"), output_field=DateField())
    interval = _interval_case(policy, base)
    regular = _plus_days(base, interval)
    online_base = Coalesce(
        TruncDate("last_online_check_at"), F("confirmed_on"), output_field=DateField()
    )
    online_due = Cast(
        online_base + Value(timedelta(days=policy.online_check_days)), output_field=DateField()
    )
    return active.update(
        patrol_interval_days=interval,
        next_patrol_due=Case(
            When(follow_up_due__isnull=False, follow_up_due__lt=regular, then=F("follow_up_due")),
            default=regular,
            output_field=DateField(),
        ),
        next_online_check_due=Case(
            When(online_monitoring=True, then=online_due), default=None, output_field=DateField()
        ),
    )


# --- sources ---------------------------------------------------------------------------------

SOURCE_FIELDS = [
    "name",
    "credit_code",
    "address",
    "lat",
    "lng",
    "industry",
    "kind",
    "control_tier",
    "online_monitoring",
    "safety_key",
    "contact_name",
    "contact_phone",
    "permit_number",
    "pollutants",
    "discharge_to",
]


def _source_snapshot(source: PollutionSource) -> dict:
    data = {name: getattr(source, name) for name in SOURCE_FIELDS}
    data.update(
        grid=source.grid.code if source.grid_id else None,
        status=source.status,
        closed_on=source.closed_on.isoformat() if source.closed_on else None,
    )
    return data


@dataclass
class SourceInput:
    name: str
    kind: str
    control_tier: str
    credit_code: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    industry: str = ""
    online_monitoring: bool = False
    safety_key: bool = False
    contact_name: str = ""
    contact_phone: str = ""
    permit_number: str = ""
    pollutants: str = ""
    discharge_to: str = ""


def _source_validate(*, values: dict, grid: Grid) -> dict:
    errors: dict[str, list[str]] = {}
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = [_("A source needs a name.")]
    if values.get("control_tier") not in ControlTier.values:
        errors["control_tier"] = [
            _("Unknown control tier %(tier)r; one of %(tiers)s.")
            % {"tier": values.get("control_tier"), "tiers": ", ".join(ControlTier.values)}
        ]
    if values.get("kind") not in SourceKind.values:
        errors["kind"] = [
            _("Unknown source kind %(kind)r; one of %(kinds)s.")
            % {"kind": values.get("kind"), "kinds": ", ".join(SourceKind.values)}
        ]
    code = (values.get("credit_code") or "").strip().upper()
    if code:
        problem = credit_code_problem(code)
        if problem:
            errors["credit_code"] = [_(problem)]
    lat, lng = values.get("lat"), values.get("lng")
    if (lat is None) != (lng is None):
        errors["lat"] = [_("Give both latitude and longitude, or neither.")]
    elif lat is not None and not grid_selectors.point_in_city(grid=grid, lat=lat, lng=lng):
        errors["lat"] = [_("The coordinates lie outside the city.")]
    if errors:
        raise DomainError(_("The source has errors; nothing was stored."), **errors)
    return {**values, "name": name, "credit_code": code}


def _require_roles(*, user: User, grid: Grid, roles: set[str], action: str) -> set[str]:
    held = grid_selectors.user_roles_over(user=user, grid=grid)
    if not held & roles:
        raise Forbidden(_("You may not %(action)s in this grid.") % {"action": action})
    return held


def source_register_roles(*, grid: Grid, actor: User) -> set[str]:
    """The actor's roles over ``grid`` if they may register sources there (Forbidden if not)."""
    return _require_roles(user=actor, grid=grid, roles=PATROL_ROLES, action=_("register sources"))


def source_values_clean(*, grid: Grid, data: SourceInput) -> dict:
    """The source's fields checked and normalised (DomainError naming each bad field)."""
    return _source_validate(values=data.__dict__.copy(), grid=grid)


@transaction.atomic
def source_create(*, grid: Grid, data: SourceInput, actor: User) -> PollutionSource:
    """Register a source. Found by an inspector it starts as *reported*; registered by an
    enforcement officer it is *active* at once (confirmed by that officer)."""
    held = source_register_roles(grid=grid, actor=actor)
    values = source_values_clean(grid=grid, data=data)
    (source,) = sources_create_many(items=[(grid, values)], held={grid.pk: held}, actor=actor)
    source.refresh_from_db()
    return source


@transaction.atomic
def sources_create_many(
    *,
    items: list[tuple[Grid, dict]],
    held: dict[int, set[str]],
    actor: User,
    note: str = "",
) -> list[PollutionSource]:
    """Create sources whose fields ``source_values_clean`` accepted, with the actor's roles over
    each grid (``held``, from ``source_register_roles``): an enforcement officer's source is
    active and confirmed at once, an inspector's is reported; each gets its history row, and
    all are scheduled by one set-based refresh (a 5,000-row import in seconds)."""
    today = timezone.localdate()
    sources = []
    for grid, values in items:
        source = PollutionSource(grid=grid, reported_by=actor, **values)
        if held[grid.pk] & ENFORCEMENT_ROLES:
            source.status = PollutionSource.Status.ACTIVE
            source.confirmed_by = actor
            source.confirmed_on = today
        sources.append(source)
    PollutionSource.objects.bulk_create(sources, batch_size=500)
    SourceChange.objects.bulk_create(
        (
            SourceChange(
                source=source,
                action="create",
                actor=actor,
                after=_source_snapshot(source),
                note=note,
            )
            for source in sources
        ),
        batch_size=500,
    )
    source_schedule_refresh(source_ids=[source.pk for source in sources])
    return sources


def _source_locked(source: PollutionSource) -> PollutionSource:
    return PollutionSource.objects.select_for_update().select_related("grid").get(pk=source.pk)


@transaction.atomic
def source_update(
    *, source: PollutionSource, actor: User, changes: dict, note: str = ""
) -> PollutionSource:
    unknown = set(changes) - set(SOURCE_FIELDS) - {"grid"}
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    source = _source_locked(source)
    _require_roles(user=actor, grid=source.grid, roles=PATROL_ROLES, action=_("change sources"))
    if source.status == PollutionSource.Status.CLOSED:
        raise DomainError(_("A closed source cannot be changed."))
    before = _source_snapshot(source)
    grid = changes.pop("grid", source.grid)
    values = {name: getattr(source, name) for name in SOURCE_FIELDS} | changes
    values = _source_validate(values=values, grid=grid)
    for name, value in values.items():
        setattr(source, name, value)
    source.grid = grid
    source.updated_at = timezone.now()
    source.save()
    after = _source_snapshot(source)
    if after != before:
        SourceChange.objects.create(
            source=source, action="update", actor=actor, before=before, after=after, note=note
        )
    source_schedule_refresh(source_ids=[source.pk])
    source.refresh_from_db()
    return source


@transaction.atomic
def source_confirm(*, source: PollutionSource, actor: User) -> PollutionSource:
    """An officer confirms a source an inspector reported; its patrol schedule starts today."""
    source = _source_locked(source)
    _require_roles(
        user=actor, grid=source.grid, roles=ENFORCEMENT_ROLES, action=_("confirm sources")
    )
    if source.status != PollutionSource.Status.REPORTED:
        raise DomainError(
            _("Only a reported source can be confirmed (this one is %(s)s).")
            % {"s": source.get_status_display()}
        )
    before = _source_snapshot(source)
    source.status = PollutionSource.Status.ACTIVE
    source.confirmed_by = actor
    source.confirmed_on = timezone.localdate()
    source.updated_at = timezone.now()
    source.save()
    SourceChange.objects.create(
        source=source, action="confirm", actor=actor, before=before, after=_source_snapshot(source)
    )
    source_schedule_refresh(source_ids=[source.pk])
    source.refresh_from_db()
    return source


@transaction.atomic
def source_close(*, source: PollutionSource, actor: User, on: date, reason: str) -> PollutionSource:
    """A closed source is kept with its closing date; its open alarms clear."""
    source = _source_locked(source)
    _require_roles(user=actor, grid=source.grid, roles=ENFORCEMENT_ROLES, action=_("close sources"))
    if not reason.strip():
        raise DomainError(_("Say why the source is closed."), reason=[_("Required.")])
    if on > timezone.localdate():
        raise DomainError(
            _("The closing date cannot lie in the future."), closed_on=[_("In the future.")]
        )
    if source.status == PollutionSource.Status.CLOSED:
        raise DomainError(_("The source is already closed."))
    before = _source_snapshot(source)
    source.status = PollutionSource.Status.CLOSED
    source.closed_on = on
    source.updated_at = timezone.now()
    source.save()
    SourceChange.objects.create(
        source=source,
        action="close",
        actor=actor,
        before=before,
        after=_source_snapshot(source),
        note=reason,
    )
    source_schedule_refresh(source_ids=[source.pk])
    PatrolAlarm.objects.filter(source=source, status=PatrolAlarm.Status.OPEN).update(
        status=PatrolAlarm.Status.CLEARED, cleared_at=timezone.now()
    )
    source.refresh_from_db()
    return source


@transaction.atomic
def source_tighten(
    *, source: PollutionSource, on: date, reason: str, actor: User | None = None
) -> PollutionSource:
    """After a confirmed violation or a complaint, patrol more often for ``tighten_days``."""
    policy = policy_get()
    source = _source_locked(source)
    until = on + timedelta(days=policy.tighten_days)
    if source.tightened_until is None or source.tightened_until < until:
        source.tightened_until = until
        source.save(update_fields=["tightened_until"])
        SourceChange.objects.create(
            source=source,
            action="tighten",
            actor=actor,
            after={"tightened_until": until.isoformat()},
            note=reason,
        )
        source_schedule_refresh(source_ids=[source.pk])
    source.refresh_from_db()
    return source


# --- patrols ---------------------------------------------------------------------------------


@dataclass
class PatrolInput:
    kind: str
    patrolled_at: datetime
    outcome: str
    officers: list[User] = field(default_factory=list)
    lat: float | None = None
    lng: float | None = None
    findings: str = ""
    checklist: dict = field(default_factory=dict)
    rectification_deadline: date | None = None
    person_present: str = ""
    department: Department | None = None
    case_reference: str = ""
    # The problem category of the case a patrol opens (an abnormal reading opens an
    # online-monitoring case by default).
    case_category: str | None = None
    photos: list[UploadedFile] = field(default_factory=list)
    photo_lat: float | None = None
    photo_lng: float | None = None


def _patrol_validate(*, source: PollutionSource, data: PatrolInput, now: datetime) -> list[str]:
    errors: dict[str, list[str]] = {}
    if data.kind not in Patrol.Kind.values:
        errors["kind"] = [_("Unknown patrol kind %(k)r.") % {"k": data.kind}]
    if data.outcome not in Patrol.Outcome.values:
        errors["outcome"] = [_("Unknown outcome %(o)r.") % {"o": data.outcome}]
    if data.patrolled_at > now + timedelta(minutes=5):
        errors["patrolled_at"] = [_("A patrol cannot be dated in the future.")]
    if data.kind == Patrol.Kind.INSPECTION and len({u.pk for u in data.officers}) < 2:
        errors["officers"] = [_("An on-site enforcement inspection needs at least two officers.")]
    elif not data.officers:
        errors["officers"] = [_("Name who patrolled.")]
    if data.kind == Patrol.Kind.ONLINE_CHECK and not source.online_monitoring:
        errors["kind"] = [_("This source has no online monitoring to check.")]
    if data.outcome == Patrol.Outcome.ABNORMAL_READING and data.kind != Patrol.Kind.ONLINE_CHECK:
        errors["outcome"] = [_("An abnormal reading is the outcome of an online check.")]
    if data.outcome == Patrol.Outcome.NOTICE_ISSUED:
        if not data.rectification_deadline:
            errors["rectification_deadline"] = [
                _("A written notice needs a rectification deadline.")
            ]
        elif data.rectification_deadline <= timezone.localdate(data.patrolled_at):
            errors["rectification_deadline"] = [_("The deadline must come after the patrol.")]
    if data.outcome == Patrol.Outcome.CASE_OPENED and not (
        data.case_category or data.case_reference
    ):
        errors["case_category"] = [_("Choose the problem category of the case to open.")]
    if (data.lat is None) != (data.lng is None):
        errors["lat"] = [_("Give both latitude and longitude, or neither.")]
    elif data.lat is not None and not grid_selectors.point_in_city(
        grid=source.grid, lat=data.lat, lng=data.lng
    ):
        errors["lat"] = [_("The coordinates lie outside the city.")]
    if data.kind in ON_SITE_KINDS and data.lat is None:
        errors.setdefault("lat", [_("An on-site patrol records where it took place (GPS).")])
    if len(data.photos) > settings.PHOTO_MAX_COUNT:
        errors["photos"] = [_("At most %(n)s photos.") % {"n": settings.PHOTO_MAX_COUNT}]
    if errors:
        raise DomainError(_("The patrol has errors; nothing was stored."), **errors)
    return [photo_check(photo) for photo in data.photos]


@transaction.atomic
def patrol_record(
    *, source: PollutionSource, data: PatrolInput, actor: User, now: datetime | None = None
) -> Patrol:
    """Log a patrol, an enforcement inspection or an online check, and everything it implies:
    the source's last-patrol time and schedule, a tightened interval after a violation, a
    follow-up due by a notice's deadline, and the clearing of the alarms it answers."""
    now = now or timezone.now()
    source = _source_locked(source)
    if source.status != PollutionSource.Status.ACTIVE:
        raise DomainError(_("Only an active source is patrolled (confirm it first)."))
    roles = ENFORCEMENT_ROLES if data.kind == Patrol.Kind.INSPECTION else PATROL_ROLES
    _require_roles(user=actor, grid=source.grid, roles=roles, action=_("record this patrol"))
    hashes = _patrol_validate(source=source, data=data, now=now)
    patrol = Patrol.objects.create(
        source=source,
        kind=data.kind,
        patrolled_at=data.patrolled_at,
        lat=data.lat,
        lng=data.lng,
        recorded_by=actor,
        department=data.department,
        checklist=data.checklist,
        findings=data.findings,
        outcome=data.outcome,
        rectification_deadline=data.rectification_deadline,
        person_present=data.person_present,
        case_reference=data.case_reference,
    )
    patrol.officers.set(data.officers)
    for upload, digest in zip(data.photos, hashes, strict=True):
        PatrolPhoto.objects.create(
            patrol=patrol,
            image=upload,
            sha256=digest,
            lat=data.photo_lat if data.photo_lat is not None else data.lat,
            lng=data.photo_lng if data.photo_lng is not None else data.lng,
            uploaded_at=now,
        )

    if (
        data.outcome in (Patrol.Outcome.CASE_OPENED, Patrol.Outcome.ABNORMAL_READING)
        and not data.case_reference
    ):
        patrol.case_reference = _case_open(
            source=source, patrol=patrol, data=data, actor=actor, now=now
        ).number
        patrol.save(update_fields=["case_reference"])

    fields = []
    if data.kind in ON_SITE_KINDS:
        if source.last_patrol_at is None or data.patrolled_at > source.last_patrol_at:
            source.last_patrol_at = data.patrolled_at
            fields.append("last_patrol_at")
        if source.follow_up_due and data.outcome != Patrol.Outcome.NOTICE_ISSUED:
            source.follow_up_due = None
            fields.append("follow_up_due")
    elif source.last_online_check_at is None or data.patrolled_at > source.last_online_check_at:
        source.last_online_check_at = data.patrolled_at
        fields.append("last_online_check_at")
    if data.outcome == Patrol.Outcome.NOTICE_ISSUED:
        source.follow_up_due = data.rectification_deadline
        fields.append("follow_up_due")
    if fields:
        source.save(update_fields=fields)
    if data.outcome in VIOLATION_OUTCOMES:
        source_tighten(
            source=source,
            on=timezone.localdate(data.patrolled_at),
            reason=_("violation found by a patrol"),
            actor=actor,
        )
    source_schedule_refresh(source_ids=[source.pk])
    source.refresh_from_db()

    # The alarms this patrol answers: those of its kind whose period is now covered.
    alarm_kind = PatrolAlarm.Kind.ON_SITE if data.kind in ON_SITE_KINDS else PatrolAlarm.Kind.ONLINE
    next_due = (
        source.next_patrol_due
        if alarm_kind == PatrolAlarm.Kind.ON_SITE
        else source.next_online_check_due
    )
    if next_due is None or next_due >= timezone.localdate(now):
        PatrolAlarm.objects.filter(
            source=source, kind=alarm_kind, status=PatrolAlarm.Status.OPEN
        ).update(status=PatrolAlarm.Status.CLEARED, cleared_at=now, cleared_by=patrol)
    return patrol


def _case_open(
    *, source: PollutionSource, patrol: Patrol, data: PatrolInput, actor: User, now: datetime
):
    """Hand a patrol's finding to the case workflow: a case of the source's grid, linked to the
    source, collected from the patrol (or the online monitoring) channel."""
    from cases import services as case_services

    abnormal = data.outcome == Patrol.Outcome.ABNORMAL_READING
    case, _created = case_services.case_create(
        data=case_services.CaseInput(
            channel="online_monitoring" if abnormal else "patrol",
            category=data.case_category or "online_anomaly",
            description=data.findings or str(_("Found by a patrol of %(s)s") % {"s": source.name}),
            reported_at=data.patrolled_at,
            lat=data.lat if data.lat is not None else source.lat,
            lng=data.lng if data.lng is not None else source.lng,
            address=source.address,
            grid=source.grid.code,
            source=source.pk,
        ),
        actor=actor,
        now=now,
    )
    return case


# --- patrol-frequency alarms -----------------------------------------------------------------


@dataclass
class SweepResult:
    raised: int
    escalated: int
    cleared: int
    notified: int


def patrol_alarms_sweep(*, now: datetime | None = None) -> SweepResult:
    """Raise, escalate, clear and notify patrol-frequency alarms, set-based.

    One INSERT … SELECT raises an alarm for every active source past its due date (on site,
    and online for monitored sources); the unique (source, kind, due date) constraint with ON
    CONFLICT DO NOTHING makes a second run, a retry or a concurrent worker raise nothing more.
    Alarms whose source is closed or no longer overdue clear. Alarms open longer than the
    policy's ``escalate_after_days`` move to the grid principal. The people to tell (the nearest
    direct responsible officer of a new alarm, the nearest principal of an escalated one) get one
    inbox entry each, also guarded by a unique key, in the same transaction, so they appear when
    it commits. A constant number of statements, whatever the number of sources; no row comes
    into Python.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    policy = policy_get()
    ops = connection.ops
    params = {
        "now": ops.adapt_datetimefield_value(now),
        "today": ops.adapt_datefield_value(today),
        "on_site": PatrolAlarm.Kind.ON_SITE.value,
        "online": PatrolAlarm.Kind.ONLINE.value,
        "officer": PatrolAlarm.Level.OFFICER.value,
    }
    alarm_t = PatrolAlarm._meta.db_table
    source_t = PollutionSource._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Short set-based statements: JIT compilation would cost more than it saves.
            cursor.execute("SET LOCAL jit = off")
        # The officers of these alarms are told below, in this transaction: hence
        # notified_level is set at once rather than by an UPDATE of every new row afterwards.
        cursor.execute(
            f"""
            INSERT INTO {alarm_t} (source_id, kind, due_on, status, level, raised_at, notified_level)
            SELECT s.id, %(on_site)s, s.next_patrol_due, 'open', %(officer)s, %(now)s, %(officer)s
            FROM {source_t} s
            WHERE s.status = 'active' AND s.next_patrol_due < %(today)s
            UNION ALL
            SELECT s.id, %(online)s, s.next_online_check_due, 'open', %(officer)s, %(now)s,
                   %(officer)s
            FROM {source_t} s
            WHERE s.status = 'active' AND s.online_monitoring AND s.next_online_check_due < %(today)s
            ON CONFLICT (source_id, kind, due_on) DO NOTHING
            """,  # noqa: S608 - identifiers from _meta; values are parameters
            params,
        )
        raised = max(cursor.rowcount, 0)

        cleared = (
            PatrolAlarm.objects.filter(status=PatrolAlarm.Status.OPEN)
            .filter(
                ~Q(source__status=PollutionSource.Status.ACTIVE)
                | Q(kind=PatrolAlarm.Kind.ON_SITE, source__next_patrol_due__gte=today)
                | Q(kind=PatrolAlarm.Kind.ONLINE, source__next_online_check_due__gte=today)
                | Q(kind=PatrolAlarm.Kind.ONLINE, source__online_monitoring=False)
            )
            .update(status=PatrolAlarm.Status.CLEARED, cleared_at=now)
        )
        escalated = PatrolAlarm.objects.filter(
            status=PatrolAlarm.Status.OPEN,
            level=PatrolAlarm.Level.OFFICER,
            raised_at__lte=now - timedelta(days=policy.escalate_after_days),
        ).update(
            level=PatrolAlarm.Level.PRINCIPAL,
            escalated_at=now,
            notified_level=PatrolAlarm.Level.PRINCIPAL,
        )

        notified = _alarm_notifications(cursor=cursor, now=now, today=today)
    if notified:
        notifications_email_after_commit()
    return SweepResult(raised=raised, escalated=escalated, cleared=cleared, notified=notified)


def _alarm_notifications(*, cursor, now: datetime, today: date) -> int:
    """One inbox entry per person to tell and alarm level: for the alarms this sweep raised or
    escalated (stamped with ``now``), and for any open alarm whose ``notified_level`` still
    differs from its level (written by older code; normally none).

    The nearest holders come from ``grids.selectors.nearest_role_holders_rows``: alarms × the
    few holders of the role, whatever the planner's statistics of the alarm table say (they lag
    behind a sweep that writes thousands of rows). The statement starts with INSERT (its WITH
    sits in the derived table) so that SQLite's driver still reports the rows inserted."""
    note_t = Notification._meta.db_table
    alarm_t = PatrolAlarm._meta.db_table
    source_t = PollutionSource._meta.db_table
    total = 0
    for level, role, stamp, prefix in (
        (PatrolAlarm.Level.OFFICER, Role.DIRECT_RESPONSIBLE, "raised_at", _("Patrol overdue: ")),
        (
            PatrolAlarm.Level.PRINCIPAL,
            Role.PRINCIPAL,
            "escalated_at",
            _("Patrol still overdue (escalated): "),
        ),
    ):
        told = grid_selectors.nearest_role_holders_rows(
            rows=f"""(
                SELECT a.id, a.level, s.id AS source_id, s.name, s.grid_id
                FROM {alarm_t} a JOIN {source_t} s ON s.id = a.source_id
                WHERE a.status = 'open' AND a.level = %(level)s
                  AND (a.{stamp} = %(now)s OR a.notified_level <> a.level))""",  # noqa: S608
            key="id",
            grid_id="grid_id",
            columns=["id", "level", "source_id", "name"],
            role=role,
            on=today,
        )
        cursor.execute(
            f"""
            INSERT INTO {note_t} (user_id, kind, title, body, url, dedupe_key, created_at)
            SELECT n.holder_user_id, 'patrol_alarm', %(prefix)s || n.name, '',
                   '/sources/' || n.source_id || '/', 'patrol_alarm:' || n.id || ':' || n.level,
                   %(now)s
            FROM ({told}) n
            WHERE true
            ON CONFLICT (user_id, dedupe_key) DO NOTHING
            """,  # noqa: S608 - identifiers from _meta; values are parameters
            {
                "level": level.value,
                "prefix": str(prefix),
                "now": connection.ops.adapt_datetimefield_value(now),
            },
        )
        total += max(cursor.rowcount, 0)
    PatrolAlarm.objects.filter(status=PatrolAlarm.Status.OPEN).exclude(
        notified_level=F("level")
    ).update(notified_level=F("level"))
    return total


@transaction.atomic
def patrol_policy_save(*, policy: PatrolPolicy) -> PatrolPolicy:
    """Save the office's patrol policy and reschedule every source by it (one UPDATE)."""
    if policy.tighten_ratio is None or not (Decimal("0.05") <= Decimal(policy.tighten_ratio) <= 1):
        raise DomainError(
            _("The tightening factor lies between 0.05 and 1."), tighten_ratio=[_("Out of range.")]
        )
    for name in ("online_check_days", "key_days", "municipal_days", "other_days"):
        if not getattr(policy, name):
            raise DomainError(_("An interval is at least one day."), **{name: [_("At least 1.")]})
    policy.updated_at = timezone.now()
    policy.save()
    source_schedule_refresh()
    return policy
