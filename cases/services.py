"""Every write to cases: intake, the workflow transition, attachments, return visits, the
status callbacks (deadline timers and their sweep: ``cases.deadlines``).

``case_transition`` is the only function that changes ``Case.status``. It locks the case
(``select_for_update``), asks ``cases.transitions`` whether the action is allowed from the
current state and for this actor, applies the action's effects, writes an immutable
``CaseEvent``, and registers side effects (notifications, callbacks) to run after commit.
Lock order: grid → source → case.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import deadlines, selectors
from cases.calendar import response_limit
from cases.models import (
    COMPLAINT_CHANNELS,
    CallbackDelivery,
    CallbackEndpoint,
    Case,
    CaseAssignment,
    CaseBreach,
    CaseEvent,
    CaseNumberCounter,
    CasePhoto,
    CaseTimer,
    Channel,
    ProblemCategory,
    ReturnVisit,
)
from cases.transitions import (
    TRANSITIONS,
    Action,
    Actor,
    State,
    allowed_actions,
    transition_for,
)
from core import db
from core.errors import Conflict, DomainError, Forbidden
from core.models import User
from core.photos import photo_check
from core.services import notify
from grids import selectors as grid_selectors
from grids.models import Department, DepartmentMembership, Grid

if TYPE_CHECKING:  # (inspections imports the cases app: its models only for annotations here)
    from inspections.models import PollutionSource

Deadline = CaseBreach.Deadline
Level = CaseBreach.Level


# --- intake --------------------------------------------------------------------------------------


@dataclass
class CaseInput:
    channel: str
    category: str
    description: str
    reported_at: datetime | None = None
    lat: float | None = None
    lng: float | None = None
    address: str = ""
    grid: str | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    source: int | None = None
    external_id: str = ""
    photos: list[UploadedFile] = field(default_factory=list)


def _number_prefix(*, category: ProblemCategory, on: datetime) -> str:
    """Category code + date: ``DUST-20261122-`` (the number adds the day's sequence)."""
    return f"{category.code.upper().replace('_', '')}-{timezone.localdate(on):%Y%m%d}-"


def _number_take(prefix: str) -> str:
    """The next number under ``prefix`` (``DUST-20261122-0007``), from its counter, in one
    statement. The counter's row stays locked until the intake commits, so two intakes of
    one category and day take their numbers in turn and a rolled-back intake gives its
    number back."""
    (last,) = _NUMBER_TAKE.row([prefix])
    return f"{prefix}{last:04d}"


_NUMBER_TAKE = db.Prepared(
    "case_number_take",
    f"INSERT INTO {CaseNumberCounter._meta.db_table} (prefix, last) VALUES (%s, 1)"  # noqa: S608 - name from _meta
    f" ON CONFLICT (prefix) DO UPDATE SET last = {CaseNumberCounter._meta.db_table}.last + 1"
    " RETURNING last",
    1,
)


def _number_skip_taken(prefix: str) -> None:
    """Move the counter past the numbers already used under ``prefix`` by cases it did not
    number (imported, or written before the counter existed)."""
    numbers = Case.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    used = max(
        (int(n.rsplit("-", 1)[1]) for n in numbers.iterator() if n[len(prefix) :].isdigit()),
        default=0,
    )
    CaseNumberCounter.objects.filter(prefix=prefix).update(last=used)


def _number_give_back(prefix: str) -> None:
    """Undo ``_number_take`` when the case was not written after all (its counter row is
    still locked by this transaction, so no one has taken a number since)."""
    CaseNumberCounter.objects.filter(prefix=prefix).update(last=F("last") - 1)


def _locate(*, data: CaseInput, actor: User) -> Grid:
    if data.grid:
        # (its outline is not needed: a named grid is taken as it is)
        grid = grid_selectors.grid_visible_by_code(user=actor, code=data.grid)
        if grid is None:
            raise DomainError(
                _("Unknown grid %(code)s.") % {"code": data.grid}, grid=[_("Unknown grid.")]
            )
        return grid
    if data.lat is None or data.lng is None:
        raise DomainError(
            _("Give the grid, or the coordinates to locate it."), grid=[_("Required.")]
        )
    try:
        return grid_selectors.grid_locate(user=actor, lat=data.lat, lng=data.lng)
    except Http404 as exc:  # no visible grid holds the point
        raise DomainError(
            _("The point lies outside every grid; give the grid."), lat=[_("Outside every grid.")]
        ) from exc


def _validate_intake(*, data: CaseInput, now: datetime) -> ProblemCategory:
    errors: dict[str, list[str]] = {}
    if data.channel not in Channel.values:
        errors["channel"] = [_("Unknown channel %(c)r.") % {"c": data.channel}]
    category = selectors.category_for_intake(code=data.category)
    if category is None:
        errors["category"] = [_("Unknown category %(c)r.") % {"c": data.category}]
    if not (data.description or "").strip():
        errors["description"] = [_("Describe the problem.")]
    if data.reported_at and data.reported_at > now + timedelta(minutes=5):
        errors["reported_at"] = [_("A report cannot come from the future.")]
    if (data.lat is None) != (data.lng is None):
        errors["lat"] = [_("Give both latitude and longitude, or neither.")]
    if len(data.photos) > settings.PHOTO_MAX_COUNT:
        errors["photos"] = [_("At most %(n)s photos.") % {"n": settings.PHOTO_MAX_COUNT}]
    if errors:
        raise DomainError(_("The report has errors; nothing was stored."), **errors)
    return category


def case_create(*, data: CaseInput, actor: User, now: datetime | None = None) -> tuple[Case, bool]:
    """Step 1, collect: record a report from any channel. Returns (case, created); a repeated
    ``external_id`` from the same client returns the case it already created.

    The response deadline is fixed here for reports from the public (complaint, hotline,
    platform) and for emergencies: 30 minutes inside working hours of a working day, 2 hours
    otherwise, at once for an emergency (Zhejiang §4(4)2).

    Everything that can refuse the report is checked before the first write, and the writes
    (the case, its first event, its photos and timers) are one atomic block that raises no
    ``DomainError``: so a caller's transaction needs no savepoint around this, and a refused
    report leaves it as it was. The platform's intake writes these rows on every request, so
    the case, event and timers go in through ``core.db``'s cached inserts.
    """
    now = now or timezone.now()
    try:
        category, grid, source, hashes = _intake_checks(data=data, actor=actor, now=now)
    except DomainError:
        # A report this client already sent (its external_id) gets the case it made then, even
        # where the report would be refused now. A new report finds its id taken only on the
        # write (``_case_insert``): no statement is spent asking first.
        existing = data.external_id and _case_by_external_id(
            actor=actor, external_id=data.external_id
        )
        if existing:
            return existing, False
        raise
    reported_at = data.reported_at or now
    case_settings = selectors.case_settings_get()
    calendar = selectors.calendar_get(case_settings=case_settings)
    emergency = category.is_emergency
    response_deadline = None
    if emergency or data.channel in COMPLAINT_CHANNELS:
        response_deadline = response_limit(
            received_at=reported_at,
            calendar=calendar,
            emergency=emergency,
            in_hours=timedelta(minutes=case_settings.response_in_hours_minutes),
            off_hours=timedelta(minutes=case_settings.response_off_hours_minutes),
        )
    case = Case(
        channel=data.channel,
        category=category,
        description=data.description.strip(),
        emergency=emergency,
        reporter_name=data.reporter_name,
        reporter_phone=data.reporter_phone,
        created_by=actor,
        external_id=data.external_id,
        lat=data.lat,
        lng=data.lng,
        address=data.address,
        grid=grid,
        source=source,
        reported_at=reported_at,
        response_deadline=response_deadline,
        created_at=now,
        updated_at=now,
    )
    event = CaseEvent(
        case=case,
        seq=1,
        action="collect",
        from_status="",
        to_status=State.COLLECTED,
        actor=actor,
        at=now,
        note="",
        data={"channel": data.channel},
    )
    timers = []
    if response_deadline:
        timers = deadlines.timers_for(
            case=case,
            deadline=Deadline.RESPONSE,
            start=reported_at,
            due=response_deadline,
            calendar=calendar,
            case_settings=case_settings,
            working=False,
        )
    with transaction.atomic(savepoint=False):
        existing = _case_insert(case, event=event, timers=timers)
        if existing is not None:  # the same external_id, committed meanwhile by another request
            return existing, False
        for upload, digest in zip(data.photos, hashes, strict=True):
            CasePhoto.objects.create(
                case=case,
                event=event,
                kind=CasePhoto.Kind.BEFORE,
                image=upload,
                sha256=digest,
                lat=data.lat,
                lng=data.lng,
                uploaded_at=now,
                uploaded_by=actor,
            )
        if calendar.unknown_years:
            calendar_warn_office(years=calendar.unknown_years)
        if emergency:
            _notify_grid(
                case=case,
                roles=("principal", "leader", "direct_responsible"),
                title=_("Environmental emergency reported: %(n)s") % {"n": case.number},
                key="emergency",
            )
        if source is not None and data.channel in COMPLAINT_CHANNELS:
            from inspections.services import source_tighten

            source_tighten(
                source=source,
                on=timezone.localdate(reported_at),
                reason=_("complaint %(n)s") % {"n": case.number},
            )
    return case, True


def _intake_checks(
    *, data: CaseInput, actor: User, now: datetime
) -> tuple[ProblemCategory, Grid, PollutionSource | None, list[str]]:
    """Everything that can refuse a report (``DomainError``), before anything is written: its
    category, its grid (named or located), its source, its photos' hashes."""
    category = _validate_intake(data=data, now=now)
    grid = _locate(data=data, actor=actor)
    source = None
    if data.source:
        from inspections.selectors import source_list

        source = source_list(user=actor).filter(pk=data.source).first()
        if source is None:
            raise DomainError(
                _("Unknown source %(id)s.") % {"id": data.source}, source=[_("Unknown source.")]
            )
    return category, grid, source, [photo_check(photo) for photo in data.photos]


def _case_by_external_id(*, actor: User, external_id: str) -> Case | None:
    """The case this client sent with this ``external_id``, if any. Asked on every platform
    intake, nearly always for an id not seen yet: so the question is the bare probe of the
    unique index (ids only), and the case is read only when there is one."""
    row = _EXTERNAL_ID.row([actor.pk, external_id])
    return Case.objects.get(pk=row[0]) if row else None


_EXTERNAL_ID = db.Prepared(
    "case_by_external_id",
    f"SELECT id FROM {Case._meta.db_table}"  # noqa: S608 - name from _meta
    # ("<> ''" and LIMIT let PostgreSQL keep one plan for any id, on the partial index)
    " WHERE created_by_id = %s AND external_id = %s AND external_id <> '' LIMIT 1",
    2,
)


def _case_insert(case: Case, *, event: CaseEvent, timers: list[CaseTimer]) -> Case | None:
    """Number ``case`` and write it with its first event and its timers. Returns ``None``
    when written; the case already there when another request wrote one with the same
    ``external_id`` first (the number is given back, nothing is written). A number already
    used by a case the counter did not number moves the counter on. No statement here fails,
    so no savepoint is needed."""
    prefix = _number_prefix(category=case.category, on=case.reported_at)
    for _attempt in range(3):
        if _case_rows_write(prefix, case, event, timers):
            return None
        if case.external_id:
            existing = _case_by_external_id(actor=case.created_by, external_id=case.external_id)
            if existing is not None:
                _number_give_back(prefix)
                return existing
        _number_skip_taken(prefix)
    raise Conflict(_("Could not number the case; try again."))


def _case_rows_write(prefix: str, case: Case, event: CaseEvent, timers: list[CaseTimer]) -> bool:
    """Take the next number under ``prefix`` and write the case with it, then its event and
    timers; ``False`` (and nothing but the number taken) when the case's number or
    ``external_id`` is already used. On PostgreSQL in one statement (``_intake_statement``),
    elsewhere in one statement a row."""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        case.number = _number_take(prefix)
        if not db.insert_one(case, skip_conflicts=True):
            return False
        for child in (event, *timers):
            child.case_id = case.pk
        db.insert_one(event)
        db.insert_many(timers)
        return True
    statement, parts = _intake_statement(len(timers))
    values = [prefix, prefix, *parts[0].values(case), *parts[1].values(event)]
    for timer in timers:
        values += parts[2].values(timer)
    row = statement.row(values)
    if row is None:
        return False
    case_pk, case.number, event_pk = row
    db.saved(case, case_pk)
    db.saved(event, event_pk)
    for child in (event, *timers):
        child.case_id = case.pk
        db.saved(child)
    return True


@lru_cache(maxsize=8)
def _intake_statement(timers: int) -> tuple[db.Prepared, tuple[db.InsertColumns, ...]]:
    """PostgreSQL: the number taken, the case, its first event and ``timers`` timers written
    in one statement, a round trip instead of four on every intake; the case's id and
    number and the event's id come back, or no row when the case's number or
    ``external_id`` is taken (the event and timers are written only with the case). The
    number is ``_number_take``'s (``DUST-20261122-0007``), made in SQL."""
    cases = db.insert_columns(Case, exclude=("number",))
    events = db.insert_columns(CaseEvent, exclude=("case",))
    timer = db.insert_columns(CaseTimer, exclude=("case",))
    counter = CaseNumberCounter._meta.db_table
    # names from _meta, values as parameters
    sql = (
        f"WITH n AS (INSERT INTO {counter} (prefix, last) VALUES (%s, 1)"  # noqa: S608
        f" ON CONFLICT (prefix) DO UPDATE SET last = {counter}.last + 1 RETURNING last),"
        f" c AS (INSERT INTO {cases.table} (number, {cases.columns})"
        " SELECT %s || CASE WHEN n.last < 10000 THEN lpad(n.last::text, 4, '0')"
        f" ELSE n.last::text END, {cases.marks} FROM n ON CONFLICT DO NOTHING"
        " RETURNING id, number),"
        f" e AS (INSERT INTO {events.table} (case_id, {events.columns})"
        f" SELECT c.id, {events.marks} FROM c RETURNING id)"
    )
    for i in range(timers):
        sql += (
            f", t{i} AS (INSERT INTO {timer.table} (case_id, {timer.columns})"  # noqa: S608
            f" SELECT c.id, {timer.marks} FROM c)"
        )
    sql += " SELECT c.id, c.number, e.id FROM c, e"
    count = 2 + len(cases.preparers) + len(events.preparers) + timers * len(timer.preparers)
    return db.Prepared(f"case_intake_{timers}", sql, count), (cases, events, timer)


def calendar_warn_office(*, years: set[int]) -> None:
    """Tell the office, once per year, that the working calendar has no holiday data for a year
    and is falling back to Monday–Friday until it enters that year's holidays."""
    import logging

    from grids.models import GridRole, Role

    logging.getLogger(__name__).warning(
        "No holiday data for %s: Monday–Friday assumed", sorted(years)
    )
    office = GridRole.objects.filter(
        grid_selectors.active_q(timezone.localdate()), role=Role.OFFICE
    ).select_related("user")
    for year in years:
        for holder in office:
            notify(
                user=holder.user,
                kind="calendar",
                title=_(
                    "No holiday data for %(y)s: Monday to Friday are taken as working days until the office enters the holidays."
                )
                % {"y": year},
                dedupe_key=f"calendar_unknown:{year}",
                url="/admin/cases/calendarday/",
            )


def case_photo_add(
    *,
    case: Case,
    upload: UploadedFile,
    kind: str,
    actor: User,
    lat: float | None = None,
    lng: float | None = None,
    now: datetime | None = None,
) -> CasePhoto:
    if kind not in CasePhoto.Kind.values:
        raise DomainError(_("Unknown photo kind %(k)r.") % {"k": kind}, kind=[_("Unknown.")])
    if case.status in (State.REJECTED, State.VOIDED, State.ASSESSED, State.EVALUATED):
        raise Conflict(_("The case is closed (%(s)s); no more photos.") % {"s": case.status})
    if case.photos.count() >= settings.PHOTO_MAX_COUNT * 4:
        raise DomainError(_("This case has as many photos as it may."), photos=[_("Too many.")])
    digest = photo_check(upload)
    return CasePhoto.objects.create(
        case=case,
        kind=kind,
        image=upload,
        sha256=digest,
        lat=lat,
        lng=lng,
        uploaded_at=now or timezone.now(),
        uploaded_by=actor,
    )


# --- the workflow ------------------------------------------------------------------------------


@dataclass
class ActionInput:
    note: str = ""
    reason: str = ""
    result: str = ""
    department: str | None = None
    assist_departments: list[str] = field(default_factory=list)
    arrived_at: datetime | None = None
    lat: float | None = None
    lng: float | None = None
    until: datetime | None = None
    comment: str = ""
    photos: list[UploadedFile] = field(default_factory=list)

    def value(self, name: str):
        return getattr(self, name, None)


def _required(edge, data: ActionInput) -> None:
    missing = {}
    for name in edge.requires:
        value = data.value(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing[name] = [_("This field is required for this action.")]
    if missing:
        raise DomainError(
            _("Required information is missing: %(f)s") % {"f": ", ".join(missing)}, **missing
        )


def case_transition(
    *,
    case: Case,
    action: str,
    actor: User | None,
    data: ActionInput | None = None,
    now: datetime | None = None,
    actor_kind: Actor | None = None,
) -> Case:
    """Take one workflow action on a case (the whole rule set is ``cases.transitions``)."""
    data = data or ActionInput()
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("grid", "category").get(pk=case.pk)
        edge = transition_for(case.status, action)
        if edge is None:
            raise Conflict(
                _("The action %(a)s is not allowed while the case is %(s)s.")
                % {"a": action, "s": case.status},
                status=case.status,
                allowed_actions=allowed_actions(case.status),
            )
        kinds = {actor_kind} if actor_kind else selectors.actor_kinds(user=actor, case=case)
        if not kinds & edge.actors:
            raise Forbidden(_("You may not %(a)s this case.") % {"a": action})
        _required(edge, data)
        hashes = [photo_check(p) for p in data.photos]
        if edge.photo and not _has_photo(case=case, kind=edge.photo, uploads=data.photos):
            raise DomainError(
                _("This action needs an “after” photo of the site."),
                photos=[_("An after photo is required.")],
            )
        before = case.status
        case_settings = selectors.case_settings_get()
        calendar = selectors.calendar_get(case_settings=case_settings)
        EFFECTS[Action(action)](
            case=case,
            data=data,
            now=now,
            actor=actor,
            calendar=calendar,
            case_settings=case_settings,
        )
        if edge.target is not None:
            case.status = edge.target
        case.updated_at = now
        case.save()
        seq = (CaseEvent.objects.filter(case=case).aggregate(m=Max("seq"))["m"] or 0) + 1
        note = data.note or data.reason or data.result or data.comment
        event = CaseEvent.objects.create(
            case=case,
            seq=seq,
            action=action,
            from_status=before,
            to_status=case.status,
            actor=actor,
            at=now,
            note=note,
            data=_event_data(action, data, case),
        )
        for upload, digest in zip(data.photos, hashes, strict=True):
            CasePhoto.objects.create(
                case=case,
                event=event,
                kind=edge.photo or CasePhoto.Kind.ON_SITE,
                image=upload,
                sha256=digest,
                lat=data.lat,
                lng=data.lng,
                uploaded_at=now,
                uploaded_by=actor or case.created_by,
            )
        if case.status != before:
            _callback_enqueue(case=case, at=now)
    return case


def cases_assess_bulk(*, case_ids: list[int], actor: User | None, now: datetime) -> int:
    """Step 8, assess, for many cases at once (a locked performance period, DOMAIN §7.2):
    the same as ``case_transition(action="assess")`` by the system for each case, set-based.

    The transition table decides which cases move: for every state from which ``assess`` is
    allowed (``evaluated``), the cases of ``case_ids`` still in it are locked in id order,
    moved to the edge's target (``assessed``) and given their ``assess`` event and, where
    their creator has a callback endpoint, a callback in the outbox after its earlier ones.
    Cases in any other state are left alone, so a second run changes nothing. A fixed number
    of statements whatever the number of cases. Returns the number of cases assessed.
    """
    action = Action.ASSESS
    edges = [(state, edge) for (state, a), edge in TRANSITIONS.items() if a == action]
    if not case_ids:
        return 0
    if any(Actor.SYSTEM not in edge.actors for _state, edge in edges):
        raise Forbidden(_("You may not %(a)s this case.") % {"a": action})
    # (id, external_id, number, created_by_id, from_status, to_status) of each case moved
    moved: list[tuple[int, str, str, int, str, str]] = []
    with transaction.atomic():
        for state, edge in edges:
            target = edge.target or state
            rows = list(
                Case.objects.select_for_update()
                .filter(pk__in=case_ids, status=state)
                .order_by("pk")
                .values_list("pk", "external_id", "number", "created_by_id")
            )
            if not rows:
                continue
            Case.objects.filter(pk__in=[r[0] for r in rows]).update(status=target, updated_at=now)
            moved += [(*row, state, target) for row in rows]
        if not moved:
            return 0
        ids = [row[0] for row in moved]
        last_seq = dict(
            CaseEvent.objects.filter(case_id__in=ids)
            .values("case_id")
            .annotate(m=Max("seq"))
            .values_list("case_id", "m")
        )
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case_id=pk,
                    seq=last_seq.get(pk, 0) + 1,
                    action=action,
                    from_status=before,
                    to_status=after,
                    actor=actor,
                    at=now,
                    note="",
                    data={},
                )
                for pk, _external_id, _number, _creator, before, after in moved
            ]
        )
        _callbacks_enqueue_bulk(moved=moved, at=now)
    return len(moved)


def _callbacks_enqueue_bulk(*, moved: list[tuple], at: datetime) -> None:
    """``_callback_enqueue`` for many cases that changed status at ``at``: three statements."""
    endpoints = {
        e.client_id: e
        for e in CallbackEndpoint.objects.filter(
            client_id__in={row[3] for row in moved}, active=True
        )
    }
    if not endpoints:
        return
    wanted = [row for row in moved if row[3] in endpoints]
    last_seq = {
        (case_id, endpoint_id): m
        for case_id, endpoint_id, m in CallbackDelivery.objects.filter(
            case_id__in=[row[0] for row in wanted],
            endpoint_id__in=[e.pk for e in endpoints.values()],
        )
        .values("case_id", "endpoint_id")
        .annotate(m=Max("seq"))
        .values_list("case_id", "endpoint_id", "m")
    }
    deliveries = []
    for pk, external_id, number, creator, _before, after in wanted:
        endpoint = endpoints[creator]
        body = json.dumps(
            {
                "id": pk,
                "external_id": external_id,
                "number": number,
                "status": after,
                "at": at.isoformat(),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        deliveries.append(
            CallbackDelivery(
                endpoint=endpoint,
                case_id=pk,
                seq=last_seq.get((pk, endpoint.pk), 0) + 1,
                body=body,
                next_attempt_at=at,
            )
        )
    CallbackDelivery.objects.bulk_create(deliveries)
    from cases.tasks import callbacks_deliver

    transaction.on_commit(callbacks_deliver.delay)


def _event_data(action: str, data: ActionInput, case: Case) -> dict:
    out: dict = {}
    if action == Action.DISPATCH:
        out = {"department": data.department, "assist_departments": data.assist_departments}
    elif action == Action.ARRIVE:
        out = {
            "arrived_at": data.arrived_at.isoformat(),
            "lat": data.lat,
            "lng": data.lng,
            "response_met": case.response_met,
        }
    elif action == Action.ESCALATE:
        out = {"grid": case.grid.code}
    elif action in (Action.EXTEND, Action.APPROVE_EXTENSION):
        out = {
            "until": case.extension_until.isoformat() if case.extension_until else None,
            "handling_deadline": case.handling_deadline.isoformat()
            if case.handling_deadline
            else None,
        }
    elif action == Action.EVALUATE:
        out = {"score": str(case.evaluation_score)}
    return out


def _has_photo(*, case: Case, kind: str, uploads: list) -> bool:
    if uploads:
        return True
    last = CaseEvent.objects.filter(case=case).aggregate(m=Max("at"))["m"]
    return CasePhoto.objects.filter(
        case=case, kind=kind, event__isnull=True, uploaded_at__gte=last
    ).exists()


def _department(code: str, *, field_name: str) -> Department:
    department = Department.objects.filter(code=code, active=True).first()
    if department is None:
        raise DomainError(
            _("Unknown department %(c)s.") % {"c": code}, **{field_name: [_("Unknown department.")]}
        )
    return department


def _met(at: datetime | None, deadline: datetime | None) -> bool | None:
    if deadline is None or at is None:
        return None
    return at <= deadline


def _on_file(*, case, data, now, actor, calendar, case_settings):
    case.filed_at = case.filed_at or now
    if case.dispatch_deadline is None:
        case.dispatch_deadline = calendar.add_working_time(
            now, timedelta(hours=float(case_settings.dispatch_limit_hours))
        )
        deadlines.timers_set(
            case=case,
            deadline=Deadline.DISPATCH,
            start=now,
            due=case.dispatch_deadline,
            calendar=calendar,
            case_settings=case_settings,
            working=True,
        )


def _on_close_without_handling(*, case, data, now, actor, calendar, case_settings):
    case.closed_at = now
    CaseTimer.objects.filter(case=case, fired_at__isnull=True).delete()


def _on_dispatch(*, case, data, now, actor, calendar, case_settings):
    lead = _department(data.department, field_name="department")
    assists = [
        _department(code, field_name="assist_departments") for code in data.assist_departments
    ]
    if any(a.pk == lead.pk for a in assists):
        raise DomainError(
            _("The lead department cannot also assist."), assist_departments=[_("Lead repeated.")]
        )
    CaseAssignment.objects.filter(case=case, active=True).update(active=False)
    CaseAssignment.objects.create(
        case=case, department=lead, role=CaseAssignment.Role.LEAD, assigned_at=now
    )
    for dept in assists:
        CaseAssignment.objects.create(
            case=case, department=dept, role=CaseAssignment.Role.ASSIST, assigned_at=now
        )
    case.department = lead
    if case.dispatched_at is None:
        case.dispatched_at = now
        case.dispatch_met = _met(now, case.dispatch_deadline)
    deadlines.timers_stop(case=case, deadline=Deadline.DISPATCH)
    if case.handling_deadline is None:
        case.handling_deadline = calendar.add_working_days(
            now, float(case.category.handling_limit_days)
        )
        deadlines.timers_set(
            case=case,
            deadline=Deadline.HANDLING,
            start=now,
            due=case.handling_deadline,
            calendar=calendar,
            case_settings=case_settings,
            working=True,
        )
    for dept in [lead, *assists]:
        _notify_department(
            case=case,
            department=dept,
            title=_("Case dispatched to you: %(n)s") % {"n": case.number},
            key=f"dispatch:{dept.pk}:{now.isoformat()}",
        )


def _on_accept(*, case, data, now, actor, calendar, case_settings):
    pass


def _on_return(*, case, data, now, actor, calendar, case_settings):
    case.return_count += 1
    CaseAssignment.objects.filter(case=case, active=True).update(active=False)
    case.department = None


def _on_arrive(*, case, data, now, actor, calendar, case_settings):
    arrived = data.arrived_at
    if arrived > now + timedelta(minutes=5):
        raise DomainError(_("Arrival cannot lie in the future."), arrived_at=[_("In the future.")])
    if arrived < case.reported_at:
        raise DomainError(
            _("Arrival cannot come before the report."), arrived_at=[_("Before the report.")]
        )
    if case.arrived_at is None:
        case.arrived_at = arrived
        case.arrived_lat, case.arrived_lng = data.lat, data.lng
        case.response_met = _met(arrived, case.response_deadline)
        deadlines.timers_stop(case=case, deadline=Deadline.RESPONSE)


def _on_escalate(*, case, data, now, actor, calendar, case_settings):
    parent = case.grid.parent
    if parent is None:
        raise DomainError(_("The case is already at the top grid; it cannot be escalated."))
    case.grid = parent
    case.escalation_count += 1
    CaseAssignment.objects.filter(case=case, active=True).update(active=False)
    case.department = None
    _notify_grid(
        case=case,
        roles=("principal", "direct_responsible"),
        title=_("Case escalated to your grid: %(n)s") % {"n": case.number},
        key=f"escalate:{case.grid_id}",
    )


def _on_feedback(*, case, data, now, actor, calendar, case_settings):
    case.fed_back_at = now
    if case.handling_met is None or case.rework_count == 0:
        case.handling_met = _met(now, case.handling_deadline)
    deadlines.timers_stop(case=case, deadline=Deadline.HANDLING)
    case.verify_deadline = calendar.add_working_days(now, float(case_settings.verify_limit_days))
    deadlines.timers_set(
        case=case,
        deadline=Deadline.VERIFY,
        start=now,
        due=case.verify_deadline,
        calendar=calendar,
        case_settings=case_settings,
        working=True,
    )
    _notify_grid(
        case=case,
        roles=("inspector", "supervisor"),
        title=_("Case to verify: %(n)s") % {"n": case.number},
        key=f"verify:{now.isoformat()}",
    )


def _on_verify(*, case, data, now, actor, calendar, case_settings):
    case.verified_at = now
    case.verify_met = _met(now, case.verify_deadline)
    case.closed_at = now
    deadlines.timers_stop(case=case, deadline=Deadline.VERIFY)


def _on_rework(*, case, data, now, actor, calendar, case_settings):
    case.rework_count += 1
    deadlines.timers_stop(case=case, deadline=Deadline.VERIFY)
    case.verify_deadline = None
    if case.department_id:
        _notify_department(
            case=case,
            department=case.department,
            title=_("Case sent back for rework: %(n)s") % {"n": case.number},
            key=f"rework:{case.rework_count}",
        )


def _on_evaluate(*, case, data, now, actor, calendar, case_settings):
    # a deadline no step settled (an on-site arrival never recorded) is settled now: missed
    # if the sweep recorded it passing
    for deadline, met in selectors.deadline_outcomes(case).items():
        setattr(case, f"{deadline}_met", met)
    case.evaluation_score = evaluation_score(case)


def _on_extend(*, case, data, now, actor, calendar, case_settings):
    if case.handling_deadline and data.until <= case.handling_deadline:
        raise DomainError(
            _("Ask for a date after the current deadline."),
            until=[_("Not later than the deadline.")],
        )
    if data.until <= now:
        raise DomainError(_("Ask for a date in the future."), until=[_("In the past.")])
    case.extension_until = data.until
    case.extension_reason = data.reason


def _on_approve_extension(*, case, data, now, actor, calendar, case_settings):
    if case.extension_until is None:
        raise Conflict(
            _("No extension has been asked for."),
            status=case.status,
            allowed_actions=allowed_actions(case.status),
        )
    case.handling_deadline = case.extension_until
    case.extension_count += 1
    case.extension_until = None
    deadlines.timers_set(
        case=case,
        deadline=Deadline.HANDLING,
        start=case.dispatched_at or now,
        due=case.handling_deadline,
        calendar=calendar,
        case_settings=case_settings,
        working=True,
    )


def _on_suspend(*, case, data, now, actor, calendar, case_settings):
    case.suspended_at = now
    CaseTimer.objects.filter(case=case, deadline=Deadline.HANDLING, fired_at__isnull=True).delete()


def _on_resume(*, case, data, now, actor, calendar, case_settings):
    """Suspended time does not count: the handling deadline moves by the working time the
    case spent suspended."""
    paused = calendar.working_time_between(case.suspended_at, now)
    case.suspended_seconds += int((now - case.suspended_at).total_seconds())
    case.suspended_at = None
    if case.handling_deadline:
        case.handling_deadline = (
            calendar.add_working_time(case.handling_deadline, paused)
            if paused
            else case.handling_deadline
        )
        deadlines.timers_set(
            case=case,
            deadline=Deadline.HANDLING,
            start=case.dispatched_at or now,
            due=case.handling_deadline,
            calendar=calendar,
            case_settings=case_settings,
            working=True,
        )


def _on_assess(*, case, data, now, actor, calendar, case_settings):
    pass


EFFECTS = {
    Action.FILE: _on_file,
    Action.REJECT: _on_close_without_handling,
    Action.VOID: _on_close_without_handling,
    Action.DISPATCH: _on_dispatch,
    Action.ACCEPT: _on_accept,
    Action.RETURN: _on_return,
    Action.ARRIVE: _on_arrive,
    Action.ESCALATE: _on_escalate,
    Action.FEEDBACK: _on_feedback,
    Action.VERIFY: _on_verify,
    Action.REWORK: _on_rework,
    Action.EVALUATE: _on_evaluate,
    Action.EXTEND: _on_extend,
    Action.APPROVE_EXTENSION: _on_approve_extension,
    Action.SUSPEND: _on_suspend,
    Action.RESUME: _on_resume,
    Action.ASSESS: _on_assess,
}


def evaluation_score(case: Case) -> Decimal:
    """Step 7, evaluate: 100 points for the whole run, less
    10 for each step deadline missed (response, dispatch, handling, verification),
    10 for each rework, 5 for each return (dispatched to a department whose duty it was not),
    3 for each extension and 2 for each escalation; never below 0."""
    points = Decimal(100)
    points -= 10 * sum(
        1
        for met in (case.response_met, case.dispatch_met, case.handling_met, case.verify_met)
        if met is False
    )
    points -= 10 * case.rework_count
    points -= 5 * case.return_count
    points -= 3 * case.extension_count
    points -= 2 * case.escalation_count
    return max(points, Decimal(0))


def return_visit_record(
    *,
    case: Case,
    actor: User,
    satisfaction: str,
    note: str = "",
    visited_at: datetime | None = None,
) -> ReturnVisit:
    """Tell a complainant the outcome (回访) once the case is verified."""
    if case.status not in (State.VERIFIED, State.EVALUATED, State.ASSESSED):
        raise Conflict(
            _("A return visit follows the verification."),
            status=case.status,
            allowed_actions=allowed_actions(case.status),
        )
    if satisfaction not in ReturnVisit.Satisfaction.values:
        raise DomainError(
            _("Unknown satisfaction %(s)r.") % {"s": satisfaction}, satisfaction=[_("Unknown.")]
        )
    return ReturnVisit.objects.create(
        case=case,
        by=actor,
        satisfaction=satisfaction,
        note=note,
        visited_at=visited_at or timezone.now(),
    )


def assignment_part_record(
    *, case: Case, department: Department, actor: User, part: str
) -> CaseAssignment:
    """Joint enforcement: each department records its own part."""
    assignment = CaseAssignment.objects.filter(
        case=case, department=department, active=True
    ).first()
    if assignment is None:
        raise DomainError(_("This department is not on the case."))
    if not DepartmentMembership.objects.filter(
        grid_selectors.active_q(timezone.localdate()), user=actor, department=department
    ).exists():
        raise Forbidden(_("Only a member of the department records its part."))
    if not part.strip():
        raise DomainError(_("Describe the part."), part=[_("Required.")])
    assignment.part = part
    assignment.part_recorded_at = timezone.now()
    assignment.save(update_fields=["part", "part_recorded_at"])
    return assignment


# --- notifications -------------------------------------------------------------------------------


def _notify_department(*, case: Case, department: Department, title: str, key: str) -> None:
    users = User.objects.filter(
        department_memberships__department=department,
        department_memberships__position__in=["head", "handler"],
    ).distinct()
    for user in users:
        notify(
            user=user,
            kind="case",
            title=title,
            dedupe_key=f"case:{case.pk}:{key}",
            url=f"/cases/{case.pk}/",
        )


def _notify_grid(*, case: Case, roles: tuple[str, ...], title: str, key: str) -> None:
    from grids.models import GridRole

    on = timezone.localdate()
    holders = GridRole.objects.filter(
        grid_selectors.active_q(on),
        grid__in=case.grid.get_ancestors(include_self=True),
        role__in=roles,
    ).select_related("user")
    for holder in holders:
        notify(
            user=holder.user,
            kind="case",
            title=title,
            dedupe_key=f"case:{case.pk}:{key}",
            url=f"/cases/{case.pk}/",
        )


# --- status callbacks (the outbox) ---------------------------------------------------------------


def _callback_enqueue(*, case: Case, at: datetime) -> None:
    endpoint = CallbackEndpoint.objects.filter(client_id=case.created_by_id, active=True).first()
    if endpoint is None:
        return
    seq = (
        CallbackDelivery.objects.filter(case=case, endpoint=endpoint).aggregate(m=Max("seq"))["m"]
        or 0
    ) + 1
    body = json.dumps(
        {
            "id": case.pk,
            "external_id": case.external_id,
            "number": case.number,
            "status": case.status,
            "at": at.isoformat(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    CallbackDelivery.objects.create(
        endpoint=endpoint, case=case, seq=seq, body=body, next_attempt_at=at
    )
    from cases.tasks import callbacks_deliver

    transaction.on_commit(callbacks_deliver.delay)


def callback_signature(*, secret: str, body: bytes) -> str:
    import hmac

    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


CALLBACK_BACKOFF = [
    timedelta(seconds=s) for s in (30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600)
]


def callbacks_deliver(*, now: datetime | None = None, limit: int = 200, post=None) -> int:
    """POST due callbacks, oldest first and never a case's later change before an earlier one;
    a failure is retried with back-off from ``CALLBACK_BACKOFF`` (the last step repeats), so a
    platform that is down for hours gets every change, once, in order, when it is back."""
    from django.db.models import Exists, OuterRef

    now = now or timezone.now()
    post = post or _http_post
    earlier = CallbackDelivery.objects.filter(
        case=OuterRef("case"),
        endpoint=OuterRef("endpoint"),
        seq__lt=OuterRef("seq"),
        delivered_at__isnull=True,
    )
    delivered = 0
    blocked: set[tuple[int, int]] = set()
    for _round in range(limit):
        with transaction.atomic():
            due = list(
                CallbackDelivery.objects.select_for_update(skip_locked=True)
                .filter(delivered_at__isnull=True, next_attempt_at__lte=now)
                .filter(~Exists(earlier))
                .select_related("endpoint")
                .order_by("next_attempt_at", "pk")[:limit]
            )
            due = [d for d in due if (d.case_id, d.endpoint_id) not in blocked]
            if not due:
                break
            for delivery in due:
                if _deliver_one(delivery=delivery, now=now, post=post):
                    delivered += 1
                else:
                    blocked.add((delivery.case_id, delivery.endpoint_id))
    return delivered


def _deliver_one(*, delivery: CallbackDelivery, now: datetime, post) -> bool:
    body = delivery.body.encode()
    signature = callback_signature(secret=delivery.endpoint.secret, body=body)
    try:
        status = post(delivery.endpoint.url, body, signature)
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except OSError as exc:
        error = str(exc)[:300] or exc.__class__.__name__
    delivery.attempts += 1
    if error:
        step = CALLBACK_BACKOFF[min(delivery.attempts - 1, len(CALLBACK_BACKOFF) - 1)]
        delivery.next_attempt_at = now + step
        delivery.last_error = error
    else:
        delivery.delivered_at = now
        delivery.last_error = ""
    delivery.save(update_fields=["attempts", "next_attempt_at", "last_error", "delivered_at"])
    return not error


def _http_post(url: str, body: bytes, signature: str) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - the URL is the client's registered endpoint
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Gridsup-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
